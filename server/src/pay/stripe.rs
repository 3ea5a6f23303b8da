//! Stripe's webhook signatures, checked the way Stripe specifies them: the `Stripe-Signature`
//! header carries a timestamp `t` and one or more `v1` signatures, each the hex HMAC-SHA256 of
//! `"{t}.{body}"` under an endpoint secret. Several `v1` (and several secrets) are accepted so
//! that a secret can be rotated without losing deliveries; the comparison is constant-time;
//! a timestamp more than the tolerance away from now is refused, so a captured request cannot
//! be replayed later. Nothing here reads the body's meaning: a request that fails is refused
//! before anyone looks at what it claims.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Stripe's own default: five minutes either way.
pub const TOLERANCE_SECS: i64 = 300;

/// Why a webhook request is refused; the answer is a 4xx and nothing is written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no Stripe-Signature header")]
    Missing,
    #[error("the Stripe-Signature header has no timestamp or no v1 signature")]
    Malformed,
    #[error("the signature's timestamp is {0} s away from now, more than {TOLERANCE_SECS} s")]
    Stale(i64),
    #[error("no v1 signature matches an endpoint secret of this shop")]
    Mismatch,
}

/// Checks `header` (the `Stripe-Signature` value) for the raw request `body` against the
/// shop's endpoint `secrets` (the current one, and the previous during a rotation), at `now`
/// (Unix seconds).
pub fn verify(header: Option<&str>, body: &[u8], secrets: &[&str], now: i64) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else { continue };
        match key {
            "t" => timestamp = value.parse::<i64>().ok(),
            // A v1 that is not hex cannot match; it is skipped, not an error, as Stripe's
            // libraries do, so that one odd value does not hide a good one.
            "v1" => signatures.extend(hex::decode(value).ok()),
            // v0 (test mode's legacy scheme) and future schemes are ignored.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let skew = now.saturating_sub(timestamp);
    if skew.abs() > TOLERANCE_SECS {
        return Err(SignatureError::Stale(skew));
    }
    for secret in secrets {
        for signature in &signatures {
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
            mac.update(timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(body);
            // `verify_slice` compares in constant time.
            if mac.verify_slice(signature).is_ok() {
                return Ok(());
            }
        }
    }
    Err(SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Stripe would send: `t=...,v1=...` signed with `secret`.
    fn sign(secret: &str, t: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    const BODY: &[u8] = br#"{"id":"evt_1","type":"checkout.session.completed"}"#;
    const NOW: i64 = 1_780_000_000;

    #[test]
    fn a_signature_of_the_body_at_a_fresh_time_is_accepted() {
        let header = format!("t={NOW},v1={}", sign("whsec_a", NOW, BODY));
        assert_eq!(verify(Some(&header), BODY, &["whsec_a"], NOW + 10), Ok(()));
        // Within the tolerance either way, not beyond.
        assert_eq!(verify(Some(&header), BODY, &["whsec_a"], NOW + TOLERANCE_SECS), Ok(()));
        assert_eq!(
            verify(Some(&header), BODY, &["whsec_a"], NOW + TOLERANCE_SECS + 1),
            Err(SignatureError::Stale(301))
        );
        assert_eq!(verify(Some(&header), BODY, &["whsec_a"], NOW - 400), Err(SignatureError::Stale(-400)));
    }

    /// A vector computed outside this code (Python's `hmac` over `"{t}.{body}"` with the whole
    /// `whsec_...` string as key, as Stripe's libraries do), so that the test does not only
    /// agree with itself.
    #[test]
    fn a_signature_computed_elsewhere_is_accepted() {
        let header = format!("t={NOW},v1=fa14066f8e16025d4d730417e4ea80a5de0d5ab852db66a7445a4ad2d4240fee");
        assert_eq!(verify(Some(&header), BODY, &["whsec_test_secret"], NOW), Ok(()));
    }

    #[test]
    fn a_changed_body_timestamp_or_secret_is_refused() {
        let header = format!("t={NOW},v1={}", sign("whsec_a", NOW, BODY));
        let tampered = br#"{"id":"evt_1","type":"checkout.session.completed "}"#;
        assert_eq!(verify(Some(&header), tampered, &["whsec_a"], NOW), Err(SignatureError::Mismatch));
        assert_eq!(verify(Some(&header), BODY, &["whsec_b"], NOW), Err(SignatureError::Mismatch));
        // The same signature moved to another timestamp (a replay made to look fresh).
        let moved = format!("t={},v1={}", NOW + 60, sign("whsec_a", NOW, BODY));
        assert_eq!(verify(Some(&moved), BODY, &["whsec_a"], NOW + 60), Err(SignatureError::Mismatch));
    }

    #[test]
    fn during_a_rotation_any_v1_under_any_secret_will_do() {
        let header = format!(
            "t={NOW},v1={},v1={},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39",
            sign("whsec_old", NOW, BODY),
            sign("whsec_new", NOW, BODY)
        );
        assert_eq!(verify(Some(&header), BODY, &["whsec_new"], NOW), Ok(()));
        assert_eq!(verify(Some(&header), BODY, &["whsec_old"], NOW), Ok(()));
        assert_eq!(verify(Some(&header), BODY, &["whsec_other", "whsec_new"], NOW), Ok(()));
        // A v1 that is not hex does not hide a good one.
        let odd = format!("t={NOW},v1=zz,v1={}", sign("whsec_a", NOW, BODY));
        assert_eq!(verify(Some(&odd), BODY, &["whsec_a"], NOW), Ok(()));
    }

    #[test]
    fn headers_without_what_is_needed_are_refused() {
        assert_eq!(verify(None, BODY, &["whsec_a"], NOW), Err(SignatureError::Missing));
        for header in ["", "t=abc,v1=00", &format!("t={NOW}"), &format!("t={NOW},v0=00"), "v1=00"] {
            assert_eq!(verify(Some(header), BODY, &["whsec_a"], NOW), Err(SignatureError::Malformed), "{header}");
        }
        let no_secret = format!("t={NOW},v1={}", sign("whsec_a", NOW, BODY));
        assert_eq!(verify(Some(&no_secret), BODY, &[], NOW), Err(SignatureError::Mismatch));
    }
}
