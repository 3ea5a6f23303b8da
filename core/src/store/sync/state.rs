//! The till's side of sync inside the store: enrolment, the outbox as protocol events,
//! acknowledgements, pages of changes applied with their cursor in one transaction, epochs,
//! the status shown to the shop, and the offline credit guard's figures.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::checkout::OfflineState;
use crate::entry::Entry;
use crate::error::{Error, Result};
use crate::money::Money;
use crate::store::sync::replica::{self, Applied};
use crate::store::till::customers::RemoteCustomer;
use crate::store::{Now, Store, load_settings, ms, sync::outbox};
use crate::sync::hlc::Hlc;
use crate::sync::protocol::{Change, Event, PushResponse};

/// After this many failed syncs in a row the status says the queue is stuck.
pub const STUCK_AFTER: u32 = 5;

/// Where and as whom this till syncs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolment {
    pub server_url: String,
    pub shop_id: Uuid,
    pub token: String,
    pub epoch: Uuid,
}

/// What the shop sees of sync: when it last worked, what waits, and whether it is stuck.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    pub enrolled: bool,
    pub server_url: Option<String>,
    pub shop_id: Option<Uuid>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_attempt: Option<DateTime<Utc>>,
    /// Events recorded here that the server has not acknowledged yet.
    pub waiting: u64,
    /// Failed syncs in a row.
    pub failures: u32,
    pub stuck: bool,
    pub last_error: Option<String>,
    /// The shop sequence this till has applied up to.
    pub cursor: u64,
    /// Events of this till the server refused (kept here, listed for support).
    pub rejected: u64,
}

/// What applying one page did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyReport {
    pub applied: u32,
    /// Our own events coming back: already applied when recorded.
    pub own: u32,
    /// Events this device already had in the same or a later version.
    pub older: u32,
    /// Events waiting for what they refer to (an entry whose customer has not arrived yet,
    /// after a server restore): kept, and applied as soon as it arrives.
    pub parked: u32,
    /// Events that could not apply here (an unknown customer or entry, a kind from a newer
    /// release); skipped so that the queue never blocks, and counted.
    pub skipped: u32,
}

fn ts(ms: Option<i64>) -> Option<DateTime<Utc>> {
    ms.and_then(DateTime::from_timestamp_millis)
}

impl Store {
    pub fn enrolment(&self) -> Result<Option<Enrolment>> {
        let row: (Option<String>, Option<String>, Option<String>, Option<String>) =
            self.conn.query_row("SELECT server_url, shop_id, token, epoch FROM sync_state WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
        let (Some(server_url), Some(shop), Some(token), Some(epoch)) = row else { return Ok(None) };
        let parse = |s: &str| Uuid::try_parse(s).map_err(|_| Error::Corrupt(format!("bad id {s} in sync state")));
        Ok(Some(Enrolment { server_url, shop_id: parse(&shop)?, token, epoch: parse(&epoch)? }))
    }

    /// Remembers the back office this till now belongs to. Everything recorded so far will be
    /// pushed, and the shop's history pulled from the start.
    pub fn set_enrolment(&mut self, e: &Enrolment, now: Now) -> Result<()> {
        self.conn.execute(
            "UPDATE sync_state SET server_url = ?1, shop_id = ?2, token = ?3, epoch = ?4, cursor = 0, cursor_event = NULL, acked_seq = 0,
             enrolled_at = ?5, failures = 0, last_error = NULL WHERE id = 1",
            params![e.server_url, e.shop_id.to_string(), e.token, e.epoch.to_string(), ms(now)],
        )?;
        Ok(())
    }

    /// The server was restored from a backup: pull the whole shop again and push every event
    /// of this till again (the server acknowledges what it still has and takes the rest).
    pub fn reset_epoch(&mut self, epoch: Uuid) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE sync_state SET epoch = ?1, cursor = 0, cursor_event = NULL, acked_seq = 0 WHERE id = 1",
            [epoch.to_string()],
        )?;
        // Parked events come again with the full pull, under the new epoch's numbers.
        tx.execute("DELETE FROM sync_parked", [])?;
        tx.commit()?;
        Ok(())
    }

    /// The next events to push, oldest first, as the protocol carries them.
    pub fn push_batch(&self, limit: usize) -> Result<Vec<Event>> {
        self.outbox_pending(limit)?
            .into_iter()
            .map(|o| {
                // Events written before sync existed have no clock: their recording time is one.
                let hlc = if o.hlc.is_empty() {
                    let at: i64 = self
                        .conn
                        .prepare_cached("SELECT created_at FROM outbox WHERE seq = ?1")?
                        .query_row([o.seq as i64], |r| r.get(0))?;
                    Hlc { wall_ms: at, counter: 0, device: self.device_id }.to_string()
                } else {
                    o.hlc
                };
                Ok(Event { id: o.event_id, seq: o.seq, kind: o.kind, hlc, payload: serde_json::from_str(&o.payload)? })
            })
            .collect()
    }

    /// Takes the server's answer to a push: acknowledged events stop being pending; refused
    /// ones are recorded for support, never retried.
    pub fn acknowledge(&mut self, resp: &PushResponse, now: Now) -> Result<()> {
        let tx = self.conn.transaction()?;
        let last: i64 = tx.query_row("SELECT coalesce(max(seq), 0) FROM outbox", [], |r| r.get(0))?;
        let through = (resp.acked_through as i64).min(last);
        tx.execute("UPDATE sync_state SET acked_seq = max(acked_seq, ?1) WHERE id = 1", [through])?;
        for r in &resp.rejected {
            tx.execute(
                "INSERT OR REPLACE INTO sync_rejections (seq, event_id, reason, at) VALUES (?1, ?2, ?3, ?4)",
                params![r.seq as i64, r.id, r.reason, ms(now)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Moves the acknowledged mark to what the server says it has (after a gap answer).
    pub fn rewind_ack(&mut self, through: u64) -> Result<()> {
        self.conn.execute("UPDATE sync_state SET acked_seq = ?1 WHERE id = 1", [through as i64])?;
        Ok(())
    }

    /// The cursor and the id of the event at it, which the server checks against its log.
    pub fn sync_position(&self) -> Result<(u64, Option<Uuid>)> {
        let (c, at): (i64, Option<Uuid>) =
            self.conn.query_row("SELECT cursor, cursor_event FROM sync_state WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        Ok((c as u64, at))
    }

    pub fn sync_cursor(&self) -> Result<u64> {
        let c: i64 = self.conn.query_row("SELECT cursor FROM sync_state WHERE id = 1", [], |r| r.get(0))?;
        Ok(c as u64)
    }

    /// Applies one page of the shop's changes and moves the cursor to `next`, in one
    /// transaction: a crash leaves either the whole page applied or none of it.
    pub fn apply_changes(&mut self, changes: &[Change], next: u64, now: Now) -> Result<ApplyReport> {
        self.apply_changes_at(changes, next, None, now)
    }

    /// [`Store::apply_changes`] for a page that may leave out this device's own events:
    /// `next_event` is the id of the event at `next` when the page does not carry it, which
    /// the server checks against its log on the next pull.
    pub fn apply_changes_at(
        &mut self,
        changes: &[Change],
        next: u64,
        next_event: Option<Uuid>,
        now: Now,
    ) -> Result<ApplyReport> {
        // A savepoint per event makes SQLite copy every page an event touches into its
        // sub-journal, about a third of the apply time. Pages almost always apply cleanly, so
        // the page is first applied without them; if any event fails, that attempt is rolled
        // back whole and the page is applied again with one savepoint per event, which keeps
        // the failing event from taking the others down with it.
        match self.apply_page(changes, next, next_event, now, Isolation::Optimistic)? {
            Some(report) => Ok(report),
            None => Ok(self
                .apply_page(changes, next, next_event, now, Isolation::PerEvent)?
                .expect("a page applied with per-event savepoints never asks to be redone")),
        }
    }

    /// One attempt at a page. `None`: optimistic, an event failed, and nothing was written.
    fn apply_page(
        &mut self,
        changes: &[Change],
        next: u64,
        next_event: Option<Uuid>,
        now: Now,
        isolation: Isolation,
    ) -> Result<Option<ApplyReport>> {
        let me = self.device_id;
        let tx = self.conn.transaction()?;
        let mut report = ApplyReport::default();
        let mut touched = Vec::new();
        let mut settings_changed = false;
        for c in changes {
            if c.device_id == me {
                report.own += 1;
                continue;
            }
            let outcome = match isolation {
                Isolation::PerEvent => apply_in_savepoint(&tx, c, now, &mut touched, &mut settings_changed)?,
                Isolation::Optimistic => match apply_one(&tx, c, now, &mut touched, &mut settings_changed) {
                    Ok(true) => Outcome::Applied,
                    Ok(false) => Outcome::Older,
                    Err(Error::Sqlite(e)) => return Err(Error::Sqlite(e)),
                    // The event may have written part of itself: dropping the transaction
                    // rolls the whole attempt back.
                    Err(_) => return Ok(None),
                },
            };
            match outcome {
                Outcome::Applied => report.applied += 1,
                Outcome::Older => report.older += 1,
                Outcome::Waiting => {
                    tx.prepare_cached(
                        "INSERT OR REPLACE INTO sync_parked (cursor, device_id, event_id, kind, hlc, payload)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )?
                    .execute(params![
                        c.cursor as i64,
                        c.device_id,
                        c.event.id,
                        c.event.kind,
                        c.event.hlc,
                        c.event.payload.to_string()
                    ])?;
                    report.parked += 1;
                }
                Outcome::Skipped => report.skipped += 1,
            }
        }
        // What arrived may be what parked events were waiting for.
        if report.applied > 0 {
            retry_parked(&tx, now, &mut touched, &mut settings_changed)?;
        }
        crate::store::till::ledger::refresh_touched(&tx, touched, now)?;
        let at = changes.iter().rfind(|c| c.cursor == next).map(|c| c.event.id).or(next_event);
        tx.execute(
            "UPDATE sync_state SET cursor = ?1, cursor_event = coalesce(?2, cursor_event) WHERE id = 1 AND cursor <= ?1",
            params![next as i64, at],
        )?;
        tx.commit()?;
        if settings_changed {
            self.settings = load_settings(&self.conn)?;
        }
        Ok(Some(report))
    }

    /// Records how a sync attempt ended, for the status.
    pub fn record_sync(&mut self, outcome: std::result::Result<(), &str>, now: Now) -> Result<()> {
        match outcome {
            Ok(()) => self.conn.execute(
                "UPDATE sync_state SET last_success_at = ?1, last_attempt_at = ?1, failures = 0, last_error = NULL
                 WHERE id = 1",
                [ms(now)],
            )?,
            Err(e) => self.conn.execute(
                "UPDATE sync_state SET last_attempt_at = ?1, failures = failures + 1, last_error = ?2 WHERE id = 1",
                params![ms(now), e],
            )?,
        };
        Ok(())
    }

    pub fn sync_status(&self) -> Result<SyncStatus> {
        let e = self.enrolment()?;
        let (last_success, last_attempt, failures, last_error, cursor): (
            Option<i64>,
            Option<i64>,
            i64,
            Option<String>,
            i64,
        ) = self.conn.query_row(
            "SELECT last_success_at, last_attempt_at, failures, last_error, cursor FROM sync_state WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?;
        let rejected: i64 = self.conn.query_row("SELECT count(*) FROM sync_rejections", [], |r| r.get(0))?;
        let failures = u32::try_from(failures).unwrap_or(u32::MAX);
        Ok(SyncStatus {
            enrolled: e.is_some(),
            server_url: e.as_ref().map(|e| e.server_url.clone()),
            shop_id: e.map(|e| e.shop_id),
            last_success: ts(last_success),
            last_attempt: ts(last_attempt),
            waiting: self.outbox_len()?,
            failures,
            stuck: failures >= STUCK_AFTER,
            last_error,
            cursor: cursor as u64,
            rejected: rejected as u64,
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Isolation {
    /// No savepoint: any failing event sends the page back for a per-event attempt.
    Optimistic,
    PerEvent,
}

enum Outcome {
    Applied,
    Older,
    /// Refers to a customer or an entry not here yet.
    Waiting,
    /// Cannot apply on this device (malformed, a kind from a newer release).
    Skipped,
}

/// Applies one change in its own savepoint: one that cannot apply leaves no half-write. Only
/// database errors abort the page.
fn apply_in_savepoint(
    tx: &rusqlite::Transaction<'_>,
    c: &Change,
    now: Now,
    touched: &mut Vec<i64>,
    settings_changed: &mut bool,
) -> Result<Outcome> {
    tx.execute_batch("SAVEPOINT change")?;
    let outcome = apply_one(tx, c, now, touched, settings_changed);
    if outcome.is_err() {
        tx.execute_batch("ROLLBACK TO change")?;
    }
    tx.execute_batch("RELEASE change")?;
    Ok(match outcome {
        Ok(true) => Outcome::Applied,
        Ok(false) => Outcome::Older,
        Err(Error::Sqlite(e)) => return Err(Error::Sqlite(e)),
        Err(Error::UnknownCustomer(_) | Error::UnknownEntry(_)) => Outcome::Waiting,
        Err(_) => Outcome::Skipped,
    })
}

/// Applies parked events whose customer or entry has arrived, until none moves.
fn retry_parked(
    tx: &rusqlite::Transaction<'_>,
    now: Now,
    touched: &mut Vec<i64>,
    settings_changed: &mut bool,
) -> Result<()> {
    loop {
        let parked: Vec<Change> = {
            let mut stmt = tx.prepare_cached(
                "SELECT cursor, device_id, event_id, kind, hlc, payload FROM sync_parked ORDER BY cursor",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Uuid>(1)?,
                    r.get::<_, Uuid>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (cursor, device_id, id, kind, hlc, payload) = row?;
                out.push(Change {
                    cursor: cursor as u64,
                    device_id,
                    event: Event { id, seq: 0, kind, hlc, payload: serde_json::from_str(&payload)? },
                });
            }
            out
        };
        let mut moved = false;
        for c in &parked {
            match apply_in_savepoint(tx, c, now, touched, settings_changed)? {
                Outcome::Waiting => {}
                _ => {
                    tx.prepare_cached("DELETE FROM sync_parked WHERE cursor = ?1")?.execute([c.cursor as i64])?;
                    moved = true;
                }
            }
        }
        if !moved {
            return Ok(());
        }
    }
}

/// Applies one change; `Ok(false)` when this device already had it. Errors other than the
/// database's mean this event cannot apply here.
fn apply_one(
    tx: &rusqlite::Transaction<'_>,
    c: &Change,
    now: Now,
    touched: &mut Vec<i64>,
    settings_changed: &mut bool,
) -> Result<bool> {
    let hlc = Hlc::parse(&c.event.hlc)?;
    outbox::observe(tx, &hlc, now)?;
    let payload = &c.event.payload;
    match c.event.kind.as_str() {
        "entry" => {
            let entry: Entry = serde_json::from_value(payload.clone())?;
            let new = crate::store::till::ledger::ingest_one(tx, &entry)?;
            touched.extend(new);
            Ok(new.is_some())
        }
        "customer" => {
            let remote: RemoteCustomer = serde_json::from_value(payload.clone())?;
            crate::store::till::customers::apply_remote(tx, remote, &c.event.hlc, now)?;
            Ok(true)
        }
        "row" => match replica::apply(tx, payload, &hlc)? {
            Applied::Written { table_settings, customer } => {
                *settings_changed |= table_settings;
                touched.extend(customer);
                Ok(true)
            }
            Applied::Older => Ok(false),
            Applied::UnknownCustomer => Err(Error::UnknownCustomer("(synced row)".into())),
        },
        other => Err(Error::Invalid { field: "event kind", reason: other.to_owned() }),
    }
}

/// For an enrolled till out of touch longer than the shop allows: how long, and what it sold
/// on account to this customer since the server last acknowledged its events.
pub(in crate::store) fn offline_state(
    conn: &Connection,
    device: Uuid,
    customer_id: i64,
    after_hours: u32,
    now: Now,
) -> Result<Option<OfflineState>> {
    let row: Option<(Option<i64>, Option<i64>, i64)> = conn
        .prepare_cached(
            "SELECT last_success_at, enrolled_at, acked_seq FROM sync_state WHERE id = 1 AND server_url IS NOT NULL",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((last_success, enrolled_at, acked)) = row else { return Ok(None) };
    let since = last_success.or(enrolled_at).unwrap_or(0);
    let offline_ms = ms(now) - since;
    if offline_ms < i64::from(after_hours) * 3_600_000 {
        return Ok(None);
    }
    let unsynced: i64 = conn
        .prepare_cached(
            "SELECT coalesce(sum(balance_effect), 0) FROM entries
             WHERE device_id = ?1 AND device_seq > ?2 AND customer_id = ?3 AND kind = 'sale'",
        )?
        .query_row(params![device, acked, customer_id], |r| r.get(0))?;
    Ok(Some(OfflineState {
        hours_offline: last_success.map(|_| u32::try_from(offline_ms / 3_600_000).unwrap_or(u32::MAX)),
        unsynced_sales: Money::from_minor(unsynced),
    }))
}
