//! The `open_dues` column of an account row: what each open invoice owes, by due date, oldest
//! first ("2026-11-20 1234,2026-12-01 500", cents). The fold writes it with the rest of the row,
//! so the checkout and the aging read one row per customer instead of every open invoice.

use chrono::{Datelike, NaiveDate};

use crate::error::{Error, Result};
use crate::money::Money;

/// One account's open dues, as stored.
#[derive(Clone, Copy, Debug)]
pub(in crate::store) struct OpenDues<'a>(&'a [u8]);

impl<'a> OpenDues<'a> {
    /// The column `i` of a row, borrowed from it.
    pub(in crate::store) fn from_row(r: &'a rusqlite::Row<'_>, i: usize) -> Result<OpenDues<'a>> {
        let bytes = r.get_ref(i)?.as_bytes().map_err(|e| Error::Corrupt(format!("open dues: {e}")))?;
        Ok(OpenDues(bytes))
    }

    /// The text to store for these (due date, cents owed) pairs, whatever their order.
    pub(in crate::store) fn write(mut open: Vec<(NaiveDate, i64)>) -> String {
        open.sort_unstable();
        let mut out = String::with_capacity(open.len() * 18);
        for (k, (due, owed)) in open.iter().enumerate() {
            use std::fmt::Write;
            let _ = write!(out, "{}{due} {owed}", if k == 0 { "" } else { "," });
        }
        out
    }

    /// Each open invoice as (due date as YYYYMMDD, cents owed), oldest first; read by hand:
    /// this runs for every open invoice of the shop in the owner's first screen.
    pub(in crate::store) fn iter(self) -> impl Iterator<Item = Result<(u32, i64)>> + 'a {
        self.0
            .split(|&c| c == b',')
            .filter(|p| !p.is_empty())
            .map(|part| dated_amount(part).ok_or_else(|| corrupt(part)))
    }

    /// The sum, count and oldest due date of the invoices due before `today`, leaving out one
    /// entry for each disputed invoice (due date, cents owed): entries with the same two values
    /// are interchangeable here.
    pub(in crate::store) fn overdue(
        self,
        today: NaiveDate,
        disputed: &[(NaiveDate, i64)],
    ) -> Result<(Money, u32, Option<NaiveDate>)> {
        let today = date_key(today);
        let mut left_out: Vec<(u32, i64)> = disputed.iter().map(|(d, o)| (date_key(*d), *o)).collect();
        let (mut sum, mut count, mut oldest) = (0i64, 0u32, None);
        for due in self.iter() {
            let (due, owed) = due?;
            if due >= today {
                break;
            }
            if let Some(k) = left_out.iter().position(|d| *d == (due, owed)) {
                left_out.swap_remove(k);
                continue;
            }
            sum += owed;
            count += 1;
            if oldest.is_none() {
                oldest = Some(date_of_key(due).ok_or_else(|| Error::Corrupt(format!("open dues: date {due}")))?);
            }
        }
        Ok((Money::from_minor(sum), count, oldest))
    }
}

fn corrupt(what: &[u8]) -> Error {
    Error::Corrupt(format!("open dues: {:?}", String::from_utf8_lossy(what)))
}

/// A date as the YYYYMMDD number the dues are compared by.
pub(in crate::store) fn date_key(d: NaiveDate) -> u32 {
    d.year() as u32 * 10_000 + d.month() * 100 + d.day()
}

/// The date of a YYYYMMDD number, if it is one.
pub(in crate::store) fn date_of_key(key: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt((key / 10_000) as i32, key / 100 % 100, key % 100)
}

/// One "YYYY-MM-DD amount" as (YYYYMMDD, cents).
fn dated_amount(part: &[u8]) -> Option<(u32, i64)> {
    let digits = |s: &[u8]| -> Option<u32> {
        s.iter().try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    if part.len() < 12 || part[4] != b'-' || part[7] != b'-' || part[10] != b' ' {
        return None;
    }
    let due = digits(&part[..4])? * 10_000 + digits(&part[5..7])? * 100 + digits(&part[8..10])?;
    let owed = std::str::from_utf8(&part[11..]).ok()?.parse().ok()?;
    Some((due, owed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::parse_date(s).unwrap()
    }

    #[test]
    fn dues_are_written_oldest_first_and_read_back() {
        let text = OpenDues::write(vec![(d("2026-12-01"), 500), (d("2026-11-20"), 1234), (d("2026-11-20"), -7)]);
        assert_eq!(text, "2026-11-20 -7,2026-11-20 1234,2026-12-01 500");
        let read: Vec<(u32, i64)> = OpenDues(text.as_bytes()).iter().collect::<Result<_>>().unwrap();
        assert_eq!(read, vec![(20261120, -7), (20261120, 1234), (20261201, 500)]);
        assert_eq!(OpenDues(b"").iter().count(), 0);
    }

    #[test]
    fn overdue_leaves_out_the_disputed_and_what_is_not_yet_due() {
        let text = OpenDues::write(vec![(d("2026-11-01"), 1000), (d("2026-11-10"), 2000), (d("2026-11-30"), 4000)]);
        let dues = OpenDues(text.as_bytes());
        let (sum, count, oldest) = dues.overdue(d("2026-11-20"), &[]).unwrap();
        assert_eq!((sum, count, oldest), (Money::from_minor(3000), 2, Some(d("2026-11-01"))));
        let (sum, count, oldest) = dues.overdue(d("2026-11-20"), &[(d("2026-11-01"), 1000)]).unwrap();
        assert_eq!((sum, count, oldest), (Money::from_minor(2000), 1, Some(d("2026-11-10"))));
    }

    #[test]
    fn damaged_dues_are_reported_not_misread() {
        for bad in ["2026-11-01", "2026/11/01 5", "2026-11-01 x", "2026-13-45 5"] {
            let dues = OpenDues(bad.as_bytes());
            assert!(dues.overdue(d("2027-01-01"), &[]).is_err(), "{bad}");
        }
    }
}
