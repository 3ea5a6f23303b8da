//! `ardoise enrol` and `ardoise sync` end to end: a real back office served in-process on
//! loopback (ardoise-server's library, a temporary SQLite database), and the `ardoise` binary
//! for two tills, each on its own database.

mod common;

use std::time::Duration;

use ardoise_core::Uuid;
use ardoise_server::{Db, ServeConfig, Serving};
use common::Till;
use serde_json::Value;

/// A back office with one shop, served until dropped (or stopped).
struct Server {
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
    db: Db,
    shop: Uuid,
    url: String,
    serving: Option<Serving>,
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("server.db").display());
        let (db, shop, serving) = rt.block_on(async {
            let db = ardoise_server::connect(&url).await.unwrap();
            let shop = db.create_shop("Épicerie du coin").await.unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let serving = ardoise_server::serve(listener, db.clone(), ServeConfig::default()).await.unwrap();
            (db, shop, serving)
        });
        Server { url: serving.base_url(), rt, _dir: dir, db, shop, serving: Some(serving) }
    }

    fn code(&self) -> String {
        self.rt.block_on(self.db.enrol_code(self.shop, chrono::Duration::hours(1))).unwrap()
    }

    fn stop(&mut self) {
        if let Some(s) = self.serving.take() {
            self.rt.block_on(s.shutdown(Duration::from_secs(1))).unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn enrol(t: &Till, server: &Server, name: &str) -> Value {
    t.json(&["enrol", "--server", &server.url, "--code", &server.code(), "--name", name])
}

fn balance(t: &Till, reference: &str) -> Value {
    t.show(reference, "2026-03-20")["balance"].clone()
}

#[test]
fn two_tills_see_the_same_account_through_the_back_office() {
    let server = Server::start();
    let a = Till::new();
    let b = Till::new();
    // A sold before it was enrolled: its history goes up at the first sync.
    a.add("C1", "Hélène Dupré", &["--credit-limit", "200", "--terms", "30"]);
    a.ok(&["sale", "--customer", "C1", "--amount", "40.00", "--date", "2026-03-02"]);
    let enrolled = enrol(&a, &server, "Till A");
    assert_eq!(enrolled["shop_id"], server.shop.to_string());
    assert_eq!(enrolled["server_url"], server.url);
    assert_eq!(enrolled["waiting"], 2);
    assert!(enrol(&b, &server, "Till B")["shop_id"] == server.shop.to_string());

    let pushed = a.json(&["sync"]);
    assert_eq!(pushed["pushed"], 2, "{pushed}");
    assert_eq!(pushed["status"]["waiting"], 0);
    assert_eq!(pushed["status"]["failures"], 0);
    assert!(pushed["status"].get("token").is_none(), "the token never leaves the till's database");

    let pulled = b.json(&["sync"]);
    assert_eq!(pulled["applied"], 2, "{pulled}");
    assert_eq!(balance(&b, "C1"), "40.00");
    assert_eq!(b.show("C1", "2026-03-20")["customer"]["name"], "Hélène Dupré");

    // A payment at B reaches A.
    b.ok(&["pay", "--customer", "C1", "--amount", "15", "--date", "2026-03-10"]);
    let text = b.ok(&["sync"]);
    assert!(text.contains("Synced: pushed 1 event"), "{text}");
    a.ok(&["sync"]);
    assert_eq!(balance(&a, "C1"), "25.00");
    assert_eq!(a.show("C1", "2026-03-20"), b.show("C1", "2026-03-20"));

    let status = a.json(&["sync", "status"]);
    assert_eq!(status["enrolled"], true);
    assert_eq!(status["waiting"], 0);
    assert!(status["last_success"].is_string(), "{status}");
    let text = a.ok(&["sync", "status"]);
    assert!(text.contains("waiting") && text.contains("0 events") && text.contains(&server.url), "{text}");
}

#[test]
fn a_bad_or_used_code_is_a_clear_error() {
    let server = Server::start();
    let t = Till::new();
    let out = t.run(&["--json", "enrol", "--server", &server.url, "--code", "NOPE-NOPE"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.starts_with("error: sync failed (bad_code)") && out.stderr.contains("code"), "{}", out.stderr);
    assert_eq!(serde_json::from_str::<Value>(&out.stdout).unwrap()["code"], "sync_refused");
    assert!(!t.db.exists(), "a failed enrolment leaves no new database behind");

    let code = server.code();
    enrol_with(&Till::new(), &server, &code);
    let other = Till::new();
    other.add("C1", "Jean Petit", &[]);
    other.fails(&["enrol", "--server", &server.url, "--code", &code], "unknown, used or expired code");
    assert!(other.db.exists(), "an existing database is kept");
    assert_eq!(other.json(&["sync", "status"])["enrolled"], false);

    // The token never crosses a network in clear: plain http is only for this machine.
    t.fails(&["enrol", "--server", "http://shop.example", "--code", &server.code()], "https://");
}

fn enrol_with(t: &Till, server: &Server, code: &str) {
    t.ok(&["enrol", "--server", &server.url, "--code", code]);
}

#[test]
fn a_failed_sync_keeps_the_events_and_says_so() {
    let mut server = Server::start();
    let t = Till::new();
    t.add("C1", "Jean Petit", &[]);
    let out = t.run(&["--json", "sync"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("not enrolled") && out.stderr.contains("ardoise enrol --server"), "{}", out.stderr);
    assert_eq!(serde_json::from_str::<Value>(&out.stdout).unwrap()["code"], "not_enrolled");

    enrol(&t, &server, "Till");
    t.ok(&["sale", "--customer", "C1", "--amount", "12", "--date", "2026-03-02"]);
    server.stop();
    let err = t.fails(&["sync"], "sync failed (network)");
    assert!(err.contains("2 events kept here for the next sync; 1 failed sync in a row"), "{err}");
    let status = t.json(&["sync", "status"]);
    assert_eq!(status["waiting"], 2);
    assert_eq!(status["failures"], 1);
    assert_eq!(status["stuck"], false);
    assert!(status["last_error"].as_str().unwrap().contains("network"), "{status}");
    assert_eq!(status["last_success"], Value::Null);
    let out = t.run(&["--json", "sync"]);
    assert_eq!(serde_json::from_str::<Value>(&out.stdout).unwrap()["code"], "sync_unreachable");
    assert_eq!(t.json(&["sync", "status"])["failures"], 2);
}
