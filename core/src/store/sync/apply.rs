//! What other devices recorded, taken in: pages of the shop's changes applied with their cursor
//! in one unit of work (entries folded, customers merged per field, follow-up rows by clock),
//! events that refer to what has not arrived yet parked until it does, and entries or customers
//! ingested directly (a replay, the benchmark shop).

use rusqlite::params;
use uuid::Uuid;

use crate::customer::Customer;
use crate::entry::Entry;
use crate::error::{Error, Result};
use crate::store::db::values::Now;
use crate::store::handle::Store;
use crate::store::sync::incoming::{Incoming, check_event};
use crate::store::sync::outbox;
use crate::store::sync::replica::{self, Applied};
use crate::store::sync::state::ApplyReport;
use crate::store::till::customer_rows::{self as customers, RemoteCustomer};
use crate::store::write::Write;
use crate::sync::hlc::Hlc;
use crate::sync::protocol::{Change, Event};

impl Store {
    /// Applies one page of the shop's changes and moves the cursor to `next`, in one
    /// transaction: a crash leaves either the whole page applied or none of it.
    pub fn apply_changes(&self, changes: &[Change], next: u64, now: Now) -> Result<ApplyReport> {
        self.apply_changes_at(changes, next, None, now)
    }

    /// [`Store::apply_changes`] for a page that may leave out this device's own events:
    /// `next_event` is the id of the event at `next` when the page does not carry it, which
    /// the server checks against its log on the next pull.
    pub fn apply_changes_at(
        &self,
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
        let page = |isolation| move |w: &mut Write<'_>| apply_page(w, changes, next, next_event, isolation);
        match self.attempt(now, page(Isolation::Optimistic))? {
            Some(report) => Ok(report),
            None => Ok(self
                .attempt(now, page(Isolation::PerEvent))?
                .expect("a page applied with per-event savepoints never asks to be redone")),
        }
    }

    /// Adds a customer known elsewhere (replay, later sync), without an outbox row.
    pub fn ingest_customer(&self, customer: &Customer, now: Now) -> Result<()> {
        self.write(now, |w| customers::insert_customer(w.conn(), customer, now).map(drop))
    }

    /// Adds entries recorded elsewhere, in one unit of work. Already known entries are
    /// skipped, so ingesting twice changes nothing. Returns how many were new.
    pub fn ingest(&self, entries: &[Entry], now: Now) -> Result<usize> {
        self.write(now, |w| {
            let mut added = 0;
            for e in entries {
                added += usize::from(w.ingest(e)?);
            }
            Ok(added)
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
    /// Cannot apply on this device (breaks a rule, a kind from a newer release): kept aside
    /// with why.
    Skipped(String),
}

/// One attempt at a page. `None`: optimistic, an event failed, and nothing may be kept.
fn apply_page(
    w: &mut Write<'_>,
    changes: &[Change],
    next: u64,
    next_event: Option<Uuid>,
    isolation: Isolation,
) -> Result<Option<ApplyReport>> {
    let me = w.device();
    let mut report = ApplyReport::default();
    for c in changes {
        if c.device_id == me {
            report.own += 1;
            continue;
        }
        let outcome = match isolation {
            Isolation::PerEvent => apply_in_savepoint(w, c)?,
            Isolation::Optimistic => match apply_one(w, c) {
                Ok(true) => Outcome::Applied,
                Ok(false) => Outcome::Older,
                Err(Error::Sqlite(e)) if !refused_by_schema(&e) => return Err(Error::Sqlite(e)),
                // The event may have written part of itself: the whole attempt is rolled back.
                Err(_) => return Ok(None),
            },
        };
        match outcome {
            Outcome::Applied => report.applied += 1,
            Outcome::Older => report.older += 1,
            Outcome::Waiting => {
                w.conn()
                    .prepare_cached(
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
            Outcome::Skipped(reason) => {
                set_aside(w, c, &reason)?;
                report.skipped += 1;
            }
        }
    }
    // What arrived may be what parked events were waiting for.
    if report.applied > 0 {
        retry_parked(w)?;
    }
    let at = changes.iter().rfind(|c| c.cursor == next).map(|c| c.event.id).or(next_event);
    w.conn().execute(
        "UPDATE sync_state SET cursor = ?1, cursor_event = coalesce(?2, cursor_event) WHERE id = 1 AND cursor <= ?1",
        params![next as i64, at],
    )?;
    Ok(Some(report))
}

/// Applies one change in its own savepoint: one that cannot apply leaves no half-write. Only
/// database errors abort the page.
fn apply_in_savepoint(w: &mut Write<'_>, c: &Change) -> Result<Outcome> {
    w.conn().execute_batch("SAVEPOINT change")?;
    let outcome = apply_one(w, c);
    if outcome.is_err() {
        w.conn().execute_batch("ROLLBACK TO change")?;
    }
    w.conn().execute_batch("RELEASE change")?;
    Ok(match outcome {
        Ok(true) => Outcome::Applied,
        Ok(false) => Outcome::Older,
        Err(Error::Sqlite(e)) if !refused_by_schema(&e) => return Err(Error::Sqlite(e)),
        Err(Error::UnknownCustomer(_) | Error::UnknownEntry(_)) => Outcome::Waiting,
        Err(e) => Outcome::Skipped(e.to_string()),
    })
}

/// A write the schema refused (an invoice reference another entry has, say): the event cannot
/// apply here, like one that breaks a rule, and must not stop the queue. Any other database
/// error (disk full, I/O) stops the page, to be retried whole.
fn refused_by_schema(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation)
}

/// Keeps an event this device cannot apply, with why: never silently lost, counted in the
/// sync status, there for support (and for a later release that can apply it).
fn set_aside(w: &Write<'_>, c: &Change, reason: &str) -> Result<()> {
    w.conn()
        .prepare_cached(
            "INSERT OR REPLACE INTO sync_set_aside (cursor, device_id, event_id, kind, hlc, payload, reason, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            c.cursor as i64,
            c.device_id,
            c.event.id,
            c.event.kind,
            c.event.hlc,
            c.event.payload.to_string(),
            reason,
            w.now().timestamp_millis()
        ])?;
    Ok(())
}

/// Applies parked events whose customer or entry has arrived, until none moves.
fn retry_parked(w: &mut Write<'_>) -> Result<()> {
    loop {
        let parked: Vec<Change> = {
            let mut stmt = w.conn().prepare_cached(
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
            match apply_in_savepoint(w, c)? {
                Outcome::Waiting => {}
                outcome => {
                    if let Outcome::Skipped(reason) = outcome {
                        set_aside(w, c, &reason)?;
                    }
                    w.conn().prepare_cached("DELETE FROM sync_parked WHERE cursor = ?1")?.execute([c.cursor as i64])?;
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
fn apply_one(w: &mut Write<'_>, c: &Change) -> Result<bool> {
    // The server checked the event with the same rules before it joined the log; checking
    // again here keeps a log written by an older server (or a damaged one) out of the books.
    // A clock in another spelling, or naming another device than the one that sent the
    // change, is refused by it on every device alike: the check reads only the change itself.
    let incoming = check_event(&c.event, c.device_id, None)?;
    let hlc = Hlc::parse_sent_by(&c.event.hlc, c.device_id)?;
    outbox::observe(w.conn(), &hlc, w.now())?;
    let payload = &c.event.payload;
    match incoming {
        Incoming::Entry(entry) => w.ingest(&entry),
        Incoming::Customer(_) => {
            let remote: RemoteCustomer = serde_json::from_value(payload.clone())?;
            customers::apply_remote(w.conn(), remote, &hlc, w.now())?;
            Ok(true)
        }
        Incoming::Row { .. } => match replica::apply(w.conn(), payload, &hlc)? {
            Applied::Written { table_settings, customer } => {
                if table_settings {
                    w.settings_changed();
                }
                if let Some(customer) = customer {
                    w.touch(customer);
                }
                Ok(true)
            }
            Applied::Older => Ok(false),
            Applied::UnknownCustomer => Err(Error::UnknownCustomer("(synced row)".into())),
        },
    }
}
