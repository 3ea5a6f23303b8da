//! Customers across the FFI: the core's `Customer` crosses as it is; creating and changing one
//! take records of their own, because a new customer may leave its language out (uniffi gives
//! an enum field no default) and a patch clears a field with an empty string (Kotlin cannot
//! tell `null` from "set to null"). A new customer field goes in these two records.

use ardoise_core as core;
use core::dunning::template::Language;
use core::{Customer, CustomerKind, Money, PaymentReference, Terms};

use crate::{ArdoiseError, IsoDate, MAX_PAGE, Result, Till, Timestamp};

/// Longest query the till's search takes: a person types a name, not a page.
const MAX_QUERY: usize = 200;

#[derive(Clone, Debug, Default, PartialEq, Eq, uniffi::Record)]
pub struct NewCustomer {
    pub reference: String,
    pub name: String,
    #[uniffi(default = None)]
    pub email: Option<String>,
    #[uniffi(default = None)]
    pub phone: Option<String>,
    pub kind: CustomerKind,
    /// `None`: the shop default applies; `"0"`: deposits and cash only.
    #[uniffi(default = None)]
    pub credit_limit: Option<Money>,
    /// `receipt`, `30`, `45eom` or `eom45`.
    pub terms: Terms,
    #[uniffi(default = false)]
    pub consent_email: bool,
    #[uniffi(default = false)]
    pub consent_sms: bool,
    #[uniffi(default = "")]
    pub notes: String,
    /// Where a letter (a formal notice) goes.
    #[uniffi(default = None)]
    pub address: Option<String>,
    /// `None`: French, the shop default. (uniffi cannot give an enum field a default value.)
    #[uniffi(default = None)]
    pub language: Option<Language>,
    /// `YYYY-MM-DD`: bills go by email, not on paper, for invoices issued from that day.
    #[uniffi(default = None)]
    pub paperless_from: Option<IsoDate>,
}

impl From<NewCustomer> for core::NewCustomer {
    fn from(c: NewCustomer) -> Self {
        core::NewCustomer {
            reference: c.reference,
            name: c.name,
            email: c.email,
            phone: c.phone,
            kind: c.kind,
            credit_limit: c.credit_limit,
            terms: c.terms,
            consent_email: c.consent_email,
            consent_sms: c.consent_sms,
            notes: c.notes,
            address: c.address,
            language: c.language.unwrap_or_default(),
            paperless_from: c.paperless_from,
        }
    }
}

/// A change to a customer. `None` leaves a field unchanged; for `email`, `phone`,
/// `credit_limit`, `blocked`, `address` and `paperless_from`, an empty string clears it (no
/// limit of their own; unblocked; bills on paper).
#[derive(Clone, Debug, Default, PartialEq, Eq, uniffi::Record)]
pub struct CustomerPatch {
    #[uniffi(default = None)]
    pub name: Option<String>,
    #[uniffi(default = None)]
    pub email: Option<String>,
    #[uniffi(default = None)]
    pub phone: Option<String>,
    #[uniffi(default = None)]
    pub kind: Option<CustomerKind>,
    #[uniffi(default = None)]
    pub credit_limit: Option<String>,
    #[uniffi(default = None)]
    pub terms: Option<Terms>,
    #[uniffi(default = None)]
    pub blocked: Option<String>,
    #[uniffi(default = None)]
    pub consent_email: Option<bool>,
    #[uniffi(default = None)]
    pub consent_sms: Option<bool>,
    #[uniffi(default = None)]
    pub notes: Option<String>,
    #[uniffi(default = None)]
    pub address: Option<String>,
    #[uniffi(default = None)]
    pub language: Option<Language>,
    #[uniffi(default = None)]
    pub paperless_from: Option<String>,
}

impl CustomerPatch {
    fn into_core(self) -> Result<core::CustomerPatch> {
        let text = |v: Option<String>| clearable(v, |s| Ok(s.to_owned()));
        Ok(core::CustomerPatch {
            name: self.name,
            email: text(self.email)?,
            phone: text(self.phone)?,
            kind: self.kind,
            credit_limit: clearable(self.credit_limit, |s| {
                Money::parse(s).map_err(|e| ArdoiseError::invalid(format!("credit limit: {e}")))
            })?,
            terms: self.terms,
            blocked: text(self.blocked)?,
            consent_email: self.consent_email,
            consent_sms: self.consent_sms,
            notes: self.notes,
            address: text(self.address)?,
            language: self.language,
            paperless_from: clearable(self.paperless_from, |s| Ok(core::parse_date(s)?))?,
        })
    }
}

/// A field the FFI clears with an empty string (an optional field of a patch): `None` leaves it,
/// `""` clears it, anything else is parsed.
fn clearable<T>(v: Option<String>, parse: impl FnOnce(&str) -> Result<T>) -> Result<Option<Option<T>>> {
    match v {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(Some(None)),
        Some(v) => Ok(Some(Some(parse(&v)?))),
    }
}

#[uniffi::export]
impl Till {
    pub fn add_customer(&self, customer: NewCustomer, now: Timestamp) -> Result<Customer> {
        self.with(|s| s.add_customer(customer.into(), now))
    }

    pub fn update_customer(&self, reference: String, patch: CustomerPatch, now: Timestamp) -> Result<Customer> {
        let patch = patch.into_core()?;
        self.with(|s| s.update_customer(&reference, patch, now))
    }

    pub fn customer(&self, reference: String) -> Result<Customer> {
        self.with(|s| s.customer(&reference))
    }

    /// Whose account a payment reference read from a transfer names: `null`/`nil` when nobody's
    /// (or two customers share it). Wrong check digits fail the call with `InvalidInput`.
    pub fn customer_by_payment_reference(&self, reference: PaymentReference) -> Result<Option<Customer>> {
        self.with(|s| s.customer_by_payment_reference(&reference))
    }

    /// Customers in name order, a page at a time (at most 1,000).
    pub fn list_customers(&self, limit: u32, offset: u32) -> Result<Vec<Customer>> {
        self.with(|s| s.customers(limit.min(MAX_PAGE) as usize, offset as usize))
    }

    /// Name prefix (any word, any case, with or without accents), phone or reference.
    pub fn search_customers(&self, query: String, limit: u32) -> Result<Vec<Customer>> {
        if query.chars().count() > MAX_QUERY {
            return Err(ArdoiseError::invalid(format!("search query longer than {MAX_QUERY} characters")));
        }
        self.with(|s| s.search_customers(&query, limit.min(MAX_PAGE) as usize))
    }
}
