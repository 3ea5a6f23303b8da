//! Scenario 1: one till pushes its whole history, another pulls and applies it, end to end
//! through HTTP on loopback, with the real client (`Client::sync`) and real stores on the disk.

use std::path::Path;
use std::time::{Duration, Instant};

use ardoise_core::sync::client::{Client, RetryPolicy};
use ardoise_server::RateLimit;
use serde_json::json;
use tokio::runtime::Runtime;

use super::server::{Kind, Recorder, Server};
use super::till::{Till, customers_for, data_dir, now};

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Server-side time (sum of the request latencies it logged) spent on `path`.
fn server_ms(a: &super::server::Answers, path: &str) -> (usize, f64) {
    a.latency_ms.get(path).map_or((0, 0.0), |v| (v.len(), v.iter().sum()))
}

pub fn run(
    server_rt: &Runtime,
    client_rt: &Runtime,
    kind: Kind,
    template: &Path,
    events: usize,
    rec: &Recorder,
) -> serde_json::Value {
    eprintln!("\n== end to end, {events} events, {} server", kind.label());
    // The default limit (50 requests/s per token, burst 100) would slow the pushing till down
    // (200 pushes back to back): the limit is off for this run.
    let server = server_rt.block_on(Server::start(kind, RateLimit { per_second: 0, burst: 0 }));
    let (shop, code_a, code_b) = server_rt.block_on(async {
        let shop = server.db.create_shop("Épicerie du banc").await.unwrap();
        let a = server.db.enrol_code(shop, chrono::Duration::hours(1)).await.unwrap();
        let b = server.db.enrol_code(shop, chrono::Duration::hours(1)).await.unwrap();
        (shop, a, b)
    });
    let dir = tempfile::tempdir_in(data_dir()).unwrap();
    std::fs::copy(template, dir.path().join("a.db")).unwrap();
    let a = Till::open(&dir.path().join("a.db"), true);
    let b = Till::open(&dir.path().join("b.db"), false);
    let client = Client::new(RetryPolicy::default()).unwrap();
    client_rt.block_on(async {
        client.enrol(&a, &server.base, &code_a, "Till A", now()).await.unwrap();
        client.enrol(&b, &server.base, &code_b, "Till B", now()).await.unwrap();
    });
    a.take_local();
    b.take_local();
    rec.take();

    // Till A: push everything (then the client pulls the shop's log, i.e. its own events back).
    let t0 = Instant::now();
    let report_a = client_rt.block_on(client.sync(&a, &now)).expect("till A sync");
    let end_a = Instant::now();
    let (push_done, local_push) = a.take_push_done().expect("the outbox never emptied");
    let local_a = a.take_local();
    let answers_a = rec.take();
    assert_eq!(report_a.pushed as usize, events, "till A pushed {report_a:?}");
    assert_eq!(report_a.rejected, 0, "rejections: {report_a:?}");
    let head = server_rt.block_on(server.db.head(shop)).unwrap();
    assert_eq!(head as usize, events);

    // Till B: pull everything and apply it.
    let t1 = Instant::now();
    let report_b = client_rt.block_on(client.sync(&b, &now)).expect("till B sync");
    let end_b = Instant::now();
    let local_b = b.take_local();
    let answers_b = rec.take();
    assert_eq!(report_b.pulled as usize, events, "till B pulled {report_b:?}");
    assert_eq!(report_b.applied as usize, events, "till B applied {report_b:?}");
    let customers = customers_for(events);
    let (b_customers, b_entries) = b.with(|s| (s.customer_count().unwrap(), s.entries().unwrap().len()));
    assert_eq!(b_customers as usize, customers);
    assert_eq!(b_entries, events - customers);

    let push = push_done - t0;
    let echo = end_a - push_done;
    let pull = end_b - t1;
    let e2e = push + pull;
    let rate = |d: Duration| events as f64 / d.as_secs_f64();
    let (pushes, push_server_ms) = server_ms(&answers_a, "/v1/push");
    let (echo_pages, echo_server_ms) = server_ms(&answers_a, "/v1/changes");
    let (pages, pull_server_ms) = server_ms(&answers_b, "/v1/changes");
    let errors = answers_a.errors() + answers_b.errors();
    let data_bytes = server_rt.block_on(server.data_bytes());
    let probe = server_rt.block_on(statement_cost(&server, shop));
    eprintln!(
        "one statement through the server's pool, in a transaction: `SELECT 1` {:.1} µs, the push's duplicate-id lookup {:.1} µs",
        probe.0, probe.1
    );
    let a_bytes = std::fs::metadata(template).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "push    {:>7.2} s = {:>8.0} events/s ({pushes} requests; server {:.2} s, till A store {:.2} s)",
        secs(push),
        rate(push),
        push_server_ms / 1e3,
        secs(local_push)
    );
    eprintln!(
        "pull    {:>7.2} s = {:>8.0} events/s ({pages} pages; server {:.2} s, till B store (apply) {:.2} s)",
        secs(pull),
        rate(pull),
        pull_server_ms / 1e3,
        secs(local_b)
    );
    eprintln!("end to end (push + pull) {:>7.2} s = {:>8.0} events/s", secs(e2e), rate(e2e));
    eprintln!(
        "till A's own events coming back after its push: {:.2} s ({echo_pages} pages; server {:.2} s, store {:.2} s); wall clock A start to B done {:.2} s",
        secs(echo),
        echo_server_ms / 1e3,
        secs(local_a - local_push),
        secs(end_b - t0)
    );
    eprintln!(
        "server answers: {} ({} errors); server data {:.1} MB",
        answers_a.total() + answers_b.total(),
        errors,
        data_bytes as f64 / 1e6
    );
    for p in answers_a.problems.iter().chain(&answers_b.problems) {
        eprintln!("  problem: {p}");
    }
    let out = json!({
        "backend": kind.label(),
        "events": events,
        "customers": customers,
        "push": {"secs": secs(push), "events_per_sec": rate(push), "requests": pushes,
                 "server_secs": push_server_ms / 1e3, "till_store_secs": secs(local_push)},
        "pull": {"secs": secs(pull), "events_per_sec": rate(pull), "requests": pages,
                 "server_secs": pull_server_ms / 1e3, "till_store_secs": secs(local_b)},
        "end_to_end": {"secs": secs(e2e), "events_per_sec": rate(e2e)},
        "echo_after_push": {"secs": secs(echo), "requests": echo_pages, "server_secs": echo_server_ms / 1e3,
                            "till_store_secs": secs(local_a - local_push)},
        "wall_a_start_to_b_done_secs": secs(end_b - t0),
        "errors": errors,
        "answers_a": answers_a.to_json(),
        "answers_b": answers_b.to_json(),
        "server_data_bytes": data_bytes,
        "statement_us": {"select_1": probe.0, "event_id_lookup": probe.1},
        "till_a_file_bytes": a_bytes,
        "report_a": serde_json::to_value(&report_a).unwrap(),
        "report_b": serde_json::to_value(&report_b).unwrap(),
    });
    drop(a);
    drop(b);
    server_rt.block_on(server.stop());
    out
}

/// What one SQL statement costs the server, one after the other in a transaction as the push
/// runs them: a trivial `SELECT 1` (the driver's round trip alone: a hop to sqlx's SQLite worker
/// thread, or to the PostgreSQL backend over loopback TCP), and the duplicate-id lookup the push
/// makes for every event. Mean microseconds over 5,000 of each.
async fn statement_cost(server: &Server, shop: uuid::Uuid) -> (f64, f64) {
    const N: usize = 5_000;
    let pool = server.db.pool();
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT event_id FROM events WHERE shop_id = $1 ORDER BY shop_seq LIMIT 2000")
            .bind(shop.to_string())
            .fetch_all(pool)
            .await
            .unwrap();
    let mut tx = pool.begin().await.unwrap();
    let t = Instant::now();
    for _ in 0..N {
        let _: i64 = sqlx::query_scalar("SELECT 1").fetch_one(&mut *tx).await.unwrap();
    }
    let trivial = t.elapsed().as_secs_f64() * 1e6 / N as f64;
    let t = Instant::now();
    for k in 0..N {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM events WHERE shop_id = $1 AND event_id = $2")
            .bind(shop.to_string())
            .bind(&ids[k % ids.len()])
            .fetch_optional(&mut *tx)
            .await
            .unwrap();
        assert!(found.is_some());
    }
    let lookup = t.elapsed().as_secs_f64() * 1e6 / N as f64;
    tx.rollback().await.unwrap();
    (trivial, lookup)
}
