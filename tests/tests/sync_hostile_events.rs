//! One device of a shop pushing events its own till would never write (issue 17, finding 1):
//! negative, zero and unparseable amounts, dates out of range, a payment aimed at another
//! customer's invoice, a reversal of a reversal, a clock naming another device, a kind no
//! device applies. Each is refused one by one (the queue never blocks), recorded where the
//! owner sees it (`ardoise-server rejections`), and stored nowhere: the other tills and the
//! server's log carry on, and every device ends with the same accounts passing the audit.

use ardoise_core::customer::{NewCustomer, Terms};
use ardoise_core::sync::hlc::Hlc;
use ardoise_core::sync::protocol::{Event, PushRequest, PushResponse, StatusResponse};
use ardoise_core::{Entry, Money, SaleRequest, Uuid};
use ardoise_tests::check::assert_converged;
use ardoise_tests::server::{Backend, Server, scratch_dir};
use ardoise_tests::till::{Clock, Till, sync_until_quiet};
use serde_json::{Value, json};

fn add_customer(t: &Till, reference: &str, clock: &Clock) {
    let new =
        NewCustomer { reference: reference.into(), name: "Rémi".into(), terms: Terms::Net(30), ..Default::default() };
    t.with(|s| s.add_customer(new, clock.now())).unwrap();
}

/// Pushes `events` as the hostile device, numbered from what the server expects next.
async fn push_raw(server: &Server, till: &Till, mut events: Vec<Event>) -> (reqwest::StatusCode, String) {
    let http = reqwest::Client::new();
    let token = till.enrolment().token;
    let status: StatusResponse = http
        .get(format!("{}/v1/status", server.base_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (i, e) in events.iter_mut().enumerate() {
        e.seq = status.expected + i as u64;
        if e.kind == "entry" && e.payload.get("device_seq").is_some() {
            e.payload["device_seq"] = json!(e.seq);
        }
    }
    let body = PushRequest { epoch: status.epoch, device_id: till.device_id(), acked_through: 0, events };
    let r = http.post(format!("{}/v1/push", server.base_url())).bearer_auth(&token).json(&body).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// An entry event of the hostile device built from a genuine entry, with `edit` applied to
/// its JSON.
fn forged(device: Uuid, template: &Entry, edit: impl FnOnce(&mut Value)) -> Event {
    let id = Uuid::new_v4();
    let mut payload = serde_json::to_value(template).unwrap();
    payload["id"] = json!(id);
    payload["device_id"] = json!(device);
    payload["device_seq"] = json!(0);
    edit(&mut payload);
    let hlc = Hlc::tick(None, chrono::Utc::now().timestamp_millis(), device).to_string();
    Event { id, seq: 0, kind: "entry".into(), hlc, payload }
}

async fn a_device_cannot_put_into_the_books_what_a_till_would_refuse(backend: Backend) {
    let server = Server::start(backend).await;
    let shop = server.shop("Épicerie").await;
    let dir = scratch_dir();
    let clock = Clock::starting("2026-09-07");
    let tills: Vec<Till> = ["till-a", "till-b", "hostile"].iter().map(|n| Till::open(dir.path(), n)).collect();
    for t in &tills {
        t.enrol(&server.base_url(), &server.code(shop).await, &clock).await;
    }
    let (a, b, hostile) = (&tills[0], &tills[1], &tills[2]);
    add_customer(a, "R1", &clock);
    add_customer(a, "R2", &clock);
    let sale = |customer: &str, cents| SaleRequest {
        customer: customer.into(),
        amount: Money::from_minor(cents),
        cashier: "Inès".into(),
        ..Default::default()
    };
    let mut recorded = vec![a.with(|s| s.sell_on_account(sale("R1", 1_250), clock.now())).unwrap().entry];
    let r1_sale = recorded[0].clone();
    sync_until_quiet(&[a, b, hostile], &clock).await;
    let r2 = b.with(|s| s.customer("R2")).unwrap().id;
    let log_before = server.log(shop).await;

    let h = hostile.device_id();
    let amount = |v: &str| {
        let v = v.to_owned();
        move |p: &mut Value| p["amount"] = json!(v)
    };
    let bad = vec![
        forged(h, &r1_sale, amount("-45.20")),
        forged(h, &r1_sale, amount("0")),
        forged(h, &r1_sale, amount("NaN")),
        forged(h, &r1_sale, amount("1e309")),
        forged(h, &r1_sale, amount("1,50")),
        forged(h, &r1_sale, |p| p["business_date"] = json!("0000-01-01")),
        forged(h, &r1_sale, |p| p["business_date"] = json!("1899-12-31")),
        forged(h, &r1_sale, |p| p["due_on"] = json!("2026-01-01")),
        // A payment by R2 aimed at R1's invoice.
        forged(h, &r1_sale, |p| {
            *p = json!({"id": p["id"], "device_id": p["device_id"], "device_seq": 0, "customer": r2,
                        "business_date": "2026-09-07", "recorded_at": "2026-09-07T10:00:00Z", "cashier": "x",
                        "kind": "payment", "amount": "12.50", "method": "cash", "invoice": r1_sale.id});
        }),
        // An entry recorded by another device.
        forged(h, &r1_sale, |p| p["device_id"] = json!(a.device_id())),
    ];
    let n = bad.len();
    let (status, body) = push_raw(&server, hostile, bad).await;
    assert_eq!(status, 200, "{body}");
    let resp: PushResponse = serde_json::from_str(&body).unwrap();
    assert_eq!(resp.rejected.len(), n, "every forged entry is refused: {resp:?}");
    for (r, why) in resp.rejected.iter().zip([
        "amount",
        "amount",
        "entry",
        "entry",
        "entry",
        "business date",
        "business date",
        "due date",
        "another customer's",
        "its id or device",
    ]) {
        assert!(r.reason.contains(why), "{why}: {}", r.reason);
    }

    // A clock naming another device, and a kind no device applies.
    let mut customer_edit = json!({"customer": b.with(|s| s.customer("R2")).unwrap(), "changed": ["phone"]});
    customer_edit["customer"]["phone"] = json!("+33 6 00 00 00 00");
    let stolen_clock = Hlc::tick(None, chrono::Utc::now().timestamp_millis(), a.device_id()).to_string();
    let events = vec![
        Event { id: Uuid::new_v4(), seq: 0, kind: "customer".into(), hlc: stolen_clock, payload: customer_edit },
        Event {
            id: Uuid::new_v4(),
            seq: 0,
            kind: "followup".into(),
            hlc: Hlc::tick(None, chrono::Utc::now().timestamp_millis(), h).to_string(),
            payload: json!({"blob": "x".repeat(1000)}),
        },
    ];
    let (status, body) = push_raw(&server, hostile, events).await;
    assert_eq!(status, 200, "{body}");
    let resp: PushResponse = serde_json::from_str(&body).unwrap();
    assert_eq!(resp.rejected.len(), 2, "{resp:?}");

    // Nothing joined the log; the owner sees every refusal with its reason.
    assert_eq!(server.log(shop).await, log_before);
    assert_eq!(server.db().rejections(shop, 100).await.unwrap().len(), n + 2);

    // The genuine tills carry on and agree to the cent, the audit passing everywhere. (The
    // hostile till itself is left out: its own outbox was overtaken by the forged pushes.)
    recorded.push(b.with(|s| s.sell_on_account(sale("R2", 700), clock.now())).unwrap().entry);
    sync_until_quiet(&[a, b], &clock).await;
    assert_converged(&server, shop, &[a, b], &recorded, clock.today()).await;
    let r1 = a.with(|s| s.account("R1", clock.today())).unwrap();
    assert_eq!(r1.balance, Money::from_minor(1_250));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_cannot_put_into_the_books_what_a_till_would_refuse_on_sqlite() {
    a_device_cannot_put_into_the_books_what_a_till_would_refuse(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_cannot_put_into_the_books_what_a_till_would_refuse_on_postgres() {
    a_device_cannot_put_into_the_books_what_a_till_would_refuse(Backend::Postgres).await;
}
