//! The reminder dispatcher end to end: two tills sync through the real server on loopback, the
//! back office runs the ladder on the merged ledger, waits out the grace period, sends by
//! email into a mail folder, and a payment synced from the other till cancels a reminder
//! before it leaves. Delivery results come back to the tills' timelines.

use std::sync::Mutex;

use ardoise_core::customer::{CustomerKind, NewCustomer};
use ardoise_core::store::EntryRequest;
use ardoise_core::store::{Now, ReminderState, SaleRequest, Store};
use ardoise_core::sync::client::{Client, RetryPolicy};
use ardoise_core::{Money, PaymentMethod};
use ardoise_server::dispatch::{DispatchConfig, Dispatcher};
use ardoise_server::send::TransportConfig;
use ardoise_server::{RateLimit, ServeConfig};
use chrono::{DateTime, Duration};

fn at(s: &str) -> Now {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

fn customer(reference: &str, name: &str) -> NewCustomer {
    NewCustomer {
        reference: reference.into(),
        name: name.into(),
        email: Some(format!("{}@example.fr", reference.to_lowercase())),
        phone: Some("+33 6 11 22 33 44".into()),
        kind: CustomerKind::Consumer,
        terms: "30".parse().unwrap(),
        consent_email: true,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_are_rechecked_against_every_till_then_sent_and_reported_back() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("server.db").display());
    let db = ardoise_server::connect(&url).await.unwrap();
    let shop = db.create_shop("Épicerie du Marché").await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = ServeConfig { rate: RateLimit { per_second: 0, burst: 0 }, ..Default::default() };
    let serving = ardoise_server::serve(listener, db.clone(), config).await.unwrap();
    let base = serving.base_url();

    let start = at("2026-03-02T09:00:00+01:00");
    let client = Client::new(RetryPolicy::default()).unwrap();
    let a = Mutex::new(Store::open(dir.path().join("a.db")).unwrap());
    let b = Mutex::new(Store::open(dir.path().join("b.db")).unwrap());
    for till in [&a, &b] {
        let code = db.enrol_code(shop, chrono::Duration::hours(1)).await.unwrap();
        client.enrol(till, &base, &code, "till", start).await.unwrap();
    }

    // Till A: the shop's details, two customers, two sales that will be overdue.
    {
        let s = a.lock().unwrap();
        let mut settings = (*s.settings()).clone();
        settings.shop_name = "Épicerie du Marché".into();
        settings.shop_email = "bonjour@epicerie.fr".into();
        s.set_settings(settings, start).unwrap();
        s.add_customer(customer("C1", "Hélène Dupré"), start).unwrap();
        s.add_customer(customer("C2", "Marc Petit"), start).unwrap();
        for (c, amount) in [("C1", "84.20"), ("C2", "40.00")] {
            let sale = SaleRequest {
                customer: c.into(),
                amount: m(amount),
                date: None,
                invoice_ref: None,
                cashier: "Léa".into(),
                deposit: None,
            };
            s.sell_on_account(sale, start).unwrap();
        }
    }
    let clock_a = move || start;
    client.sync(&a, &clock_a).await.unwrap();

    let mail = dir.path().join("mail");
    let cfg = DispatchConfig {
        data_dir: dir.path().join("merged"),
        grace_minutes: 10,
        run_ladder: true,
        transports: TransportConfig {
            smtp: None,
            mail_dir: Some(mail.clone()),
            sms: None,
            letters_dir: dir.path().join("letters"),
        },
    };
    let dispatcher = Dispatcher::new(db.clone(), cfg).unwrap();

    // Six weeks later both invoices are overdue: the ladder queues a reminder for each, and
    // the grace period holds them.
    let later = start + Duration::days(45);
    let first = dispatcher.run_once(later).await.unwrap();
    assert_eq!(first.queued_by_ladder, 2, "{first:?}");
    assert_eq!(first.sent, 0, "{first:?}");
    assert_eq!(first.waiting, 2, "{first:?}");

    // Meanwhile Marc pays at till B, which syncs before the grace period ends.
    let clock_b = move || later + Duration::minutes(3);
    client.sync(&b, &clock_b).await.unwrap();
    {
        let s = b.lock().unwrap();
        let pay = EntryRequest::Payment { amount: m("40.00"), method: PaymentMethod::Cash, invoice: None };
        s.record("C2", None, "Tom", pay, later + Duration::minutes(4)).unwrap();
    }
    let clock_b = move || later + Duration::minutes(5);
    client.sync(&b, &clock_b).await.unwrap();

    let second = dispatcher.run_once(later + Duration::minutes(11)).await.unwrap();
    assert_eq!(second.sent, 1, "{second:?}");
    assert_eq!(second.cancelled, 1, "Marc paid at the other till: {second:?}");

    // What arrived in the mail folder: one message, to Hélène, with the amount.
    let files: Vec<_> = std::fs::read_dir(&mail).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    assert!(eml.contains("c1@example.fr"), "{eml}");
    assert!(!eml.contains("c2@example.fr"), "{eml}");
    assert!(eml.contains("84,20") || eml.contains("84.20"), "{eml}");

    // A third round sends nothing more.
    let third = dispatcher.run_once(later + Duration::minutes(20)).await.unwrap();
    assert_eq!((third.sent, third.cancelled), (0, 0), "{third:?}");

    // The outcome reaches the tills: sent for Hélène, cancelled for Marc.
    let clock_a = move || later + Duration::minutes(30);
    client.sync(&a, &clock_a).await.unwrap();
    {
        let s = a.lock().unwrap();
        let c1 = s.reminders(None, Some("C1"), 10).unwrap();
        assert_eq!(c1.len(), 1);
        assert_eq!(c1[0].state, ReminderState::Sent);
        assert!(c1[0].state_note.as_deref().unwrap_or_default().starts_with("sent "), "{:?}", c1[0].state_note);
        let c2 = s.reminders(None, Some("C2"), 10).unwrap();
        assert_eq!(c2[0].state, ReminderState::Cancelled);
        let timeline = s.customer_timeline("C1", 50).unwrap();
        assert!(
            timeline.iter().any(|t| t.kind == "reminder" && t.state.as_deref().is_some_and(|st| st.contains("sent"))),
            "{timeline:?}"
        );
    }
    serving.shutdown(std::time::Duration::from_secs(1)).await.unwrap();
}

/// A formal notice is not posted while the shop's legal identity is incomplete: it fails with
/// the fields to set, and no letter is written. Once set, the next letter is laid out from the
/// document, signed by the representative.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_formal_notice_waits_for_the_shop_identity() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("server.db").display());
    let db = ardoise_server::connect(&url).await.unwrap();
    let shop = db.create_shop("Épicerie du Marché").await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = ServeConfig { rate: RateLimit { per_second: 0, burst: 0 }, ..Default::default() };
    let serving = ardoise_server::serve(listener, db.clone(), config).await.unwrap();
    let base = serving.base_url();
    let start = at("2026-01-05T09:00:00+01:00");
    let client = Client::new(RetryPolicy::default()).unwrap();
    let till = Mutex::new(Store::open(dir.path().join("a.db")).unwrap());
    let code = db.enrol_code(shop, chrono::Duration::hours(1)).await.unwrap();
    client.enrol(&till, &base, &code, "till", start).await.unwrap();
    {
        let s = till.lock().unwrap();
        let mut settings = (*s.settings()).clone();
        settings.shop_name = "Épicerie du Marché".into();
        settings.shop_email = "bonjour@epicerie.fr".into();
        s.set_settings(settings, start).unwrap();
        for reference in ["B1", "B2"] {
            let mut c = customer(reference, &format!("Client {reference}"));
            c.kind = CustomerKind::Business;
            c.address = Some("5 rue des Lilas\n13210 Saint-Rémy-de-Provence".into());
            s.add_customer(c, start).unwrap();
        }
        let sale = |c: &str, on: Now| SaleRequest {
            customer: c.into(),
            amount: m("250.00"),
            date: Some(on.date_naive()),
            invoice_ref: None,
            cashier: "Léa".into(),
            deposit: None,
        };
        s.sell_on_account(sale("B1", start), start).unwrap();
    }
    // B2's invoice falls due two weeks later: its notice comes after the identity is set. The
    // till syncs first, as a till that sells on account every day does.
    let later = start + Duration::days(14);
    let clock = move || later;
    client.sync(&till, &clock).await.unwrap();
    {
        let s = till.lock().unwrap();
        let sale = SaleRequest {
            customer: "B2".into(),
            amount: m("250.00"),
            date: Some(later.date_naive()),
            invoice_ref: None,
            cashier: "Léa".into(),
            deposit: None,
        };
        s.sell_on_account(sale, later).unwrap();
    }
    client.sync(&till, &clock).await.unwrap();
    let letters = dir.path().join("letters");
    let cfg = DispatchConfig {
        data_dir: dir.path().join("merged"),
        grace_minutes: 0,
        run_ladder: true,
        transports: TransportConfig {
            smtp: None,
            mail_dir: Some(dir.path().join("mail")),
            sms: None,
            letters_dir: letters.clone(),
        },
    };
    let dispatcher = Dispatcher::new(db.clone(), cfg).unwrap();
    let pdfs = || std::fs::read_dir(&letters).map(|d| d.count()).unwrap_or(0);
    // B1's notice is due 70 days after the sale (30 days' terms, then 40).
    for day in 15..=70 {
        dispatcher.run_once(start + Duration::days(day)).await.unwrap();
    }
    assert_eq!(pdfs(), 0, "no letter without the shop's identity");
    let clock = move || start + Duration::days(70) + Duration::hours(1);
    client.sync(&till, &clock).await.unwrap();
    {
        let s = till.lock().unwrap();
        let notice = s.reminders(None, Some("B1"), 20).unwrap().into_iter().find(|r| r.step == "Mise en demeure");
        let notice = notice.expect("B1's formal notice");
        assert_eq!(notice.state, ReminderState::Failed);
        let note = notice.state_note.unwrap_or_default();
        assert!(note.contains("identity is incomplete") && note.contains("SIRET"), "{note}");
        let mut settings = (*s.settings()).clone();
        settings.identity = ardoise_core::identity::sample();
        s.set_settings(settings, start + Duration::days(70) + Duration::hours(1)).unwrap();
    }
    client.sync(&till, &clock).await.unwrap();
    for day in 71..=84 {
        dispatcher.run_once(start + Duration::days(day)).await.unwrap();
    }
    assert_eq!(pdfs(), 1, "B2's formal notice, once the identity is set");
    let pdf = std::fs::read_dir(&letters).unwrap().next().unwrap().unwrap().path();
    let doc = lopdf::Document::load(&pdf).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).unwrap();
    assert!(text.contains("Claire Martin") && text.contains("Mise en demeure de payer"), "{text}");
    serving.shutdown(std::time::Duration::from_secs(1)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_tables_set_on_the_server_reach_every_till_through_sync() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("server.db").display());
    let db = ardoise_server::connect(&url).await.unwrap();
    let shops = [db.create_shop("Épicerie").await.unwrap(), db.create_shop("Boulangerie").await.unwrap()];
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = ServeConfig { rate: RateLimit { per_second: 0, burst: 0 }, ..Default::default() };
    let serving = ardoise_server::serve(listener, db.clone(), config).await.unwrap();
    let base = serving.base_url();
    let start = at("2027-01-04T09:00:00+01:00");
    let client = Client::new(RetryPolicy::default()).unwrap();
    let tills = [
        Mutex::new(Store::open(dir.path().join("a.db")).unwrap()),
        Mutex::new(Store::open(dir.path().join("b.db")).unwrap()),
    ];
    for (till, shop) in tills.iter().zip(shops) {
        let code = db.enrol_code(shop, chrono::Duration::hours(1)).await.unwrap();
        client.enrol(till, &base, &code, "till", start).await.unwrap();
    }
    let cfg = DispatchConfig {
        data_dir: dir.path().join("merged"),
        grace_minutes: 10,
        run_ladder: false,
        transports: TransportConfig { smtp: None, mail_dir: None, sms: None, letters_dir: dir.path().join("letters") },
    };
    let dispatcher = Dispatcher::new(db.clone(), cfg).unwrap();
    let rates = ardoise_core::dunning::penalty::RateTables::parse(
        "# checked_through: 2027-01-03\neffective_date,rate\n2025-06-11,2.15\n2026-06-17,2.40\n",
        "# checked_through: 2027-01-03\nyear,half,a,b\n2026,2,6.84,2.75\n2027,1,6.90,2.80\n",
    )
    .unwrap();
    let stale = tills[0].lock().unwrap().rate_tables().unwrap();
    assert!(stale.covers(chrono::NaiveDate::from_ymd_opt(2027, 1, 4).unwrap()).is_err());
    let updated = dispatcher.set_rates(None, &rates, start).await.unwrap();
    assert_eq!(updated.len(), 2);
    for till in &tills {
        client.sync(till, &move || start + Duration::minutes(1)).await.unwrap();
        assert_eq!(till.lock().unwrap().rate_tables().unwrap(), rates);
    }
    // An older copy is refused and changes nothing.
    let older = ardoise_core::dunning::penalty::RateTables::parse_checked(
        "effective_date,rate\n2025-06-11,2.15\n",
        "year,half,a,b\n2026,2,6.84,2.75\n",
        Some(chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()),
    )
    .unwrap();
    assert!(dispatcher.set_rates(Some(shops[0]), &older, start + Duration::minutes(2)).await.is_err());
    client.sync(&tills[0], &move || start + Duration::minutes(3)).await.unwrap();
    assert_eq!(tills[0].lock().unwrap().rate_tables().unwrap(), rates);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_needing_an_uncovered_half_year_is_held_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    let start = at("2026-11-24T09:00:00+01:00");
    // Due 2026-12-24: the first email on the 29th.
    let OneTill { db, serving: _serving, client, till } = one_till_with_a_sale(dir.path(), start, None).await;
    let mail = dir.path().join("mail");
    let dispatcher = laddering_dispatcher(&db, dir.path());
    // Queued on 31 December, in its grace period; on 2 January its penalties need 2027 H1,
    // which the shipped tables (checked through 2026-12-04) do not cover: held, not sent.
    let queued = dispatcher.run_once(at("2026-12-31T10:00:00+01:00")).await.unwrap();
    assert_eq!((queued.queued_by_ladder, queued.sent), (1, 0), "{queued:?}");
    let next = dispatcher.run_once(at("2027-01-02T10:00:00+01:00")).await.unwrap();
    assert_eq!((next.sent, next.held), (0, 1), "{next:?}");
    assert!(!mail.exists() || std::fs::read_dir(&mail).unwrap().next().is_none(), "nothing was mailed");
    // The till learns why at its next sync.
    client.sync(&till, &move || at("2027-01-02T11:00:00+01:00")).await.unwrap();
    let held = till.lock().unwrap().reminders(Some(ReminderState::Held), Some("B1"), 10).unwrap();
    assert!(!held.is_empty());
    assert!(held.iter().all(|r| r.state_note.as_deref().unwrap_or("").contains("2027")), "{held:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_the_ladder_cannot_process_is_counted_not_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let start = at("2026-11-24T09:00:00+01:00");
    // An old debt brought in late: due 2015-12-31, before the first row of the ECB table
    // (2016-03-16), so its penalties cannot be priced and no reminder can be written.
    let old = Some(chrono::NaiveDate::from_ymd_opt(2015, 12, 1).unwrap());
    let OneTill { db, serving: _serving, .. } = one_till_with_a_sale(dir.path(), start, old).await;
    let dispatcher = laddering_dispatcher(&db, dir.path());
    let report = dispatcher.run_once(start + Duration::hours(1)).await.unwrap();
    assert_eq!((report.not_processed, report.queued_by_ladder), (1, 0), "{report:?}");
    // Counted again on the next day's run: it stays visible until the owner acts.
    let next = dispatcher.run_once(start + Duration::days(1)).await.unwrap();
    assert_eq!(next.not_processed, 1, "{next:?}");
}

/// A shop on SQLite served on loopback, with one enrolled till that sold 1,000 EUR to the
/// business customer B1 on `date` (today when `None`) and synced.
struct OneTill {
    db: ardoise_server::Db,
    serving: ardoise_server::Serving,
    client: Client,
    till: Mutex<Store>,
}

async fn one_till_with_a_sale(dir: &std::path::Path, start: Now, date: Option<chrono::NaiveDate>) -> OneTill {
    let url = format!("sqlite://{}?mode=rwc", dir.join("server.db").display());
    let db = ardoise_server::connect(&url).await.unwrap();
    let shop = db.create_shop("Épicerie").await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = ServeConfig { rate: RateLimit { per_second: 0, burst: 0 }, ..Default::default() };
    let serving = ardoise_server::serve(listener, db.clone(), config).await.unwrap();
    let client = Client::new(RetryPolicy::default()).unwrap();
    let till = Mutex::new(Store::open(dir.join("a.db")).unwrap());
    let code = db.enrol_code(shop, chrono::Duration::hours(1)).await.unwrap();
    client.enrol(&till, &serving.base_url(), &code, "till", start).await.unwrap();
    {
        let s = till.lock().unwrap();
        s.add_customer(NewCustomer { kind: CustomerKind::Business, ..customer("B1", "SARL Fournil") }, start).unwrap();
        let sale = SaleRequest {
            customer: "B1".into(),
            amount: m("1000"),
            date,
            invoice_ref: None,
            cashier: "Léa".into(),
            deposit: None,
        };
        s.sell_on_account(sale, start).unwrap();
    }
    client.sync(&till, &move || start).await.unwrap();
    OneTill { db, serving, client, till }
}

/// A dispatcher that runs the ladder and mails into `dir/mail`.
fn laddering_dispatcher(db: &ardoise_server::Db, dir: &std::path::Path) -> Dispatcher {
    let cfg = DispatchConfig {
        data_dir: dir.join("merged"),
        grace_minutes: 10,
        run_ladder: true,
        transports: TransportConfig {
            smtp: None,
            mail_dir: Some(dir.join("mail")),
            sms: None,
            letters_dir: dir.join("letters"),
        },
    };
    Dispatcher::new(db.clone(), cfg).unwrap()
}
