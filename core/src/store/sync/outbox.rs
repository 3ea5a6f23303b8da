//! The outbox: every local write appends its event here in the same transaction, for sync.
//! Rows stay after the server acknowledges them: a server restored from an older backup is
//! refilled from them (a new epoch).

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::store::db::device::next_seq;
use crate::store::db::values::{ENTRY_SELECT, entry_from_row};
use crate::store::db::values::{Now, ms, new_id};
use crate::sync::hlc::{Hlc, MAX_AHEAD_MS};

/// One event waiting to be pushed to the back office.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEvent {
    pub seq: u64,
    pub event_id: Uuid,
    pub kind: String,
    pub payload: String,
    pub hlc: String,
}

/// Appends an event and returns its clock, for writes that remember it per field; the clock
/// is later than `stored`, the clocks of the versions the write replaces (see [`tick_past`]).
pub(in crate::store) fn append_clocked<'a>(
    tx: &Transaction<'_>,
    kind: &str,
    payload: &impl Serialize,
    stored: impl IntoIterator<Item = &'a str>,
    now: Now,
) -> Result<Hlc> {
    let seq = next_seq(tx)?;
    let hlc = tick_past(tx, stored, now)?;
    append_with_clock(tx, seq, new_id(now), kind, &serde_json::to_string(payload)?, &hlc.to_string(), now)?;
    Ok(hlc)
}

/// What an entry's event stores as its payload: nothing, since the entry's row holds it all.
/// [`Store::outbox_pending`] reads the entry back when the event is pushed, so each entry is
/// written once instead of twice (its row, and a JSON copy here); events written before this
/// keep their copy. An entry never changes once written (only its stored effect, which is not
/// part of it), so the entry read back is the one recorded.
const IN_ENTRIES: &str = "";

/// Appends the event of the ledger entry `id`, numbered `seq` in the device's sequence (the
/// entry carries both).
pub(in crate::store) fn append_entry(tx: &Transaction<'_>, seq: u64, id: Uuid, now: Now) -> Result<()> {
    let hlc = tick(tx, now)?;
    append_with_clock(tx, seq, id, "entry", IN_ENTRIES, &hlc.to_string(), now)
}

pub(in crate::store) fn append_with_clock(
    tx: &Transaction<'_>,
    seq: u64,
    id: Uuid,
    kind: &str,
    payload: &str,
    hlc: &str,
    now: Now,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO outbox (seq, event_id, kind, payload, created_at, hlc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![seq as i64, id, kind, payload, ms(now), hlc])?;
    Ok(())
}

/// Sequence numbers and clocks for a long run of local events in one transaction (an import),
/// handed out in memory and written back once at the end: the same numbers [`next_seq`] and
/// [`tick`] would give, without two single-row updates per event. Nothing else may take a
/// sequence number or tick the clock between [`Sequencer::start`] and [`Sequencer::finish`].
pub(in crate::store) struct Sequencer {
    next_seq: u64,
    last: (i64, u32),
    device: Uuid,
}

impl Sequencer {
    pub(in crate::store) fn start(tx: &Transaction<'_>) -> Result<Sequencer> {
        let (next_seq, wall, counter, device): (i64, i64, i64, Uuid) = tx
            .prepare_cached(
                "SELECT d.next_seq, s.hlc_wall, s.hlc_counter, d.device_id FROM sync_state s, device d WHERE s.id = 1 AND d.id = 1",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(Sequencer { next_seq: next_seq as u64, last: (wall, counter as u32), device })
    }

    pub(in crate::store) fn device(&self) -> Uuid {
        self.device
    }

    /// The next event's sequence number.
    pub(in crate::store) fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq - 1
    }

    /// The next clock, as [`tick`] gives it.
    pub(in crate::store) fn tick(&mut self, now: Now) -> Hlc {
        let hlc = Hlc::tick(Some(self.last), ms(now), self.device);
        self.last = (hlc.wall_ms, hlc.counter);
        hlc
    }

    /// Appends the event of the entry `id` numbered `seq` (taken from [`Sequencer::seq`]) with
    /// the next clock, as [`append_entry`] does.
    pub(in crate::store) fn append_entry(&mut self, tx: &Transaction<'_>, seq: u64, id: Uuid, now: Now) -> Result<()> {
        let hlc = self.tick(now);
        append_with_clock(tx, seq, id, "entry", IN_ENTRIES, &hlc.to_string(), now)
    }

    pub(in crate::store) fn finish(self, tx: &Transaction<'_>) -> Result<()> {
        tx.prepare_cached("UPDATE device SET next_seq = ?1 WHERE id = 1")?.execute([self.next_seq as i64])?;
        remember(tx, self.last)
    }
}

/// The clock of a new local edit, remembered so that the next one comes after it.
pub(in crate::store) fn tick(conn: &Connection, now: Now) -> Result<Hlc> {
    let (wall, counter, device): (i64, i64, Uuid) = conn
        .prepare_cached(
            "SELECT s.hlc_wall, s.hlc_counter, d.device_id FROM sync_state s, device d WHERE s.id = 1 AND d.id = 1",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let hlc = Hlc::tick(Some((wall, counter as u32)), ms(now), device);
    remember(conn, (hlc.wall_ms, hlc.counter))?;
    Ok(hlc)
}

/// Moves the clock past a remote edit's (clamped: see [`Hlc::observe`]).
pub(in crate::store) fn observe(conn: &Connection, remote: &Hlc, now: Now) -> Result<()> {
    let (wall, counter): (i64, i64) = conn
        .prepare_cached("SELECT hlc_wall, hlc_counter FROM sync_state WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let next = Hlc::observe(Some((wall, counter as u32)), remote, ms(now));
    if next != (wall, counter as u32) {
        remember(conn, next)?;
    }
    Ok(())
}

/// The clock of a local write that replaces versions stored here with the clocks `stored`
/// (as read from the database): later than all of them, so that the write wins on every
/// device and not only here.
///
/// [`tick`] is usually enough: every stored clock was observed on arrival. It is not when a
/// remote clock was clamped then, because its sender's wall clock ran ahead of ours; the
/// server let it in, so it is at most [`MAX_AHEAD_MS`] past the server's time, and the
/// successor of it passes the server's check too. A stored clock further ahead than twice
/// that was never checked by a server (an older release took any clock): going past it would
/// give the write a clock the server refuses, so the write keeps the clamped clock.
pub(in crate::store) fn tick_past<'a>(
    conn: &Connection,
    stored: impl IntoIterator<Item = &'a str>,
    now: Now,
) -> Result<Hlc> {
    let ticked = tick(conn, now)?;
    let reachable = |h: &Hlc| h.wall_ms <= ms(now).saturating_add(2 * MAX_AHEAD_MS);
    let latest = stored.into_iter().filter_map(Hlc::parse_stored).filter(reachable).max();
    match latest {
        Some(latest) if latest >= ticked => {
            let past = latest.successor(ticked.device);
            observe(conn, &past, now)?;
            Ok(past)
        }
        _ => Ok(ticked),
    }
}

fn remember(conn: &Connection, (wall, counter): (i64, u32)) -> Result<()> {
    conn.prepare_cached("UPDATE sync_state SET hlc_wall = ?1, hlc_counter = ?2 WHERE id = 1")?
        .execute(params![wall, counter as i64])?;
    Ok(())
}

pub(in crate::store) fn pending(conn: &Connection, limit: usize) -> Result<Vec<OutboxEvent>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, event_id, kind, payload, hlc FROM outbox
         WHERE seq > (SELECT acked_seq FROM sync_state WHERE id = 1) ORDER BY seq LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], |r| {
        Ok(OutboxEvent {
            seq: r.get::<_, i64>(0)? as u64,
            event_id: r.get(1)?,
            kind: r.get(2)?,
            payload: r.get(3)?,
            hlc: r.get(4)?,
        })
    })?;
    let mut events: Vec<OutboxEvent> = rows.collect::<Result<_, _>>()?;
    let mut entry = conn.prepare_cached(&format!("{ENTRY_SELECT} WHERE e.uuid = ?1"))?;
    for event in events.iter_mut().filter(|e| e.kind == "entry" && e.payload == IN_ENTRIES) {
        let recorded = entry
            .query_row([event.event_id], entry_from_row)
            .optional()?
            .ok_or_else(|| Error::Corrupt(format!("outbox event {} has no entry", event.event_id)))??;
        event.payload = serde_json::to_string(&recorded)?;
    }
    Ok(events)
}

pub(in crate::store) fn waiting(conn: &Connection) -> Result<u64> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM outbox WHERE seq > (SELECT acked_seq FROM sync_state WHERE id = 1)",
        [],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}
