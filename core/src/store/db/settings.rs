//! Settings rows: the shop's settings and its ladders, templates and rate tables, each a JSON
//! value under a key, replicated to every device as a whole row.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::error::Result;
use crate::shop::ShopSettings;

pub(in crate::store) fn load_shop(conn: &Connection) -> Result<ShopSettings> {
    let raw: Option<String> =
        conn.query_row("SELECT value FROM settings WHERE key = 'shop'", [], |r| r.get(0)).optional()?;
    Ok(match raw {
        Some(s) => serde_json::from_str(&s)?,
        None => ShopSettings::default(),
    })
}

/// Writes one setting; the caller replicates the row.
pub(in crate::store) fn put(conn: &Connection, key: &str, value: &impl Serialize) -> Result<()> {
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, serde_json::to_string(value)?],
    )?;
    Ok(())
}
