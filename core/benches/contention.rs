//! The checkout verdict while the till is busy (issue 15): one thread asks for a verdict on a
//! random customer every millisecond while another runs the daily reminder run, imports 100,000
//! invoice rows, or applies pages of synced entries, on a copy of the generated 50,000-customer,
//! 5,000,000-entry shop. The store is shared the way the bindings share it with the till's
//! threads. Each verdict's latency counts from when it was due.
//!
//! `cargo bench -p ardoise-core --bench contention`; `ARDOISE_BENCH_CUSTOMERS`/`_ENTRIES` scale
//! the shop as for the `shop` bench. Prints one line per workload and writes
//! `target/bench-data/contention.json`.

#[path = "shop/dataset.rs"]
#[allow(dead_code)]
mod dataset;
#[path = "shop/latency.rs"]
#[allow(dead_code)]
mod latency;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ardoise_core::import::DateStyle;
use ardoise_core::sync::hlc::Hlc;
use ardoise_core::sync::protocol::{Change, Event};
use ardoise_core::{Entry, EntryBody, Money, Now, Store};
use chrono::Days;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use uuid::Uuid;

use dataset::Size;
use latency::human;

/// The till as the bindings hold it: one store shared by the till's threads (before issue 15,
/// one lock around the store's only connection, which every call took).
type Shared = Arc<Store>;

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let size = Size::from_env(if measuring { Size::FULL } else { Size::SMOKE });
    let import_rows = if measuring { 100_000 } else { 1_000 };
    let (pages, page_len) = if measuring { (40, 500) } else { (4, 50) };
    // `ARDOISE_BENCH_ONLY=reminders,import,sync` (any of them): those workloads alone, in that
    // order, after the idle verdicts.
    let only = std::env::var("ARDOISE_BENCH_ONLY").ok();
    let runs = |name: &str| only.as_deref().is_none_or(|o| o.split(',').any(|w| w.trim() == name));
    let shop = dataset::ensure(size);
    let dir = tempfile::tempdir_in(dataset::data_dir()).expect("temp dir");
    let copy = dataset::synced_copy(&shop.path, dir.path());
    let store = Store::open(&copy).expect("open the copy");
    let refs: Vec<(String, Uuid)> = {
        let mut all = Vec::new();
        while let Ok(page) = store.customers(1_000, all.len()) {
            if page.is_empty() {
                break;
            }
            all.extend(page.into_iter().map(|c| (c.reference, c.id)));
        }
        all
    };
    let till: Shared = Arc::new(store);
    let now = dataset::now();
    let mut results = serde_json::Map::new();

    let idle =
        verdicts_during(&till, &refs, now, || std::thread::sleep(Duration::from_secs(if measuring { 5 } else { 1 })));
    report(&mut results, "idle (nothing else running)", &idle);

    // Three reminder runs ten days apart: each climbs the ladder a step for many customers.
    if runs("reminders") {
        let during = verdicts_during(&till, &refs, now, || {
            for day in [0, 10, 20] {
                let at = now.checked_add_days(Days::new(day)).expect("date");
                let run = lock(&till).run_dunning(at).expect("reminder run");
                eprintln!(
                    "  reminder run of {}: {} queued, {} checked",
                    at.date_naive(),
                    run.queued.len(),
                    run.customers_checked
                );
            }
        });
        report(&mut results, "during the daily reminder run (3 runs)", &during);
    }

    if runs("import") {
        let csv = invoices_csv(&refs, import_rows, now);
        let during = verdicts_during(&till, &refs, now, || {
            let r = lock(&till).import_invoices(csv.as_bytes(), DateStyle::Iso, now).expect("import");
            eprintln!("  imported {} rows", r.rows);
        });
        report(&mut results, &format!("during an import of {import_rows} invoice rows"), &during);
    }

    if runs("sync") {
        let cursor = lock(&till).sync_cursor().expect("cursor");
        let batches = sync_pages(&refs, cursor, pages, page_len, now);
        let during = verdicts_during(&till, &refs, now, || {
            for (k, page) in batches.iter().enumerate() {
                let next = cursor + ((k + 1) * page_len) as u64;
                lock(&till).apply_changes(page, next, now).expect("apply a page");
            }
        });
        report(&mut results, &format!("during {pages} sync pages of {page_len} entries"), &during);
    }

    let out = dataset::data_dir().join("contention.json");
    std::fs::write(&out, serde_json::to_string_pretty(&results).expect("json")).expect("write results");
    eprintln!("wrote {}", out.display());
}

fn lock(till: &Shared) -> &Store {
    till
}

/// What one workload did to the checkout: each verdict's latency while it ran, and how long
/// the workload took.
struct During {
    workload: Duration,
    verdicts: Vec<u64>,
    /// For each verdict, how long its thread waited for a CPU while runnable since the one
    /// before (the kernel's run-queue delay, from `/proc/thread-self/schedstat`; 0 where the
    /// kernel does not report it): a late verdict that waited this long was not scheduled, not
    /// held up by the store.
    queued: Vec<u64>,
}

/// The kernel's total run-queue delay of the calling thread, in nanoseconds.
fn run_queue_delay() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// A verdict is asked for every millisecond, as by a till's cashiers typing: the latency of each
/// counts from when it was due, so a verdict held up behind a long write counts the whole wait,
/// and so do the ones due while it waited (no coordinated omission).
const EVERY: Duration = Duration::from_millis(1);
/// How much earlier than due a sleeping verdict thread wakes, to spin the rest.
const WAKE_UP: Duration = Duration::from_micros(250);

/// Runs `work` on a second thread while this one asks for verdicts on random customers, on a
/// fixed schedule, until `work` is done.
fn verdicts_during(till: &Shared, refs: &[(String, Uuid)], now: Now, work: impl FnOnce() + Send) -> During {
    let done = AtomicBool::new(false);
    let mut rng = StdRng::seed_from_u64(15);
    let cart = Money::from_minor(2_500);
    std::thread::scope(|s| {
        let worker = s.spawn(|| {
            let t = Instant::now();
            work();
            done.store(true, Ordering::Release);
            t.elapsed()
        });
        let mut verdicts = Vec::new();
        let mut queued = Vec::new();
        let mut waited = run_queue_delay();
        let start = Instant::now();
        let mut k = 0u32;
        while !done.load(Ordering::Acquire) {
            let due = start + EVERY * k;
            // Slept until just before it is due, then spun: waking from a sleep takes tens of
            // microseconds here, which would count against every verdict, and spinning the
            // whole millisecond would take a core from the workload on a 2-core machine.
            if let Some(ahead) = due.checked_duration_since(Instant::now()) {
                if ahead > WAKE_UP {
                    std::thread::sleep(ahead - WAKE_UP);
                }
            }
            while Instant::now() < due {
                std::hint::spin_loop();
            }
            let (customer, _) = &refs[rng.random_range(0..refs.len())];
            lock(till).check(customer, cart, now).expect("verdict");
            verdicts.push(due.elapsed().as_nanos() as u64);
            let total = run_queue_delay();
            queued.push(total.saturating_sub(waited));
            waited = total;
            k += 1;
        }
        During { workload: worker.join().expect("workload"), verdicts, queued }
    })
}

fn report(results: &mut serde_json::Map<String, serde_json::Value>, what: &str, d: &During) {
    let mut ns = d.verdicts.clone();
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() as f64 * q).ceil() as usize).clamp(1, ns.len()) - 1] as f64;
    let (p50, p99, max) = (at(0.50), at(0.99), ns[ns.len() - 1] as f64);
    // The slowest 1 %: how much of their latency was spent waiting for a CPU.
    let (late, queued) = d
        .verdicts
        .iter()
        .zip(&d.queued)
        .filter(|(v, _)| **v as f64 >= p99)
        .fold((0u64, 0u64), |(l, q), (v, w)| (l + v, q + (*w).min(*v)));
    let queued_share = if late == 0 { 0.0 } else { queued as f64 / late as f64 };
    eprintln!(
        "verdict {what}: {} verdicts in {:.2} s, p50 {}, p99 {}, max {}; the slowest 1 % spent {:.0} % of their time waiting for a CPU",
        ns.len(),
        d.workload.as_secs_f64(),
        human(p50),
        human(p99),
        human(max),
        queued_share * 100.0
    );
    results.insert(
        what.to_owned(),
        json!({ "workload_s": d.workload.as_secs_f64(), "verdicts": ns.len(), "p50_ns": p50, "p99_ns": p99, "max_ns": max, "slowest_queued_share": queued_share }),
    );
}

/// `rows` new invoices spread over the shop's customers, issued over the last month.
fn invoices_csv(refs: &[(String, Uuid)], rows: usize, now: Now) -> String {
    let mut rng = StdRng::seed_from_u64(100_000);
    let today = now.date_naive();
    let mut csv = String::from("customer_ref,invoice_ref,issued_on,due_on,amount,paid_on\n");
    for k in 0..rows {
        let (customer, _) = &refs[rng.random_range(0..refs.len())];
        let issued = today.checked_sub_days(Days::new(rng.random_range(0..30))).expect("date");
        let due = issued.checked_add_days(Days::new(30)).expect("date");
        let amount = Money::from_minor(rng.random_range(500..20_000));
        csv.push_str(&format!("{customer},BENCH-IMP-{k:07},{issued},{due},{amount},\n"));
    }
    csv
}

/// Pages of sales on account recorded at another till, as the server hands them out.
fn sync_pages(refs: &[(String, Uuid)], cursor: u64, pages: usize, page_len: usize, now: Now) -> Vec<Vec<Change>> {
    let device = Uuid::from_u128(0x0a7d_0153_0000_4000_8000_0000_0000_0f15);
    let mut rng = StdRng::seed_from_u64(15_000);
    let mut seq = 0u64;
    (0..pages)
        .map(|_| {
            (0..page_len)
                .map(|_| {
                    seq += 1;
                    let (_, customer) = refs[rng.random_range(0..refs.len())];
                    let entry = Entry {
                        id: Uuid::new_v4(),
                        device_id: device,
                        device_seq: seq,
                        customer,
                        business_date: now.date_naive(),
                        recorded_at: now.to_utc(),
                        cashier: "till 2".into(),
                        body: EntryBody::Sale {
                            amount: Money::from_minor(rng.random_range(100..5_000)),
                            invoice_ref: format!("T2-{seq:07}"),
                            due_on: now.date_naive().checked_add_days(Days::new(30)).expect("date"),
                            override_id: None,
                        },
                    };
                    let hlc = Hlc { wall_ms: now.timestamp_millis(), counter: seq as u32, device };
                    Change {
                        cursor: cursor + seq,
                        device_id: device,
                        event: Event {
                            id: entry.id,
                            seq,
                            kind: "entry".into(),
                            hlc: hlc.to_string(),
                            payload: serde_json::to_value(&entry).expect("entry json"),
                        },
                    }
                })
                .collect()
        })
        .collect()
}
