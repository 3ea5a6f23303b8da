//! Customers on account: who they are, their terms and limit, how they may be contacted.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dunning::template::Language;
use crate::error::{Error, Result};
use crate::money::Money;
use crate::payref::PaymentReference;

/// French rules differ by debtor: a business (Code de commerce L441-10), a consumer (Code civil
/// 1231-6) or a public buyer such as a town hall, a school or a hospital (Code de la commande
/// publique R2192-31).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum CustomerKind {
    Business,
    #[default]
    Consumer,
    Public,
}

impl CustomerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerKind::Business => "business",
            CustomerKind::Consumer => "consumer",
            CustomerKind::Public => "public",
        }
    }
}

impl FromStr for CustomerKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "business" => Ok(CustomerKind::Business),
            "consumer" => Ok(CustomerKind::Consumer),
            "public" => Ok(CustomerKind::Public),
            _ => Err(Error::Invalid {
                field: "kind",
                reason: format!("{s:?} is not a kind of customer: business, consumer or public"),
            }),
        }
    }
}

/// Payment terms. Both ways the DGCCRF allows for "45 days end of month" are kept apart,
/// because they give different due dates for the same invoice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Terms {
    /// Due the day of the sale.
    #[default]
    OnReceipt,
    /// Due N days after the invoice date (`30`).
    Net(u16),
    /// Invoice date + N days, then the end of that month (`45eom`).
    DaysThenEndOfMonth(u16),
    /// End of the invoice's month, then + N days (`eom45`).
    EndOfMonthThenDays(u16),
}

/// Longer terms than a year are almost certainly a typo.
const MAX_TERM_DAYS: u16 = 365;

impl Terms {
    /// The terms when none were agreed: 30 days between professionals (L441-10 I) and for a
    /// public buyer (R2192-10); a consumer pays on receipt.
    pub fn default_for(kind: CustomerKind) -> Terms {
        match kind {
            CustomerKind::Business | CustomerKind::Public => Terms::Net(30),
            CustomerKind::Consumer => Terms::OnReceipt,
        }
    }

    /// Whether the law lets these terms be agreed with this kind of debtor: between
    /// professionals at most 60 days after the invoice or 45 days end of month, counted either
    /// way (L441-10 I); a public buyer at most 30 days, 50 for a public hospital (R2192-10,
    /// R2192-11), which an "end of month" term could exceed.
    pub fn allowed_for(self, kind: CustomerKind) -> Result<()> {
        let refuse = |law: &str| {
            Err(Error::Invalid { field: "terms", reason: format!("{self} is longer than the law allows: {law}") })
        };
        match (kind, self) {
            (CustomerKind::Business, Terms::Net(n)) if n > 60 => {
                refuse("at most 60 days after the invoice, or 45 days end of month (Code de commerce L441-10 I)")
            }
            (CustomerKind::Business, Terms::DaysThenEndOfMonth(n) | Terms::EndOfMonthThenDays(n)) if n > 45 => {
                refuse("at most 45 days end of month, or 60 days after the invoice (Code de commerce L441-10 I)")
            }
            (CustomerKind::Public, Terms::Net(n)) if n > 50 => refuse(
                "a public buyer pays within 30 days, 50 for a public hospital (Code de la commande publique R2192-10, R2192-11)",
            ),
            (CustomerKind::Public, Terms::DaysThenEndOfMonth(_) | Terms::EndOfMonthThenDays(_)) => refuse(
                "a public buyer pays within a number of days, 30 (50 for a public hospital), not end of month \
                 (Code de la commande publique R2192-10)",
            ),
            _ => Ok(()),
        }
    }

    pub fn due_date(self, issued: NaiveDate) -> NaiveDate {
        let plus = |d: NaiveDate, n: u16| d.checked_add_days(Days::new(n.into())).unwrap_or(NaiveDate::MAX);
        match self {
            Terms::OnReceipt => issued,
            Terms::Net(n) => plus(issued, n),
            Terms::DaysThenEndOfMonth(n) => end_of_month(plus(issued, n)),
            Terms::EndOfMonthThenDays(n) => plus(end_of_month(issued), n),
        }
    }
}

pub(crate) fn end_of_month(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 { (d.year() + 1, 1) } else { (d.year(), d.month() + 1) };
    NaiveDate::from_ymd_opt(y, m, 1).and_then(|first| first.pred_opt()).unwrap_or(d)
}

impl fmt::Display for Terms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Terms::OnReceipt => f.write_str("receipt"),
            Terms::Net(n) => write!(f, "{n}"),
            Terms::DaysThenEndOfMonth(n) => write!(f, "{n}eom"),
            Terms::EndOfMonthThenDays(n) => write!(f, "eom{n}"),
        }
    }
}

impl FromStr for Terms {
    type Err = Error;
    /// `receipt`, `30` (or `net30`), `45eom`, `eom45`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = |reason: &str| Error::Invalid {
            field: "terms",
            reason: format!("{s:?}: {reason} (use receipt, 30, 45eom or eom45)"),
        };
        let days = |n: &str| -> Result<u16> {
            let n: u16 = n.parse().map_err(|_| bad("not a number of days"))?;
            if n > MAX_TERM_DAYS {
                return Err(bad("more than 365 days"));
            }
            Ok(n)
        };
        let s = s.trim().to_ascii_lowercase();
        if s == "receipt" || s == "0" {
            Ok(Terms::OnReceipt)
        } else if let Some(n) = s.strip_suffix("eom") {
            Ok(Terms::DaysThenEndOfMonth(days(n)?))
        } else if let Some(n) = s.strip_prefix("eom") {
            Ok(Terms::EndOfMonthThenDays(days(n)?))
        } else {
            Ok(Terms::Net(days(s.strip_prefix("net").unwrap_or(&s))?))
        }
    }
}

impl Serialize for Terms {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Terms {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A customer as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Customer {
    pub id: Uuid,
    pub reference: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub kind: CustomerKind,
    /// `None`: the shop's default limit applies. `Some(0)`: deposits and cash only.
    pub credit_limit: Option<Money>,
    pub terms: Terms,
    /// `Some(reason)` when the account is blocked.
    pub blocked: Option<String>,
    pub consent_email: bool,
    pub consent_sms: bool,
    pub notes: String,
    /// Where a letter (a formal notice) goes.
    #[serde(default)]
    pub address: Option<String>,
    /// The language reminders are written in.
    #[serde(default)]
    pub language: Language,
    /// The customer's bills go by email, not on paper, for invoices issued on or after this day.
    /// The risk model reads it: on the IBM sample a paper bill is paid about 7 days later than
    /// the same customer's emailed ones.
    #[serde(default)]
    pub paperless_from: Option<NaiveDate>,
}

/// What the till types to create a customer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCustomer {
    pub reference: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub kind: CustomerKind,
    pub credit_limit: Option<Money>,
    pub terms: Terms,
    pub consent_email: bool,
    pub consent_sms: bool,
    pub notes: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub language: Language,
    #[serde(default)]
    pub paperless_from: Option<NaiveDate>,
}

/// A change to a customer: `None` leaves a field as it is; for optional fields `Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerPatch {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub kind: Option<CustomerKind>,
    pub credit_limit: Option<Option<Money>>,
    pub terms: Option<Terms>,
    pub blocked: Option<Option<String>>,
    pub consent_email: Option<bool>,
    pub consent_sms: Option<bool>,
    pub notes: Option<String>,
    #[serde(default)]
    pub address: Option<Option<String>>,
    #[serde(default)]
    pub language: Option<Language>,
    #[serde(default)]
    pub paperless_from: Option<Option<NaiveDate>>,
}

impl NewCustomer {
    /// Checks every field without storing anything (a form can show the error at once).
    pub fn validate(&self) -> Result<()> {
        Customer::from_new(Uuid::nil(), self.clone()).map(|_| ())
    }
}

impl Customer {
    /// The reference a bank transfer quotes to pay this account: the same on every device.
    pub fn payment_reference(&self) -> PaymentReference {
        PaymentReference::for_customer(self.id)
    }

    pub(crate) fn from_new(id: Uuid, new: NewCustomer) -> Result<Customer> {
        let c = Customer {
            id,
            reference: new.reference.trim().to_owned(),
            name: new.name.trim().to_owned(),
            email: clean_opt(new.email),
            phone: clean_opt(new.phone),
            kind: new.kind,
            credit_limit: new.credit_limit,
            terms: new.terms,
            blocked: None,
            consent_email: new.consent_email,
            consent_sms: new.consent_sms,
            notes: new.notes,
            address: clean_opt(new.address),
            language: new.language,
            paperless_from: new.paperless_from,
        };
        c.validate()?;
        Ok(c)
    }

    pub(crate) fn patched(&self, p: CustomerPatch) -> Result<Customer> {
        let mut c = self.clone();
        if let Some(v) = p.name {
            c.name = v.trim().to_owned();
        }
        if let Some(v) = p.email {
            c.email = clean_opt(v);
        }
        if let Some(v) = p.phone {
            c.phone = clean_opt(v);
        }
        if let Some(v) = p.kind {
            c.kind = v;
        }
        if let Some(v) = p.credit_limit {
            c.credit_limit = v;
        }
        if let Some(v) = p.terms {
            c.terms = v;
        }
        if let Some(v) = p.blocked {
            // Unblocking is `Some(None)`; a blank reason is a mistake, not an unblock.
            if v.as_deref().is_some_and(|r| r.trim().is_empty()) {
                return Err(Error::Invalid { field: "blocked", reason: "a block needs a reason".into() });
            }
            c.blocked = clean_opt(v);
        }
        if let Some(v) = p.consent_email {
            c.consent_email = v;
        }
        if let Some(v) = p.consent_sms {
            c.consent_sms = v;
        }
        if let Some(v) = p.notes {
            c.notes = v;
        }
        if let Some(v) = p.address {
            c.address = clean_opt(v);
        }
        if let Some(v) = p.language {
            c.language = v;
        }
        if let Some(v) = p.paperless_from {
            c.paperless_from = v;
        }
        c.validate()?;
        Ok(c)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let invalid = |field, reason: &str| Err(Error::Invalid { field, reason: reason.to_owned() });
        if self.reference.is_empty() || self.reference.len() > 64 {
            return invalid("reference", "must be 1 to 64 characters");
        }
        if self.reference.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return invalid("reference", "must not contain spaces");
        }
        if self.name.is_empty() || self.name.chars().count() > 200 {
            return invalid("name", "must be 1 to 200 characters");
        }
        if self.name.chars().any(char::is_control) {
            return invalid("name", "must not contain control characters");
        }
        if let Some(e) = &self.email {
            let ok = e.len() <= 254
                && e.split_once('@')
                    .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'))
                && !e.chars().any(char::is_whitespace);
            if !ok {
                return invalid("email", &format!("{e:?} is not an email address"));
            }
        }
        if let Some(p) = &self.phone {
            let digits = p.chars().filter(char::is_ascii_digit).count();
            let allowed = p.chars().all(|c| c.is_ascii_digit() || " +-.()".contains(c));
            if !allowed || !(6..=15).contains(&digits) {
                return invalid("phone", &format!("{p:?} is not a phone number"));
            }
        }
        if let Some(l) = self.credit_limit {
            if l.is_negative() {
                return invalid("credit limit", &format!("{l} is negative"));
            }
        }
        if self.address.as_ref().is_some_and(|a| a.chars().count() > 500) {
            return invalid("address", "longer than 500 characters");
        }
        if self.notes.len() > 10_000 {
            return invalid("notes", "longer than 10,000 characters");
        }
        self.terms.allowed_for(self.kind)
    }
}

/// Whether an invoice issued on `day` goes by email to a customer paperless from `from`.
pub(crate) fn paperless_on(from: Option<NaiveDate>, day: NaiveDate) -> bool {
    from.is_some_and(|f| f <= day)
}

fn clean_opt(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::error::parse_date(s).unwrap()
    }

    #[test]
    fn due_dates_follow_each_kind_of_terms() {
        assert_eq!(Terms::OnReceipt.due_date(d("2026-01-15")), d("2026-01-15"));
        assert_eq!(Terms::Net(30).due_date(d("2026-01-15")), d("2026-02-14"));
        // 45 days end of month, both DGCCRF readings: 15 Jan + 45 = 1 Mar -> 31 Mar;
        // end of January + 45 = 17 Mar.
        assert_eq!(Terms::DaysThenEndOfMonth(45).due_date(d("2026-01-15")), d("2026-03-31"));
        assert_eq!(Terms::EndOfMonthThenDays(45).due_date(d("2026-01-15")), d("2026-03-17"));
        // Leap year: end of February is the 29th.
        assert_eq!(Terms::DaysThenEndOfMonth(10).due_date(d("2024-02-10")), d("2024-02-29"));
        assert_eq!(Terms::EndOfMonthThenDays(0).due_date(d("2026-12-05")), d("2026-12-31"));
    }

    #[test]
    fn terms_parse_and_print_the_same_way() {
        for s in ["receipt", "30", "45eom", "eom45", "60"] {
            assert_eq!(s.parse::<Terms>().unwrap().to_string(), s);
        }
        assert_eq!("net30".parse::<Terms>().unwrap(), Terms::Net(30));
        for bad in ["", "x", "400", "eom", "-3", "30 days"] {
            assert!(bad.parse::<Terms>().is_err(), "{bad}");
        }
    }

    #[test]
    fn business_terms_are_capped_by_l441_10_and_default_to_thirty_days() {
        for ok in ["receipt", "60", "45eom", "eom45"] {
            assert!(ok.parse::<Terms>().unwrap().allowed_for(CustomerKind::Business).is_ok(), "{ok}");
        }
        for long in ["61", "46eom", "eom46", "90"] {
            let t: Terms = long.parse().unwrap();
            let err = t.allowed_for(CustomerKind::Business).unwrap_err();
            assert!(matches!(&err, Error::Invalid { field: "terms", reason } if reason.contains("L441-10")), "{long}");
        }
        // A consumer's terms are the shop's business.
        assert!(Terms::Net(90).allowed_for(CustomerKind::Consumer).is_ok());
        assert!(Terms::Net(50).allowed_for(CustomerKind::Public).is_ok());
        assert!(Terms::Net(51).allowed_for(CustomerKind::Public).is_err());
        assert!(Terms::DaysThenEndOfMonth(10).allowed_for(CustomerKind::Public).is_err());
        assert_eq!(Terms::default_for(CustomerKind::Business), Terms::Net(30));
        assert_eq!(Terms::default_for(CustomerKind::Public), Terms::Net(30));
        assert_eq!(Terms::default_for(CustomerKind::Consumer), Terms::OnReceipt);
        let new = NewCustomer {
            reference: "B1".into(),
            name: "SARL Fournil".into(),
            kind: CustomerKind::Business,
            terms: Terms::Net(90),
            ..Default::default()
        };
        assert!(matches!(new.validate(), Err(Error::Invalid { field: "terms", .. })));
    }

    #[test]
    fn kinds_parse_and_print_the_same_way() {
        for k in [CustomerKind::Business, CustomerKind::Consumer, CustomerKind::Public] {
            assert_eq!(k.as_str().parse::<CustomerKind>().unwrap(), k);
        }
        assert!(matches!("mairie".parse::<CustomerKind>(), Err(Error::Invalid { field: "kind", .. })));
    }

    #[test]
    fn validation_rejects_bad_fields() {
        let base = NewCustomer { reference: "C1".into(), name: "Hélène Dupré".into(), ..Default::default() };
        assert!(Customer::from_new(Uuid::nil(), base.clone()).is_ok());
        let cases = [
            NewCustomer { reference: "".into(), ..base.clone() },
            NewCustomer { reference: "A B".into(), ..base.clone() },
            NewCustomer { name: "  ".into(), ..base.clone() },
            NewCustomer { email: Some("nope".into()), ..base.clone() },
            NewCustomer { phone: Some("call me".into()), ..base.clone() },
            NewCustomer { credit_limit: Some(Money::from_minor(-1)), ..base.clone() },
        ];
        for c in cases {
            assert!(matches!(c.validate(), Err(Error::Invalid { .. })), "{c:?}");
        }
        let c = Customer::from_new(Uuid::nil(), base).unwrap();
        let blank = CustomerPatch { blocked: Some(Some("  ".into())), ..Default::default() };
        assert!(matches!(c.patched(blank), Err(Error::Invalid { field: "blocked", .. })));
        let blocked = c.patched(CustomerPatch { blocked: Some(Some("bounced".into())), ..Default::default() }).unwrap();
        assert_eq!(blocked.patched(CustomerPatch { blocked: Some(None), ..Default::default() }).unwrap().blocked, None);
    }
}
