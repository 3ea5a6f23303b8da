//! The records and enums that cross the FFI, and their conversions from the core's types.
//!
//! Money crosses as a decimal string in euros ("12.50", at most two decimals, parsed strictly);
//! dates as ISO "YYYY-MM-DD"; instants as RFC 3339 with the till's offset
//! ("2026-11-23T10:15:00+01:00"). Anything else is refused with `InvalidInput`.

use ardoise_core as core;
use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::error::{Result, invalid};

pub(crate) fn money(field: &str, s: &str) -> Result<core::Money> {
    core::Money::parse(s).map_err(|e| invalid(format!("{field}: {e}")))
}

pub(crate) fn opt_money(field: &str, s: Option<String>) -> Result<Option<core::Money>> {
    s.map(|s| money(field, &s)).transpose()
}

/// Cents, bounded like a parsed amount.
pub(crate) fn minor(field: &str, cents: i64) -> Result<core::Money> {
    // The one value whose magnitude does not fit: formatting it would overflow (a panic).
    if cents == i64::MIN {
        return Err(invalid(format!("{field}: {cents} cents is out of range")));
    }
    money(field, &core::Money::from_minor(cents).to_string())
}

/// An instant from Unix milliseconds and the till's offset from UTC in minutes.
pub(crate) fn instant_ms(unix_ms: i64, offset_minutes: i32) -> Result<DateTime<FixedOffset>> {
    let offset = offset_minutes
        .checked_mul(60)
        .and_then(FixedOffset::east_opt)
        .ok_or_else(|| invalid(format!("invalid UTC offset {offset_minutes} minutes")))?;
    let utc = DateTime::from_timestamp_millis(unix_ms).ok_or_else(|| invalid(format!("invalid time {unix_ms} ms")))?;
    Ok(utc.with_timezone(&offset))
}

pub(crate) fn date(s: &str) -> Result<NaiveDate> {
    Ok(core::parse_date(s)?)
}

pub(crate) fn instant(s: &str) -> Result<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s).map_err(|_| {
        invalid(format!("invalid time {s:?}: expected RFC 3339 with an offset, like 2026-11-23T10:15:00+01:00"))
    })
}

pub(crate) fn uuid(field: &str, s: &str) -> Result<uuid::Uuid> {
    uuid::Uuid::parse_str(s).map_err(|_| invalid(format!("{field}: {s:?} is not an id")))
}

pub(crate) fn s(m: core::Money) -> String {
    m.to_string()
}

pub(crate) fn opt(m: Option<core::Money>) -> Option<String> {
    m.map(s)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum CustomerKind {
    Business,
    Consumer,
}

impl From<CustomerKind> for core::CustomerKind {
    fn from(k: CustomerKind) -> Self {
        match k {
            CustomerKind::Business => core::CustomerKind::Business,
            CustomerKind::Consumer => core::CustomerKind::Consumer,
        }
    }
}

impl From<core::CustomerKind> for CustomerKind {
    fn from(k: core::CustomerKind) -> Self {
        match k {
            core::CustomerKind::Business => CustomerKind::Business,
            core::CustomerKind::Consumer => CustomerKind::Consumer,
        }
    }
}

/// The language a customer's reminders are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Language {
    Fr,
    En,
}

impl From<Language> for core::dunning::template::Language {
    fn from(l: Language) -> Self {
        match l {
            Language::Fr => core::dunning::template::Language::Fr,
            Language::En => core::dunning::template::Language::En,
        }
    }
}

impl From<core::dunning::template::Language> for Language {
    fn from(l: core::dunning::template::Language) -> Self {
        match l {
            core::dunning::template::Language::Fr => Language::Fr,
            core::dunning::template::Language::En => Language::En,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum PaymentMethod {
    Cash,
    Card,
    Transfer,
    Cheque,
}

impl From<PaymentMethod> for core::PaymentMethod {
    fn from(m: PaymentMethod) -> Self {
        match m {
            PaymentMethod::Cash => core::PaymentMethod::Cash,
            PaymentMethod::Card => core::PaymentMethod::Card,
            PaymentMethod::Transfer => core::PaymentMethod::Transfer,
            PaymentMethod::Cheque => core::PaymentMethod::Cheque,
        }
    }
}

impl From<core::PaymentMethod> for PaymentMethod {
    fn from(m: core::PaymentMethod) -> Self {
        match m {
            core::PaymentMethod::Cash => PaymentMethod::Cash,
            core::PaymentMethod::Card => PaymentMethod::Card,
            core::PaymentMethod::Transfer => PaymentMethod::Transfer,
            core::PaymentMethod::Cheque => PaymentMethod::Cheque,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Decision {
    Allow,
    Warn,
    Refuse,
}

impl From<core::Decision> for Decision {
    fn from(d: core::Decision) -> Self {
        match d {
            core::Decision::Allow => Decision::Allow,
            core::Decision::Warn => Decision::Warn,
            core::Decision::Refuse => Decision::Refuse,
        }
    }
}

/// Who records a write, and when. `business_date` backdates it (imported history); `None`
/// means the date of `now`.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct WriteContext {
    pub cashier: String,
    pub now: String,
    #[uniffi(default = None)]
    pub business_date: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
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
    pub credit_limit: Option<String>,
    /// `receipt`, `30`, `45eom` or `eom45`.
    pub terms: String,
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
    pub paperless_from: Option<String>,
}

impl NewCustomer {
    pub(crate) fn into_core(self) -> Result<core::NewCustomer> {
        Ok(core::NewCustomer {
            reference: self.reference,
            name: self.name,
            email: self.email,
            phone: self.phone,
            kind: self.kind.into(),
            credit_limit: opt_money("credit limit", self.credit_limit)?,
            terms: self.terms.parse()?,
            consent_email: self.consent_email,
            consent_sms: self.consent_sms,
            notes: self.notes,
            address: self.address,
            language: self.language.map(Into::into).unwrap_or_default(),
            paperless_from: self.paperless_from.as_deref().map(date).transpose()?,
        })
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
    pub terms: Option<String>,
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
    pub(crate) fn into_core(self) -> Result<core::CustomerPatch> {
        let clearable = |v: Option<String>| v.map(|v| Some(v).filter(|v| !v.trim().is_empty()));
        Ok(core::CustomerPatch {
            name: self.name,
            email: clearable(self.email),
            phone: clearable(self.phone),
            kind: self.kind.map(Into::into),
            credit_limit: clearable(self.credit_limit).map(|l| opt_money("credit limit", l)).transpose()?,
            terms: self.terms.map(|t| t.parse()).transpose()?,
            blocked: clearable(self.blocked),
            consent_email: self.consent_email,
            consent_sms: self.consent_sms,
            notes: self.notes,
            address: clearable(self.address),
            language: self.language.map(Into::into),
            paperless_from: clearable(self.paperless_from).map(|d| d.as_deref().map(date).transpose()).transpose()?,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Customer {
    pub id: String,
    pub reference: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub kind: CustomerKind,
    pub credit_limit: Option<String>,
    pub terms: String,
    pub blocked: Option<String>,
    pub consent_email: bool,
    pub consent_sms: bool,
    pub notes: String,
    pub address: Option<String>,
    pub language: Language,
    /// `YYYY-MM-DD` from which bills go by email; `None`: on paper.
    pub paperless_from: Option<String>,
}

impl From<core::Customer> for Customer {
    fn from(c: core::Customer) -> Self {
        Customer {
            id: c.id.to_string(),
            reference: c.reference,
            name: c.name,
            email: c.email,
            phone: c.phone,
            kind: c.kind.into(),
            credit_limit: opt(c.credit_limit),
            terms: c.terms.to_string(),
            blocked: c.blocked,
            consent_email: c.consent_email,
            consent_sms: c.consent_sms,
            notes: c.notes,
            address: c.address,
            language: c.language.into(),
            paperless_from: c.paperless_from.map(|d| d.to_string()),
        }
    }
}

/// One reason behind a checkout verdict, with its numbers.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Reason {
    Blocked {
        reason: String,
    },
    Overdue {
        amount: String,
        days: u32,
        oldest_due: String,
        invoices: u32,
        decision: Decision,
    },
    OverLimit {
        limit: String,
        balance_after: String,
        over_by: String,
    },
    NearLimit {
        limit: String,
        balance_after: String,
        available_after: String,
    },
    /// Invoices under dispute: a warning, not counted as overdue.
    Disputed {
        invoices: u32,
        amount: String,
    },
    ManagerOverride {
        manager: String,
        reason: String,
    },
    /// The till has not synced with the back office for `offline_after_hours`: sales on account
    /// are capped per customer until it syncs. `hours_offline` is `None` when it never synced
    /// since enrolling.
    Offline {
        hours_offline: Option<u32>,
        allowance: String,
        used: String,
        left_after: String,
        decision: Decision,
    },
}

impl From<core::Reason> for Reason {
    fn from(r: core::Reason) -> Self {
        match r {
            core::Reason::Blocked { reason } => Reason::Blocked { reason },
            core::Reason::Overdue { amount, days, oldest_due, invoices, decision } => Reason::Overdue {
                amount: s(amount),
                days,
                oldest_due: oldest_due.to_string(),
                invoices,
                decision: decision.into(),
            },
            core::Reason::OverLimit { limit, balance_after, over_by } => {
                Reason::OverLimit { limit: s(limit), balance_after: s(balance_after), over_by: s(over_by) }
            }
            core::Reason::NearLimit { limit, balance_after, available_after } => Reason::NearLimit {
                limit: s(limit),
                balance_after: s(balance_after),
                available_after: s(available_after),
            },
            core::Reason::Disputed { invoices, amount } => Reason::Disputed { invoices, amount: s(amount) },
            core::Reason::ManagerOverride { manager, reason } => Reason::ManagerOverride { manager, reason },
            core::Reason::Offline { hours_offline, allowance, used, left_after, decision } => Reason::Offline {
                hours_offline,
                allowance: s(allowance),
                used: s(used),
                left_after: s(left_after),
                decision: decision.into(),
            },
        }
    }
}

/// The checkout answer: the decision, every reason (also as sentences), and the numbers.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Verdict {
    pub decision: Decision,
    pub reasons: Vec<Reason>,
    pub messages: Vec<String>,
    pub summary: String,
    pub customer_ref: String,
    pub customer_name: String,
    pub cart_total: String,
    pub balance: String,
    pub overdue: String,
    pub oldest_overdue_days: Option<u32>,
    pub credit_limit: Option<String>,
    pub available_credit: Option<String>,
    pub deposits_available: String,
    /// How likely (percent) the next invoice is paid late, from the shop's last risk scores.
    pub late_risk_pct: Option<u8>,
    pub late_risk_reasons: Vec<String>,
}

impl From<core::Verdict> for Verdict {
    fn from(v: core::Verdict) -> Self {
        Verdict {
            decision: v.decision.into(),
            messages: v.reasons.iter().map(core::Reason::message).collect(),
            summary: v.summary(),
            reasons: v.reasons.into_iter().map(Into::into).collect(),
            customer_ref: v.customer_ref,
            customer_name: v.customer_name,
            cart_total: s(v.cart_total),
            balance: s(v.balance),
            overdue: s(v.overdue),
            oldest_overdue_days: v.oldest_overdue_days,
            credit_limit: opt(v.credit_limit),
            available_credit: opt(v.available_credit),
            deposits_available: s(v.deposits_available),
            late_risk_pct: v.late_risk_pct,
            late_risk_reasons: v.late_risk_reasons,
        }
    }
}

/// A ledger entry, flattened: the fields that do not apply to its kind are `None`.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct LedgerEntry {
    pub id: String,
    pub device_id: String,
    pub device_seq: u64,
    pub customer_id: String,
    /// sale, payment, deposit_received, deposit_applied, deposit_refunded, credit_note,
    /// adjustment, write_off, reversal.
    pub kind: String,
    pub amount: Option<String>,
    pub business_date: String,
    pub recorded_at: String,
    pub cashier: String,
    pub method: Option<PaymentMethod>,
    /// The invoice a sale created, or the reference of a charge.
    pub reference: Option<String>,
    pub due_on: Option<String>,
    /// The sale entry a payment, credit or deposit was aimed at.
    pub aimed_at: Option<String>,
    pub order_ref: Option<String>,
    pub reason: Option<String>,
    pub reverses: Option<String>,
    pub override_id: Option<String>,
}

impl From<core::Entry> for LedgerEntry {
    fn from(e: core::Entry) -> Self {
        use core::EntryBody as B;
        let mut out = LedgerEntry {
            id: e.id.to_string(),
            device_id: e.device_id.to_string(),
            device_seq: e.device_seq,
            customer_id: e.customer.to_string(),
            kind: e.body.kind().to_owned(),
            amount: opt(e.body.amount()),
            business_date: e.business_date.to_string(),
            recorded_at: e.recorded_at.to_rfc3339(),
            cashier: e.cashier,
            method: None,
            reference: None,
            due_on: None,
            aimed_at: None,
            order_ref: None,
            reason: None,
            reverses: None,
            override_id: None,
        };
        let id = |u: Option<uuid::Uuid>| u.map(|u| u.to_string());
        match e.body {
            B::Sale { invoice_ref, due_on, override_id, .. } => {
                out.reference = Some(invoice_ref);
                out.due_on = Some(due_on.to_string());
                out.override_id = id(override_id);
            }
            B::Payment { method, invoice, .. } => {
                out.method = Some(method.into());
                out.aimed_at = id(invoice);
            }
            B::DepositReceived { method, order_ref, .. } => {
                out.method = Some(method.into());
                out.order_ref = order_ref;
            }
            B::DepositApplied { invoice, .. } => out.aimed_at = id(invoice),
            B::DepositRefunded { method, .. } => out.method = Some(method.into()),
            B::CreditNote { reason, invoice, .. } | B::WriteOff { reason, invoice, .. } => {
                out.reason = Some(reason);
                out.aimed_at = id(invoice);
            }
            B::Adjustment { reason, reference, .. } => {
                out.reason = Some(reason);
                out.reference = Some(reference);
            }
            B::Reversal { of, reason } => {
                out.reverses = Some(of.to_string());
                out.reason = Some(reason);
            }
        }
        out
    }
}

/// What a write returns: the entry and the account right after it.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Recorded {
    pub entry: LedgerEntry,
    pub balance: String,
    pub deposits: String,
    pub verdict: Option<Verdict>,
    /// The deposit applied to a sale with it, in the same transaction.
    pub deposit_applied: Option<LedgerEntry>,
}

impl From<core::Recorded> for Recorded {
    fn from(r: core::Recorded) -> Self {
        Recorded {
            entry: r.entry.into(),
            balance: s(r.balance),
            deposits: s(r.deposits),
            verdict: r.verdict.map(Into::into),
            deposit_applied: r.deposit_applied.map(Into::into),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct TimelineEntry {
    pub entry: LedgerEntry,
    /// How the entry moved what the customer owes, and the deposits held.
    pub balance_effect: String,
    pub deposit_effect: String,
}

impl From<core::TimelineEvent> for TimelineEntry {
    fn from(t: core::TimelineEvent) -> Self {
        TimelineEntry {
            entry: t.entry.into(),
            balance_effect: s(t.effect.balance),
            deposit_effect: s(t.effect.deposits),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct OpenInvoice {
    pub reference: String,
    pub issued_on: String,
    pub due_on: String,
    pub amount: String,
    pub remaining: String,
    pub days_overdue: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct DepositHeld {
    pub order_ref: Option<String>,
    pub amount: String,
    pub remaining: String,
}

#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct AccountSummary {
    pub customer: Customer,
    pub balance: String,
    pub overdue: String,
    pub oldest_overdue_days: Option<u32>,
    pub credit_limit: Option<String>,
    pub available_credit: Option<String>,
    pub deposits_available: String,
    pub credit_on_account: String,
    pub open_invoices: Vec<OpenInvoice>,
    pub deposits: Vec<DepositHeld>,
}

impl From<core::AccountSummary> for AccountSummary {
    fn from(a: core::AccountSummary) -> Self {
        AccountSummary {
            customer: a.customer.into(),
            balance: s(a.balance),
            overdue: s(a.overdue),
            oldest_overdue_days: a.oldest_overdue_days,
            credit_limit: opt(a.credit_limit),
            available_credit: opt(a.available_credit),
            deposits_available: s(a.deposits_available),
            credit_on_account: s(a.credit_on_account),
            open_invoices: a
                .open_invoices
                .into_iter()
                .map(|i| OpenInvoice {
                    reference: i.reference,
                    issued_on: i.issued_on.to_string(),
                    due_on: i.due_on.to_string(),
                    amount: s(i.amount),
                    remaining: s(i.remaining),
                    days_overdue: i.days_overdue,
                })
                .collect(),
            deposits: a
                .deposits
                .into_iter()
                .map(|d| DepositHeld { order_ref: d.order_ref, amount: s(d.amount), remaining: s(d.remaining) })
                .collect(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Override {
    pub id: String,
    pub customer_ref: String,
    pub business_date: String,
    pub amount: String,
    pub manager: String,
    pub reason: String,
    pub verdict: Verdict,
}

impl From<core::Override> for Override {
    fn from(o: core::Override) -> Self {
        Override {
            id: o.id.to_string(),
            customer_ref: o.customer_ref,
            business_date: o.business_date.to_string(),
            amount: s(o.amount),
            manager: o.manager,
            reason: o.reason,
            verdict: o.verdict.into(),
        }
    }
}

/// The shop's checkout thresholds.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct CheckoutRules {
    pub warn_overdue_days: u32,
    pub refuse_overdue_days: u32,
    pub warn_limit_pct: u32,
    pub default_credit_limit: Option<String>,
    /// An enrolled till that has not synced for this many hours counts as offline.
    pub offline_after_hours: u32,
    /// What an offline till may still sell on account to one customer until it syncs.
    pub offline_allowance: String,
}

impl From<core::CheckoutRules> for CheckoutRules {
    fn from(r: core::CheckoutRules) -> Self {
        CheckoutRules {
            warn_overdue_days: r.warn_overdue_days,
            refuse_overdue_days: r.refuse_overdue_days,
            warn_limit_pct: r.warn_limit_pct,
            default_credit_limit: opt(r.default_credit_limit),
            offline_after_hours: r.offline_after_hours,
            offline_allowance: s(r.offline_allowance),
        }
    }
}

impl CheckoutRules {
    pub(crate) fn into_core(self) -> Result<core::CheckoutRules> {
        Ok(core::CheckoutRules {
            warn_overdue_days: self.warn_overdue_days,
            refuse_overdue_days: self.refuse_overdue_days,
            warn_limit_pct: self.warn_limit_pct,
            default_credit_limit: opt_money("default credit limit", self.default_credit_limit)?,
            offline_after_hours: self.offline_after_hours,
            offline_allowance: money("offline allowance", &self.offline_allowance)?,
        })
    }
}
