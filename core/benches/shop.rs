//! Benchmarks of the till's hot paths on a generated shop (issue 2): the checkout verdict beside
//! two SQL baselines, name search, a durable sale on account, and opening the database.
//!
//! `cargo bench -p ardoise-core --bench shop` builds (once, cached under target/bench-data) a
//! shop of 50,000 customers and 5,000,000 entries; `ARDOISE_BENCH_CUSTOMERS` and
//! `ARDOISE_BENCH_ENTRIES` scale it down, `ARDOISE_BENCH_SAMPLES` sets how many timed calls the
//! percentile pass makes (0 skips it). Criterion reports means and medians; the percentile pass
//! times single calls so p50 and p99 of each answer can be set side by side.

#[path = "shop/baseline.rs"]
mod baseline;
#[path = "shop/dataset.rs"]
mod dataset;
#[path = "shop/latency.rs"]
mod latency;

use std::hint::black_box;
use std::time::Instant;

use ardoise_core::{Decision, Money, SaleRequest, Store};
use criterion::{BenchmarkId, Criterion, SamplingMode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use baseline::Baselines;
use dataset::{Shop, Size};
use latency::Latency;

/// Three-letter prefixes a cashier types for common first and last names, some with accents.
const PREFIXES: &[&str] = &[
    "mar", "ber", "dub", "tho", "pet", "dur", "ler", "mor", "sim", "lau", "Lef", "mic", "gar", "hél", "jea", "pie",
    "nat", "cam", "nic", "Gué", "fra", "céc", "jér", "bou",
];

fn main() {
    // Without `--bench` this binary runs under `cargo test --benches`: prove it works, quickly.
    let measuring = std::env::args().any(|a| a == "--bench");
    let size = Size::from_env(if measuring { Size::FULL } else { Size::SMOKE });
    let samples: usize = std::env::var("ARDOISE_BENCH_SAMPLES")
        .ok()
        .map(|v| v.replace('_', "").parse().expect("ARDOISE_BENCH_SAMPLES"))
        .unwrap_or(if measuring { 100_000 } else { 1_000 });
    let shop = dataset::ensure(size);
    eprintln!(
        "dataset: {} customers, {} entries, {:.2} GB on disk",
        shop.size.customers,
        shop.size.entries,
        shop.file_bytes as f64 / 1e9
    );
    let mut c = Criterion::default().configure_from_args();
    let mut report = Report::default();

    let store = Store::open(&shop.path).expect("open dataset");
    let base = Baselines::open(&shop.path, store.settings().checkout.clone());
    let customers = customers(&base);
    let mut rng = StdRng::seed_from_u64(7);
    let picks: Vec<usize> = (0..samples.max(10_000)).map(|_| rng.random_range(0..customers.len())).collect();
    let carts: Vec<Money> = picks.iter().map(|_| Money::from_minor(rng.random_range(500..8_000))).collect();

    report.agreement = cross_check(&store, &base, &customers, &picks, &carts);
    checkout(&mut c, &mut report, &store, &base, &customers, &picks, &carts, samples);
    search(&mut c, &mut report, &store, &base, samples);
    let eligible = dataset::eligible_for_sale(base.conn());
    // The read-write store closes last, so it checkpoints and removes the WAL it created.
    drop(base);
    drop(store);

    // Writes and opens work on a copy beside the cache, on the same disk, so the cached shop
    // never grows and fsync costs what it costs there.
    let dir = tempfile::tempdir_in(dataset::data_dir()).expect("temp dir");
    let t = Instant::now();
    let copy = dataset::synced_copy(&shop.path, dir.path());
    eprintln!("copied the shop for writes in {:.1} s", t.elapsed().as_secs_f64());
    open(&mut c, &mut report, &copy, samples);
    if samples > 0 {
        report.add(fsync_floor(dir.path(), (samples / 500).max(20)));
    }
    write(&mut c, &mut report, "sale_durable", &copy, &eligible, samples);
    dunning(&mut report, &copy);
    drop(dir);

    // The same sales where fsync returns at once (tmpfs): what the store itself costs.
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() && std::env::var("ARDOISE_BENCH_TMPFS").map_or(true, |v| v != "0") {
        let dir = tempfile::tempdir_in(shm).expect("temp dir in /dev/shm");
        let copy = dir.path().join("shop.db");
        std::fs::copy(&shop.path, &copy).expect("copy dataset to tmpfs");
        write(&mut c, &mut report, "sale_tmpfs_no_fsync", &copy, &eligible, samples);
    }

    c.final_summary();
    report.save(&shop);
}

/// Every customer's row id and reference, in row order.
fn customers(base: &Baselines) -> Vec<(i64, String)> {
    let mut stmt = base.conn().prepare("SELECT id, reference FROM customers ORDER BY id").expect("prepare");
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).expect("customers");
    rows.collect::<Result<_, _>>().expect("customer rows")
}

/// The baselines must give the store's answer, or comparing their speed means nothing.
fn cross_check(
    store: &Store,
    base: &Baselines,
    customers: &[(i64, String)],
    picks: &[usize],
    carts: &[Money],
) -> serde_json::Value {
    let (mut same, mut differ, mut floor_differs) = (0usize, 0usize, 0usize);
    let mut decisions = [0usize; 3];
    for (k, &p) in picks.iter().take(5_000).enumerate() {
        let (id, reference) = &customers[p];
        let v = store.check(reference, carts[k], dataset::now()).expect("verdict");
        let agg = base.aggregated_verdict(*id, carts[k], dataset::today());
        let row = base.point_lookup(*id);
        if row.balance != v.balance.minor() || Money::from_minor(row.deposits).clamp_zero() != v.deposits_available {
            floor_differs += 1;
        }
        if row.oldest_due.is_some_and(|d| d < dataset::today().to_string()) != v.overdue.is_positive() {
            floor_differs += 1;
        }
        decisions[match v.decision {
            Decision::Allow => 0,
            Decision::Warn => 1,
            Decision::Refuse => 2,
        }] += 1;
        if agg == v {
            same += 1;
        } else {
            if differ == 0 {
                eprintln!("cross-check: first difference for {reference}:\n  store: {v:?}\n  sql:   {agg:?}");
            }
            differ += 1;
        }
    }
    let [allow, warn, refuse] = decisions;
    eprintln!(
        "cross-check on {} customers: SQL aggregation gives the same verdict for {same}, differs for {differ}; \
         the floor's row disagrees for {floor_differs}; decisions allow {allow}, warn {warn}, refuse {refuse}",
        same + differ
    );
    json!({"checked": same + differ, "same": same, "differ": differ, "floor_balance_differs": floor_differs,
           "allow": allow, "warn": warn, "refuse": refuse})
}

#[allow(clippy::too_many_arguments)]
fn checkout(
    c: &mut Criterion,
    report: &mut Report,
    store: &Store,
    base: &Baselines,
    customers: &[(i64, String)],
    picks: &[usize],
    carts: &[Money],
    samples: usize,
) {
    let now = dataset::now();
    let today = dataset::today();
    let verdict = |k: usize| {
        let k = k % picks.len();
        black_box(store.check(&customers[picks[k]].1, carts[k], now).expect("verdict"));
    };
    let aggregated = |k: usize| {
        let k = k % picks.len();
        black_box(base.aggregated_verdict(customers[picks[k]].0, carts[k], today));
    };
    let floor = |k: usize| {
        let k = k % picks.len();
        black_box(base.point_lookup(customers[picks[k]].0));
    };
    if samples > 0 {
        report.add(latency::measure("checkout/verdict", samples, verdict));
        report.add(latency::measure("checkout/sql_aggregation_baseline", samples, aggregated));
        report.add(latency::measure("checkout/point_lookup_floor", samples, floor));
        // The verdict reads open invoices only when one is past due: time both paths apart.
        let today_s = today.to_string();
        let (late, on_time): (Vec<usize>, Vec<usize>) = (0..picks.len())
            .partition(|&k| base.point_lookup(customers[picks[k]].0).oldest_due.is_some_and(|d| d < today_s));
        eprintln!("checkout: {} of {} picks have something past due", late.len(), picks.len());
        let half = (samples / 2).max(1);
        report.add(latency::measure("checkout/verdict_nothing_overdue", half, |k| verdict(on_time[k % on_time.len()])));
        if !late.is_empty() {
            report.add(latency::measure("checkout/verdict_something_overdue", half, |k| verdict(late[k % late.len()])));
        }
    }
    let mut g = c.benchmark_group("checkout");
    let mut k = 0;
    g.bench_function("verdict", |b| {
        b.iter(|| {
            k += 1;
            verdict(k)
        })
    });
    g.bench_function("sql_aggregation_baseline", |b| {
        b.iter(|| {
            k += 1;
            aggregated(k)
        })
    });
    g.bench_function("point_lookup_floor", |b| {
        b.iter(|| {
            k += 1;
            floor(k)
        })
    });
    g.finish();
}

fn search(c: &mut Criterion, report: &mut Report, store: &Store, base: &Baselines, samples: usize) {
    // How selective each prefix is: customers it matches before the limit of 20.
    let mut matches = Vec::new();
    for p in PREFIXES {
        let key = ardoise_core::search::fold(p);
        let n: i64 = base
            .conn()
            .query_row(
                "SELECT count(DISTINCT customer_id) FROM customer_keys WHERE key >= ?1 AND key < ?1 || char(1114111)",
                [&key],
                |r| r.get(0),
            )
            .expect("count matches");
        matches.push(json!({"prefix": p, "customers": n}));
    }
    eprintln!("search prefixes and how many customers each matches: {matches:?}");
    report.extra.insert("search_matches".into(), json!(matches));
    let find = |k: usize| {
        let found = store.search_customers(PREFIXES[k % PREFIXES.len()], 20).expect("search");
        black_box(found);
    };
    if samples > 0 {
        report.add(latency::measure("search/name_prefix", (samples / 50).max(PREFIXES.len()), find));
    }
    let mut g = c.benchmark_group("search");
    let mut k = 0;
    g.bench_function("name_prefix", |b| {
        b.iter(|| {
            k += 1;
            find(k)
        })
    });
    // One prefix per point, to show the spread between rare and common names.
    for p in ["mar", "hél", "zoé"] {
        g.bench_with_input(BenchmarkId::new("name_prefix_each", p), p, |b, p| {
            b.iter(|| black_box(store.search_customers(p, 20).expect("search")))
        });
    }
    g.finish();
}

fn open(c: &mut Criterion, report: &mut Report, copy: &std::path::Path, samples: usize) {
    // Each open ends with a close, which checkpoints and deletes the WAL as at a till shutdown.
    let once = |_: usize| drop(black_box(Store::open(copy).expect("open")));
    if samples > 0 {
        report.add(latency::measure("open/existing", (samples / 500).max(10), once));
    }
    let mut g = c.benchmark_group("open");
    g.sampling_mode(SamplingMode::Flat).sample_size(20);
    g.bench_function("existing", |b| b.iter(|| once(0)));
    g.finish();
}

/// What one durable append costs on this disk: 4 KiB written at the end of a file, then
/// fdatasync, as SQLite does for each commit in WAL mode with synchronous=FULL.
fn fsync_floor(dir: &std::path::Path, samples: usize) -> Latency {
    use std::io::Write;
    let path = dir.join("fsync-probe");
    let mut f = std::fs::File::create(&path).expect("probe file");
    let page = [0x5au8; 4096];
    let l = latency::measure("disk/append_4k_fdatasync", samples, |_| {
        f.write_all(&page).expect("append");
        f.sync_data().expect("fdatasync");
    });
    drop(f);
    let _ = std::fs::remove_file(path);
    l
}

fn write(
    c: &mut Criterion,
    report: &mut Report,
    name: &str,
    copy: &std::path::Path,
    eligible: &[String],
    samples: usize,
) {
    let store = Store::open(copy).expect("open copy");
    eprintln!("write/{name}: selling to {} customers in turn", eligible.len());
    let mut rng = StdRng::seed_from_u64(13);
    let amounts: Vec<Money> = (0..997).map(|_| Money::from_minor(rng.random_range(500..8_000))).collect();
    let mut sell = |k: usize| {
        let req = SaleRequest {
            customer: eligible[k % eligible.len()].clone(),
            amount: amounts[k % amounts.len()],
            date: None,
            invoice_ref: None,
            cashier: "Bench".into(),
            deposit: None,
        };
        black_box(store.sell_on_account(req, dataset::now()).expect("sale allowed"));
    };
    if samples > 0 {
        report.add(latency::measure(&format!("write/{name}"), (samples / 100).max(10), &mut sell));
    }
    let mut g = c.benchmark_group("write");
    g.sampling_mode(SamplingMode::Flat).sample_size(20);
    let mut k = 0;
    g.bench_function(name, |b| {
        b.iter(|| {
            k += 1;
            sell(k)
        })
    });
    g.finish();
}

/// Everything the run measured, written next to the dataset for docs/PERFORMANCE.md.
/// The daily reminder run (issue 4) on the whole shop: the first run ever queues a reminder for
/// every overdue customer; the next day's run is what a shop pays every day.
fn dunning(report: &mut Report, path: &std::path::Path) {
    let store = Store::open(path).expect("open copy");
    let mut runs = Vec::new();
    for (label, days) in [("first_run", 0i64), ("next_day", 1), ("same_day_again", 1), ("a_week_later", 8)] {
        let now = dataset::now() + chrono::TimeDelta::days(days) + chrono::TimeDelta::hours(8);
        let t = Instant::now();
        let r = store.run_dunning(now).expect("dunning run");
        let secs = t.elapsed().as_secs_f64();
        eprintln!(
            "dunning/{label:<16} {secs:>7.3} s  customers checked {:>6}  queued {:>6}",
            r.customers_checked,
            r.queued.len()
        );
        runs.push(
            json!({"run": label, "secs": secs, "customers_checked": r.customers_checked, "queued": r.queued.len()}),
        );
    }
    report.extra.insert("dunning".into(), json!(runs));
}

#[derive(Debug, Default)]
struct Report {
    latencies: Vec<Latency>,
    agreement: serde_json::Value,
    extra: serde_json::Map<String, serde_json::Value>,
}

impl Report {
    fn add(&mut self, l: Latency) {
        eprintln!("{l}");
        self.latencies.push(l);
    }

    fn save(&self, shop: &Shop) {
        let by_name = |n: &str| self.latencies.iter().find(|l| l.name == n);
        let ratio = |a: &str, b: &str, f: fn(&Latency) -> f64| match (by_name(a), by_name(b)) {
            (Some(a), Some(b)) => json!(f(b) / f(a)),
            _ => serde_json::Value::Null,
        };
        let v = "checkout/verdict";
        let agg = "checkout/sql_aggregation_baseline";
        let floor = "checkout/point_lookup_floor";
        let out = json!({
            "customers": shop.size.customers,
            "entries": shop.size.entries,
            "file_bytes": shop.file_bytes,
            "generation": {
                "customers_secs": shop.generation.customers_secs,
                "entries_secs": shop.generation.entries_secs,
                "total_secs": shop.generation.total_secs,
                "entries_per_sec": shop.size.entries as f64 / shop.generation.entries_secs,
                "customers_per_sec": shop.size.customers as f64 / shop.generation.customers_secs,
            },
            "cross_check": self.agreement,
            "latencies": self.latencies.iter().map(Latency::to_json).collect::<Vec<_>>(),
            "ratios": {
                "sql_aggregation_over_verdict": {
                    "p50": ratio(v, agg, |l| l.p50),
                    "p99": ratio(v, agg, |l| l.p99),
                    "mean": ratio(v, agg, |l| l.mean),
                },
                "verdict_over_floor": {
                    "p50": ratio(floor, v, |l| l.p50),
                    "p99": ratio(floor, v, |l| l.p99),
                    "mean": ratio(floor, v, |l| l.mean),
                },
            },
            "extra": self.extra,
        });
        let path = dataset::data_dir().join(format!("results-{}.json", shop.size.label()));
        std::fs::write(&path, serde_json::to_string_pretty(&out).expect("json")).expect("write results");
        eprintln!("results written to {}", path.display());
    }
}
