//! Devices of a shop as the tests drive them: a store file, the real sync client, and an
//! injected clock shared by every device of a test.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use ardoise_core::store::Enrolment;
use ardoise_core::sync::client::{Client, RetryPolicy, SyncReport};
use ardoise_core::{Now, Store, Uuid};
use chrono::{DateTime, FixedOffset, NaiveDate};

/// The tills' time: every reading moves it one second on, so that no two writes of a test
/// share an instant; `advance` jumps hours or days.
#[derive(Debug)]
pub struct Clock {
    ms: AtomicI64,
    offset: FixedOffset,
}

impl Clock {
    /// Starts at 09:00 (UTC+1) on `date` (`2026-01-05`).
    pub fn starting(date: &str) -> Clock {
        let start = DateTime::parse_from_rfc3339(&format!("{date}T09:00:00+01:00")).expect("a date");
        Clock { ms: AtomicI64::new(start.timestamp_millis()), offset: *start.offset() }
    }

    pub fn now(&self) -> Now {
        let ms = self.ms.fetch_add(1_000, Ordering::SeqCst) + 1_000;
        DateTime::from_timestamp_millis(ms).expect("a time").with_timezone(&self.offset)
    }

    pub fn today(&self) -> NaiveDate {
        let ms = self.ms.load(Ordering::SeqCst);
        DateTime::from_timestamp_millis(ms).expect("a time").with_timezone(&self.offset).date_naive()
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.ms.fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }
}

/// Retries quickly: the tests' faults are many and the backoff's jitter is not what they test.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy { attempts: 3, base: Duration::from_millis(2), max: Duration::from_millis(20) }
}

/// One device: a till or the owner's phone.
#[derive(Debug)]
pub struct Till {
    pub name: String,
    store: Mutex<Store>,
    path: PathBuf,
    client: Client,
}

impl Till {
    /// A new device with its own store file in `dir`.
    pub fn open(dir: &Path, name: &str) -> Till {
        Till::open_with(dir, name, fast_retries())
    }

    pub fn open_with(dir: &Path, name: &str, policy: RetryPolicy) -> Till {
        let path = dir.join(format!("{name}.db"));
        let store = Store::open(&path).expect("a till's store");
        Till { name: name.to_owned(), store: Mutex::new(store), path, client: Client::new(policy).unwrap() }
    }

    /// Borrows the store for a moment (never across an await).
    pub fn with<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        let mut guard = self.store.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    pub fn device_id(&self) -> Uuid {
        self.with(|s| s.device_id())
    }

    pub async fn enrol(&self, url: &str, code: &str, clock: &Clock) -> Enrolment {
        self.try_enrol(url, code, clock).await.expect("enrolment")
    }

    /// An enrolment that may be refused.
    pub async fn try_enrol(&self, url: &str, code: &str, clock: &Clock) -> ardoise_core::Result<Enrolment> {
        self.client.enrol(&self.store, url, code, &self.name, clock.now()).await
    }

    pub async fn sync(&self, clock: &Clock) -> ardoise_core::Result<SyncReport> {
        self.client.sync(&self.store, &|| clock.now()).await
    }

    pub fn enrolment(&self) -> Enrolment {
        self.with(|s| s.enrolment()).unwrap().expect("an enrolled till")
    }

    /// Every event this device ever recorded, acknowledged or not, as (sequence, id, kind),
    /// read from its file through a second, read-only connection.
    pub fn outbox(&self) -> Vec<(u64, Uuid, String)> {
        let conn = rusqlite::Connection::open_with_flags(&self.path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("the till's file");
        let mut stmt = conn.prepare("SELECT seq, event_id, kind FROM outbox ORDER BY seq").unwrap();
        stmt.query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

/// Syncs every device, each twice, round after round, until a whole round pushed and pulled
/// nothing. Panics if a sync fails or if the devices never settle.
pub async fn sync_until_quiet(tills: &[&Till], clock: &Clock) {
    for _round in 0..10 {
        let mut moved = 0;
        for till in tills {
            for _ in 0..2 {
                let r = till.sync(clock).await.unwrap_or_else(|e| panic!("{}: the final sync failed: {e}", till.name));
                moved += r.pushed + r.pulled + r.rejected;
            }
        }
        if moved == 0 {
            return;
        }
    }
    panic!("the devices still exchange events after 10 rounds of syncs");
}
