//! Sync benchmarks (issue 5), on the SQLite and the PostgreSQL server, through HTTP on loopback
//! with the till's real client (`Client::sync`) and real stores on the disk:
//!
//! 1. end to end: one till pushes 100,000 real ledger events (customers, sales on account,
//!    payments written through the store API), another till pulls and applies them;
//! 2. a fleet: 200 tills syncing at once (50 shops of 4 tills, then one shop of 200 tills),
//!    each pushing a small batch and pulling, per-sync latency and errors;
//! 3. criterion: one till's sync of 20 events against an idle server (the latency baseline
//!    of scenario 2).
//!
//! Scenarios 1 and 2 are single timed runs with a custom `main` (criterion's repeated
//! sampling does not fit a 100,000-event run that changes the server's state); scenario 3 is
//! a criterion benchmark. The server runs in a tokio runtime of its own (2 workers), the tills
//! in another (2 workers), on this machine's 2 cores.
//!
//! `cargo bench -p ardoise-server --bench sync`. Environment: `ARDOISE_SYNC_EVENTS` (100000),
//! `ARDOISE_SYNC_DEVICES` (200), `ARDOISE_SYNC_ROUNDS` (5), `ARDOISE_SYNC_ONLY` (a comma list
//! of e2e, fleet, one-shop, criterion), `ARDOISE_SYNC_EXPORT_ONLY=1` (only build the till and
//! its JSON export for `bench/pouchdb/run.sh`), `ARDOISE_TEST_PG_URL`. Without `--bench` (under
//! `cargo test --benches`) it runs a small smoke version. Results:
//! `target/bench-data/sync-results.json`.

#[path = "sync/e2e.rs"]
mod e2e;
#[path = "sync/fleet.rs"]
mod fleet;
#[path = "sync/server.rs"]
mod server;
#[path = "sync/stats.rs"]
mod stats;
#[path = "sync/till.rs"]
mod till;

use std::time::{Duration, Instant};

use ardoise_core::sync::client::{Client, RetryPolicy};
use ardoise_core::{EntryRequest, Money, NewCustomer, PaymentMethod, SaleRequest};
use ardoise_server::RateLimit;
use criterion::{BenchmarkId, Criterion};
use serde_json::json;
use tokio::runtime::Runtime;

use fleet::Fleet;
use server::{Kind, Recorder, Server};
use till::{Till, data_dir, now};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().map(|v| v.replace('_', "").parse().unwrap_or_else(|_| panic!("{name}"))).unwrap_or(default)
}

fn runtime(name: &str) -> Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name(name).enable_all().build().unwrap()
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let events = env_usize("ARDOISE_SYNC_EVENTS", if measuring { 100_000 } else { 1_000 });
    let devices = env_usize("ARDOISE_SYNC_DEVICES", if measuring { 200 } else { 8 });
    let rounds = env_usize("ARDOISE_SYNC_ROUNDS", if measuring { 5 } else { 2 });
    let only = std::env::var("ARDOISE_SYNC_ONLY").unwrap_or_else(|_| "e2e,fleet,one-shop,criterion".into());
    let wants = |what: &str| only.split(',').any(|w| w.trim() == what);

    let (till_db, till_json) = till::template(events);
    if std::env::var("ARDOISE_SYNC_EXPORT_ONLY").is_ok_and(|v| v == "1") {
        println!("{}", till_json.display());
        return;
    }

    let recorder = Recorder::default();
    recorder.install();
    let server_rt = runtime("server");
    let client_rt = runtime("till");
    let mut backends = vec![Kind::Sqlite];
    if server_rt.block_on(server::postgres_available()) {
        backends.push(Kind::Postgres);
    } else if measuring {
        eprintln!("warning: PostgreSQL is not running: its figures are missing");
    }

    let started = chrono::Utc::now();
    let t = Instant::now();
    let mut results = json!({
        "started": started.to_rfc3339(), "events": events, "devices": devices, "rounds": rounds,
        "e2e": [], "fleet": [], "one_shop": [], "idle_sync": [],
    });
    for &kind in &backends {
        if wants("e2e") {
            let r = e2e::run(&server_rt, &client_rt, kind, &till_db, events, &recorder);
            results["e2e"].as_array_mut().unwrap().push(r);
        }
    }
    for &kind in &backends {
        if wants("fleet") {
            let cfg = Fleet { shops: devices / 4, tills_per_shop: 4, rounds, entries: 20 };
            let r = fleet::run(&server_rt, &client_rt, kind, cfg, &recorder);
            results["fleet"].as_array_mut().unwrap().push(r);
        }
    }
    for &kind in &backends {
        if wants("one-shop") {
            let cfg = Fleet { shops: 1, tills_per_shop: devices, rounds: rounds.min(3), entries: 20 };
            let r = fleet::run(&server_rt, &client_rt, kind, cfg, &recorder);
            results["one_shop"].as_array_mut().unwrap().push(r);
        }
    }
    if measuring && wants("criterion") {
        let mut c = Criterion::default().configure_from_args();
        for &kind in &backends {
            let r = idle_sync(&mut c, &server_rt, &client_rt, kind, &recorder);
            results["idle_sync"].as_array_mut().unwrap().push(r);
        }
        c.final_summary();
    }
    results["finished"] = json!(chrono::Utc::now().to_rfc3339());
    results["total_secs"] = json!(t.elapsed().as_secs_f64());
    let name = if measuring { "sync-results.json".to_owned() } else { "sync-results-smoke.json".to_owned() };
    let out = data_dir().join(name);
    std::fs::write(&out, serde_json::to_string_pretty(&results).unwrap()).unwrap();
    eprintln!("\nresults in {} ({:.0} s in all)", out.display(), t.elapsed().as_secs_f64());
}

/// Criterion: one enrolled till records 20 entries (untimed), then the timed `Client::sync`
/// pushes them and pulls them back, against a server with nothing else to do. The limit is off
/// (the default 50 requests/s per token would throttle back-to-back syncs).
fn idle_sync(
    c: &mut Criterion,
    server_rt: &Runtime,
    client_rt: &Runtime,
    kind: Kind,
    rec: &Recorder,
) -> serde_json::Value {
    let server = server_rt.block_on(Server::start(kind, RateLimit { per_second: 0, burst: 0 }));
    let code = server_rt.block_on(async {
        let shop = server.db.create_shop("Idle").await.unwrap();
        server.db.enrol_code(shop, chrono::Duration::hours(1)).await.unwrap()
    });
    let dir = tempfile::tempdir_in(data_dir()).unwrap();
    let till = Till::open(&dir.path().join("till.db"), false);
    let client = Client::new(RetryPolicy::default()).unwrap();
    till.with(|s| {
        let new = NewCustomer { reference: "I1".into(), name: "Idle Customer".into(), ..Default::default() };
        s.add_customer(new, now()).unwrap()
    });
    client_rt.block_on(client.enrol(&till, &server.base, &code, "Idle till", now())).unwrap();
    client_rt.block_on(client.sync(&till, &now)).unwrap();
    rec.take();
    let mut timings = Vec::new();
    let mut group = c.benchmark_group("sync");
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    group.bench_function(BenchmarkId::new("idle_sync_20_entries", kind.label()), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                till.with(|s| {
                    for k in 0..20 {
                        if k % 2 == 0 {
                            let sale = SaleRequest {
                                customer: "I1".into(),
                                amount: Money::from_minor(1_000),
                                date: None,
                                invoice_ref: None,
                                cashier: "anna".into(),
                                deposit: None,
                            };
                            s.sell_on_account(sale, now()).unwrap();
                        } else {
                            let pay = EntryRequest::Payment {
                                amount: Money::from_minor(1_000),
                                method: PaymentMethod::Cash,
                                invoice: None,
                            };
                            s.record("I1", None, "anna", pay, now()).unwrap();
                        }
                    }
                });
                let t = Instant::now();
                let r = client_rt.block_on(client.sync(&till, &now)).expect("idle sync");
                let d = t.elapsed();
                assert_eq!(r.pushed, 20);
                timings.push(d.as_secs_f64() * 1e3);
                total += d;
            }
            total
        });
    });
    group.finish();
    let answers = rec.take();
    let spread = stats::Spread::of_ms(timings);
    eprintln!("idle sync of 20 entries, {}: {}; answers {:?}", kind.label(), spread.line(), answers.counts);
    drop(till);
    server_rt.block_on(server.stop());
    json!({"backend": kind.label(), "latency": spread.to_json(), "errors": answers.errors()})
}
