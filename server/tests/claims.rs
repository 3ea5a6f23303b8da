//! Claims in the shared database, on SQLite and PostgreSQL: two server processes never both
//! send one reminder nor both run a shop's day, a lease that ran out is taken over, and a
//! finished reminder is never claimed again. Then two dispatchers with their own merged copies
//! on one database, as two hosts behind a load balancer: every reminder leaves once; and two
//! processes starting together on a new database both come up.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ardoise_core::Money;
use ardoise_core::customer::{CustomerKind, NewCustomer};
use ardoise_core::store::{Now, ReminderState, SaleRequest, Store};
use ardoise_core::sync::client::{Client, RetryPolicy};
use ardoise_server::db::claims::{Claim, Outcome};
use ardoise_server::dispatch::{DispatchConfig, Dispatcher};
use ardoise_server::send::TransportConfig;
use chrono::{DateTime, Duration};
use common::{Backend, Env};
use uuid::Uuid;

on_both_backends!(
    of_two_concurrent_claimers_exactly_one_wins,
    a_lease_that_ran_out_is_taken_over,
    a_finished_reminder_is_never_claimed_again,
    two_dispatchers_on_one_database_send_each_reminder_once,
    two_processes_starting_together_on_a_new_database_migrate_it_once,
    a_day_taken_over_from_a_process_that_died_during_it_is_run_once,
);

const MINUTE: i64 = 60_000;

async fn of_two_concurrent_claimers_exactly_one_wins(backend: Backend) {
    let env = Env::new(backend).await;
    let shop = env.shop("Deux caisses").await;
    let reminders: Vec<Uuid> = (0..100).map(|_| Uuid::new_v4()).collect();
    let claimer = |holder: Uuid, order: Vec<Uuid>| {
        let db = env.db.clone();
        tokio::spawn(async move {
            let mut won = Vec::new();
            for r in order {
                if db.claim_reminder(shop, r, holder, 1_000, 5 * MINUTE).await.unwrap() == Claim::Won {
                    won.push(r);
                }
            }
            let day = db.claim_ladder_run(shop, "2026-04-16", holder, 1_000, 5 * MINUTE).await.unwrap();
            (won, day == Claim::Won)
        })
    };
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let mut reversed = reminders.clone();
    reversed.reverse();
    let (ta, tb) = (claimer(a, reminders.clone()), claimer(b, reversed));
    let ((won_a, day_a), (won_b, day_b)) = (ta.await.unwrap(), tb.await.unwrap());

    assert_eq!(won_a.len() + won_b.len(), reminders.len(), "a: {}, b: {}", won_a.len(), won_b.len());
    let won: HashSet<Uuid> = won_a.iter().chain(&won_b).copied().collect();
    assert_eq!(won, reminders.iter().copied().collect::<HashSet<_>>());
    assert!(day_a != day_b, "the day's run goes to exactly one: a {day_a}, b {day_b}");
}

async fn a_lease_that_ran_out_is_taken_over(backend: Backend) {
    let env = Env::new(backend).await;
    let shop = env.shop("Relais").await;
    let db = &env.db;
    let (r, a, b) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    assert_eq!(db.claim_reminder(shop, r, a, 0, 5 * MINUTE).await.unwrap(), Claim::Won);
    assert_eq!(
        db.claim_reminder(shop, r, b, 5 * MINUTE - 1, 5 * MINUTE).await.unwrap(),
        Claim::Busy { holder: a, until_ms: 5 * MINUTE }
    );
    // A died holding it: once its lease ends, B takes it, and A (back) must wait for B's.
    assert_eq!(db.claim_reminder(shop, r, b, 5 * MINUTE, 5 * MINUTE).await.unwrap(), Claim::Won);
    assert_eq!(
        db.claim_reminder(shop, r, a, 5 * MINUTE + 1, 5 * MINUTE).await.unwrap(),
        Claim::Busy { holder: b, until_ms: 10 * MINUTE }
    );

    let day = "2026-04-16";
    assert_eq!(db.claim_ladder_run(shop, day, a, 0, 5 * MINUTE).await.unwrap(), Claim::Won);
    assert_eq!(
        db.claim_ladder_run(shop, day, b, MINUTE, 5 * MINUTE).await.unwrap(),
        Claim::Busy { holder: a, until_ms: 5 * MINUTE }
    );
    assert_eq!(db.claim_ladder_run(shop, day, b, 6 * MINUTE, 5 * MINUTE).await.unwrap(), Claim::Won);
    db.finish_ladder_run(shop, day, 7 * MINUTE).await.unwrap();
    // Done is done, for anyone and however late.
    assert_eq!(db.claim_ladder_run(shop, day, a, 60 * MINUTE, 5 * MINUTE).await.unwrap(), Claim::Done(()));
    assert_eq!(db.claim_ladder_run(shop, day, b, 60 * MINUTE, 5 * MINUTE).await.unwrap(), Claim::Done(()));
    // Another day, another run.
    assert_eq!(db.claim_ladder_run(shop, "2026-04-17", a, 60 * MINUTE, 5 * MINUTE).await.unwrap(), Claim::Won);
}

async fn a_finished_reminder_is_never_claimed_again(backend: Backend) {
    let env = Env::new(backend).await;
    let shop = env.shop("Une fois").await;
    let db = &env.db;
    let (sent, failed, a, b) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    for r in [sent, failed] {
        assert_eq!(db.claim_reminder(shop, r, a, 0, 5 * MINUTE).await.unwrap(), Claim::Won);
    }
    let delivered = Outcome::Sent { at_ms: 1_000, detail: "sent: <r@epicerie.fr>".into() };
    assert_eq!(db.finish_reminder(shop, sent, &delivered).await.unwrap(), None);
    let refused = Outcome::Failed { at_ms: 2_000, reason: "not delivered: bad address".into() };
    assert_eq!(db.finish_reminder(shop, failed, &refused).await.unwrap(), None);

    // Neither its holder (restarted) nor anyone else, long after any lease.
    for holder in [a, b] {
        assert_eq!(
            db.claim_reminder(shop, sent, holder, 600 * MINUTE, 5 * MINUTE).await.unwrap(),
            Claim::Done(delivered.clone())
        );
        assert_eq!(
            db.claim_reminder(shop, failed, holder, 600 * MINUTE, 5 * MINUTE).await.unwrap(),
            Claim::Done(refused.clone())
        );
    }
    // A late second outcome changes nothing and is told the first.
    let late = Outcome::Sent { at_ms: 9_000, detail: "sent again".into() };
    assert_eq!(db.finish_reminder(shop, sent, &late).await.unwrap(), Some(delivered));
    // Releasing a finished claim does not reopen it.
    db.release_reminder(shop, failed, a).await.unwrap();
    assert_eq!(db.claim_reminder(shop, failed, b, 600 * MINUTE, 5 * MINUTE).await.unwrap(), Claim::Done(refused));
}

fn at(s: &str) -> Now {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn customer(i: usize) -> NewCustomer {
    NewCustomer {
        reference: format!("C{i}"),
        name: format!("Client {i}"),
        email: Some(format!("c{i}@example.fr")),
        kind: CustomerKind::Consumer,
        terms: "30".parse().unwrap(),
        consent_email: true,
        ..Default::default()
    }
}

fn dispatcher(env: &Env, dir: &Path, name: &str) -> (Dispatcher, PathBuf) {
    let mail = dir.join(name).join("mail");
    let cfg = DispatchConfig {
        data_dir: dir.join(name).join("merged"),
        grace_minutes: 10,
        run_ladder: true,
        transports: TransportConfig {
            smtp: None,
            mail_dir: Some(mail.clone()),
            sms: None,
            letters_dir: dir.join(name).join("letters"),
        },
    };
    (Dispatcher::new(env.db.clone(), cfg).unwrap(), mail)
}

/// The `Message-ID` of every email written into `dir`.
fn message_ids(dir: &Path) -> Vec<String> {
    let Ok(files) = std::fs::read_dir(dir) else { return Vec::new() };
    files
        .map(|f| {
            let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
            let line = text.lines().find(|l| l.to_ascii_lowercase().starts_with("message-id:")).unwrap();
            line["message-id:".len()..].trim().to_owned()
        })
        .collect()
}

/// Two dispatchers, each with its own merged copies and mail folder, on one database: they
/// run their rounds at the same moments. One runs the day's ladder, each reminder goes out of
/// exactly one of them, one that a dead process had claimed waits for its lease to end, and
/// one a dead process sent (its claim says so, the log does not) is only recorded.
async fn two_dispatchers_on_one_database_send_each_reminder_once(backend: Backend) {
    const CUSTOMERS: usize = 12;
    let env = Env::new(backend).await;
    let shop = env.shop("Épicerie").await;
    let dir = tempfile::tempdir().unwrap();
    let start = at("2026-03-02T09:00:00+01:00");
    let client = Client::new(RetryPolicy::default()).unwrap();
    let till = Mutex::new(Store::open(dir.path().join("till.db")).unwrap());
    client.enrol(&till, &env.base, &env.code(shop).await, "till", start).await.unwrap();
    {
        let s = till.lock().unwrap();
        let mut settings = (*s.settings()).clone();
        settings.shop_name = "Épicerie".into();
        settings.shop_email = "bonjour@epicerie.fr".into();
        s.set_settings(settings, start).unwrap();
        for i in 0..CUSTOMERS {
            s.add_customer(customer(i), start).unwrap();
            let sale = SaleRequest {
                customer: format!("C{i}"),
                amount: Money::parse("25.00").unwrap(),
                date: None,
                invoice_ref: None,
                cashier: "Léa".into(),
                deposit: None,
            };
            s.sell_on_account(sale, start).unwrap();
        }
    }
    client.sync(&till, &move || start).await.unwrap();
    let (a, mail_a) = dispatcher(&env, dir.path(), "a");
    let (b, mail_b) = dispatcher(&env, dir.path(), "b");
    assert_ne!(a.device_of(shop).await.unwrap(), b.device_of(shop).await.unwrap(), "each copy is a device");

    // The day every invoice's first step is due: both run the round at once.
    let later = start + Duration::days(45);
    let (ra, rb) = tokio::join!(a.run_once(later), b.run_once(later));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.queued_by_ladder + rb.queued_by_ladder, CUSTOMERS as u32, "one ran the day: {ra:?} {rb:?}");
    assert!(ra.queued_by_ladder == 0 || rb.queued_by_ladder == 0, "{ra:?} {rb:?}");

    // A process claimed one reminder for an hour and died before sending it; another sent
    // one and recorded it in its claim, then died before its copy put it into the log.
    let dead = Uuid::new_v4();
    let (victim, recorded) = {
        client.sync(&till, &move || later + Duration::minutes(2)).await.unwrap();
        let s = till.lock().unwrap();
        let all = s.reminders(Some(ReminderState::Queued), None, 100).unwrap();
        assert_eq!(all.len(), CUSTOMERS, "the till sees each customer's reminder once");
        (all[0].id, all[1].id)
    };
    let claimed_ms = (later + Duration::minutes(2)).timestamp_millis();
    for r in [victim, recorded] {
        assert_eq!(env.db.claim_reminder(shop, r, dead, claimed_ms, 60 * MINUTE).await.unwrap(), Claim::Won);
    }
    let proof = "sent 2026-04-16 10:02 UTC: <by-a-dead-process@epicerie.fr>";
    let outcome = Outcome::Sent { at_ms: claimed_ms, detail: proof.into() };
    assert_eq!(env.db.finish_reminder(shop, recorded, &outcome).await.unwrap(), None);

    // After the grace period both send, at the same moments, twice over.
    for minutes in [11, 12] {
        let now = later + Duration::minutes(minutes);
        let (ra, rb) = tokio::join!(a.run_once(now), b.run_once(now));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert_eq!(ra.queued_by_ladder + rb.queued_by_ladder, 0, "{ra:?} {rb:?}");
    }
    let sent: Vec<String> = message_ids(&mail_a).into_iter().chain(message_ids(&mail_b)).collect();
    assert_eq!(sent.len(), CUSTOMERS - 2, "all but the dead process's two: {sent:?}");
    assert!(!sent.iter().any(|id| id.contains(&victim.to_string())), "{sent:?}");
    assert!(!sent.iter().any(|id| id.contains(&recorded.to_string())), "{sent:?}");

    // Its lease over, one of them takes it.
    let now = later + Duration::minutes(63);
    let (ra, rb) = tokio::join!(a.run_once(now), b.run_once(now));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.sent + rb.sent, 1, "{ra:?} {rb:?}");

    let mut per_id: BTreeMap<String, usize> = BTreeMap::new();
    for id in message_ids(&mail_a).into_iter().chain(message_ids(&mail_b)) {
        *per_id.entry(id).or_default() += 1;
    }
    assert_eq!(per_id.len(), CUSTOMERS - 1, "{per_id:?}");
    assert!(per_id.values().all(|n| *n == 1), "each reminder left once: {per_id:?}");
    assert!(per_id.keys().any(|id| id.contains(&victim.to_string())), "{per_id:?}");
    assert!(!per_id.keys().any(|id| id.contains(&recorded.to_string())), "sent by the dead process: {per_id:?}");

    // Every copy, and the till, shows each reminder sent once, with no second reminder queued.
    let now = later + Duration::minutes(64);
    let (ra, rb) = tokio::join!(a.run_once(now), b.run_once(now));
    assert_eq!(ra.unwrap().sent + rb.unwrap().sent, 0);
    client.sync(&till, &move || now).await.unwrap();
    let s = till.lock().unwrap();
    let all = s.reminders(None, None, 100).unwrap();
    assert_eq!(all.len(), CUSTOMERS, "{all:?}");
    assert!(all.iter().all(|r| r.state == ReminderState::Sent), "{all:?}");
    // The one the dead process sent shows its proof, recorded from the claim.
    let shown = all.iter().find(|r| r.id == recorded).unwrap();
    assert_eq!(shown.state_note.as_deref(), Some(proof));
}

async fn two_processes_starting_together_on_a_new_database_migrate_it_once(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (url, _schema) = match backend {
        Backend::Sqlite => (format!("sqlite://{}?mode=rwc", dir.path().join("server.db").display()), None),
        Backend::Postgres => {
            let (url, schema) = common::pg::PgSchema::create("migrate").await;
            (url, Some(schema))
        }
    };
    let (a, b) = tokio::join!(ardoise_server::connect(&url), ardoise_server::connect(&url));
    let (a, b) = (a.unwrap(), b.unwrap());
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM schema_version ORDER BY version").fetch_all(a.pool()).await.unwrap();
    assert_eq!(versions, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Both work on the same shops.
    let shop = a.create_shop("Ensemble").await.unwrap();
    assert_eq!(b.shop(shop).await.unwrap().name, "Ensemble");
}

/// A shop whose till sold 25 EUR on account to `customers` customers at `start`, synced.
async fn shop_with_sales(env: &Env, dir: &Path, start: Now, customers: usize) -> (Uuid, Client, Mutex<Store>) {
    let shop = env.shop("Épicerie").await;
    let client = Client::new(RetryPolicy::default()).unwrap();
    let till = Mutex::new(Store::open(dir.join("till.db")).unwrap());
    client.enrol(&till, &env.base, &env.code(shop).await, "till", start).await.unwrap();
    {
        let s = till.lock().unwrap();
        let mut settings = (*s.settings()).clone();
        settings.shop_name = "Épicerie".into();
        settings.shop_email = "bonjour@epicerie.fr".into();
        s.set_settings(settings, start).unwrap();
        for i in 0..customers {
            s.add_customer(customer(i), start).unwrap();
            let sale = SaleRequest {
                customer: format!("C{i}"),
                amount: Money::parse("25.00").unwrap(),
                date: None,
                invoice_ref: None,
                cashier: "Léa".into(),
                deposit: None,
            };
            s.sell_on_account(sale, start).unwrap();
        }
    }
    client.sync(&till, &move || start).await.unwrap();
    (shop, client, till)
}

/// Process A ran the day's reminders into its copy and died before they reached the log; B
/// took the day over when A's lease ran out and ran it. When A comes back, its copy's run must
/// not reach the log too: the copy is set aside and rebuilt, and each customer gets one
/// reminder.
async fn a_day_taken_over_from_a_process_that_died_during_it_is_run_once(backend: Backend) {
    const CUSTOMERS: usize = 6;
    let env = Env::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let start = at("2026-03-02T09:00:00+01:00");
    let (shop, client, till) = shop_with_sales(&env, dir.path(), start, CUSTOMERS).await;
    let (a, _) = dispatcher(&env, dir.path(), "a");
    a.run_once(start).await.unwrap();
    let a_device = a.device_of(shop).await.unwrap();
    drop(a);

    // A's last moments: it claims the day and its copy queues the reminders.
    let later = start + Duration::days(45);
    let day = later.date_naive().to_string();
    assert_eq!(
        env.db.claim_ladder_run(shop, &day, a_device, later.timestamp_millis(), 5 * MINUTE).await.unwrap(),
        Claim::Won
    );
    let merged_a = dir.path().join("a").join("merged");
    {
        let copy = Store::open(merged_a.join(format!("{shop}.db"))).unwrap();
        assert_eq!(copy.device_id(), a_device);
        assert_eq!(copy.run_dunning(later).unwrap().queued.len(), CUSTOMERS);
    }

    let (b, mail_b) = dispatcher(&env, dir.path(), "b");
    let rb = b.run_once(later + Duration::minutes(6)).await.unwrap();
    assert_eq!(rb.queued_by_ladder, CUSTOMERS as u32, "B took the day over: {rb:?}");

    // A comes back with a new copy, a new device; the old one is kept aside.
    let (a, mail_a) = dispatcher(&env, dir.path(), "a");
    assert_ne!(a.device_of(shop).await.unwrap(), a_device);
    let aside: Vec<String> = std::fs::read_dir(&merged_a)
        .unwrap()
        .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("superseded"))
        .collect();
    assert!(!aside.is_empty(), "the old copy is kept");
    for minutes in [7, 20, 21] {
        let now = later + Duration::minutes(minutes);
        let (ra, rb) = tokio::join!(a.run_once(now), b.run_once(now));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert_eq!(ra.queued_by_ladder + rb.queued_by_ladder, 0, "{ra:?} {rb:?}");
    }

    let sent: HashSet<String> = message_ids(&mail_a).into_iter().chain(message_ids(&mail_b)).collect();
    assert_eq!(sent.len(), CUSTOMERS, "{sent:?}");
    let now = later + Duration::minutes(30);
    client.sync(&till, &move || now).await.unwrap();
    let s = till.lock().unwrap();
    let all = s.reminders(None, None, 100).unwrap();
    assert_eq!(all.len(), CUSTOMERS, "one reminder per customer: {all:?}");
    assert!(all.iter().all(|r| r.state == ReminderState::Sent), "{all:?}");
}
