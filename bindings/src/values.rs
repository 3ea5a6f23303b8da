//! How values cross the FFI: money, dates, instants, ids, payment terms and rates, each as a
//! strict string, so that neither Kotlin nor Swift rounds a float or guesses a format.
//!
//! Each is a uniffi custom type over `String`: the core's own types (`Money`, `NaiveDate`...)
//! stand in the records that cross, and Kotlin and Swift see a `typealias` of their string type
//! named as below. Lifting parses with the core's strict parser; a bad string fails the call
//! before it runs, with `InvalidInput` and the parser's message (uniffi hands a lift error that
//! is the call's own error type to the caller as that error).

use ardoise_core::dunning::penalty;
use ardoise_core::{Money, PaymentReference, Terms, Uuid};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::error::{ArdoiseError, Result, invalid};

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
    remote,
    lower: |m| m.to_string(),
    try_lift: |s| Ok(Money::parse(&s).map_err(|e| invalid(e.to_string()))?),
});

uniffi::custom_type!(
    /// A day: "2026-11-23".
    IsoDate, String, {
    remote,
    lower: |d| d.to_string(),
    try_lift: |s| Ok(ardoise_core::parse_date(&s).map_err(ArdoiseError::from)?),
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
    remote,
    lower: |r| r.to_string(),
    try_lift: |s| Ok(PaymentReference::parse(&s).map_err(|e| invalid(e.to_string()))?),
});

uniffi::custom_type!(
    /// An id (a UUID): "0190f4a2-...".
    Uuid, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |s| Ok(Uuid::parse_str(&s).map_err(|_| invalid(format!("{s:?} is not an id")))?),
});

uniffi::custom_type!(
    /// Payment terms: "receipt", "30" (days), "45eom" (45 days, then the end of that month) or
    /// "eom45" (the end of the month, then 45 days).
    Terms, String, {
    remote,
    lower: |t| t.to_string(),
    try_lift: |s| Ok(s.parse::<Terms>().map_err(ArdoiseError::from)?),
});

uniffi::custom_type!(
    /// A rate in percent: "9.5", at most four decimals.
    Percent, String, {
    remote,
    lower: |r| r.to_string(),
    try_lift: |s| Ok(penalty::parse_rate_pct(&s).map_err(ArdoiseError::from)?),
});

fn timestamp(s: &str) -> Result<Timestamp> {
    DateTime::parse_from_rfc3339(s).map_err(|_| {
        invalid(format!("invalid time {s:?}: expected RFC 3339 with an offset, like 2026-11-23T10:15:00+01:00"))
    })
}

/// An instant from Unix milliseconds and the till's offset from UTC in minutes (the checkout's
/// integer fast path).
pub(crate) fn timestamp_ms(unix_ms: i64, offset_minutes: i32) -> Result<Timestamp> {
    let offset = offset_minutes
        .checked_mul(60)
        .and_then(FixedOffset::east_opt)
        .ok_or_else(|| invalid(format!("invalid UTC offset {offset_minutes} minutes")))?;
    let utc = DateTime::from_timestamp_millis(unix_ms).ok_or_else(|| invalid(format!("invalid time {unix_ms} ms")))?;
    Ok(utc.with_timezone(&offset))
}

/// A field the FFI clears with an empty string (an optional field of a patch): `None` leaves it,
/// `""` clears it, anything else is parsed.
pub(crate) fn clearable<T>(v: Option<String>, parse: impl FnOnce(&str) -> Result<T>) -> Result<Option<Option<T>>> {
    match v {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(Some(None)),
        Some(v) => Ok(Some(Some(parse(&v)?))),
    }
}

pub(crate) fn money(field: &str, s: &str) -> Result<Money> {
    Money::parse(s).map_err(|e| invalid(format!("{field}: {e}")))
}

#[cfg(test)]
mod tests {
    use ardoise_core::dunning::plan::Instalment;
    use uniffi::{Lift, LiftArgsError, Lower, LowerReturn, RustBuffer, RustCallError};

    use super::*;
    use crate::UniFfiTag;

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
}
