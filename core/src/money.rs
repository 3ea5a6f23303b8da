//! Exact money: integer minor units (cents) of the shop currency, parsed strictly from decimal strings.

use std::fmt;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

/// Digits after the decimal point the shop currency (EUR) allows.
pub const DECIMALS: u32 = 2;
/// One billion euros: far above any till amount, and low enough that sums of millions of
/// entries never overflow an `i64`.
const MAX_MINOR: i64 = 100_000_000_000;

/// An amount of the shop currency in minor units. Signed: a credit balance is negative.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Money(i64);

/// Why a string is not an amount.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount {0:?} is not a decimal number like 12.50")]
    Malformed(String),
    #[error("amount {0:?} has more than {DECIMALS} decimals")]
    TooManyDecimals(String),
    #[error("amount {0:?} is too large")]
    TooLarge(String),
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_minor(minor: i64) -> Money {
        Money(minor)
    }

    pub const fn minor(self) -> i64 {
        self.0
    }

    /// Cents from outside (a till's integer fast path), bounded like a parsed amount.
    pub fn try_from_minor(minor: i64) -> Result<Money, MoneyError> {
        if minor.checked_abs().is_none_or(|m| m > MAX_MINOR) {
            return Err(MoneyError::TooLarge(format!("{minor} cents")));
        }
        Ok(Money(minor))
    }

    /// Parses `-?digits(.digits)?`, nothing else: no exponent, no thousands separator, no sign
    /// other than a leading minus, no spaces. A till must never guess what "1,5" or "1e3" meant.
    pub fn parse(input: &str) -> Result<Money, MoneyError> {
        let malformed = || MoneyError::Malformed(input.to_owned());
        let body = input.strip_prefix('-').unwrap_or(input);
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (body, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(int) || frac.is_some_and(|f| !digits(f)) {
            return Err(malformed());
        }
        let dec = Decimal::from_str(input).map_err(|_| malformed())?;
        if frac.is_some_and(|f| f.len() > DECIMALS as usize) {
            return Err(MoneyError::TooManyDecimals(input.to_owned()));
        }
        let minor = (dec * Decimal::from(10i64.pow(DECIMALS)))
            .to_i64()
            .ok_or_else(|| MoneyError::TooLarge(input.to_owned()))?;
        if minor.abs() > MAX_MINOR {
            return Err(MoneyError::TooLarge(input.to_owned()));
        }
        Ok(Money(minor))
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn abs(self) -> Money {
        Money(self.0.abs())
    }

    /// Zero when negative: "available credit" is never shown below nothing.
    pub fn clamp_zero(self) -> Money {
        Money(self.0.max(0))
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, DECIMALS)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.to_decimal();
        write!(f, "{d:.2}")
    }
}

impl FromStr for Money {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Money::parse(s)
    }
}

impl TryFrom<String> for Money {
    type Error = MoneyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Money::parse(&s)
    }
}

impl From<Money> for String {
    fn from(m: Money) -> String {
        m.to_string()
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl SubAssign for Money {
    fn sub_assign(&mut self, rhs: Money) {
        self.0 -= rhs.0;
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_amounts() {
        assert_eq!(Money::parse("12.50").unwrap().minor(), 1250);
        assert_eq!(Money::parse("12.5").unwrap().minor(), 1250);
        assert_eq!(Money::parse("12").unwrap().minor(), 1200);
        assert_eq!(Money::parse("0.01").unwrap().minor(), 1);
        assert_eq!(Money::parse("-3.20").unwrap().minor(), -320);
        assert_eq!(Money::parse("007.00").unwrap().minor(), 700);
    }

    #[test]
    fn rejects_what_a_till_must_not_guess() {
        for bad in ["", "-", ".5", "5.", "1,50", "1e3", "+5", " 5", "5 ", "1_000", "NaN", "1.2.3", "١٢"] {
            assert!(matches!(Money::parse(bad), Err(MoneyError::Malformed(_))), "{bad:?}");
        }
        assert_eq!(Money::parse("1.234"), Err(MoneyError::TooManyDecimals("1.234".into())));
        assert_eq!(Money::parse("1.230"), Err(MoneyError::TooManyDecimals("1.230".into())));
        assert!(matches!(Money::parse("99999999999999999999"), Err(MoneyError::TooLarge(_))));
        assert!(matches!(Money::parse("1000000001"), Err(MoneyError::TooLarge(_))));
    }

    #[test]
    fn cents_from_outside_are_bounded_like_parsed_amounts() {
        assert_eq!(Money::try_from_minor(-1250), Ok(Money::from_minor(-1250)));
        assert_eq!(Money::try_from_minor(MAX_MINOR), Ok(Money::from_minor(MAX_MINOR)));
        for bad in [MAX_MINOR + 1, -MAX_MINOR - 1, i64::MIN, i64::MAX] {
            assert!(matches!(Money::try_from_minor(bad), Err(MoneyError::TooLarge(_))), "{bad}");
        }
    }

    #[test]
    fn displays_two_decimals() {
        assert_eq!(Money::from_minor(1250).to_string(), "12.50");
        assert_eq!(Money::from_minor(-5).to_string(), "-0.05");
        assert_eq!(Money::from_minor(0).to_string(), "0.00");
        assert_eq!(serde_json::to_string(&Money::from_minor(100)).unwrap(), "\"1.00\"");
    }

    proptest::proptest! {
        #[test]
        fn display_round_trips(minor in -MAX_MINOR..=MAX_MINOR) {
            let m = Money::from_minor(minor);
            proptest::prop_assert_eq!(Money::parse(&m.to_string()).unwrap(), m);
        }
    }
}
