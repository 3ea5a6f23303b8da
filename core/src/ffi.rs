//! How the core's values and errors cross the FFI (feature `uniffi`): money, dates, instants,
//! ids, payment terms and rates as strict strings, and the few kinds of error a till app can
//! act on. The records and enums that cross as they are derive uniffi where they are defined.
//!
//! The values are uniffi custom types over `String`, so that neither Kotlin nor Swift rounds a
//! float or guesses a format; Kotlin and Swift see a `typealias` of their string type named as
//! below. Lifting parses with the core's strict parser; a bad string fails the call before it
//! runs, with `InvalidInput` and the parser's message. That is why the error lives here, beside
//! the values: uniffi hands a lift error to the caller as the call's own error only when it is
//! that very type.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::dunning::run::Skip;
use crate::{Entry, EntryBody, Error as Core, Money, PaymentMethod, PaymentReference, Terms};

/// A day: "2026-11-23".
pub type IsoDate = NaiveDate;
/// An instant with the till's offset from UTC, RFC 3339: "2026-11-23T10:15:00+01:00". The date
/// of `now` is the business date.
pub type Timestamp = DateTime<FixedOffset>;
/// An instant in UTC, RFC 3339: "2026-11-23T09:15:00+00:00".
pub type UtcTimestamp = DateTime<Utc>;
/// A rate in percent: "9.5", at most four decimals.
pub type Percent = Decimal;

uniffi::custom_type!(
    /// An amount in euros as a decimal string: "12.50" ("-3.20" for a credit), at most two
    /// decimals, no exponent, separator or space.
    Money, String, {
    lower: |m| m.to_string(),
    try_lift: |s| Ok(Money::parse(&s).map_err(|e| ArdoiseError::invalid(e.to_string()))?),
});

uniffi::custom_type!(
    /// A day: "2026-11-23".
    IsoDate, String, {
    remote,
    lower: |d| d.to_string(),
    try_lift: |s| Ok(crate::parse_date(&s).map_err(ArdoiseError::from)?),
});

uniffi::custom_type!(
    /// An instant with the till's offset, RFC 3339: "2026-11-23T10:15:00+01:00".
    Timestamp, String, {
    remote,
    lower: |t| t.to_rfc3339(),
    try_lift: |s| Ok(timestamp(&s)?),
});

uniffi::custom_type!(
    /// An instant in UTC, RFC 3339: "2026-11-23T09:15:00+00:00".
    UtcTimestamp, String, {
    remote,
    lower: |t| t.to_rfc3339(),
    try_lift: |s| Ok(timestamp(&s)?.to_utc()),
});

uniffi::custom_type!(
    /// A payment reference (ISO 11649) in its printed form: "RF18 5390 0754 7034". Read back in
    /// any case and spacing; wrong check digits fail the call with `InvalidInput`.
    PaymentReference, String, {
    lower: |r| r.to_string(),
    try_lift: |s| Ok(PaymentReference::parse(&s).map_err(|e| ArdoiseError::invalid(e.to_string()))?),
});

uniffi::custom_type!(
    /// An id (a UUID): "0190f4a2-...".
    Uuid, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |s| Ok(Uuid::parse_str(&s).map_err(|_| ArdoiseError::invalid(format!("{s:?} is not an id")))?),
});

uniffi::custom_type!(
    /// Payment terms: "receipt", "30" (days), "45eom" (45 days, then the end of that month) or
    /// "eom45" (the end of the month, then 45 days).
    Terms, String, {
    lower: |t| t.to_string(),
    try_lift: |s| Ok(s.parse::<Terms>().map_err(ArdoiseError::from)?),
});

uniffi::custom_type!(
    /// A rate in percent: "9.5", at most four decimals.
    Percent, String, {
    remote,
    lower: |r| r.to_string(),
    try_lift: |s| Ok(crate::dunning::penalty::parse_rate_pct(&s).map_err(ArdoiseError::from)?),
});

/// A ledger entry as the FFI gives it, flattened: one record, the fields that do not apply to
/// its kind `None`, because Kotlin and Swift read a record more easily than an enum of nine
/// shapes.
#[derive(Clone, Debug, Default, PartialEq, Eq, uniffi::Record)]
pub struct LedgerEntry {
    pub id: Uuid,
    pub device_id: Uuid,
    pub device_seq: u64,
    pub customer_id: Uuid,
    /// sale, payment, deposit_received, deposit_applied, deposit_refunded, credit_note,
    /// adjustment, write_off, reversal.
    pub kind: String,
    pub amount: Option<Money>,
    pub business_date: IsoDate,
    pub recorded_at: UtcTimestamp,
    pub cashier: String,
    pub method: Option<PaymentMethod>,
    /// The invoice a sale created, or the reference of a charge.
    pub reference: Option<String>,
    pub due_on: Option<IsoDate>,
    /// The sale entry a payment, credit or deposit was aimed at.
    pub aimed_at: Option<Uuid>,
    pub order_ref: Option<String>,
    pub reason: Option<String>,
    pub reverses: Option<Uuid>,
    pub override_id: Option<Uuid>,
}

impl From<Entry> for LedgerEntry {
    fn from(e: Entry) -> Self {
        let mut out = LedgerEntry {
            id: e.id,
            device_id: e.device_id,
            device_seq: e.device_seq,
            customer_id: e.customer,
            kind: e.body.kind().to_owned(),
            amount: e.body.amount(),
            business_date: e.business_date,
            recorded_at: e.recorded_at,
            cashier: e.cashier,
            ..Default::default()
        };
        match e.body {
            EntryBody::Sale { invoice_ref, due_on, override_id, .. } => {
                (out.reference, out.due_on, out.override_id) = (Some(invoice_ref), Some(due_on), override_id);
            }
            EntryBody::Payment { method, invoice, .. } => (out.method, out.aimed_at) = (Some(method), invoice),
            EntryBody::DepositReceived { method, order_ref, .. } => {
                (out.method, out.order_ref) = (Some(method), order_ref);
            }
            EntryBody::DepositApplied { invoice, .. } => out.aimed_at = invoice,
            EntryBody::DepositRefunded { method, .. } => out.method = Some(method),
            EntryBody::CreditNote { reason, invoice, .. } | EntryBody::WriteOff { reason, invoice, .. } => {
                (out.reason, out.aimed_at) = (Some(reason), invoice);
            }
            EntryBody::Adjustment { reason, reference, .. } => {
                (out.reason, out.reference) = (Some(reason), Some(reference));
            }
            EntryBody::Reversal { of, reason } => (out.reverses, out.reason) = (Some(of), Some(reason)),
        }
        out
    }
}

uniffi::custom_type!(
    /// A ledger entry, flattened (`LedgerEntry`). Entries only come out of the till: one passed
    /// in is refused.
    Entry, LedgerEntry, {
    lower: |e| LedgerEntry::from(e),
    try_lift: |_entry| Err(ArdoiseError::invalid("a ledger entry is recorded by the till, never passed in").into()),
});

/// How many customers a daily run left alone for one reason: `nothing_due`,
/// `already_at_level`, `too_soon`, `excluded`, `on_hold`, `promise`, `plan`, `notice_pending`
/// (`Skip::as_str`).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SkipCount {
    pub reason: String,
    pub count: u32,
}

/// A run's skips by reason (`RunReport::skipped`).
pub type Skips = BTreeMap<Skip, u32>;

uniffi::custom_type!(
    /// How many customers a daily run left alone, and why: one `SkipCount` per reason.
    Skips, Vec<SkipCount>, {
    remote,
    lower: |skips| skips.into_iter().map(|(why, count)| SkipCount { reason: why.as_str().to_owned(), count }).collect(),
    try_lift: |counts| counts.into_iter().map(|c| Ok((skip(&c.reason)?, c.count))).collect(),
});

fn skip(reason: &str) -> Result<Skip, ArdoiseError> {
    serde_json::from_value(reason.into()).map_err(|_| ArdoiseError::invalid(format!("{reason:?} is not a skip reason")))
}

fn timestamp(s: &str) -> Result<Timestamp, ArdoiseError> {
    DateTime::parse_from_rfc3339(s).map_err(|_| {
        ArdoiseError::invalid(format!(
            "invalid time {s:?}: expected RFC 3339 with an offset, like 2026-11-23T10:15:00+01:00"
        ))
    })
}

/// The public error of the FFI: a few kinds a till app can act on, mapped from the core's
/// errors in this one place. Crosses as a flat error: Kotlin and Swift get one exception class
/// per variant whose message is the readable text below (uniffi would otherwise print it as
/// `message=...`).
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum ArdoiseError {
    /// Malformed amount or date, a field out of range, a value that must be positive.
    #[error("{message}")]
    InvalidInput { message: String },
    /// Unknown customer, invoice or entry.
    #[error("{message}")]
    NotFound { message: String },
    /// The request is well formed but the account does not allow it (duplicate reference,
    /// invoice already settled, deposit not available, entry not reversible).
    #[error("{message}")]
    Conflict { message: String },
    /// A sale on account the checkout refused; the message gives every reason (`check()` gives
    /// the full verdict).
    #[error("{message}")]
    Refused { message: String },
    /// The till was closed, or is suspended: call `resume()` or open it again.
    #[error("{message}")]
    Closed { message: String },
    /// The database could not be opened, read or written. The file is never deleted.
    #[error("{message}")]
    Storage { message: String },
    /// `sync()` before `enrol()`: this till does not belong to a back office yet.
    #[error("{message}")]
    NotEnrolled { message: String },
    /// The back office could not be reached, or is busy or failing (network down, timeout,
    /// server error, too many requests). Nothing was lost: the events wait here; sync later.
    #[error("{message}")]
    Unreachable { message: String },
    /// The back office refused: an unknown, expired or already used enrolment code, a revoked
    /// till, an incompatible version. Retrying will not help; the message says what will.
    #[error("{message}")]
    SyncRefused { message: String },
}

impl ArdoiseError {
    pub fn invalid(message: impl Into<String>) -> Self {
        ArdoiseError::InvalidInput { message: message.into() }
    }
}

impl From<Core> for ArdoiseError {
    fn from(e: Core) -> Self {
        let message = e.to_string();
        match e {
            Core::Amount(_)
            | Core::NotPositive { .. }
            | Core::InvalidDate(_)
            | Core::Invalid { .. }
            | Core::Import { .. }
            | Core::IdentityIncomplete { .. } => ArdoiseError::InvalidInput { message },
            Core::UnknownCustomer(_) | Core::UnknownInvoice(_) | Core::UnknownEntry(_) | Core::NotFound { .. } => {
                ArdoiseError::NotFound { message }
            }
            Core::DuplicateCustomer(_)
            | Core::DuplicateInvoice(_)
            | Core::InvoiceSettled { .. }
            | Core::NotReversible(..)
            | Core::InsufficientDeposit { .. }
            | Core::StaleRates { .. } => ArdoiseError::Conflict { message },
            Core::Refused(_) => ArdoiseError::Refused { message },
            Core::Open { .. }
            | Core::NotArdoise { .. }
            | Core::SchemaTooNew { .. }
            | Core::Sqlite(_)
            | Core::Corrupt(_) => ArdoiseError::Storage { message },
            Core::NotEnrolled => ArdoiseError::NotEnrolled { message },
            Core::Sync { retryable: true, .. } => ArdoiseError::Unreachable { message },
            Core::Sync { retryable: false, .. } => ArdoiseError::SyncRefused { message },
        }
    }
}

#[cfg(test)]
mod tests {
    use uniffi::{Lift, LiftArgsError, Lower, LowerReturn, RustBuffer, RustCallError};

    use super::*;
    use crate::UniFfiTag;
    use crate::dunning::plan::Instalment;

    fn buffer(strings: &[&str]) -> RustBuffer {
        let mut buf = Vec::new();
        for s in strings {
            <String as Lower<UniFfiTag>>::write(s.to_string(), &mut buf);
        }
        RustBuffer::from_vec(buf)
    }

    /// What Kotlin and Swift receive when an argument of type `T` does not lift: the flat
    /// error's variant (1 = `InvalidInput`) and its message.
    fn refused<T: Lift<UniFfiTag, FfiType = RustBuffer>>(arg: RustBuffer) -> (i32, String) {
        let error = T::try_lift(arg).map(|_| ()).expect_err("lifted");
        let failed = LiftArgsError { arg_name: "arg", error };
        match <Result<(), ArdoiseError> as LowerReturn<UniFfiTag>>::handle_failed_lift(failed) {
            Err(RustCallError::Error(buf)) => {
                let bytes = buf.destroy_into_vec();
                let variant = i32::from_be_bytes(bytes[..4].try_into().unwrap());
                (variant, String::from_utf8(bytes[8..].to_vec()).unwrap())
            }
            Err(RustCallError::InternalError(message)) => panic!("an internal error, not InvalidInput: {message}"),
            Ok(()) => unreachable!(),
        }
    }

    fn string(s: &str) -> RustBuffer {
        RustBuffer::from_vec(s.as_bytes().to_vec())
    }

    #[test]
    fn a_bad_value_fails_the_call_with_invalid_input_and_says_why() {
        let cases = [
            (refused::<Money>(string("1,50")), "amount \"1,50\" is not a decimal number"),
            (refused::<Money>(string("0.005")), "more than 2 decimals"),
            (refused::<IsoDate>(string("2026-02-30")), "invalid date \"2026-02-30\""),
            (refused::<Timestamp>(string("2026-03-02")), "expected RFC 3339 with an offset"),
            (refused::<Uuid>(string("not-an-id")), "\"not-an-id\" is not an id"),
            (refused::<Terms>(string("soon")), "use receipt, 30, 45eom or eom45"),
            (refused::<Percent>(string("9,5")), "\"9,5\" is not a percentage"),
            (refused::<PaymentReference>(string("RF19 5390 0754 7034")), "wrong check digits"),
            // Inside a record inside a list, as `create_plan` takes them.
            (refused::<Vec<Instalment>>(list(&["2024-08-01", "12,50"])), "amount \"12,50\""),
        ];
        for ((variant, message), expected) in cases {
            assert_eq!(variant, 1, "{message}");
            assert!(message.contains(expected), "{message:?} lacks {expected:?}");
        }
    }

    fn list(record: &[&str]) -> RustBuffer {
        let mut buf = 1i32.to_be_bytes().to_vec();
        buf.extend(buffer(record).destroy_into_vec());
        RustBuffer::from_vec(buf)
    }

    #[test]
    fn values_cross_in_their_canonical_form() {
        fn same<T: Lift<UniFfiTag, FfiType = RustBuffer> + Lower<UniFfiTag, FfiType = RustBuffer>>(s: &str) {
            let lifted = T::try_lift(string(s)).unwrap();
            assert_eq!(String::from_utf8(T::lower(lifted).destroy_into_vec()).unwrap(), s);
        }
        same::<Money>("-3.20");
        same::<IsoDate>("2026-11-23");
        same::<Timestamp>("2026-11-23T10:15:00+01:00");
        same::<UtcTimestamp>("2026-11-23T09:15:00+00:00");
        same::<Uuid>("0190f4a2-7b1c-7cc3-a2f4-3f0a9e8b1c2d");
        same::<Terms>("45eom");
        same::<Percent>("12.25");
        same::<PaymentReference>("RF18 5390 0754 7034");
    }

    #[test]
    fn sync_errors_say_whether_to_retry() {
        let sync = |retryable| Core::Sync { code: "x".into(), message: "y".into(), retryable };
        assert!(matches!(ArdoiseError::from(sync(true)), ArdoiseError::Unreachable { .. }));
        assert!(matches!(ArdoiseError::from(sync(false)), ArdoiseError::SyncRefused { .. }));
        assert!(matches!(ArdoiseError::from(Core::NotEnrolled), ArdoiseError::NotEnrolled { .. }));
    }
}
