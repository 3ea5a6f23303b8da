//! Scenario 2: many tills syncing at once against one server. Each till is a real store on the
//! disk with its own HTTP client (its own connections); each round, every till records a small
//! batch (untimed), then all of them call `Client::sync` at the same moment.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ardoise_core::sync::client::{Client, RetryPolicy};
use ardoise_core::{EntryRequest, Money, NewCustomer, PaymentMethod, SaleRequest};
use ardoise_server::RateLimit;
use serde_json::json;
use tokio::runtime::Runtime;

use super::server::{Kind, Recorder, Server};
use super::stats::Spread;
use super::till::{Till, data_dir, now};

#[derive(Clone, Copy, Debug)]
pub struct Fleet {
    pub shops: usize,
    pub tills_per_shop: usize,
    pub rounds: usize,
    /// Entries each till records before each sync.
    pub entries: usize,
}

impl Fleet {
    pub fn devices(&self) -> usize {
        self.shops * self.tills_per_shop
    }
}

/// A sale of 25.00 on account, then its payment, and so on: nothing falls overdue.
fn record_batch(till: &Till, reference: &str, entries: usize) {
    till.with(|s| {
        for k in 0..entries {
            if k % 2 == 0 {
                let sale = SaleRequest {
                    customer: reference.into(),
                    amount: Money::from_minor(2_500),
                    date: None,
                    invoice_ref: None,
                    cashier: "anna".into(),
                    deposit: None,
                };
                s.sell_on_account(sale, now()).expect("sale");
            } else {
                let pay = EntryRequest::Payment {
                    amount: Money::from_minor(2_500),
                    method: PaymentMethod::Card,
                    invoice: None,
                };
                s.record(reference, None, "anna", pay, now()).expect("payment");
            }
        }
    });
}

pub fn run(server_rt: &Runtime, client_rt: &Runtime, kind: Kind, fleet: Fleet, rec: &Recorder) -> serde_json::Value {
    let n = fleet.devices();
    eprintln!(
        "\n== {n} tills at once ({} shop(s) x {} tills), {} rounds of {} entries, {} server, default rate limit",
        fleet.shops,
        fleet.tills_per_shop,
        fleet.rounds,
        fleet.entries,
        kind.label()
    );
    let rate = RateLimit::default();
    let server = server_rt.block_on(Server::start(kind, rate));
    let codes: Vec<String> = server_rt.block_on(async {
        let mut codes = Vec::with_capacity(n);
        for s in 0..fleet.shops {
            let shop = server.db.create_shop(&format!("Boutique {s}")).await.unwrap();
            for _ in 0..fleet.tills_per_shop {
                codes.push(server.db.enrol_code(shop, chrono::Duration::hours(1)).await.unwrap());
            }
        }
        codes
    });
    let dir = tempfile::tempdir_in(data_dir()).unwrap();
    let t = Instant::now();
    let tills: Vec<Arc<Till>> = (0..n)
        .map(|i| {
            let till = Till::open(&dir.path().join(format!("till-{i}.db")), false);
            till.with(|s| {
                s.add_customer(
                    NewCustomer {
                        reference: format!("T{i:03}"),
                        name: format!("Client du poste {i}"),
                        terms: "30".parse().unwrap(),
                        ..Default::default()
                    },
                    now(),
                )
                .unwrap()
            });
            Arc::new(till)
        })
        .collect();
    let clients: Vec<Client> = (0..n).map(|_| Client::new(RetryPolicy::default()).unwrap()).collect();
    eprintln!("opened {n} till stores in {:.1} s", t.elapsed().as_secs_f64());

    // Enrolment comes from one address here (127.0.0.1), and before enrolment the limit is per
    // address: paced under its refill rate, as it is not what this scenario measures.
    let t = Instant::now();
    let mut enrol_failures = 0;
    client_rt.block_on(async {
        for (i, (till, code)) in tills.iter().zip(&codes).enumerate() {
            if i >= (rate.burst as usize).saturating_sub(10) {
                tokio::time::sleep(Duration::from_millis(1_000 / u64::from(rate.per_second.max(1)) + 5)).await;
            }
            if let Err(e) = clients[i].enrol(till.as_ref(), &server.base, code, &format!("Till {i}"), now()).await {
                eprintln!("enrolment {i} failed: {e}");
                enrol_failures += 1;
            }
        }
    });
    let enrol_answers = rec.take();
    eprintln!("enrolled {n} tills in {:.1} s ({enrol_failures} failures)", t.elapsed().as_secs_f64());

    let mut wall = Vec::new();
    let mut local = Vec::new();
    let mut remote = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    let mut failed = 0usize;
    let mut pulled = Vec::new();
    let mut pushed_total = 0u64;
    let mut round_secs = Vec::new();
    for round in 0..fleet.rounds {
        let t = Instant::now();
        for (i, till) in tills.iter().enumerate() {
            record_batch(till, &format!("T{i:03}"), fleet.entries);
            till.take_local();
        }
        let gen_secs = t.elapsed().as_secs_f64();
        let start = Arc::new(tokio::sync::Barrier::new(n));
        let t = Instant::now();
        let results = client_rt.block_on(async {
            let tasks: Vec<_> = tills
                .iter()
                .zip(&clients)
                .map(|(till, client)| {
                    let (till, client, start) = (till.clone(), client.clone(), start.clone());
                    tokio::spawn(async move {
                        start.wait().await;
                        let t = Instant::now();
                        let r = client.sync(till.as_ref(), &now).await;
                        (t.elapsed(), till.take_local(), r)
                    })
                })
                .collect();
            let mut out = Vec::with_capacity(tasks.len());
            for task in tasks {
                out.push(task.await.unwrap());
            }
            out
        });
        let round_time = t.elapsed().as_secs_f64();
        round_secs.push(round_time);
        let mut round_failures = 0;
        for (w, l, r) in results {
            wall.push(w.as_secs_f64() * 1e3);
            local.push(l.as_secs_f64() * 1e3);
            remote.push((w.saturating_sub(l)).as_secs_f64() * 1e3);
            match r {
                Ok(rep) => {
                    pulled.push(f64::from(rep.pulled));
                    pushed_total += u64::from(rep.pushed);
                }
                Err(e) => {
                    round_failures += 1;
                    failed += 1;
                    if failures.len() < 20 {
                        failures.push(e.to_string());
                    }
                }
            }
        }
        eprintln!(
            "round {round}: recorded {} events in {gen_secs:.1} s (untimed); {n} syncs done in {round_time:.2} s, {round_failures} failed",
            n * fleet.entries
        );
    }
    let answers = rec.take();
    let waiting: u64 = tills.iter().map(|t| t.with(|s| s.outbox_len().unwrap())).sum();
    let (wall, local, remote, pulled) =
        (Spread::of_ms(wall), Spread::of_ms(local), Spread::of_ms(remote), Spread::of_ms(pulled));
    eprintln!("sync latency (till's view)      {}", wall.line());
    eprintln!("  of which in the till's store  {}", local.line());
    eprintln!("  the rest (HTTP + server)      {}", remote.line());
    eprintln!("events pulled per sync: mean {:.0}, p50 {:.0}, max {:.0}", pulled.mean_ms, pulled.p50_ms, pulled.max_ms);
    for (path, v) in &answers.latency_ms {
        eprintln!("server-side {path:<12} {}", Spread::of_ms(v.clone()).line());
    }
    eprintln!(
        "answers: {:?}; sync errors {}; events still waiting {waiting}; server problems {}",
        answers.counts, failed, answers.problem_count
    );
    for p in answers.problems.iter().chain(&failures) {
        eprintln!("  problem: {p}");
    }
    let out = json!({
        "backend": kind.label(),
        "shops": fleet.shops, "tills_per_shop": fleet.tills_per_shop, "devices": n, "rounds": fleet.rounds,
        "entries_per_sync": fleet.entries,
        "rate_limit": {"per_second": rate.per_second, "burst": rate.burst},
        "sync_latency": wall.to_json(),
        "till_store_latency": local.to_json(),
        "http_and_server_latency": remote.to_json(),
        "events_pulled_per_sync": pulled.to_json(),
        "round_secs": round_secs,
        "pushed_total": pushed_total,
        "events_still_waiting": waiting,
        "sync_errors": failed,
        "sync_error_messages": failures,
        "enrol_failures": enrol_failures,
        "enrol_answers": enrol_answers.to_json(),
        "answers": answers.to_json(),
        "non_2xx_answers": answers.errors(),
    });
    drop(tills);
    server_rt.block_on(server.stop());
    out
}
