//! The till API for Swift and Kotlin: a `Till` object over one SQLite file, exported with
//! uniffi, that delegates to `ardoise-core`; no business rule lives here.
//!
//! The core's records, enums, values and error cross as they are: they derive uniffi in
//! `ardoise-core` (its `uniffi` feature), in its own namespace (`ardoise_core`: the Kotlin
//! package `app.ardoise.core`, and the same Swift module `Ardoise`). Money, dates, instants and
//! ids cross as strict strings (`ardoise_core::ffi`). A record is written here only where the
//! FFI's shape differs from the core's on purpose, with its conversion beside it. Each domain
//! adds its calls to the same `Till` in its own module; sync (`sync.rs`) is async.

mod bank;
mod checkout;
mod customers;
mod followup;
mod lane;
mod ledger;
mod owner;
mod reminders;
mod sync;

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub use ardoise_core::ffi::{ArdoiseError, IsoDate, Percent, Timestamp, UtcTimestamp};
use ardoise_core::{Store, Uuid};

pub use bank::*;
pub use checkout::*;
pub use customers::*;
pub use followup::*;
pub use ledger::*;
pub use owner::*;
pub use reminders::*;
pub use sync::*;

uniffi::setup_scaffolding!("ardoise");

// The core's values of other crates' types, in this namespace's signatures.
uniffi::use_remote_type!(ardoise_core::IsoDate);
uniffi::use_remote_type!(ardoise_core::Timestamp);
uniffi::use_remote_type!(ardoise_core::UtcTimestamp);
uniffi::use_remote_type!(ardoise_core::Uuid);
uniffi::use_remote_type!(ardoise_core::Percent);

type Result<T, E = ArdoiseError> = std::result::Result<T, E>;

/// Most rows one list call returns.
const MAX_PAGE: u32 = 1_000;

#[derive(Debug)]
enum State {
    /// Boxed: the store is large next to the other states.
    Open(Box<Store>),
    /// Closed by `suspend()` so iOS does not kill the app for holding a WAL lock.
    Suspended,
    Closed,
}

/// One till's database. Thread-safe: calls from several threads run at once, each read on its
/// own connection, so a checkout never waits for a reminder run, an import or a sync page.
#[derive(Debug, uniffi::Object)]
pub struct Till {
    path: String,
    /// Every call holds it shared for its duration; closing, suspending and resuming hold it
    /// alone, so they wait for the calls in progress and release every connection at once.
    state: RwLock<State>,
    /// Held for a whole `enrol()` or `sync()` (across its network calls), so that two syncs
    /// of one till run one after the other; the store itself is locked only call by call.
    syncing: tokio::sync::Mutex<()>,
}

impl Till {
    // A panic inside a call is caught at the FFI and its transaction rolled back by SQLite, so
    // the store behind a poisoned lock is still consistent.
    fn shared(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn alone(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the open store; `Closed` when the till is closed or suspended.
    fn with<T>(&self, f: impl FnOnce(&Store) -> ardoise_core::Result<T>) -> Result<T> {
        match &*self.shared() {
            State::Open(store) => Ok(f(store)?),
            State::Suspended => {
                Err(ArdoiseError::Closed { message: "the till is suspended; call resume() first".into() })
            }
            State::Closed => Err(ArdoiseError::Closed { message: "the till is closed".into() }),
        }
    }
}

#[uniffi::export]
impl Till {
    /// Opens (or creates) the till database at `path`. A file that cannot be opened is
    /// reported as `Storage` and left untouched.
    #[uniffi::constructor]
    pub fn open(path: String) -> Result<Arc<Till>> {
        let store = Store::open(&path)?;
        Ok(Arc::new(Till { path, state: RwLock::new(State::Open(Box::new(store))), syncing: Default::default() }))
    }

    /// Closes the database now; every later call fails with `Closed`. Safe to call twice.
    /// (Kotlin's `close()` / `use {}` and Swift's deinit release the object itself, which also
    /// closes the database once no call is running.)
    pub fn close_database(&self) {
        *self.alone() = State::Closed;
    }

    /// Closes SQLite while the app is in the background; `resume()` reopens it.
    pub fn suspend(&self) -> Result<()> {
        let mut state = self.alone();
        match *state {
            State::Closed => Err(ArdoiseError::Closed { message: "the till is closed".into() }),
            _ => {
                *state = State::Suspended;
                Ok(())
            }
        }
    }

    pub fn resume(&self) -> Result<()> {
        let mut state = self.alone();
        match *state {
            State::Open(_) => Ok(()),
            State::Suspended => {
                *state = State::Open(Box::new(Store::open(&self.path)?));
                Ok(())
            }
            State::Closed => Err(ArdoiseError::Closed { message: "the till is closed".into() }),
        }
    }

    /// This device's id, as it signs every entry it records.
    pub fn device_id(&self) -> Result<Uuid> {
        self.with(|s| Ok(s.device_id()))
    }

    /// Events recorded here and not yet pushed to the back office.
    pub fn pending_events(&self) -> Result<u64> {
        self.with(|s| s.outbox_len())
    }
}

/// The library's version, to show in an app's about screen and in support reports.
#[uniffi::export]
pub fn ardoise_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// SQLite removes a WAL database's `-wal` and `-shm` files when its last connection closes:
    /// their absence shows that no connection (the writer or any reader) is left open.
    fn connections_left(db: &Path) -> bool {
        ["-wal", "-shm"].iter().any(|s| Path::new(&format!("{}{s}", db.display())).exists())
    }

    #[test]
    fn suspend_and_close_release_every_connection() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("till.db");
        let till = Till::open(db.display().to_string()).unwrap();
        let now: Timestamp = "2026-03-01T10:00:00+01:00".parse().unwrap();
        let customer = NewCustomer { reference: "C1".into(), name: "Hélène Dupré".into(), ..Default::default() };
        till.add_customer(customer, now).unwrap();
        // Reads run on the reader connections, so these open some besides the writer.
        for _ in 0..4 {
            till.check("C1".into(), ardoise_core::Money::from_minor(1_000), now).unwrap();
            assert_eq!(till.search_customers("hél".into(), 5).unwrap().len(), 1);
        }
        assert!(connections_left(&db), "an open till has its WAL");

        till.suspend().unwrap();
        assert!(!connections_left(&db), "a suspended till holds no connection");
        assert!(matches!(till.pending_events(), Err(ArdoiseError::Closed { .. })));

        till.resume().unwrap();
        till.check("C1".into(), ardoise_core::Money::from_minor(1_000), now).unwrap();
        assert!(till.pending_events().unwrap() > 0, "what was recorded before suspending is still there");

        till.close_database();
        assert!(!connections_left(&db), "a closed till holds no connection");
        assert!(matches!(till.resume(), Err(ArdoiseError::Closed { .. })));
    }
}
