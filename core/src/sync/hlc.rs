//! The hybrid logical clock: orders edits of the same field made on different devices, even
//! when their wall clocks disagree, the way cr-sqlite does (wall ms, counter, device id).

use std::cmp::Ordering;
use std::fmt;

use uuid::Uuid;

use crate::error::{Error, Result};

/// A remote clock further ahead of ours than this is clamped, so one device with a wrong date
/// cannot win every later edit.
pub const MAX_AHEAD_MS: i64 = 24 * 3600 * 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Hlc {
    pub wall_ms: i64,
    pub counter: u32,
    pub device: Uuid,
}

impl Hlc {
    /// The clock of a new local edit: after both the wall clock and the last clock seen.
    pub fn tick(last: Option<(i64, u32)>, now_ms: i64, device: Uuid) -> Hlc {
        let (wall_ms, counter) = match last {
            Some((w, c)) if w >= now_ms => (w, c + 1),
            _ => (now_ms, 0),
        };
        Hlc { wall_ms, counter, device }
    }

    /// The last clock after seeing a remote one: never behind it, but never jumping more
    /// than [`MAX_AHEAD_MS`] past our wall clock.
    pub fn observe(last: Option<(i64, u32)>, remote: &Hlc, now_ms: i64) -> (i64, u32) {
        let remote_wall = remote.wall_ms.min(now_ms + MAX_AHEAD_MS);
        let last = last.unwrap_or((i64::MIN, 0));
        match (remote_wall, remote.counter).cmp(&last) {
            Ordering::Greater => (remote_wall, remote.counter),
            _ => last,
        }
    }

    pub fn parse(s: &str) -> Result<Hlc> {
        let bad = || Error::Invalid { field: "hlc", reason: format!("{s:?} is not wall.counter.device") };
        let mut parts = s.splitn(3, '.');
        let wall_ms = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let counter = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let device = parts.next().and_then(|p| Uuid::try_parse(p).ok()).ok_or_else(bad)?;
        if wall_ms < 0 {
            return Err(bad());
        }
        Ok(Hlc { wall_ms, counter, device })
    }
}

/// Fixed-width digits, so that comparing the strings orders the clocks.
impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:015}.{:06}.{}", self.wall_ms, self.counter, self.device.simple())
    }
}

impl PartialOrd for Hlc {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Hlc {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.wall_ms, self.counter, self.device).cmp(&(other.wall_ms, other.counter, other.device))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tick_moves_forward_even_when_the_wall_clock_goes_back() {
        let d = Uuid::nil();
        let a = Hlc::tick(None, 1_000, d);
        let b = Hlc::tick(Some((a.wall_ms, a.counter)), 900, d);
        assert!(b > a);
        assert_eq!((b.wall_ms, b.counter), (1_000, 1));
        let c = Hlc::tick(Some((b.wall_ms, b.counter)), 2_000, d);
        assert_eq!((c.wall_ms, c.counter), (2_000, 0));
    }

    #[test]
    fn a_clock_far_ahead_is_clamped() {
        let far = Hlc { wall_ms: 10 * MAX_AHEAD_MS, counter: 3, device: Uuid::nil() };
        assert_eq!(Hlc::observe(None, &far, 0), (MAX_AHEAD_MS, 3));
    }

    #[test]
    fn bad_clocks_are_refused() {
        for s in ["", "1.2", "x.1.00000000000000000000000000000000", "-5.1.00000000000000000000000000000000"] {
            assert!(Hlc::parse(s).is_err(), "{s}");
        }
    }

    proptest! {
        #[test]
        fn text_order_is_clock_order(a in 0i64..1i64 << 45, b in 0i64..1i64 << 45, ca in 0u32..999_999, cb in 0u32..999_999, da: u128, db: u128) {
            let x = Hlc { wall_ms: a, counter: ca, device: Uuid::from_u128(da) };
            let y = Hlc { wall_ms: b, counter: cb, device: Uuid::from_u128(db) };
            prop_assert_eq!(x.cmp(&y), x.to_string().cmp(&y.to_string()));
            prop_assert_eq!(Hlc::parse(&x.to_string()).unwrap(), x);
        }
    }
}
