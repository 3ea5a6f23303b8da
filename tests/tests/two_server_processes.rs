//! Two `ardoise-server serve` processes on one database (PostgreSQL; SQLite too), each with its own data
//! folder, as two hosts behind a load balancer; two tills each push to a different one. Both
//! dispatchers run with no grace period and send 50 reminders through an SMTP relay stand-in
//! that keeps every message it accepts; one process is killed with SIGKILL in the middle, and
//! either stays down or is started again at once on its data folder.
//!
//! What is asserted: the day's reminder run happened once (50 reminders, not 100); every
//! reminder reached the relay, under its own idempotency key (the `Message-ID`, from the
//! reminder's id); no process sent a reminder another had already sent. A key may reach the
//! relay twice only in the one case a crash allows: the killed process handed it to the relay
//! just before dying, before it could record it as sent, and it was sent again with the same
//! key: by the survivor once the killed process's lease ran out, or by the killed process
//! started again, which takes its own claims back (a relay or provider that honours the key
//! delivers it once). Everything ends up recorded as sent in the shared claims and on the
//! tills.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ardoise_core::Money;
use ardoise_core::customer::{CustomerKind, NewCustomer};
use ardoise_core::store::{ReminderState, SaleRequest};
use ardoise_tests::pg::PgSchema;
use ardoise_tests::server::{Backend, scratch_dir};
use ardoise_tests::till::{Clock, Till};
use chrono::Days;
use uuid::Uuid;

const CUSTOMERS_PER_TILL: usize = 25;
const REMINDERS: usize = 2 * CUSTOMERS_PER_TILL;
/// The killed process's claims hold the others off this long: far longer than one send to the
/// relay takes, even on a busy machine.
const LEASE_SECS: &str = "5";
/// The relay takes this long to accept each message, so that sending 50 lasts a few seconds
/// and the kill lands while both processes are sending.
const RELAY_DELAY: Duration = Duration::from_millis(150);
/// A guard against a hang, not a measure: the test waits for states, never for a time.
const PATIENCE: Duration = Duration::from_secs(180);

/// One message the relay accepted.
#[derive(Clone, Debug)]
struct Accepted {
    /// Which server process sent it: each has a relay port of its own.
    process: usize,
    message_id: String,
}

type Relay = Arc<Mutex<Vec<Accepted>>>;

struct Capture {
    process: usize,
    relay: Relay,
    data: Vec<u8>,
}

impl mailin::Handler for Capture {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, _to: &[String]) -> mailin::Response {
        self.data.clear();
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin::Response {
        std::thread::sleep(RELAY_DELAY);
        let text = String::from_utf8_lossy(&self.data);
        let message_id = text
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID:").or_else(|| l.strip_prefix("Message-Id:")))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default();
        // Kept before the answer: a sender killed while waiting for it has still delivered.
        self.relay.lock().unwrap().push(Accepted { process: self.process, message_id });
        mailin::response::OK
    }
}

/// An SMTP relay on loopback for one server process; returns its port.
fn start_relay(process: usize, relay: &Relay) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let relay = relay.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let handler = Capture { process, relay: relay.clone(), data: Vec::new() };
            std::thread::spawn(move || serve_smtp(stream, handler));
        }
    });
    port
}

fn serve_smtp(stream: std::net::TcpStream, handler: Capture) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let peer = stream.peer_addr()?.ip();
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut session = mailin::SessionBuilder::new("relay.test.local").build(peer, handler);
    session.greeting().write_to(&mut writer)?;
    writer.flush()?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let response = session.process(&line);
        match response.action {
            mailin::Action::NoReply => continue,
            mailin::Action::Reply => response.write_to(&mut writer)?,
            mailin::Action::Close | mailin::Action::UpgradeTls => {
                response.write_to(&mut writer)?;
                writer.flush()?;
                return Ok(());
            }
        }
        writer.flush()?;
    }
}

/// One `ardoise-server serve` child process.
struct Process {
    child: Child,
    addr: SocketAddr,
}

impl Process {
    /// Starts the server on `addr` with its own data folder; `relay` is the SMTP port its
    /// reminders go to, `None` for a process that only serves the sync API.
    async fn start(url: &str, addr: SocketAddr, data: &Path, relay: Option<u16>) -> Process {
        let mut args: Vec<String> = vec![
            "--database-url".into(),
            url.into(),
            "serve".into(),
            "--listen".into(),
            addr.to_string(),
            "--rate-per-second".into(),
            "0".into(),
            "--data-dir".into(),
            data.display().to_string(),
        ];
        match relay {
            Some(port) => {
                let transports = data.join("transports.json");
                let config = serde_json::json!({
                    "smtp": { "host": "127.0.0.1", "port": port, "starttls": false, "timeout_secs": 30 },
                    "letters_dir": data.join("letters"),
                });
                std::fs::write(&transports, config.to_string()).unwrap();
                for a in ["--grace-minutes", "0", "--every-secs", "1", "--claim-lease-secs", LEASE_SECS, "--transports"]
                {
                    args.push(a.into());
                }
                args.push(transports.display().to_string());
            }
            None => args.push("--no-reminders".into()),
        }
        let log = std::fs::OpenOptions::new().create(true).append(true).open(data.join("server.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_ardoise-server-e2e"))
            .args(&args)
            .env("RUST_LOG", "info,ardoise_server=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("the server binary");
        let process = Process { child, addr };
        process.wait_ready(data).await;
        process
    }

    async fn wait_ready(&self, data: &Path) {
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if http.get(format!("http://{}/v1/status", self.addr)).send().await.is_ok() {
                return;
            }
            assert!(started.elapsed() < PATIENCE, "the server never answered; its log:\n{}", log_of(data));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// SIGKILL: no chance to finish what it was doing.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn log_of(data: &Path) -> String {
    std::fs::read_to_string(data.join("server.log")).unwrap_or_default()
}

/// Two loopback addresses nothing listens on now, held together so that they differ.
fn free_addrs() -> [SocketAddr; 2] {
    let held = [TcpListener::bind("127.0.0.1:0").unwrap(), TcpListener::bind("127.0.0.1:0").unwrap()];
    held.map(|l| l.local_addr().unwrap())
}

fn customer(i: usize) -> NewCustomer {
    NewCustomer {
        reference: format!("C{i:02}"),
        name: format!("Client {i}"),
        email: Some(format!("c{i:02}@example.fr")),
        kind: CustomerKind::Consumer,
        terms: "30".parse().unwrap(),
        consent_email: true,
        ..Default::default()
    }
}

/// `customers` each bought 30 EUR on account 40 days ago: 10 days overdue, the first step.
fn sell_overdue(till: &Till, clock: &Clock, customers: std::ops::Range<usize>) {
    let sold_on = chrono::Local::now().date_naive().checked_sub_days(Days::new(40)).unwrap();
    till.with(|s| {
        for i in customers {
            s.add_customer(customer(i), clock.now()).unwrap();
            let sale = SaleRequest {
                customer: format!("C{i:02}"),
                amount: Money::parse("30.00").unwrap(),
                date: Some(sold_on),
                invoice_ref: None,
                cashier: "Léa".into(),
                deposit: None,
            };
            s.sell_on_account(sale, clock.now()).unwrap();
        }
    });
}

fn accepted(relay: &Relay) -> Vec<Accepted> {
    relay.lock().unwrap().clone()
}

/// What happens to the killed host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Then {
    /// It stays down: the survivor takes its claims over when their lease ends.
    StaysDown,
    /// Its service manager starts it again at once, on the same data folder: it takes its own
    /// claims back without waiting for their lease.
    Restarts,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres() {
    two_server_processes_send_every_reminder_once_through_a_sigkill(Backend::Postgres, Then::StaysDown).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_with_the_killed_host_restarted() {
    two_server_processes_send_every_reminder_once_through_a_sigkill(Backend::Postgres, Then::Restarts).await;
}

/// The same two processes on one SQLite file: one host, two processes (a restart that
/// overlaps the old process, or a second one started by mistake).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite() {
    two_server_processes_send_every_reminder_once_through_a_sigkill(Backend::Sqlite, Then::StaysDown).await;
}

/// Senders, as the relay tells them apart: host 0, killed; host 1, the survivor; host 0
/// started again after the kill.
const KILLED: usize = 0;
const SURVIVOR: usize = 1;
const RESTARTED: usize = 2;

async fn two_server_processes_send_every_reminder_once_through_a_sigkill(backend: Backend, then: Then) {
    let scratch = scratch_dir();
    let (url, _schema) = match backend {
        Backend::Postgres => {
            let (url, schema) = PgSchema::create("two_processes").await;
            (url, Some(schema))
        }
        Backend::Sqlite => (format!("sqlite://{}?mode=rwc", scratch.path().join("server.db").display()), None),
    };
    // Migrated here, once: the processes then find the schema up to date.
    let db = ardoise_server::connect(&url).await.unwrap();
    let shop = db.create_shop("Épicerie du Marché").await.unwrap();
    let data: Vec<PathBuf> = (0..2).map(|i| scratch.path().join(format!("host{i}"))).collect();
    for d in &data {
        std::fs::create_dir_all(d).unwrap();
    }
    let addrs = free_addrs();

    // The tills record their sales while the two hosts only serve the sync API: today's
    // reminder run must see them all, and it runs on a dispatcher's first round.
    let clock = Clock::starting(&chrono::Local::now().date_naive().to_string());
    let tills = [Till::open(scratch.path(), "till-a"), Till::open(scratch.path(), "till-b")];
    {
        let serving = [
            Process::start(&url, addrs[0], &data[0], None).await,
            Process::start(&url, addrs[1], &data[1], None).await,
        ];
        for (till, host) in tills.iter().zip(&serving) {
            till.enrol(&host.url(), &db.enrol_code(shop, chrono::Duration::hours(1)).await.unwrap(), &clock).await;
        }
        tills[0].with(|s| {
            let mut settings = (*s.settings()).clone();
            settings.shop_name = "Épicerie du Marché".into();
            settings.shop_email = "bonjour@epicerie-marche.fr".into();
            s.set_settings(settings, clock.now()).unwrap();
        });
        sell_overdue(&tills[0], &clock, 0..CUSTOMERS_PER_TILL);
        sell_overdue(&tills[1], &clock, CUSTOMERS_PER_TILL..REMINDERS);
        for till in &tills {
            let pushed = till.sync(&clock).await.unwrap().pushed;
            assert!(pushed as usize > CUSTOMERS_PER_TILL, "{}: {pushed}", till.name);
        }
    }

    // The same hosts, now sending reminders: both claim, both send.
    let relay = Relay::default();
    let ports = [start_relay(KILLED, &relay), start_relay(SURVIVOR, &relay)];
    let mut hosts = [
        Process::start(&url, addrs[0], &data[0], Some(ports[0])).await,
        Process::start(&url, addrs[1], &data[1], Some(ports[1])).await,
    ];

    // Kill host 0 once both hosts have handed a few reminders to the relay, while they send more.
    let started = Instant::now();
    while [(KILLED, 5), (SURVIVOR, 3)]
        .iter()
        .any(|(host, n)| accepted(&relay).iter().filter(|a| a.process == *host).count() < *n)
    {
        assert!(
            started.elapsed() < PATIENCE,
            "the hosts are not both sending; their logs:\n{}\n{}",
            log_of(&data[0]),
            log_of(&data[1])
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    hosts[0].kill();
    let at_kill: HashSet<String> = accepted(&relay).into_iter().map(|a| a.message_id).collect();
    assert!(at_kill.len() < REMINDERS, "the kill came after everything was sent");
    if then == Then::Restarts {
        let port = start_relay(RESTARTED, &relay);
        hosts[0] = Process::start(&url, addrs[0], &data[0], Some(port)).await;
    }

    // The others send the rest, taking over what the killed host had claimed.
    let started = Instant::now();
    loop {
        let keys: HashSet<String> = accepted(&relay).into_iter().map(|a| a.message_id).collect();
        if keys.len() >= REMINDERS {
            break;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "{} of {REMINDERS} reminders reached the relay; host 1's log:\n{}",
            keys.len(),
            log_of(&data[1])
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // ...and records every outcome in the shared claims.
    let started = Instant::now();
    loop {
        let sent: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM reminder_claims WHERE shop_id = $1 AND outcome = 'sent'")
                .bind(shop.to_string())
                .fetch_one(db.pool())
                .await
                .unwrap();
        if sent == REMINDERS as i64 {
            break;
        }
        assert!(started.elapsed() < PATIENCE, "{sent} claims recorded as sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The till of the surviving host sees the day's run once: one reminder per customer,
    // each sent.
    let started = Instant::now();
    let reminders = loop {
        tills[1].sync(&clock).await.unwrap();
        let all = tills[1].with(|s| s.reminders(None, None, 1_000)).unwrap();
        if all.len() >= REMINDERS && all.iter().all(|r| r.state == ReminderState::Sent) {
            break all;
        }
        assert!(started.elapsed() < PATIENCE, "the till sees {all:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(reminders.len(), REMINDERS, "one reminder per customer: the day's run happened once");
    let customers: HashSet<&str> = reminders.iter().map(|r| r.customer_ref.as_str()).collect();
    assert_eq!(customers.len(), REMINDERS);

    // Every reminder reached the relay under its own key, derived from its id.
    let all = accepted(&relay);
    let mut per_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for a in &all {
        per_key.entry(a.message_id.as_str()).or_default().push(a.process);
    }
    let ids: HashSet<Uuid> = reminders.iter().map(|r| r.id).collect();
    let keyed: HashSet<Uuid> = per_key
        .keys()
        .map(|k| Uuid::parse_str(k.trim_matches(['<', '>']).split('@').next().unwrap()).unwrap())
        .collect();
    assert_eq!(keyed, ids, "each reminder's key is its id, and each reached the relay");

    // The relay may take in the message the killed host was sending after the kill: it kept
    // the message, the sender never heard back.
    let last_of_killed = all.iter().rev().find(|a| a.process == KILLED).map(|a| a.message_id.as_str()).unwrap();

    // Twice only for the one reminder the killed host may have been sending when it died,
    // sent again with the same key (by the survivor, or by the host started again); no other
    // reminder was ever sent twice.
    let twice: Vec<(&str, &Vec<usize>)> = per_key.iter().filter(|(_, s)| s.len() > 1).map(|(k, s)| (*k, s)).collect();
    assert!(twice.len() <= 1, "sent more than once: {twice:?}");
    if let Some((key, senders)) = twice.first() {
        assert_eq!(*key, last_of_killed, "only the killed host's last send may be repeated: {twice:?}");
        assert!(
            **senders == [KILLED, SURVIVOR] || **senders == [KILLED, RESTARTED],
            "first by the killed host, then once by another: {senders:?}"
        );
    }
    let by = |p: usize| all.iter().filter(|a| a.process == p).count();
    eprintln!(
        "{} messages for {REMINDERS} reminders: {} by the killed host, {} by the survivor, {} by it started again, {} repeated after the kill",
        all.len(),
        by(KILLED),
        by(SURVIVOR),
        by(RESTARTED),
        twice.len()
    );
}
