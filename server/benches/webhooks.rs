//! Stripe webhooks under a burst (issue 18): 50 signed `checkout.session.completed`
//! deliveries for 50 distinct payments (50 customers of one shop) posted at once to the real
//! server on loopback (SQLite on the disk, the shop's merged copy on the disk), and the time
//! from each delivery's send to its 200, which the server answers once the payment entry is in
//! the shop's ledger and in its log (so that every till gets it at its next sync). Several
//! bursts in a row; p50, p99 and max per burst and over all. The first delivery (the server
//! opens the shop's merged copy and catches up with its log) is timed apart.
//!
//! The server runs in a tokio runtime of its own (2 workers), the senders in another (2
//! workers), on this machine's 2 cores.
//!
//! `cargo bench -p ardoise-server --bench webhooks`. Environment: `ARDOISE_WEBHOOK_BURST` (50),
//! `ARDOISE_WEBHOOK_ROUNDS` (5). Without `--bench` (under `cargo test --benches`) it runs one
//! small burst. Results: `target/bench-data/webhooks-results.json`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ardoise_core::Money;
use ardoise_core::customer::{CustomerKind, NewCustomer};
use ardoise_core::store::{SaleRequest, Store};
use ardoise_core::sync::client::{Client, RetryPolicy};
use ardoise_server::dispatch::{DispatchConfig, Dispatcher};
use ardoise_server::send::TransportConfig;
use ardoise_server::{RateLimit, ServeConfig};
use hmac::{Hmac, Mac};
use serde_json::json;
use tokio::runtime::Runtime;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().map(|v| v.parse().unwrap_or_else(|_| panic!("{name}"))).unwrap_or(default)
}

fn runtime(name: &str) -> Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name(name).enable_all().build().unwrap()
}

fn sign(secret: &str, body: &str) -> String {
    let t = chrono::Utc::now().timestamp();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

fn paid(payment: &str, customer: &str) -> String {
    json!({"id": format!("evt_{payment}"), "type": "checkout.session.completed", "data": {"object": {
        "id": format!("cs_{payment}"), "payment_status": "paid", "payment_intent": payment, "amount_total": 1234,
        "currency": "eur", "metadata": {"customer": customer}}}})
    .to_string()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Posts `bodies` at once; the latency of each, ms.
async fn burst(http: &reqwest::Client, url: &str, bodies: Vec<String>) -> Vec<f64> {
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let (http, url) = (http.clone(), url.to_owned());
            tokio::spawn(async move {
                let sig = sign("whsec_bench", &body);
                let started = Instant::now();
                let r = http.post(&url).header("Stripe-Signature", sig).body(body).send().await.unwrap();
                let status = r.status();
                let answer: serde_json::Value = r.json().await.unwrap();
                assert_eq!((status.as_u16(), &answer["recorded"]), (200, &json!(true)), "{answer}");
                started.elapsed().as_secs_f64() * 1000.0
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let size = env_usize("ARDOISE_WEBHOOK_BURST", if measuring { 50 } else { 5 });
    let rounds = env_usize("ARDOISE_WEBHOOK_ROUNDS", if measuring { 5 } else { 1 });
    let server_rt = runtime("server");
    let client_rt = runtime("senders");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data");
    std::fs::create_dir_all(&root).unwrap();
    let dir = tempfile::tempdir_in(&root).unwrap();
    let path = dir.path().to_owned();

    // The server, its shop with Stripe, and the dispatcher that records what Stripe reports.
    let (db, shop, serving) = server_rt.block_on(async {
        let db =
            ardoise_server::connect(&format!("sqlite://{}?mode=rwc", path.join("server.db").display())).await.unwrap();
        let shop = db.create_shop("Épicerie").await.unwrap();
        db.set_payment_provider(shop, "stripe", "sk_test_bench", &["whsec_bench".into()]).await.unwrap();
        let cfg = DispatchConfig {
            data_dir: path.join("merged"),
            grace_minutes: 10,
            run_ladder: false,
            transports: TransportConfig {
                smtp: None,
                mail_dir: Some(path.join("mail")),
                sms: None,
                letters_dir: path.join("letters"),
            },
        };
        let dispatcher = Arc::new(Dispatcher::new(db.clone(), cfg).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let config = ServeConfig {
            rate: RateLimit { per_second: 0, burst: 0 },
            dispatcher: Some(dispatcher),
            ..Default::default()
        };
        let serving = ardoise_server::serve(listener, db.clone(), config).await.unwrap();
        (db, shop, serving)
    });
    let base = serving.base_url();

    // A till with one customer per payment, each with a sale on account, synced.
    let customers = size * rounds + 1;
    let code = server_rt.block_on(db.enrol_code(shop, chrono::Duration::hours(1))).unwrap();
    client_rt.block_on(async {
        let now = chrono::Local::now().fixed_offset();
        let till = Mutex::new(Store::open(path.join("till.db")).unwrap());
        let client = Client::new(RetryPolicy::default()).unwrap();
        client.enrol(&till, &base, &code, "till", now).await.unwrap();
        {
            let s = till.lock().unwrap();
            for i in 0..customers {
                let c = NewCustomer {
                    reference: format!("C{i}"),
                    name: format!("Client {i}"),
                    kind: CustomerKind::Consumer,
                    terms: "30".parse().unwrap(),
                    ..Default::default()
                };
                s.add_customer(c, now).unwrap();
                let sale = SaleRequest {
                    customer: format!("C{i}"),
                    amount: Money::from_minor(1234),
                    cashier: "Léa".into(),
                    ..Default::default()
                };
                s.sell_on_account(sale, now).unwrap();
            }
        }
        client.sync(&till, &move || now).await.unwrap();
    });

    let http = reqwest::Client::builder().pool_max_idle_per_host(size).build().unwrap();
    let url = format!("{base}/v1/pay/stripe/{shop}");
    let head_before = server_rt.block_on(db.shop(shop)).unwrap().head;
    let cold = client_rt.block_on(burst(&http, &url, vec![paid("pi_cold", &format!("C{}", customers - 1))]))[0];
    let mut all = Vec::new();
    let mut per_round = Vec::new();
    for round in 0..rounds {
        let bodies = (0..size).map(|i| paid(&format!("pi_{round}_{i}"), &format!("C{}", round * size + i))).collect();
        let started = Instant::now();
        let mut ms = client_rt.block_on(burst(&http, &url, bodies));
        let wall = started.elapsed().as_secs_f64() * 1000.0;
        ms.sort_by(f64::total_cmp);
        println!(
            "burst {round}: {size} deliveries, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, all answered in {wall:.0} ms",
            percentile(&ms, 0.5),
            percentile(&ms, 0.99),
            ms[ms.len() - 1]
        );
        per_round.push(json!({"p50_ms": percentile(&ms, 0.5), "p99_ms": percentile(&ms, 0.99), "max_ms": ms[ms.len() - 1], "wall_ms": wall}));
        all.extend(ms);
        std::thread::sleep(Duration::from_millis(200));
    }
    all.sort_by(f64::total_cmp);
    // Every delivery is one entry in the shop's log, once.
    let head = server_rt.block_on(db.shop(shop)).unwrap().head;
    assert_eq!(head - head_before, (size * rounds + 1) as u64, "one payment entry per delivery");
    println!(
        "first delivery (opens the merged copy): {cold:.1} ms; over {} deliveries in bursts of {size}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        all.len(),
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all[all.len() - 1]
    );
    let results = json!({"burst": size, "rounds": rounds, "cold_ms": cold, "p50_ms": percentile(&all, 0.5),
        "p99_ms": percentile(&all, 0.99), "max_ms": all[all.len() - 1], "bursts": per_round});
    std::fs::write(root.join("webhooks-results.json"), serde_json::to_string_pretty(&results).unwrap()).unwrap();
    server_rt.block_on(serving.shutdown(Duration::from_secs(5))).unwrap();
}
