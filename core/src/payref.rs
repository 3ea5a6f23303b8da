//! The customer's payment reference: an ISO 11649 structured creditor reference ("RF" + check
//! digits + the reference), printed on every reminder, notice and statement so that a bank
//! transfer can be matched to the account without a person reading the label.
//!
//! The reference is derived from the customer's UUID, not stored: every device (each till, the
//! back office) computes the same one, forever, with no field to replicate or migrate. Its body
//! is 16 decimal digits taken from the UUID's low 62 bits, which are random in the v4 UUIDs the
//! store gives customers (and in v7 ones: `rand_b`), so the time or version bits never make two
//! references alike: "RF12 3456 7890 1234 5678", 20 characters. Two customers of one shop share
//! a reference with probability about n²/(2·10¹⁶): one in two million for 100,000 customers. A
//! reference names a customer only within the shop whose statements are read, so nothing of the
//! shop is in it; a caller matches what [`find_in`] returns against its own customers and
//! treats a reference two of them share as no match.
//!
//! Digits, not base 36, though base 36 would say as much in 12 characters: the check, ISO 7064
//! mod 97-10, catches every single wrong digit and every swap of two neighbouring digits, but
//! reads a letter as two digits, so "1B" and "B1" give the same number (1, 11 and 11, 1) and a
//! swap there passes. Digits also type on a phone's number pad and leave no O for 0 to mistake.
//! Check digits 00, 01 and 99 pass the arithmetic but the standard never issues them (computed
//! digits are 02 to 98): refused, so each reference has one written form.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// At most 25 characters: "RF", two check digits and up to 21 letters or digits (ISO 11649).
pub const MAX_LEN: usize = 25;
/// The body of a reference Ardoise issues: decimal digits of the UUID's low bits.
const BODY_DIGITS: usize = 16;
/// The UUID bits random in both v4 and v7 UUIDs. 2⁶² is 461 times 10¹⁶, so the digits taken
/// modulo 10¹⁶ are uniform to within 0.3%.
const RANDOM_BITS: u32 = 62;

/// A valid structured creditor reference, kept in its compact form ("RF18539007547034").
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PaymentReference(String);

/// Why a text is not a structured creditor reference.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("payment reference {0:?} does not start with RF")]
    NotRf(String),
    #[error("payment reference {0:?} has characters other than letters, digits and spaces")]
    BadCharacter(String),
    #[error("payment reference {0:?} must be RF, two check digits and 1 to 21 letters or digits")]
    Length(String),
    /// A reference copied wrong: refused, never taken for another customer's.
    #[error("payment reference {0:?} has wrong check digits (mistyped?)")]
    CheckDigits(String),
}

impl PaymentReference {
    /// The customer's reference: the same on every device, for as long as the customer exists.
    pub fn for_customer(id: Uuid) -> Self {
        let random = (id.as_u128() as u64) & ((1u64 << RANDOM_BITS) - 1);
        let body = format!("{:0width$}", random % 10u64.pow(BODY_DIGITS as u32), width = BODY_DIGITS);
        Self::from_body(&body)
    }

    /// "RF" + the check digits computed for `body` (upper-case letters and digits).
    fn from_body(body: &str) -> Self {
        let check = 98 - mod97(body.bytes().chain(*b"RF00"));
        PaymentReference(format!("RF{check:02}{body}"))
    }

    /// Reads a reference as printed (groups of four) or typed (any case, any spacing).
    pub fn parse(text: &str) -> Result<Self, ReferenceError> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        if !compact.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ReferenceError::BadCharacter(text.to_owned()));
        }
        if !compact.starts_with("RF") {
            return Err(ReferenceError::NotRf(text.to_owned()));
        }
        if compact.len() < 5 || compact.len() > MAX_LEN || !compact[2..4].bytes().all(|b| b.is_ascii_digit()) {
            return Err(ReferenceError::Length(text.to_owned()));
        }
        let digits: u8 = compact[2..4].parse().expect("two ASCII digits");
        // The check runs over the reference with "RF" and its digits moved to the end.
        let valid = (2..=98).contains(&digits) && mod97(compact[4..].bytes().chain(compact[..4].bytes())) == 1;
        if !valid {
            return Err(ReferenceError::CheckDigits(text.to_owned()));
        }
        Ok(PaymentReference(compact))
    }

    /// The compact form, as a bank's remittance field carries it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The valid references in a free text (a transfer's remittance information), in order of
/// appearance, compact or printed in groups of four. A reference is taken only whole: it starts
/// after a character that is not a letter or digit and ends before one, so a reference is never
/// read out of a longer code. Spaces continue a reference only after a full group of four, as
/// it is printed, and a group has at most four characters. A printed reference can be read
/// several ways (its first groups alone, or with a short word after it as one more group), and
/// each reading with valid check digits is returned: one in 97 passes the check by chance, so
/// the caller keeps only those that name one of its customers.
pub fn find_in(text: &str) -> Vec<PaymentReference> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    for start in 0..bytes.len().saturating_sub(1) {
        let at_boundary = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
        if !at_boundary || !bytes[start..start + 2].eq_ignore_ascii_case(b"RF") {
            continue;
        }
        // Runs of letters and digits separated by single spaces, each run a possible end.
        let mut compact = String::new();
        let mut at = start;
        loop {
            let run = bytes[at..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
            // After a space, a printed group has at most four characters: a longer run is the
            // next word.
            let too_long = at > start && run > 4;
            if too_long || compact.len() + run > MAX_LEN {
                break;
            }
            compact.push_str(&text[at..at + run]);
            at += run;
            if let Ok(reference) = PaymentReference::parse(&compact)
                && !found.contains(&reference)
            {
                found.push(reference);
            }
            let continues =
                run == 4 && bytes.get(at) == Some(&b' ') && bytes.get(at + 1).is_some_and(u8::is_ascii_alphanumeric);
            if !continues {
                break;
            }
            at += 1;
        }
    }
    found
}

impl fmt::Display for PaymentReference {
    /// The print form: groups of four ("RF18 5390 0754 7034").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, group) in self.0.as_bytes().chunks(4).enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            // Only ASCII letters and digits are kept in a reference.
            f.write_str(std::str::from_utf8(group).expect("ASCII"))?;
        }
        Ok(())
    }
}

impl FromStr for PaymentReference {
    type Err = ReferenceError;

    fn from_str(text: &str) -> Result<Self, ReferenceError> {
        Self::parse(text)
    }
}

impl TryFrom<String> for PaymentReference {
    type Error = ReferenceError;

    fn try_from(text: String) -> Result<Self, ReferenceError> {
        Self::parse(&text)
    }
}

impl From<PaymentReference> for String {
    fn from(reference: PaymentReference) -> String {
        reference.0
    }
}

/// ISO 7064 mod 97-10 over upper-case letters and digits, letters read as 10 (A) to 35 (Z).
fn mod97(chars: impl Iterator<Item = u8>) -> u32 {
    chars.fold(0u32, |n, c| match c {
        b'0'..=b'9' => (n * 10 + u32::from(c - b'0')) % 97,
        _ => (n * 100 + u32::from(c - b'A') + 10) % 97,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_standards_example_is_valid_in_every_written_form() {
        for form in ["RF18539007547034", "RF18 5390 0754 7034", "rf18 5390 0754 7034", "  RF185390 07547034 "] {
            let reference = PaymentReference::parse(form).unwrap();
            assert_eq!(reference.as_str(), "RF18539007547034");
            assert_eq!(reference.to_string(), "RF18 5390 0754 7034");
        }
        // The body alone gives the same check digits.
        assert_eq!(PaymentReference::from_body("539007547034").as_str(), "RF18539007547034");
    }

    #[test]
    fn published_examples_read_as_published() {
        // python-stdnum's iso11649 examples: one with a letter, one with a wrong check digit.
        assert_eq!(PaymentReference::parse("RF18 5390 0754 70Y").unwrap().as_str(), "RF185390075470Y");
        assert_eq!(PaymentReference::parse("RF18539007547034").unwrap().to_string(), "RF18 5390 0754 7034");
        assert!(matches!(PaymentReference::parse("RF17 5390 0754 7034"), Err(ReferenceError::CheckDigits(_))));
    }

    #[test]
    fn letters_would_let_a_swap_through_which_is_why_bodies_are_digits() {
        // "1B" and "B1" both read 1 11: the same number, the same check digits.
        let (a, b) = (PaymentReference::from_body("1B"), PaymentReference::from_body("B1"));
        assert_eq!(a.as_str()[..4], b.as_str()[..4]);
        assert!(PaymentReference::parse(&format!("{}B1", &a.as_str()[..4])).is_ok());
    }

    #[test]
    fn wrong_check_digits_are_a_typed_error() {
        assert_eq!(
            PaymentReference::parse("RF19 5390 0754 7034"),
            Err(ReferenceError::CheckDigits("RF19 5390 0754 7034".into()))
        );
        assert_eq!(
            PaymentReference::parse("RF18539007547043"),
            Err(ReferenceError::CheckDigits("RF18539007547043".into()))
        );
        assert!(matches!(PaymentReference::parse("FR18539007547034"), Err(ReferenceError::NotRf(_))));
        assert!(matches!(PaymentReference::parse("RF18-5390"), Err(ReferenceError::BadCharacter(_))));
        assert!(matches!(PaymentReference::parse("RF18"), Err(ReferenceError::Length(_))));
        assert!(matches!(PaymentReference::parse("RFAB5390"), Err(ReferenceError::Length(_))));
        assert!(matches!(PaymentReference::parse(&format!("RF18{}", "1".repeat(22))), Err(ReferenceError::Length(_))));
    }

    #[test]
    fn check_digits_the_standard_never_issues_are_refused() {
        // "RF99" + body passes the arithmetic when "RF02" + body is valid; only 02 is issued.
        let body = (0..10_000)
            .map(|n| n.to_string())
            .find(|b| PaymentReference::from_body(b).as_str().starts_with("RF02"))
            .unwrap();
        assert!(matches!(PaymentReference::parse(&format!("RF99{body}")), Err(ReferenceError::CheckDigits(_))));
        let body = (0..10_000)
            .map(|n| n.to_string())
            .find(|b| PaymentReference::from_body(b).as_str().starts_with("RF98"))
            .unwrap();
        assert!(matches!(PaymentReference::parse(&format!("RF01{body}")), Err(ReferenceError::CheckDigits(_))));
    }

    #[test]
    fn a_customers_reference_is_short_stable_and_from_the_uuid_low_bits() {
        let id = Uuid::parse_str("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap();
        let reference = PaymentReference::for_customer(id);
        assert_eq!(reference, PaymentReference::for_customer(id));
        assert_eq!(reference.as_str().len(), 20);
        assert!(reference.as_str()[2..].bytes().all(|b| b.is_ascii_digit()), "{reference}");
        assert_eq!(PaymentReference::parse(&reference.to_string()), Ok(reference.clone()));
        // Only the low 62 bits count: the version and time bits of the UUID are not in it.
        let same_low = Uuid::from_u128((id.as_u128() & ((1 << 62) - 1)) | (0xffff_u128 << 100));
        assert_eq!(PaymentReference::for_customer(same_low), reference);
        assert_ne!(PaymentReference::for_customer(Uuid::from_u128(id.as_u128() ^ 1)), reference);
        // The body always has its 16 digits.
        assert_eq!(PaymentReference::for_customer(Uuid::max()).as_str().len(), 20);
        assert_eq!(&PaymentReference::for_customer(Uuid::nil()).as_str()[4..], "0000000000000000");
    }

    #[test]
    fn references_are_found_in_a_transfers_label() {
        let label = "VIR SEPA INST DE M DUPONT /RFB/RF18539007547034 FACT 12";
        assert_eq!(find_in(label), vec![PaymentReference::parse("RF18539007547034").unwrap()]);
        let printed = "Paiement ardoise rf18 5390 0754 7034 merci";
        assert_eq!(find_in(printed), vec![PaymentReference::parse("RF18539007547034").unwrap()]);
        let end = "REF RF18 5390 0754 7034";
        assert_eq!(find_in(end).len(), 1);
        let short_group = "REF RF18 5390 0754 70Y 14/11";
        assert_eq!(find_in(short_group), vec![PaymentReference::parse("RF185390075470Y").unwrap()]);
    }

    #[test]
    fn wrong_or_partial_references_are_not_found() {
        assert!(find_in("VIR RF19539007547034").is_empty(), "wrong check digits");
        assert!(find_in("VIR RF185390075470341").is_empty(), "inside a longer code");
        assert!(find_in("VIR XRF18539007547034").is_empty(), "inside a longer code");
        assert!(find_in("VIR RF18 5390 0754 70").is_empty(), "cut short");
        assert!(find_in("").is_empty());
        assert!(find_in("RF").is_empty());
        assert!(find_in("réf RF").is_empty());
    }

    #[test]
    fn several_references_in_one_label_are_all_found() {
        let a = PaymentReference::for_customer(Uuid::from_u128(42));
        let b = PaymentReference::for_customer(Uuid::from_u128(0xdead_beef_cafe));
        let label = format!("{a} et {} (deux comptes)", b.as_str());
        assert_eq!(find_in(&label), vec![a, b]);
    }

    fn alphabet() -> impl Strategy<Value = u8> {
        prop::sample::select(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".to_vec())
    }

    proptest! {
        #[test]
        fn every_reference_round_trips(id in any::<u128>()) {
            let reference = PaymentReference::for_customer(Uuid::from_u128(id));
            prop_assert_eq!(PaymentReference::parse(&reference.to_string()), Ok(reference.clone()));
            prop_assert_eq!(PaymentReference::parse(&reference.to_string().to_lowercase()), Ok(reference.clone()));
            // Printed, its first groups may pass the check by chance too; compact, it is alone.
            let printed = find_in(&format!("VIR {reference} MERCI"));
            prop_assert!(printed.contains(&reference));
            prop_assert!(printed.iter().all(|found| found == &reference || reference.as_str().starts_with(found.as_str())));
            prop_assert_eq!(find_in(&format!("VIR/{}/", reference.as_str())), vec![reference]);
        }

        #[test]
        fn any_wrong_digit_is_refused(id in any::<u128>(), at in 2usize..20, to in b'0'..=b'9') {
            let reference = PaymentReference::for_customer(Uuid::from_u128(id));
            let mut changed = reference.as_str().as_bytes().to_vec();
            prop_assume!(changed[at] != to);
            changed[at] = to;
            let changed = String::from_utf8(changed).unwrap();
            prop_assert!(PaymentReference::parse(&changed).is_err(), "{} accepted for {}", changed, reference);
            prop_assert!(find_in(&changed).is_empty());
        }

        #[test]
        fn a_letter_typed_for_a_digit_never_names_a_customer(id in any::<u128>(), at in 2usize..20, to in b'A'..=b'Z') {
            // The check may pass (a letter reads as two digits), but no customer's reference
            // has a letter in it, so the reference matches nobody.
            let reference = PaymentReference::for_customer(Uuid::from_u128(id));
            let mut changed = reference.as_str().as_bytes().to_vec();
            changed[at] = to;
            if let Ok(parsed) = PaymentReference::parse(std::str::from_utf8(&changed).unwrap()) {
                prop_assert!(!parsed.as_str()[2..].bytes().all(|b| b.is_ascii_digit()));
                prop_assert_ne!(parsed, reference);
            }
        }

        #[test]
        fn any_swap_of_neighbours_is_refused(id in any::<u128>(), at in 2usize..19) {
            let reference = PaymentReference::for_customer(Uuid::from_u128(id));
            let mut swapped = reference.as_str().as_bytes().to_vec();
            prop_assume!(swapped[at] != swapped[at + 1]);
            swapped.swap(at, at + 1);
            let swapped = String::from_utf8(swapped).unwrap();
            prop_assert!(PaymentReference::parse(&swapped).is_err(), "{} accepted for {}", swapped, reference);
        }

        #[test]
        fn any_body_gets_check_digits_that_parse(body in prop::collection::vec(alphabet(), 1..=21)) {
            let reference = PaymentReference::from_body(std::str::from_utf8(&body).unwrap());
            prop_assert_eq!(PaymentReference::parse(reference.as_str()), Ok(reference.clone()));
        }
    }
}
