//! Benchmarks of the owner's reports and the history import (issue 6), on the generated
//! 50,000-customer, 5,000,000-entry shop: aging and KPIs as of the shop's today and as of past
//! dates (criterion), and one timed import of 1,000,000 invoice rows into a new store on disk.
//!
//! `cargo bench -p ardoise-core --bench reports`; `ARDOISE_BENCH_CUSTOMERS`/`_ENTRIES` scale the
//! shop as for the `shop` bench, `ARDOISE_BENCH_IMPORT_ROWS` the import (0 skips it) and
//! `ARDOISE_BENCH_IMPORT_CUSTOMERS` how many customers its rows spread over (default: the shop's).

#[path = "shop/dataset.rs"]
#[allow(dead_code)]
mod dataset;

use std::hint::black_box;
use std::time::{Duration, Instant};

use ardoise_core::Store;
use ardoise_core::import::DateStyle;
use chrono::Days;
use criterion::Criterion;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use dataset::Size;

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let size = Size::from_env(if measuring { Size::FULL } else { Size::SMOKE });
    let import_rows: usize = std::env::var("ARDOISE_BENCH_IMPORT_ROWS")
        .ok()
        .map(|v| v.replace('_', "").parse().expect("ARDOISE_BENCH_IMPORT_ROWS"))
        .unwrap_or(if measuring { 1_000_000 } else { 2_000 });
    let shop = dataset::ensure(size);
    let mut results = serde_json::Map::new();
    // A shop cached by an older version is upgraded on this first open (schema version 8
    // backfills the dates the reports use): timed, since every existing till pays it once.
    let t = Instant::now();
    let store = Store::open(&shop.path).expect("open dataset");
    let open_secs = t.elapsed().as_secs_f64();
    eprintln!("opened the shop in {open_secs:.2} s (includes any schema upgrade)");
    results.insert("first_open_seconds".into(), json!(open_secs));
    let today = dataset::today();
    let mut c = Criterion::default().configure_from_args().measurement_time(Duration::from_secs(10));

    // What the reports cover, printed so the figures can be read against it.
    let aging = store.aging(today).unwrap();
    let kpis = store.kpis(today, 3).unwrap();
    eprintln!(
        "today {today}: receivables {} in {} accounts, credit sales over 3 months {}",
        aging.total,
        aging.customers.len(),
        kpis.credit_sales
    );
    results.insert("accounts_owing_today".into(), json!(aging.customers.len()));
    let mut group = c.benchmark_group("reports");
    group.sample_size(30);
    group.bench_function("aging_and_kpis_today", |b| {
        b.iter(|| (black_box(store.aging(today).unwrap()), black_box(store.kpis(today, 3).unwrap())))
    });
    // The same two answers as the owner's first screen asks for them: one call, one pass.
    group.bench_function("overview_today", |b| b.iter(|| black_box(store.overview(today, 3).unwrap())));
    for days_back in [30u64, 180, 365] {
        let past = today - Days::new(days_back);
        let a = store.aging(past).unwrap();
        eprintln!("as of {past}: receivables {} in {} accounts", a.total, a.customers.len());
        group.sample_size(10);
        group.bench_function(format!("aging_and_kpis_{days_back}_days_ago"), |b| {
            b.iter(|| (black_box(store.aging(past).unwrap()), black_box(store.kpis(past, 3).unwrap())))
        });
        group.bench_function(format!("overview_{days_back}_days_ago"), |b| {
            b.iter(|| black_box(store.overview(past, 3).unwrap()))
        });
    }
    group.finish();

    // The nightly risk scoring of the whole shop: histories read, the model fitted on every
    // invoice whose outcome is known, every customer scored. One timed run (it is not a
    // per-request cost; `Store::refresh_risk` adds one small write transaction).
    if std::env::var("ARDOISE_BENCH_RISK").map_or(measuring, |v| v != "0") {
        let t = Instant::now();
        let scores = store.risk_report(today).unwrap();
        let secs = t.elapsed().as_secs_f64();
        eprintln!("risk report as of {today}: {} customers scored in {secs:.2} s", scores.len());
        results.insert("risk_report".into(), json!({"customers": scores.len(), "seconds": secs}));
    }
    drop(store);

    if import_rows > 0 {
        let import_customers: usize = std::env::var("ARDOISE_BENCH_IMPORT_CUSTOMERS")
            .ok()
            .map(|v| v.replace('_', "").parse().expect("ARDOISE_BENCH_IMPORT_CUSTOMERS"))
            .unwrap_or(size.customers);
        let (csv, customers) = invoices_csv(import_rows, import_customers.max(1), today);
        let dir = tempfile::tempdir_in(dataset::data_dir()).expect("temp dir");
        let fresh = Store::open(dir.path().join("import.db")).expect("new store");
        let t = Instant::now();
        let report = fresh.import_invoices(csv.as_bytes(), DateStyle::Iso, dataset::now()).expect("import");
        let secs = t.elapsed().as_secs_f64();
        assert_eq!((report.invoices_created, report.customers_created), (import_rows as u64, customers as u64));
        eprintln!(
            "import: {import_rows} rows ({} payments, {customers} new customers, {:.1} MB) in {secs:.2} s = {:.0} rows/s",
            report.payments_recorded,
            csv.len() as f64 / 1e6,
            import_rows as f64 / secs
        );
        results.insert(
            "import".into(),
            json!({"rows": import_rows, "payments": report.payments_recorded, "customers": customers, "seconds": secs}),
        );
    }
    c.final_summary();
    let out = dataset::data_dir().join(format!("reports-{}.json", size.label()));
    std::fs::write(&out, serde_json::to_string_pretty(&results).unwrap()).expect("write results");
    eprintln!("results in {}", out.display());
}

/// An invoice history as another system would export it: `rows` invoices over two years for
/// `customers` customers, 30-day terms, nine in ten paid (most on time, some late).
fn invoices_csv(rows: usize, customers: usize, today: chrono::NaiveDate) -> (String, usize) {
    let mut rng = StdRng::seed_from_u64(6);
    let mut out = String::with_capacity(rows * 64);
    out.push_str("customer_ref,invoice_ref,issued_on,due_on,amount,paid_on,disputed\n");
    let used = customers.min(rows);
    for i in 0..rows {
        let customer = if i < used { i } else { rng.random_range(0..used) };
        let issued = today - Days::new(rng.random_range(1..730));
        let due = issued + Days::new(30);
        let cents: u32 = rng.random_range(100..40_000);
        let paid = if rng.random_bool(0.9) {
            let late = if rng.random_bool(0.3) { rng.random_range(31..90) } else { rng.random_range(0..30) };
            Some(issued + Days::new(late)).filter(|p| *p <= today)
        } else {
            None
        };
        let paid = paid.map(|p| p.to_string()).unwrap_or_default();
        let disputed = if rng.random_bool(0.02) { "yes" } else { "no" };
        out.push_str(&format!(
            "IMP{customer:06},H{i:08},{issued},{due},{}.{:02},{paid},{disputed}\n",
            cents / 100,
            cents % 100
        ));
    }
    (out, used)
}
