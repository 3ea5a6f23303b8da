//! The owner's web pages on the 50,000-customer / 5,000,000-entry shop (issue 19). The real
//! `ardoise-server` binary runs in a process of its own, serving the generated shop as that
//! shop's merged copy (the file the back office keeps for it); this process plays the owners'
//! browsers on loopback, each signed in with a session of its own.
//!
//! Three figures: the overview (each time after a change to the ledger, so computed, then again
//! unchanged) and a customer page asked one at a time, 25 ms apart (what one render costs on
//! the server, loopback included), then 200 owners browsing at once for a while: each opens
//! a page (the overview, the overdue list or a customer), reads it for one to three seconds,
//! and opens another, while the ledger changes once a second (`ARDOISE_WEB_WRITES`: an
//! owner's note on a customer), so the pages the server keeps between visits while nothing
//! changed are computed again after each change. Every answer must be a 200 with the page's content; p50, p99, max and
//! the error count are printed and written to `target/bench-data/web.json`.
//!
//! `cargo bench -p ardoise-server --bench web`. Environment: `ARDOISE_BENCH_CUSTOMERS` /
//! `_ENTRIES` (the shop, as for core's `shop` bench), `ARDOISE_WEB_OWNERS` (200),
//! `ARDOISE_WEB_SECONDS` (60), `ARDOISE_WEB_SAMPLES` (200 overviews, 5x as many customer
//! pages). Without `--bench` (under `cargo test --benches`) it runs on a small shop, briefly.

#[path = "../tests/common/cookies.rs"]
mod cookies;
#[path = "../../core/benches/shop/dataset.rs"]
#[allow(dead_code)]
mod dataset;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use tokio::runtime::Runtime;

use cookies::Jar;

const SERVER: &str = env!("CARGO_BIN_EXE_ardoise-server");
const PASSWORD: &str = "bench owner passphrase";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().map(|v| v.parse().unwrap_or_else(|_| panic!("{name}"))).unwrap_or(default)
}

/// The server process, stopped when the bench ends (or panics).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs an administration command of the server and returns what it printed.
fn admin(db: &str, args: &[&str]) -> String {
    let out = Command::new(SERVER).arg("--database-url").arg(db).args(args).output().expect("ardoise-server runs");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8").trim().to_owned()
}

/// A browser without JavaScript: its cookies, no redirects followed.
#[derive(Clone)]
struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: Jar,
}

impl Browser {
    fn new(http: &reqwest::Client, base: &str) -> Browser {
        Browser { http: http.clone(), base: base.to_owned(), cookies: Jar::default() }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> (StatusCode, String) {
        let r = req.header("cookie", self.cookies.header()).send().await.expect("the server answers");
        self.cookies.keep(&r);
        let status = r.status();
        (status, r.text().await.unwrap_or_default())
    }

    async fn get(&mut self, path: &str) -> (StatusCode, String) {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let req = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(req).await
    }

    /// Signs in; until then requests are limited by address (all owners here share
    /// 127.0.0.1), so a refusal for the rate is waited out.
    async fn sign_in(&mut self, email: &str) {
        loop {
            let (status, page) = self.get("/login").await;
            if status == StatusCode::TOO_MANY_REQUESTS {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            let csrf = csrf(&page);
            let (status, body) =
                self.post("/login", &[("csrf", &csrf), ("email", email), ("password", PASSWORD)]).await;
            if status == StatusCode::TOO_MANY_REQUESTS {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            assert_eq!(status, StatusCode::SEE_OTHER, "sign-in: {body}");
            return;
        }
    }
}

fn csrf(body: &str) -> String {
    let at = body.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
    body[at..at + 64].to_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// p50, p99 and max of `ms`, sorted in place.
fn summary(ms: &mut [f64]) -> (f64, f64, f64) {
    ms.sort_by(f64::total_cmp);
    (percentile(ms, 0.5), percentile(ms, 0.99), ms[ms.len() - 1])
}

/// One page asked and checked: its latency in ms, or why it failed.
async fn timed(b: &mut Browser, path: &str, expect: &str) -> Result<f64, String> {
    let started = Instant::now();
    let (status, body) = b.get(path).await;
    let ms = started.elapsed().as_secs_f64() * 1e3;
    if status != StatusCode::OK {
        return Err(format!("{path}: {status}"));
    }
    if !body.contains(expect) {
        return Err(format!("{path}: no {expect:?} in the page"));
    }
    Ok(ms)
}

fn customers(shop: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open_with_flags(shop, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("shop");
    let mut stmt = conn.prepare("SELECT reference FROM customers").expect("query");
    stmt.query_map([], |r| r.get(0)).expect("rows").collect::<Result<_, _>>().expect("references")
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let size = dataset::Size::from_env(if measuring { dataset::Size::FULL } else { dataset::Size::SMOKE });
    let owners = env_usize("ARDOISE_WEB_OWNERS", if measuring { 200 } else { 5 });
    let seconds = env_usize("ARDOISE_WEB_SECONDS", if measuring { 60 } else { 3 });
    let samples = env_usize("ARDOISE_WEB_SAMPLES", if measuring { 200 } else { 5 });
    let writes_per_second = env_usize("ARDOISE_WEB_WRITES", 1);
    let shop = dataset::ensure(size);
    let refs = customers(&shop.path);

    let dir = tempfile::tempdir_in(dataset::data_dir()).expect("temp dir");
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("server.db").display());
    let id = admin(&db, &["shop", "create", "--name", "Bench"]);
    let data = dir.path().join("data");
    // Where the back office keeps each shop's merged copy (`DispatchConfig::data_dir`).
    let merged = data.join("merged");
    std::fs::create_dir_all(&merged).expect("data dir");
    let copying = Instant::now();
    std::fs::copy(&shop.path, merged.join(format!("{id}.db"))).expect("the shop as its merged copy");
    eprintln!("shop {} copied in {:.1} s", size.label(), copying.elapsed().as_secs_f64());
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let link = admin(&db, &["user", "add", "--shop", &id, "--email", "owner@bench.test", "--base-url", &base]);
    let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
    let _server = Server(
        Command::new(SERVER)
            .args(["--database-url", &db, "serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(&data)
            // Pages only: no ladder, and the reminder round (which opens the copy too) once.
            .args(["--no-ladder", "--every-secs", "86400"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("the server starts"),
    );

    let rt = Runtime::new().expect("runtime");
    let results = rt.block_on(async move {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(owners + 8)
            .build()
            .expect("client");
        let mut owner = Browser::new(&http, &base);
        let ready = Instant::now();
        while http.get(format!("{base}/login")).send().await.is_err() {
            assert!(ready.elapsed() < Duration::from_secs(60), "the server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let path = link.trim_start_matches(&base).to_owned();
        let (_, page) = owner.get(&path).await;
        let token = csrf(&page);
        let (status, body) = owner.post(&path, &[("csrf", &token), ("password", PASSWORD), ("again", PASSWORD)]).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "set-up: {body}");
        owner.sign_in("owner@bench.test").await;

        // The first page opens the copy and catches up with the (empty) log: timed apart.
        let first = timed(&mut owner, "/app", "<svg").await.expect("the overview");
        eprintln!("first overview (opens the shop's copy): {first:.0} ms");

        // Paced under the server's rate limit for one browser (50 a second by default). Each
        // overview follows a change to the ledger (a note), so it is computed, not the one kept
        // from the visit before; then it is asked again unchanged.
        let pace = Duration::from_millis(25);
        let mut rng = StdRng::seed_from_u64(19);
        let (_, page) = owner.get(&format!("/app/customers/{}", refs[0])).await;
        let token = csrf(&page);
        let (mut overview, mut kept) = (Vec::new(), Vec::new());
        for _ in 0..samples {
            let r = &refs[rng.random_range(0..refs.len())];
            let (status, _) =
                owner.post(&format!("/app/customers/{r}/note"), &[("csrf", &token), ("note", "vu")]).await;
            assert_eq!(status, StatusCode::SEE_OTHER);
            tokio::time::sleep(pace).await;
            overview.push(timed(&mut owner, "/app", "<svg").await.expect("the overview"));
            tokio::time::sleep(pace).await;
            kept.push(timed(&mut owner, "/app", "<svg").await.expect("the overview"));
            tokio::time::sleep(pace).await;
        }
        let mut customer = Vec::new();
        for _ in 0..samples * 5 {
            let r = &refs[rng.random_range(0..refs.len())];
            customer.push(timed(&mut owner, &format!("/app/customers/{r}"), r).await.expect("a customer page"));
            tokio::time::sleep(pace).await;
        }

        let (o50, o99, omax) = summary(&mut overview.clone());
        let (k50, k99, kmax) = summary(&mut kept.clone());
        let (c50, c99, cmax) = summary(&mut customer.clone());
        eprintln!(
            "one at a time: overview after a change p50 {o50:.1} / p99 {o99:.1} / max {omax:.1} ms, unchanged p50 \
             {k50:.1} / p99 {k99:.1} / max {kmax:.1} ms; customer p50 {c50:.1} / p99 {c99:.1} / max {cmax:.1} ms"
        );
        // The owners at once, each with a session of its own.
        let mut browsers = Vec::with_capacity(owners);
        for _ in 0..owners {
            let mut b = Browser::new(&http, &base);
            b.sign_in("owner@bench.test").await;
            browsers.push(b);
        }
        let refs = Arc::new(refs);
        let until = Instant::now() + Duration::from_secs(seconds as u64);
        // Meanwhile the ledger changes (an owner's note on a customer, as a sale synced from a
        // till would), so the pages kept between visits are computed again after each change.
        let writer = {
            let (mut b, refs) = (owner.clone(), Arc::clone(&refs));
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(7);
                let (_, page) = b.get(&format!("/app/customers/{}", refs[0])).await;
                let token = csrf(&page);
                let mut writes = 0usize;
                while Instant::now() < until {
                    let r = &refs[rng.random_range(0..refs.len())];
                    let (status, body) =
                        b.post(&format!("/app/customers/{r}/note"), &[("csrf", &token), ("note", "rappelé")]).await;
                    assert_eq!(status, StatusCode::SEE_OTHER, "a note: {body}");
                    writes += 1;
                    tokio::time::sleep(Duration::from_millis(1000 / writes_per_second.max(1) as u64)).await;
                }
                writes
            })
        };
        let tasks: Vec<_> = browsers
            .into_iter()
            .enumerate()
            .map(|(i, mut b)| {
                let refs = Arc::clone(&refs);
                tokio::spawn(async move {
                    let mut rng = StdRng::seed_from_u64(i as u64);
                    // Owners do not all arrive in the same millisecond.
                    tokio::time::sleep(Duration::from_millis(rng.random_range(0..2000))).await;
                    let (mut ms, mut errors) = (Vec::new(), Vec::new());
                    while Instant::now() < until {
                        let pick = rng.random_range(0..10);
                        let r = refs[rng.random_range(0..refs.len())].clone();
                        let (path, expect) = match pick {
                            0..=2 => ("/app".to_owned(), "<svg".to_owned()),
                            3..=4 => ("/app/overdue".to_owned(), "class=\"cards\"".to_owned()),
                            _ => (format!("/app/customers/{r}"), r),
                        };
                        match timed(&mut b, &path, &expect).await {
                            Ok(t) => ms.push(t),
                            Err(e) => errors.push(e),
                        }
                        tokio::time::sleep(Duration::from_millis(rng.random_range(1000..3000))).await;
                    }
                    (ms, errors)
                })
            })
            .collect();
        let (mut browsing, mut errors) = (Vec::new(), Vec::new());
        for t in tasks {
            let (ms, e) = t.await.expect("an owner");
            browsing.extend(ms);
            errors.extend(e);
        }
        let writes = writer.await.expect("the writer");
        (first, overview, kept, customer, browsing, errors, writes)
    });
    let (first, mut overview, mut kept, mut customer, mut browsing, errors, writes) = results;
    let (o50, o99, omax) = summary(&mut overview);
    let (k50, k99, kmax) = summary(&mut kept);
    let (c50, c99, cmax) = summary(&mut customer);
    let (b50, b99, bmax) = summary(&mut browsing);
    println!(
        "web pages on {}: overview after a change p50 {o50:.1} ms, p99 {o99:.1} ms, max {omax:.1} ms ({} asked), \
         unchanged p50 {k50:.1} ms, p99 {k99:.1} ms; \
         customer page p50 {c50:.1} ms, p99 {c99:.1} ms, max {cmax:.1} ms ({} asked); \
         {owners} owners browsing for {seconds} s while {writes} notes were written: {} pages, p50 {b50:.1} ms, \
         p99 {b99:.1} ms, max {bmax:.1} ms, {} errors",
        size.label(),
        overview.len(),
        customer.len(),
        browsing.len(),
        errors.len()
    );
    for e in errors.iter().take(5) {
        eprintln!("error: {e}");
    }
    let json = serde_json::json!({
        "shop": size.label(),
        "first_overview_ms": first,
        "overview_ms": {"p50": o50, "p99": o99, "max": omax, "n": overview.len()},
        "overview_unchanged_ms": {"p50": k50, "p99": k99, "max": kmax, "n": kept.len()},
        "customer_ms": {"p50": c50, "p99": c99, "max": cmax, "n": customer.len()},
        "browsing": {"owners": owners, "seconds": seconds, "writes": writes, "pages": browsing.len(), "p50": b50, "p99": b99,
                     "max": bmax, "errors": errors.len()},
    });
    std::fs::write(dataset::data_dir().join("web.json"), serde_json::to_string_pretty(&json).expect("json"))
        .expect("write web.json");
    assert!(errors.is_empty(), "pages failed under load: {:?}", &errors[..errors.len().min(5)]);
}
