//! The till's own sync state: enrolment, the outbox as protocol events, acknowledgements,
//! epochs, and the status shown to the shop. This bookkeeping is the device's, not the shop's:
//! it has no outbox row of its own (`Store::bookkeep`).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::store::db::values::{Now, ms};
use crate::store::handle::Store;
use crate::store::sync::outbox::{self, OutboxEvent, pending, waiting};
use crate::sync::hlc::Hlc;
use crate::sync::protocol::{Event, PushResponse};

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
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncStatus {
    pub enrolled: bool,
    pub server_url: Option<String>,
    pub shop_id: Option<Uuid>,
    /// RFC 3339 (UTC); `None` before the first successful sync.
    pub last_success: Option<DateTime<Utc>>,
    pub last_attempt: Option<DateTime<Utc>>,
    /// Events recorded here that the server has not acknowledged yet.
    pub waiting: u64,
    /// Failed syncs in a row.
    pub failures: u32,
    /// So many syncs failed in a row that someone should look.
    pub stuck: bool,
    pub last_error: Option<String>,
    /// The shop sequence this till has applied up to.
    pub cursor: u64,
    /// Events of this till the server refused (kept here, listed for support).
    pub rejected: u64,
    /// Events of other devices waiting here for the customer or entry they refer to.
    pub parked: u64,
    /// Events of other devices this till cannot apply (a rule its own writes follow is broken,
    /// or a newer release wrote them): kept aside with why, for support.
    pub set_aside: u64,
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
    /// The oldest events the server has not acknowledged yet, in sequence order, each with its
    /// payload (an entry's read back from its row).
    pub fn outbox_pending(&self, limit: usize) -> Result<Vec<OutboxEvent>> {
        self.read(|conn| pending(conn, limit))
    }

    /// How many events wait for the server.
    pub fn outbox_len(&self) -> Result<u64> {
        self.read(waiting)
    }

    pub fn enrolment(&self) -> Result<Option<Enrolment>> {
        self.read(enrolment)
    }

    /// Remembers the back office this till now belongs to. Everything recorded so far will be
    /// pushed, and the shop's history pulled from the start.
    pub fn set_enrolment(&self, e: &Enrolment, now: Now) -> Result<()> {
        self.bookkeep(|tx| {
            tx.execute(
                "UPDATE sync_state SET server_url = ?1, shop_id = ?2, token = ?3, epoch = ?4, cursor = 0, cursor_event = NULL, acked_seq = 0,
                 enrolled_at = ?5, failures = 0, last_error = NULL WHERE id = 1",
                params![e.server_url, e.shop_id.to_string(), e.token, e.epoch.to_string(), ms(now)],
            )?;
            Ok(())
        })
    }

    /// The server was restored from a backup: pull the whole shop again and push every event
    /// of this till again (the server acknowledges what it still has and takes the rest).
    pub fn reset_epoch(&self, epoch: Uuid) -> Result<()> {
        self.bookkeep(|tx| {
            tx.execute(
                "UPDATE sync_state SET epoch = ?1, cursor = 0, cursor_event = NULL, acked_seq = 0 WHERE id = 1",
                [epoch.to_string()],
            )?;
            // Parked events come again with the full pull, under the new epoch's numbers.
            tx.execute("DELETE FROM sync_parked", [])?;
            Ok(())
        })
    }

    /// The next events to push, oldest first, as the protocol carries them.
    pub fn push_batch(&self, limit: usize) -> Result<Vec<Event>> {
        self.read(|conn| {
            outbox::pending(conn, limit)?
                .into_iter()
                .map(|o| {
                    // Events written before sync existed have no clock: their recording time is one.
                    let hlc = if o.hlc.is_empty() {
                        let at: i64 = conn
                            .prepare_cached("SELECT created_at FROM outbox WHERE seq = ?1")?
                            .query_row([o.seq as i64], |r| r.get(0))?;
                        Hlc { wall_ms: at, counter: 0, device: self.device_id() }.to_string()
                    } else {
                        o.hlc
                    };
                    Ok(Event {
                        id: o.event_id,
                        seq: o.seq,
                        kind: o.kind,
                        hlc,
                        payload: serde_json::from_str(&o.payload)?,
                    })
                })
                .collect()
        })
    }

    /// Takes the server's answer to a push: acknowledged events stop being pending; refused
    /// ones are recorded for support, never retried.
    pub fn acknowledge(&self, resp: &PushResponse, now: Now) -> Result<()> {
        self.bookkeep(|tx| {
            let last: i64 = tx.query_row("SELECT coalesce(max(seq), 0) FROM outbox", [], |r| r.get(0))?;
            let through = (resp.acked_through as i64).min(last);
            tx.execute("UPDATE sync_state SET acked_seq = max(acked_seq, ?1) WHERE id = 1", [through])?;
            for r in &resp.rejected {
                tx.execute(
                    "INSERT OR REPLACE INTO sync_rejections (seq, event_id, reason, at) VALUES (?1, ?2, ?3, ?4)",
                    params![r.seq as i64, r.id, r.reason, ms(now)],
                )?;
            }
            Ok(())
        })
    }

    /// Moves the acknowledged mark to what the server says it has (after a gap answer).
    pub fn rewind_ack(&self, through: u64) -> Result<()> {
        self.bookkeep(|tx| {
            tx.execute("UPDATE sync_state SET acked_seq = ?1 WHERE id = 1", [through as i64])?;
            Ok(())
        })
    }

    /// The cursor and the id of the event at it, which the server checks against its log.
    pub fn sync_position(&self) -> Result<(u64, Option<Uuid>)> {
        self.read(|conn| {
            let (c, at): (i64, Option<Uuid>) =
                conn.query_row("SELECT cursor, cursor_event FROM sync_state WHERE id = 1", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
            Ok((c as u64, at))
        })
    }

    pub fn sync_cursor(&self) -> Result<u64> {
        Ok(self.sync_position()?.0)
    }

    /// Records how a sync attempt ended, for the status.
    pub fn record_sync(&self, outcome: std::result::Result<(), &str>, now: Now) -> Result<()> {
        self.bookkeep(|tx| {
            match outcome {
                Ok(()) => tx.execute(
                    "UPDATE sync_state SET last_success_at = ?1, last_attempt_at = ?1, failures = 0, last_error = NULL
                     WHERE id = 1",
                    [ms(now)],
                )?,
                Err(e) => tx.execute(
                    "UPDATE sync_state SET last_attempt_at = ?1, failures = failures + 1, last_error = ?2 WHERE id = 1",
                    params![ms(now), e],
                )?,
            };
            Ok(())
        })
    }

    pub fn sync_status(&self) -> Result<SyncStatus> {
        self.read(|conn| {
            let e = enrolment(conn)?;
            let (last_success, last_attempt, failures, last_error, cursor): (
                Option<i64>,
                Option<i64>,
                i64,
                Option<String>,
                i64,
            ) = conn.query_row(
                "SELECT last_success_at, last_attempt_at, failures, last_error, cursor FROM sync_state WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )?;
            let count = |table: &str| -> Result<u64> {
                let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
                Ok(n as u64)
            };
            let failures = u32::try_from(failures).unwrap_or(u32::MAX);
            Ok(SyncStatus {
                enrolled: e.is_some(),
                server_url: e.as_ref().map(|e| e.server_url.clone()),
                shop_id: e.map(|e| e.shop_id),
                last_success: ts(last_success),
                last_attempt: ts(last_attempt),
                waiting: outbox::waiting(conn)?,
                failures,
                stuck: failures >= STUCK_AFTER,
                last_error,
                cursor: cursor as u64,
                rejected: count("sync_rejections")?,
                parked: count("sync_parked")?,
                set_aside: count("sync_set_aside")?,
            })
        })
    }
}

fn enrolment(conn: &Connection) -> Result<Option<Enrolment>> {
    let row: (Option<String>, Option<String>, Option<String>, Option<String>) =
        conn.query_row("SELECT server_url, shop_id, token, epoch FROM sync_state WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
    let (Some(server_url), Some(shop), Some(token), Some(epoch)) = row else { return Ok(None) };
    let parse = |s: &str| Uuid::try_parse(s).map_err(|_| Error::Corrupt(format!("bad id {s} in sync state")));
    Ok(Some(Enrolment { server_url, shop_id: parse(&shop)?, token, epoch: parse(&epoch)? }))
}
