//! The hybrid logical clock: orders edits of the same field made on different devices, even
//! when their wall clocks disagree, the way cr-sqlite does (wall ms, counter, device id).

use std::cmp::Ordering;
use std::fmt;

use uuid::Uuid;

use crate::error::{Error, Result};

/// A remote clock further ahead of ours than this is clamped, so one device with a wrong date
/// cannot win every later edit; the server refuses a clock further ahead of its own time
/// ([`Hlc::parse_from`]), which is what keeps such a clock off every device alike.
pub const MAX_AHEAD_MS: i64 = 24 * 3600 * 1000;

/// 2020-01-01T00:00:00Z. No till ran before: an earlier wall time is a clock reset to 1970 or
/// a forgery, refused by [`Hlc::parse_from`].
pub const MIN_WALL_MS: i64 = 1_577_836_800_000;

/// The largest counter the six digits of the text form hold.
const MAX_COUNTER: u32 = 999_999;

/// `wall.counter.device`: 15 digits, 6 digits, 32 lowercase hex digits.
const WALL_DIGITS: usize = 15;
const COUNTER_DIGITS: usize = 6;
const DEVICE_DIGITS: usize = 32;
const CANONICAL_LEN: usize = WALL_DIGITS + 1 + COUNTER_DIGITS + 1 + DEVICE_DIGITS;

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
            // The counter never outgrows its six digits: the text form must stay canonical.
            Some((w, c)) if w >= now_ms && c >= MAX_COUNTER => (w + 1, 0),
            Some((w, c)) if w >= now_ms => (w, c + 1),
            _ => (now_ms, 0),
        };
        Hlc { wall_ms, counter, device }
    }

    /// The least clock of `device` after `self`.
    pub fn successor(&self, device: Uuid) -> Hlc {
        if self.device < device {
            Hlc { device, ..*self }
        } else if self.counter < MAX_COUNTER {
            Hlc { counter: self.counter + 1, device, ..*self }
        } else {
            Hlc { wall_ms: self.wall_ms + 1, counter: 0, device }
        }
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

    /// A clock in exactly the form [`Display`](fmt::Display) writes, so that
    /// `parse(s)?.to_string() == s`: one clock has one spelling, and no `+5`, short wall time
    /// or upper-case device can sort differently as text than as a clock.
    pub fn parse(s: &str) -> Result<Hlc> {
        let bad = || Error::Invalid {
            field: "hlc",
            reason: format!("{s:?} is not wall.counter.device (15 digits, 6 digits, 32 lowercase hex digits)"),
        };
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        let canonical = b.len() == CANONICAL_LEN
            && digits(0..WALL_DIGITS)
            && b[WALL_DIGITS] == b'.'
            && digits(WALL_DIGITS + 1..WALL_DIGITS + 1 + COUNTER_DIGITS)
            && b[WALL_DIGITS + 1 + COUNTER_DIGITS] == b'.'
            && b[CANONICAL_LEN - DEVICE_DIGITS..].iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
        if !canonical {
            return Err(bad());
        }
        let wall_ms = s[..WALL_DIGITS].parse().map_err(|_| bad())?;
        let counter = s[WALL_DIGITS + 1..WALL_DIGITS + 1 + COUNTER_DIGITS].parse().map_err(|_| bad())?;
        let device = Uuid::try_parse(&s[CANONICAL_LEN - DEVICE_DIGITS..]).map_err(|_| bad())?;
        Ok(Hlc { wall_ms, counter, device })
    }

    /// What a device accepts in a change from the shop's log: a canonical clock of the
    /// device that sent the change (`sender`, the change's `device_id`). Another device's id
    /// would let one till pass its edits off as another's and win their ties.
    ///
    /// Deliberately no check against the time: every device must take or skip the same
    /// events of the log, whatever its own wall clock says, or they would not converge. The
    /// time is checked once, by the server, with [`Hlc::parse_from`].
    pub fn parse_sent_by(s: &str, sender: Uuid) -> Result<Hlc> {
        let hlc = Hlc::parse(s)?;
        if hlc.device != sender {
            return Err(Error::Invalid {
                field: "hlc",
                reason: format!("{s:?} is the clock of device {}, not of its sender {sender}", hlc.device),
            });
        }
        Ok(hlc)
    }

    /// What the server accepts in a push from `sender` (the token's device) at its own time
    /// `now_ms` (ms since the epoch): [`Hlc::parse_sent_by`], and a wall time from
    /// [`MIN_WALL_MS`] to `now_ms + MAX_AHEAD_MS`. The server has one clock for the whole
    /// shop, so checking the time there, before an event enters the log, refuses a clock far
    /// ahead the same way for every device; a device checking against its own time could not.
    /// Every error is [`Error::Invalid`] with field `"hlc"` and says what is wrong.
    pub fn parse_from(s: &str, sender: Uuid, now_ms: i64) -> Result<Hlc> {
        let hlc = Hlc::parse_sent_by(s, sender)?;
        let bad = |why: &str| Error::Invalid { field: "hlc", reason: format!("{s:?}: {why}") };
        if hlc.wall_ms < MIN_WALL_MS {
            return Err(bad("wall time before 2020-01-01"));
        }
        if hlc.wall_ms > now_ms.saturating_add(MAX_AHEAD_MS) {
            return Err(bad("wall time more than 24 hours ahead of the server's"));
        }
        Ok(hlc)
    }

    /// A clock read back from this device's own database. Older releases stored remote clocks
    /// as they came (`+5.0.<device>`, hyphenated devices, empty for rows written before
    /// clocks), so any `wall.counter.device` that the old parser took is read as that clock;
    /// what is not a clock at all is `None`, older than any clock.
    pub fn parse_stored(s: &str) -> Option<Hlc> {
        let mut parts = s.splitn(3, '.');
        let wall_ms = parts.next()?.parse().ok()?;
        let counter = parts.next()?.parse().ok()?;
        let device = Uuid::try_parse(parts.next()?).ok()?;
        Some(Hlc { wall_ms, counter, device })
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
    fn a_successor_is_the_next_clock_of_its_device() {
        let (lo, hi) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let h = Hlc { wall_ms: 10, counter: 4, device: hi };
        assert_eq!(h.successor(lo), Hlc { wall_ms: 10, counter: 5, device: lo });
        assert_eq!(h.successor(hi), Hlc { wall_ms: 10, counter: 5, device: hi });
        let l = Hlc { wall_ms: 10, counter: 4, device: lo };
        assert_eq!(l.successor(hi), Hlc { wall_ms: 10, counter: 4, device: hi });
        let full = Hlc { wall_ms: 10, counter: MAX_COUNTER, device: hi };
        assert_eq!(full.successor(hi), Hlc { wall_ms: 11, counter: 0, device: hi });
        for s in [h.successor(lo), h.successor(hi), l.successor(hi), full.successor(hi)] {
            assert_eq!(Hlc::parse(&s.to_string()).unwrap(), s);
        }
        assert!(h.successor(lo) > h && l.successor(hi) > l && full.successor(hi) > full);
    }

    #[test]
    fn a_clock_far_ahead_is_clamped() {
        let far = Hlc { wall_ms: 10 * MAX_AHEAD_MS, counter: 3, device: Uuid::nil() };
        assert_eq!(Hlc::observe(None, &far, 0), (MAX_AHEAD_MS, 3));
    }

    const DEV: &str = "0123456789abcdef0123456789abcdef";

    fn dev() -> Uuid {
        Uuid::try_parse(DEV).unwrap()
    }

    #[test]
    fn the_counter_never_outgrows_its_digits() {
        let d = dev();
        let h = Hlc::tick(Some((5_000, MAX_COUNTER)), 1_000, d);
        assert_eq!((h.wall_ms, h.counter), (5_001, 0));
        assert_eq!(Hlc::parse(&h.to_string()).unwrap(), h);
    }

    #[test]
    fn only_the_canonical_form_is_a_clock() {
        let good = format!("001780000000000.000007.{DEV}");
        assert_eq!(Hlc::parse(&good).unwrap(), Hlc { wall_ms: 1_780_000_000_000, counter: 7, device: dev() });
        let hyphenated = dev().hyphenated().to_string();
        for s in [
            String::new(),
            "1.2".into(),
            format!("1.0.{DEV}"),
            format!("1780000000000.000007.{DEV}"),
            format!("0001780000000000.000007.{DEV}"),
            format!("+01780000000000.000007.{DEV}"),
            format!("-01780000000000.000007.{DEV}"),
            format!("001780000000000.+00007.{DEV}"),
            format!("001780000000000.7.{DEV}"),
            format!("001780000000000.0000007.{DEV}"),
            format!("001780000000000.000007.{}", DEV.to_uppercase()),
            format!("001780000000000.000007.{hyphenated}"),
            format!("001780000000000.000007.{{{DEV}}}"),
            format!("001780000000000.000007.{DEV} "),
            format!(" 001780000000000.000007.{DEV}"),
            format!("001780000000000,000007.{DEV}"),
            format!("00178000000000x.000007.{DEV}"),
            format!("001780000000000.000007.{}", &DEV[..31]),
            format!("001780000000000.000007.{DEV}0"),
            "001780000000000.000007.0123456789abcdef0123456789abcdeg".into(),
            "001780000000000.000007.01234567٣9abcdef0123456789abcde".into(),
        ] {
            assert!(
                matches!(Hlc::parse(&s), Err(Error::Invalid { field: "hlc", .. })),
                "{s:?} taken as {:?}",
                Hlc::parse(&s)
            );
        }
    }

    #[test]
    fn a_change_carries_its_senders_clock() {
        let s = format!("001780000000000.000000.{DEV}");
        assert_eq!(Hlc::parse_sent_by(&s, dev()).unwrap().device, dev());
        let other = Uuid::from_u128(7);
        assert!(matches!(Hlc::parse_sent_by(&s, other), Err(Error::Invalid { field: "hlc", .. })));
    }

    #[test]
    fn the_server_refuses_clocks_far_ahead_of_it_or_before_2020() {
        let now = 1_780_000_000_000;
        let at = |wall: i64| Hlc { wall_ms: wall, counter: 3, device: dev() }.to_string();
        for ok in [now, now - 400 * MAX_AHEAD_MS, now + MAX_AHEAD_MS, MIN_WALL_MS] {
            assert_eq!(Hlc::parse_from(&at(ok), dev(), now).unwrap().wall_ms, ok);
        }
        // Year 9999, one ms past the allowance, 1970, just before 2020.
        for bad in [253_402_300_799_999, now + MAX_AHEAD_MS + 1, 5, MIN_WALL_MS - 1] {
            assert!(matches!(Hlc::parse_from(&at(bad), dev(), now), Err(Error::Invalid { field: "hlc", .. })), "{bad}");
        }
        assert!(Hlc::parse_from(&at(now), Uuid::from_u128(7), now).is_err(), "another device's clock");
        assert!(Hlc::parse_from(&format!("+{}", &at(now)[1..]), dev(), now).is_err(), "not canonical");
    }

    #[test]
    fn a_stored_clock_of_an_older_release_is_read_as_the_clock_it_spells() {
        let h = Hlc { wall_ms: 5, counter: 0, device: dev() };
        assert_eq!(Hlc::parse_stored(&format!("+5.0.{}", dev().hyphenated())), Some(h));
        assert_eq!(Hlc::parse_stored(&h.to_string()), Some(h));
        assert_eq!(Hlc::parse_stored(""), None);
        assert_eq!(Hlc::parse_stored("garbage"), None);
        // Read as a clock, `5.0` sorts before any real edit, where as text it sorted after.
        let real = Hlc { wall_ms: 1_780_000_000_000, counter: 0, device: dev() };
        assert_eq!(Hlc::parse_stored(&format!("5.0.{DEV}")), Some(h));
        assert!(Some(h) < Some(real));
        assert!(format!("5.0.{DEV}").as_str() > real.to_string().as_str());
    }

    proptest! {
        #[test]
        fn text_order_is_clock_order(a in 0i64..1i64 << 45, b in 0i64..1i64 << 45, ca in 0u32..999_999, cb in 0u32..999_999, da: u128, db: u128) {
            let x = Hlc { wall_ms: a, counter: ca, device: Uuid::from_u128(da) };
            let y = Hlc { wall_ms: b, counter: cb, device: Uuid::from_u128(db) };
            prop_assert_eq!(x.cmp(&y), x.to_string().cmp(&y.to_string()));
            prop_assert_eq!(Hlc::parse(&x.to_string()).unwrap(), x);
        }

        /// A clock's text with one character replaced, inserted or removed is either refused
        /// or another canonical clock written back identically: one clock, one spelling.
        #[test]
        fn a_parsed_clock_is_written_back_as_it_came(
            wall in 0i64..1i64 << 48,
            counter in 0u32..=MAX_COUNTER,
            device: u128,
            at in 0usize..CANONICAL_LEN + 1,
            edit in 0u8..4,
            with in proptest::sample::select(vec!['0', '9', 'a', 'f', 'F', 'g', '+', '-', '.', ' ', '{']),
        ) {
            let clock = Hlc { wall_ms: wall, counter, device: Uuid::from_u128(device) };
            let mut s = clock.to_string();
            prop_assert_eq!(Hlc::parse(&s).unwrap(), clock);
            let at = at.min(s.len() - 1);
            match edit {
                0 => s.replace_range(at..at + 1, &with.to_string()),
                1 => s.insert(at, with),
                2 => { s.remove(at); }
                _ => {}
            }
            match Hlc::parse(&s) {
                Ok(h) => prop_assert_eq!(h.to_string(), s),
                Err(e) => {
                    let refused = matches!(e, Error::Invalid { field: "hlc", .. });
                    prop_assert!(edit < 3 && refused, "{e}");
                }
            }
        }
    }
}
