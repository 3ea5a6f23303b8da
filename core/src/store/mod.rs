//! The SQLite store: one file per till, WAL, every write in one transaction with its outbox row.

mod audit;
mod db;
mod owner;
mod reminders;
mod sync;
mod till;

use std::path::Path;

use chrono::{DateTime, FixedOffset};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::checkout::CheckoutRules;
use crate::dunning::run::DunningRules;
use crate::error::{Error, Result};

pub use db::schema::VERSION as SCHEMA_VERSION;
pub use owner::export::ExportKind;
pub use owner::privacy::Erasure;
pub use owner::reports::{OverdueAccount, OverdueSort};
pub use owner::risk::CustomerRisk;
pub use reminders::dunning::{ReminderRecord, ReminderState, RunReport};
pub use reminders::followup::{CallOutcome, Dispute, DisputeResolution, PlanView, Promise, TimelineItem};
pub use sync::outbox::OutboxEvent;
pub use sync::state::{ApplyReport, Enrolment, STUCK_AFTER, SyncStatus};
pub use till::accounts::{AccountSummary, DepositHeld, OpenInvoice, Override, TimelineEvent};
pub use till::ledger::{EntryRequest, Recorded, SaleRequest};

/// The local time of the till: the date in its offset is the shop's business date.
pub type Now = DateTime<FixedOffset>;

/// Shop-wide settings, synced later like any other shop data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShopSettings {
    pub shop_name: String,
    pub shop_phone: String,
    pub shop_email: String,
    pub shop_address: String,
    /// Where customers pay online, with `{customer_ref}` and `{amount}` filled in; `None`: no
    /// link, reminders say to pay at the shop.
    pub payment_url: Option<String>,
    pub checkout: CheckoutRules,
    pub dunning: DunningRules,
}

impl ShopSettings {
    fn validate(&self) -> Result<()> {
        self.checkout.validate()?;
        self.dunning.validate()?;
        if let Some(url) = &self.payment_url {
            let rest = url.replace("{customer_ref}", "").replace("{amount}", "");
            if !url.starts_with("https://") || rest.contains(['{', '}']) {
                return Err(Error::Invalid {
                    field: "payment url",
                    reason: format!("{url:?}: an https:// address that may use {{customer_ref}} and {{amount}}"),
                });
            }
        }
        Ok(())
    }
}

/// One till's database. Not `Sync`: the bindings hold it behind a mutex.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    device_id: Uuid,
    settings: ShopSettings,
}

impl Store {
    /// Opens (or creates) the database at `path`. A file that cannot be opened or read is
    /// reported and left exactly as it was: it may hold money not yet synced anywhere.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let open_err = |source| Error::Open { path: path.display().to_string(), source };
        let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        // Reading the header now turns "file is not a database" into an open error.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(())).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(open_err)?;
        Store::init(conn)
    }

    /// A throwaway database, for tests and the demo's dry runs.
    pub fn open_in_memory() -> Result<Store> {
        Store::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Store> {
        // FULL: a sale the till confirmed survives a power cut, not only a crash.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        // 16 MB of page cache (the default is 2 MB): a write touches the customer's pages in a
        // few indexes, and keeping the upper B-tree levels cached spares re-reads.
        conn.pragma_update(None, "cache_size", -16_000)?;
        // Reads of a large file through memory mapping instead of one pread per page: the
        // checkout's tail was page misses. Writes still go through the WAL, so durability is
        // unchanged; address space, not memory, is what this reserves.
        conn.pragma_update(None, "mmap_size", 256 * 1024 * 1024)?;
        // Statement and savepoint sub-journals in memory instead of a temporary file: applying a
        // page of synced events writes every touched page there, through write calls. They
        // are rollback data only, never needed after a crash (the WAL covers that).
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(64);
        db::schema::migrate(&mut conn)?;
        let device_id = ensure_device(&conn)?;
        let settings = load_settings(&conn)?;
        Ok(Store { conn, device_id, settings })
    }

    pub fn device_id(&self) -> Uuid {
        self.device_id
    }

    pub fn settings(&self) -> &ShopSettings {
        &self.settings
    }

    /// Replaces the shop settings (with an outbox row, like every write).
    pub fn set_settings(&mut self, settings: ShopSettings, now: Now) -> Result<()> {
        settings.validate()?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO settings (key, value) VALUES ('shop', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [serde_json::to_string(&settings)?],
        )?;
        sync::replica::emit(&tx, sync::replica::Table::Settings, sync::replica::Key::Text("shop".into()), now)?;
        tx.commit()?;
        self.settings = settings;
        Ok(())
    }

    /// Checks the file end to end (`PRAGMA integrity_check`): for tests and support.
    pub fn integrity_check(&self) -> Result<()> {
        let res: String = self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if res == "ok" { Ok(()) } else { Err(Error::Corrupt(res)) }
    }
}

fn ensure_device(conn: &Connection) -> Result<Uuid> {
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

pub(in crate::store) fn load_settings(conn: &Connection) -> Result<ShopSettings> {
    let raw: Option<String> =
        conn.query_row("SELECT value FROM settings WHERE key = 'shop'", [], |r| r.get(0)).optional()?;
    Ok(match raw {
        Some(s) => serde_json::from_str(&s)?,
        None => ShopSettings::default(),
    })
}

/// Takes the next gapless sequence number of this device's events.
pub(in crate::store) fn next_seq(tx: &Transaction<'_>) -> Result<u64> {
    let seq: i64 = tx
        .prepare_cached("UPDATE device SET next_seq = next_seq + 1 WHERE id = 1 RETURNING next_seq - 1")?
        .query_row([], |r| r.get(0))?;
    Ok(seq as u64)
}

/// The row id of a customer by reference.
pub(in crate::store) fn customer_id(conn: &Connection, reference: &str) -> Result<i64> {
    conn.prepare_cached("SELECT id FROM customers WHERE reference = ?1")?
        .query_row([reference], |r| r.get(0))
        .optional()?
        .ok_or_else(|| Error::UnknownCustomer(reference.to_owned()))
}

/// A date as stored (ISO); anything else means the file was damaged.
pub(in crate::store) fn date_of(s: &str) -> Result<chrono::NaiveDate> {
    crate::parse_date(s).map_err(|_| Error::Corrupt(format!("bad date {s}")))
}

pub(in crate::store) fn ms(now: Now) -> i64 {
    now.timestamp_millis()
}

/// A new id, time-ordered (UUIDv7) from the injected clock: rows keyed by it are appended at
/// the end of their B-tree instead of landing on a random page, which keeps writes cheap on a
/// large database.
pub(crate) fn new_id(now: Now) -> Uuid {
    let secs = u64::try_from(now.timestamp()).unwrap_or(0);
    Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, secs, now.timestamp_subsec_nanos()))
}
