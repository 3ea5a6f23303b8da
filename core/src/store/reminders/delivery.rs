//! The queue as the back office works it: reminders listed and read, checked again against the
//! merged ledger just before one is sent, and marked sent, failed or cancelled.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::store::db::values::{Now, ms};
use crate::store::handle::Store;
use crate::store::reminders::queue::{self, REMINDER_SELECT, ReminderRecord, ReminderState, reminder_from_row};
use crate::store::sync::replica::{Key, Table};
use crate::store::till::customer_rows::customer_id;

fn not_found(id: Uuid) -> Error {
    Error::NotFound { what: "reminder", id: id.to_string() }
}

impl Store {
    /// One reminder by id.
    pub fn reminder(&self, id: Uuid) -> Result<ReminderRecord> {
        self.read(|conn| queue::by_row(conn, queue::by_id(conn, id)?.ok_or_else(|| not_found(id))?))
    }

    /// Reminders, newest first; `state` and `customer` narrow the list.
    pub fn reminders(
        &self,
        state: Option<ReminderState>,
        customer: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ReminderRecord>> {
        self.read(|conn| {
            if let Some(c) = customer {
                customer_id(conn, c)?;
            }
            let sql = format!(
                "{REMINDER_SELECT} WHERE (?1 IS NULL OR r.state = ?1) AND (?2 IS NULL OR c.reference = ?2)
                 ORDER BY r.created_at DESC, r.id DESC LIMIT ?3"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = stmt.query_map(params![state.map(ReminderState::as_str), customer, limit], reminder_from_row)?;
            rows.map(|r| r?).collect()
        })
    }

    /// Just before the back office sends a queued reminder: rewrites it from the merged
    /// account as it stands now (cancelled when nothing is overdue any more, for instance
    /// because another till took a payment), and cancels it when another reminder already
    /// reached the customer within the shop's minimum gap. Returns it as it now is.
    pub fn recheck_reminder(&self, id: Uuid, now: Now) -> Result<ReminderRecord> {
        let min_gap = i64::from(self.settings().dunning.min_gap_days);
        self.write(now, |w| {
            let (row, customer_id): (i64, i64) = w
                .conn()
                .prepare_cached("SELECT id, customer_id FROM reminders WHERE uuid = ?1")?
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .ok_or_else(|| not_found(id))?;
            queue::refresh(w.conn(), customer_id, now)?;
            let since = ms(now) - min_gap * 86_400_000;
            let other_sent: Option<String> = w
                .conn()
                .prepare_cached(
                    "SELECT created_on FROM reminders WHERE customer_id = ?1 AND id != ?2 AND state = 'sent' AND updated_at > ?3
                     ORDER BY updated_at DESC LIMIT 1",
                )?
                .query_row(params![customer_id, row, since], |r| r.get(0))
                .optional()?;
            let state: String =
                w.conn().prepare_cached("SELECT state FROM reminders WHERE id = ?1")?.query_row([row], |r| r.get(0))?;
            if let (Some(on), "queued") = (other_sent, state.as_str()) {
                w.conn()
                    .prepare_cached(
                        "UPDATE reminders SET state = 'cancelled', state_note = ?2, updated_at = ?3 WHERE id = ?1",
                    )?
                    .execute(params![row, format!("another reminder (queued {on}) was sent within the minimum gap"), ms(now)])?;
                w.row(Table::Reminders, Key::Rowid(row))?;
            }
            queue::by_row(w.conn(), row)
        })
    }

    /// When a reminder was queued (the back office's grace period counts from it).
    pub fn reminder_created_at(&self, id: Uuid) -> Result<Option<DateTime<Utc>>> {
        self.read(|conn| {
            let at: Option<i64> = conn
                .prepare_cached("SELECT created_at FROM reminders WHERE uuid = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            Ok(at.and_then(DateTime::from_timestamp_millis))
        })
    }

    /// Records what became of a queued reminder (sent, failed, or cancelled by hand).
    pub fn set_reminder_state(
        &self,
        id: Uuid,
        state: ReminderState,
        note: Option<&str>,
        now: Now,
    ) -> Result<ReminderRecord> {
        self.write(now, |w| {
            let row: Option<(i64, String, i64)> = w
                .conn()
                .prepare_cached("SELECT id, state, customer_id FROM reminders WHERE uuid = ?1")?
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            let (row, current, customer) = row.ok_or_else(|| not_found(id))?;
            // A held reminder waits for the rate tables; the owner may only give it up.
            let allowed = matches!(
                (current.as_str(), state),
                ("queued", _)
                    | ("failed", ReminderState::Sent | ReminderState::Cancelled)
                    | ("held", ReminderState::Cancelled)
            );
            if !allowed || state == ReminderState::Queued {
                return Err(Error::Invalid {
                    field: "reminder state",
                    reason: format!("a {current} reminder cannot become {}", state.as_str()),
                });
            }
            // The day it went is the day a formal notice starts a consumer's interest.
            let sent_on = (state == ReminderState::Sent).then(|| now.date_naive());
            w.conn()
                .prepare_cached(
                    "UPDATE reminders SET state = ?2, state_note = ?3, updated_at = ?4, sent_on = ?5 WHERE id = ?1",
                )?
                .execute(params![row, state.as_str(), note, ms(now), sent_on])?;
            let rec = queue::by_row(w.conn(), row)?;
            w.row(Table::Reminders, Key::Rowid(row))?;
            // A formal notice sent starts a consumer's interest: the other letters say so.
            w.touch(customer);
            Ok(rec)
        })
    }
}
