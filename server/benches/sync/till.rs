//! The till side: a store that times what the sync client asks of it, and the till full of real
//! ledger events (customers, sales on account, payments) that the end-to-end run pushes.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ardoise_core::store::Now;
use ardoise_core::sync::client::StoreAccess;
use ardoise_core::{CustomerKind, EntryRequest, Money, NewCustomer, PaymentMethod, SaleRequest, Store};
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data")
}

pub fn now() -> Now {
    Utc::now().fixed_offset()
}

/// A till's store behind the lock the client borrows it through, with the time spent inside
/// the store (the till-side cost of a sync) and, for the pushing till, the moment its outbox
/// became empty (every event acknowledged: the end of the push phase).
pub struct Till {
    store: Mutex<Store>,
    local_ns: AtomicU64,
    watch_push: bool,
    /// When the outbox became empty, and the store time spent until then.
    push_done: Mutex<Option<(Instant, Duration)>>,
}

impl Till {
    pub fn open(path: &Path, watch_push: bool) -> Till {
        Till {
            store: Mutex::new(Store::open(path).expect("open till store")),
            local_ns: AtomicU64::new(0),
            watch_push,
            push_done: Mutex::new(None),
        }
    }

    /// Store time since the last call, and resets it.
    pub fn take_local(&self) -> Duration {
        Duration::from_nanos(self.local_ns.swap(0, Ordering::Relaxed))
    }

    pub fn take_push_done(&self) -> Option<(Instant, Duration)> {
        self.push_done.lock().unwrap().take()
    }

    /// Direct use of the store outside a sync (untimed).
    pub fn with<R>(&self, f: impl FnOnce(&Store) -> R) -> R {
        f(&self.store.lock().unwrap())
    }
}

impl StoreAccess for Till {
    fn with_store<R>(&self, f: impl FnOnce(&Store) -> ardoise_core::Result<R>) -> ardoise_core::Result<R> {
        let store = self.store.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let t = Instant::now();
        let r = f(&store);
        self.local_ns.fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        if self.watch_push {
            let mut done = self.push_done.lock().unwrap();
            if done.is_none() && store.outbox_pending(1).map(|p| p.is_empty()).unwrap_or(false) {
                *done = Some((Instant::now(), Duration::from_nanos(self.local_ns.load(Ordering::Relaxed))));
            }
        }
        r
    }
}

const FIRST: &[&str] = &[
    "Hélène",
    "Jean",
    "Marie",
    "Pierre",
    "Nathalie",
    "Michel",
    "Camille",
    "François",
    "Cécile",
    "Jérôme",
    "Anne",
    "Luc",
    "Sophie",
    "Nicolas",
    "Isabelle",
    "Thomas",
];
const LAST: &[&str] = &[
    "Dupré", "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Leroy", "Moreau", "Simon",
    "Laurent", "Lefèvre", "Michel", "Garcia", "Guérin",
];

/// How a till of `events` events is made: one customer per 50 events, then sales on account and
/// payments round-robin over the customers, each sale paid by the customer's next entry (so
/// nothing falls overdue and no sale is refused), over about five months of business days.
pub fn customers_for(events: usize) -> usize {
    (events / 50).max(1)
}

/// Fills `store` through the store's own write path: `add_customer`, `sell_on_account` and
/// `record` (payments), one transaction each, exactly as a till records them. Returns the
/// number of outbox events, which is `events`.
pub fn fill(store: &mut Store, events: usize, seed: u64) -> usize {
    let mut rng = StdRng::seed_from_u64(seed);
    let customers = customers_for(events);
    let entries = events - customers;
    // Spread over ~150 days ending yesterday, so no date is in the future.
    let span = TimeDelta::days(150);
    let start: DateTime<FixedOffset> = (Utc::now() - span - TimeDelta::days(1)).fixed_offset();
    let step = span / i32::try_from(events).unwrap();
    let mut at = start;
    let mut refs = Vec::with_capacity(customers);
    for i in 0..customers {
        let reference = format!("C{:05}", i + 1);
        let name = format!("{} {}", FIRST[rng.random_range(0..FIRST.len())], LAST[rng.random_range(0..LAST.len())]);
        store
            .add_customer(
                NewCustomer {
                    reference: reference.clone(),
                    name,
                    phone: Some(format!("+33 6 {:02} {:02} {:02} {:02}", i % 100, (i / 100) % 100, i % 97, i % 89)),
                    kind: if i % 10 == 0 { CustomerKind::Business } else { CustomerKind::Consumer },
                    credit_limit: Some(Money::from_minor(500_000)),
                    terms: if i % 10 == 0 { "45eom" } else { "30" }.parse().unwrap(),
                    ..Default::default()
                },
                at,
            )
            .expect("add customer");
        refs.push(reference);
        at += step;
    }
    // The open sale of each customer, paid by its next entry.
    let mut open: Vec<Option<Money>> = vec![None; customers];
    for k in 0..entries {
        let c = k % customers;
        let date = Some(at.date_naive());
        match open[c].take() {
            None => {
                let amount = Money::from_minor(rng.random_range(150..12_000));
                store
                    .sell_on_account(
                        SaleRequest {
                            customer: refs[c].clone(),
                            amount,
                            date,
                            invoice_ref: None,
                            cashier: "anna".into(),
                            deposit: None,
                        },
                        at,
                    )
                    .expect("sale on account");
                open[c] = Some(amount);
            }
            Some(amount) => {
                let method = if rng.random_bool(0.5) { PaymentMethod::Cash } else { PaymentMethod::Card };
                store
                    .record(&refs[c], date, "anna", EntryRequest::Payment { amount, method, invoice: None }, at)
                    .expect("payment");
            }
        }
        at += step;
    }
    usize::try_from(store.outbox_len().unwrap()).unwrap()
}

/// The pushing till of the end-to-end run, built once and cached beside the other bench data:
/// `sync-till-<n>.db`, plus its events exactly as the protocol carries them
/// (`sync-events-<n>.json`, for the PouchDB comparison). The store is written on tmpfs (a
/// durable commit per sale would only slow the generation, which is not measured), then
/// copied to the disk.
pub fn template(events: usize) -> (PathBuf, PathBuf) {
    let dir = data_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join(format!("sync-till-{events}.db"));
    let json = dir.join(format!("sync-events-{events}.json"));
    if db.exists() && json.exists() {
        eprintln!("till: reusing {}", db.display());
        return (db, json);
    }
    let scratch_root = if Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { dir.clone() };
    let scratch = tempfile::tempdir_in(scratch_root).unwrap();
    let path = scratch.path().join("till.db");
    let t = Instant::now();
    let mut store = Store::open(&path).unwrap();
    let made = fill(&mut store, events, 5);
    assert_eq!(made, events, "the till holds {made} outbox events, not {events}");
    let batch = store.push_batch(events + 1).unwrap();
    assert_eq!(batch.len(), events);
    drop(store);
    eprintln!(
        "till: generated {events} events ({} customers) through the store API in {:.1} s",
        customers_for(events),
        t.elapsed().as_secs_f64()
    );
    let tmp_json = json.with_extension("json.part");
    serde_json::to_writer(std::io::BufWriter::new(std::fs::File::create(&tmp_json).unwrap()), &batch).unwrap();
    std::fs::rename(&tmp_json, &json).unwrap();
    let tmp_db = db.with_extension("db.part");
    std::fs::copy(&path, &tmp_db).unwrap();
    std::fs::rename(&tmp_db, &db).unwrap();
    (db, json)
}
