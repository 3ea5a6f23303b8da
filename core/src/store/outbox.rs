//! The outbox: every local write appends its event here in the same transaction, for sync.

use rusqlite::{Transaction, params};
use serde::Serialize;
use uuid::Uuid;

use super::{Now, Store, ms, next_seq};
use crate::error::Result;

/// One event waiting to be pushed to the back office.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEvent {
    pub seq: u64,
    pub event_id: Uuid,
    pub kind: String,
    pub payload: String,
}

/// Appends an event with its own sequence number and returns that number.
pub(super) fn append(tx: &Transaction<'_>, kind: &str, payload: &impl Serialize, now: Now) -> Result<u64> {
    let seq = next_seq(tx)?;
    append_at(tx, seq, super::new_id(now), kind, payload, now)?;
    Ok(seq)
}

/// Appends an event whose sequence number and id the caller already took (a ledger entry
/// carries both).
pub(super) fn append_at(
    tx: &Transaction<'_>,
    seq: u64,
    id: Uuid,
    kind: &str,
    payload: &impl Serialize,
    now: Now,
) -> Result<()> {
    tx.prepare_cached("INSERT INTO outbox (seq, event_id, kind, payload, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![seq as i64, id, kind, serde_json::to_string(payload)?, ms(now)])?;
    Ok(())
}

impl Store {
    /// The oldest events not yet acknowledged by the server, in sequence order.
    pub fn outbox_pending(&self, limit: usize) -> Result<Vec<OutboxEvent>> {
        let mut stmt =
            self.conn.prepare_cached("SELECT seq, event_id, kind, payload FROM outbox ORDER BY seq LIMIT ?1")?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(OutboxEvent {
                seq: r.get::<_, i64>(0)? as u64,
                event_id: r.get(1)?,
                kind: r.get(2)?,
                payload: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn outbox_len(&self) -> Result<u64> {
        let n: i64 = self.conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?;
        Ok(n as u64)
    }
}
