//! `ardoise check`: a till database examined without being changed — SQLite's own checks of
//! the file, then the store's audit — for support and for an owner who suspects the disk.

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::store::audit;
use crate::store::db::{conn, schema};

/// What is wrong with a database, by who found it; `ok` when nothing is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub path: String,
    pub ok: bool,
    pub schema_version: i64,
    /// What `PRAGMA integrity_check` found: damaged pages, indexes out of step with tables.
    pub integrity: Vec<String>,
    /// Rows naming a customer, invoice or entry that is not there.
    pub foreign_keys: Vec<String>,
    /// The store's invariants that do not hold (accounts against their ledger).
    pub audit: Vec<String>,
    /// Said, but not a problem (an older schema the next open will upgrade).
    pub notes: Vec<String>,
}

/// Examines the database at `path` read-only: it is never created, migrated nor repaired, so
/// a damaged file stays as it was for whoever recovers it. A file that is not an Ardoise
/// database is an error, as for [`crate::Store::open`].
pub fn check_database(path: &Path) -> Result<CheckReport> {
    if !path.is_file() {
        return Err(Error::NotArdoise { path: path.display().to_string(), reason: "no such file".into() });
    }
    conn::vet(path)?;
    let c = conn::open_read_only(path)?;
    let schema_version: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if schema_version > schema::VERSION {
        return Err(Error::SchemaTooNew { found: schema_version, supported: schema::VERSION });
    }
    let mut report = CheckReport {
        path: path.display().to_string(),
        ok: false,
        schema_version,
        integrity: Vec::new(),
        foreign_keys: Vec::new(),
        audit: Vec::new(),
        notes: Vec::new(),
    };
    // Damage can make the checks themselves fail: that is a finding, not a reason to stop.
    match rows(&c, "PRAGMA integrity_check", |r| r.get::<_, String>(0)) {
        Ok(found) => report.integrity = found.into_iter().filter(|l| l != "ok").collect(),
        Err(e) => report.integrity.push(format!("the integrity check could not finish: {e}")),
    }
    let fk = |r: &rusqlite::Row<'_>| {
        let table: String = r.get(0)?;
        let rowid: Option<i64> = r.get(1)?;
        let parent: String = r.get(2)?;
        Ok(format!("{table} row {} refers to a missing {parent} row", rowid.map_or("?".into(), |n| n.to_string())))
    };
    match rows(&c, "PRAGMA foreign_key_check", fk) {
        Ok(found) => report.foreign_keys = found,
        Err(e) => report.foreign_keys.push(format!("the foreign key check could not finish: {e}")),
    }
    if schema_version < schema::VERSION {
        report.notes.push(format!(
            "schema version {schema_version} is older than {}: the next open upgrades it; the audit needs the current schema and was not run",
            schema::VERSION
        ));
    } else {
        match audit::broken(&c) {
            Ok(found) => report.audit = found,
            Err(e) => report.audit.push(format!("the audit could not finish: {e}")),
        }
    }
    report.ok = report.integrity.is_empty() && report.foreign_keys.is_empty() && report.audit.is_empty();
    Ok(report)
}

fn rows<T>(
    c: &rusqlite::Connection,
    sql: &str,
    f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = c.prepare(sql)?;
    let out = stmt.query_map([], f)?.collect::<rusqlite::Result<Vec<T>>>()?;
    Ok(out)
}
