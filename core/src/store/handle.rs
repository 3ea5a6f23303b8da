//! The handle every call goes through: one till's database, opened with its writer and its
//! readers, and the three ways in (a read, a unit of work, the device's own sync bookkeeping).

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use rusqlite::{Connection, Transaction};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::shop::ShopSettings;
use crate::store::db::checkpoint::Checkpointer;
use crate::store::db::conn::{self, Bulk, Readers};
use crate::store::db::values::Now;
use crate::store::db::{device, schema, settings};
use crate::store::sync::replica::{Key, Table};
use crate::store::write::Write;

/// One till's database: one writer connection and readers beside it (WAL), so a checkout
/// never waits for a long write. Shared by the till's threads (`Send + Sync`): every write goes
/// through [`Store::write`], one unit of work at a time, and every read through its own reader.
#[derive(Debug)]
pub struct Store {
    /// Copies a bulk write's WAL into the file off the write path (`db::checkpoint`); `None`
    /// in memory.
    checkpoints: Option<Checkpointer>,
    writer: Mutex<Connection>,
    readers: Readers,
    device_id: Uuid,
    /// The shop settings as last written or synced; read by every verdict, so kept here.
    settings: RwLock<Arc<ShopSettings>>,
}

impl Store {
    /// Opens (or creates) the database at `path`. A file that cannot be opened or read is
    /// reported and left exactly as it was: it may hold money not yet synced anywhere. So is
    /// a file that is not an Ardoise database ([`Error::NotArdoise`]): empty, or another
    /// program's.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref();
        conn::vet(path)?;
        let mut store = Store::init(conn::open_writer(path)?, Readers::new(Some(path)))?;
        store.checkpoints = Some(Checkpointer::start(path)?);
        Ok(store)
    }

    /// A throwaway database, for tests and the demo's dry runs.
    pub fn open_in_memory() -> Result<Store> {
        Store::init(conn::open_memory()?, Readers::new(None))
    }

    fn init(mut conn: Connection, readers: Readers) -> Result<Store> {
        schema::migrate(&mut conn)?;
        let device_id = device::ensure(&conn)?;
        let settings = settings::load_shop(&conn)?;
        Ok(Store {
            checkpoints: None,
            writer: Mutex::new(conn),
            readers,
            device_id,
            settings: RwLock::new(Arc::new(settings)),
        })
    }

    pub fn device_id(&self) -> Uuid {
        self.device_id
    }

    /// A number that grows with every row this store writes (SQLite's count of rows changed
    /// through its one writer connection, since it was opened): two equal readings of the same
    /// `Store` mean nothing was written in between, so an answer computed from it still holds.
    /// Only meaningful while no write is in progress, and only for this `Store` value.
    pub fn revision(&self) -> u64 {
        conn::lock(&self.writer).total_changes()
    }

    pub fn settings(&self) -> Arc<ShopSettings> {
        self.settings.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Replaces the shop settings (with an outbox row, like every write).
    pub fn set_settings(&self, settings: ShopSettings, now: Now) -> Result<()> {
        settings.validate()?;
        self.write(now, |w| {
            settings::put(w.conn(), "shop", &settings)?;
            w.row(Table::Settings, Key::Text("shop".into()))?;
            w.settings_changed();
            Ok(())
        })
    }

    /// Checks the file end to end (`PRAGMA integrity_check`): for tests and support.
    pub fn integrity_check(&self) -> Result<()> {
        let res: String = self.read(|c| Ok(c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?))?;
        if res == "ok" { Ok(()) } else { Err(Error::Corrupt(res)) }
    }

    /// Runs `f` on a reader: it sees what was committed when it began, and waits for no write.
    pub(in crate::store) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.readers.read(&self.writer, f)
    }

    /// Runs `f` as one unit of work (see [`write::Write`]): all of it is committed, with its
    /// outbox rows and the refreshed reminders of the customers it touched, or none of it.
    pub(in crate::store) fn write<T>(&self, now: Now, f: impl FnOnce(&mut Write<'_>) -> Result<T>) -> Result<T> {
        let out = self.attempt(now, |w| f(w).map(Some))?;
        Ok(out.expect("a write that always commits"))
    }

    /// [`Store::write`] for a unit of work that may give up: `Ok(None)` rolls it back whole.
    pub(in crate::store) fn attempt<T>(
        &self,
        now: Now,
        f: impl FnOnce(&mut Write<'_>) -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        let mut conn = conn::lock(&self.writer);
        let mut w = Write::begin(&mut conn, self.device_id, now)?;
        let Some(out) = f(&mut w)? else { return Ok(None) };
        let settings_changed = w.commit()?;
        if let Some(c) = &self.checkpoints {
            c.committed();
        }
        if settings_changed {
            *self.settings.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(settings::load_shop(&conn)?);
        }
        Ok(Some(out))
    }

    /// [`Store::attempt`] for a bulk write (an import), with the writer set up for it (see
    /// [`Bulk`]) and put back afterwards, whether it commits or not.
    pub(in crate::store) fn attempt_bulk<T>(
        &self,
        now: Now,
        bulk: Bulk,
        f: impl FnOnce(&mut Write<'_>) -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        let mut conn = conn::lock(&self.writer);
        let cache = conn::tune(&conn, bulk)?;
        let out = (|| -> Result<Option<T>> {
            let mut w = Write::begin(&mut conn, self.device_id, now)?;
            let Some(out) = f(&mut w)? else { return Ok(None) };
            w.commit()?;
            Ok(Some(out))
        })();
        let untuned = conn::untune(&conn, bulk, cache);
        let out = out?;
        untuned?;
        if bulk.large
            && let Some(c) = &self.checkpoints
        {
            c.bulk_committed();
        }
        Ok(out)
    }

    /// The writer itself, for tests that look at rows directly.
    #[cfg(test)]
    pub(in crate::store) fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        conn::lock(&self.writer)
    }

    /// The device's own sync bookkeeping (cursor, acknowledgements, enrolment): in a
    /// transaction on the writer, but not shop data, so no outbox row and no reminder to
    /// refresh.
    pub(in crate::store) fn bookkeep<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = conn::lock(&self.writer);
        let tx = conn.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}
