//! How the domain's values are stored: money as integer cents, dates as ISO text (rusqlite's
//! chrono conversions), instants as Unix milliseconds, entries read back from their rows, and
//! free-text fields checked by `crate::text` before they are written.

use rusqlite::types::{FromSql, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

use chrono::{DateTime, FixedOffset};
use uuid::Uuid;

use crate::entry::Entry;
use crate::error::{Error, Result};
use crate::money::Money;

/// The local time of the till: the date in its offset is the shop's business date.
pub type Now = DateTime<FixedOffset>;

impl ToSql for Money {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.minor()))
    }
}

impl FromSql for Money {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        i64::column_result(value).map(Money::from_minor)
    }
}

/// A new id, time-ordered (UUIDv7) from the injected clock: rows keyed by it are appended at
/// the end of their B-tree instead of landing on a random page, which keeps writes cheap on a
/// large database.
pub(crate) fn new_id(now: Now) -> Uuid {
    let secs = u64::try_from(now.timestamp()).unwrap_or(0);
    Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, secs, now.timestamp_subsec_nanos()))
}

/// A date stored as text and read back by hand; anything but ISO means the file was damaged.
pub(in crate::store) fn date_of(s: &str) -> Result<chrono::NaiveDate> {
    crate::parse_date(s).map_err(|_| Error::Corrupt(format!("bad date {s}")))
}

/// An instant as stored: Unix milliseconds.
pub(in crate::store) fn ms(now: Now) -> i64 {
    now.timestamp_millis()
}

pub(in crate::store) use crate::text::{prose, text};

/// Columns 0-7 make the entry; 8 and 9 are its stored effect.
pub(in crate::store) const ENTRY_SELECT: &str =
    "SELECT e.uuid, e.device_id, e.device_seq, c.uuid, e.business_date, e.recorded_at, e.cashier, e.body,
     e.balance_effect, e.deposit_effect FROM entries e JOIN customers c ON c.id = e.customer_id";

/// Reads an entry; the outer result is SQLite's, the inner one the stored JSON's.
pub(in crate::store) fn entry_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Entry>> {
    let body: String = r.get(7)?;
    let recorded_ms: i64 = r.get(5)?;
    let (id, device_id, device_seq, customer) = (r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?, r.get(3)?);
    let (business_date, cashier) = (r.get(4)?, r.get(6)?);
    Ok((|| {
        Ok(Entry {
            id,
            device_id,
            device_seq: device_seq as u64,
            customer,
            business_date,
            recorded_at: chrono::DateTime::from_timestamp_millis(recorded_ms)
                .ok_or_else(|| Error::Corrupt("bad timestamp".into()))?,
            cashier,
            body: serde_json::from_str(&body)?,
        })
    })())
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    #[test]
    fn money_and_dates_round_trip_through_sqlite() {
        let conn = Connection::open_in_memory().unwrap();
        let date = crate::parse_date("2026-02-28").unwrap();
        let (m, d, raw): (Money, chrono::NaiveDate, String) = conn
            .query_row("SELECT ?1, ?2, ?2", rusqlite::params![Money::from_minor(-1234), date], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!((m, d), (Money::from_minor(-1234), date));
        assert_eq!(raw, "2026-02-28", "dates are stored as ISO text, as the schema's CHECKs expect");
        assert!(conn.query_row("SELECT 'soon'", [], |r| r.get::<_, chrono::NaiveDate>(0)).is_err());
    }

    #[test]
    fn free_text_is_trimmed_bounded_and_printable() {
        assert_eq!(text("name", "  Zoé ", 10).unwrap(), "Zoé");
        for bad in ["", "   ", "a\nb", "tab\there", "x".repeat(11).as_str()] {
            assert!(text("name", bad, 10).is_err(), "{bad:?}");
        }
    }
}
