//! This device: its id, and the numbers it hands out (the gapless sequence of its events, its
//! invoice numbers).

use rusqlite::{Connection, OptionalExtension};
use uuid::Uuid;

use crate::error::Result;

/// This device's id, created with the database.
pub(in crate::store) fn ensure(conn: &Connection) -> Result<Uuid> {
    let found: Option<Uuid> =
        conn.query_row("SELECT device_id FROM device WHERE id = 1", [], |r| r.get(0)).optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    let id = Uuid::new_v4();
    let prefix = id.simple().to_string()[..4].to_ascii_uppercase();
    conn.execute(
        "INSERT INTO device (id, device_id, prefix, next_seq, next_invoice) VALUES (1, ?1, ?2, 1, 1)",
        rusqlite::params![id, prefix],
    )?;
    Ok(id)
}

/// Takes the next gapless sequence number of this device's events.
pub(in crate::store) fn next_seq(conn: &Connection) -> Result<u64> {
    let seq: i64 = conn
        .prepare_cached("UPDATE device SET next_seq = next_seq + 1 WHERE id = 1 RETURNING next_seq - 1")?
        .query_row([], |r| r.get(0))?;
    Ok(seq as u64)
}

/// Takes this device's next invoice number ("A1B2-000042").
pub(in crate::store) fn next_invoice_ref(conn: &Connection) -> Result<String> {
    let (prefix, n): (String, i64) = conn.query_row(
        "UPDATE device SET next_invoice = next_invoice + 1 WHERE id = 1 RETURNING prefix, next_invoice - 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(format!("{prefix}-{n:06}"))
}
