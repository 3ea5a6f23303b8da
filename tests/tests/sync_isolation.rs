//! Shops are isolated: a device of shop A, with its own valid token, cannot read shop B's
//! changes or status, nor write into B's log whatever ids its request carries (B's device id in
//! the body, payloads naming B's customers and entries). What it writes stays in A; B's log and
//! devices never see it, and A never receives B's data. A revoked token gets 401 and its
//! events stay queued at the till.

use ardoise_core::customer::{NewCustomer, Terms};
use ardoise_core::sync::hlc::Hlc;
use ardoise_core::sync::protocol::{ChangesResponse, ErrorBody, Event, PushRequest, PushResponse, StatusResponse};
use ardoise_core::{Entry, Error, Money, SaleRequest, Uuid};
use ardoise_tests::check::{assert_converged, picture};
use ardoise_tests::server::{Backend, Server, scratch_dir};
use ardoise_tests::till::{Clock, Till, sync_until_quiet};
use reqwest::StatusCode;
use serde_json::json;

struct Raw {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Raw {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await.unwrap()
    }

    async fn push(&self, body: &PushRequest) -> reqwest::Response {
        self.http.post(format!("{}/v1/push", self.base)).bearer_auth(&self.token).json(body).send().await.unwrap()
    }
}

async fn refusal(r: reqwest::Response) -> (StatusCode, ErrorBody) {
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("not an ErrorBody ({e}): {text}")))
}

async fn ok<T: serde::de::DeserializeOwned>(r: reqwest::Response) -> T {
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn sale(customer: &str, cents: i64) -> SaleRequest {
    SaleRequest {
        customer: customer.into(),
        amount: Money::from_minor(cents),
        cashier: "Inès".into(),
        ..Default::default()
    }
}

fn customer(reference: &str, name: &str) -> NewCustomer {
    NewCustomer { reference: reference.into(), name: name.into(), terms: Terms::Net(30), ..Default::default() }
}

async fn shops_are_isolated(backend: Backend) {
    let server = Server::start(backend).await;
    let (shop_a, shop_b) = (server.shop("Shop A").await, server.shop("Shop B").await);
    let dir = scratch_dir();
    let clock = Clock::starting("2026-07-06");
    let a = Till::open(dir.path(), "a-till");
    let b = Till::open(dir.path(), "b-till");
    let b_phone = Till::open(dir.path(), "b-phone");
    a.enrol(&server.base_url(), &server.code(shop_a).await, &clock).await;
    b.enrol(&server.base_url(), &server.code(shop_b).await, &clock).await;
    b_phone.enrol(&server.base_url(), &server.code(shop_b).await, &clock).await;

    // Each shop has its customers and sales.
    let mut recorded_a: Vec<Entry> = Vec::new();
    let mut recorded_b: Vec<Entry> = Vec::new();
    a.with(|s| s.add_customer(customer("A1", "Alice d'A"), clock.now())).unwrap();
    recorded_a.push(a.with(|s| s.sell_on_account(sale("A1", 1_000), clock.now())).unwrap().entry);
    let b_customer = b.with(|s| s.add_customer(customer("B1", "Bruno de B"), clock.now())).unwrap();
    let b_entry = b.with(|s| s.sell_on_account(sale("B1", 2_000), clock.now())).unwrap().entry;
    recorded_b.push(b_entry.clone());
    sync_until_quiet(&[&a], &clock).await;
    sync_until_quiet(&[&b, &b_phone], &clock).await;
    let b_log = server.log(shop_b).await;
    let b_head = server.head(shop_b).await;
    let b_epoch = b.enrolment().epoch;
    let b_picture = b.with(|s| picture(s, clock.today()));

    let ea = a.enrolment();
    let raw = Raw { http: reqwest::Client::new(), base: server.base_url(), token: ea.token.clone() };
    let hlc = |n: u64| Hlc { wall_ms: 1_780_000_000_000 + n as i64, counter: 0, device: a.device_id() }.to_string();

    // Reading: the token's shop, whatever the query asks for.
    let page: ChangesResponse = ok(raw.get("/v1/changes?after=0").await).await;
    assert_eq!(page.epoch, ea.epoch);
    assert!(page.changes.iter().all(|c| c.device_id == a.device_id()), "A reads only A's events");
    assert!(page.changes.iter().all(|c| !b_log.iter().any(|l| l.id == c.event.id)));
    let (status, body) = refusal(raw.get(&format!("/v1/changes?after=0&epoch={b_epoch}")).await).await;
    assert_eq!((status, body.error.as_str()), (StatusCode::CONFLICT, "epoch_changed"), "B's epoch is not A's");
    assert_eq!(body.epoch, Some(ea.epoch), "and the answer names A's epoch, not B's");
    let st: StatusResponse = ok(raw.get("/v1/status").await).await;
    assert_eq!((st.shop_id, st.epoch, st.head), (shop_a, ea.epoch, server.head(shop_a).await));
    // Naming B in the query is either ignored (A's own changes) or refused; never B's changes.
    let r = raw.get(&format!("/v1/changes?after=0&shop={shop_b}&shop_id={shop_b}&device_id={}", b.device_id())).await;
    if r.status() == StatusCode::OK {
        let page: ChangesResponse = r.json().await.unwrap();
        assert!(page.changes.iter().all(|c| c.device_id == a.device_id()), "A reads only A's events");
    } else {
        let (status, body) = refusal(r).await;
        assert!(status.is_client_error() && body.error == "malformed", "{status} {body:?}");
    }

    // Writing with B's device id in the body: refused, nothing written anywhere.
    let head_a = server.head(shop_a).await;
    let expected_a = server.db().expected_seq(shop_a, a.device_id()).await.unwrap();
    let next = expected_a;
    let forged_entry = |id: Uuid, seq: u64, device: Uuid, customer: Uuid| {
        let mut e = b_entry.clone();
        e.id = id;
        e.device_id = device;
        e.device_seq = seq;
        e.customer = customer;
        Event { id, seq, kind: "entry".into(), hlc: hlc(seq), payload: serde_json::to_value(e).unwrap() }
    };
    let as_b = PushRequest {
        acked_through: 0,
        epoch: b_epoch,
        device_id: b.device_id(),
        events: vec![forged_entry(Uuid::new_v4(), b.outbox().len() as u64 + 1, b.device_id(), b_customer.id)],
    };
    let (status, body) = refusal(raw.push(&as_b).await).await;
    assert_eq!((status, body.error.as_str()), (StatusCode::FORBIDDEN, "wrong_device"));
    let as_b_in_a = PushRequest { acked_through: 0, epoch: ea.epoch, ..as_b.clone() };
    let (status, body) = refusal(raw.push(&as_b_in_a).await).await;
    assert_eq!((status, body.error.as_str()), (StatusCode::FORBIDDEN, "wrong_device"));
    // A's own device id but B's epoch: A's epoch is the only one that counts.
    let b_epoch_push = PushRequest {
        acked_through: 0,
        epoch: b_epoch,
        device_id: a.device_id(),
        events: vec![forged_entry(Uuid::new_v4(), next, a.device_id(), b_customer.id)],
    };
    let (status, body) = refusal(raw.push(&b_epoch_push).await).await;
    assert_eq!((status, body.error.as_str(), body.epoch), (StatusCode::CONFLICT, "epoch_changed", Some(ea.epoch)));
    assert_eq!(server.head(shop_a).await, head_a);
    assert_eq!(server.db().expected_seq(shop_a, a.device_id()).await.unwrap(), expected_a);

    // Payloads naming B's customer and entries, from A's device in A's epoch: business
    // refusals or events confined to A's log.
    let forged_id = Uuid::new_v4();
    let events = vec![
        // A sale for B's customer: the shop A never saw that customer.
        forged_entry(forged_id, next, a.device_id(), b_customer.id),
        // A sale claiming to be recorded by B's till.
        forged_entry(Uuid::new_v4(), next + 1, b.device_id(), b_customer.id),
        // B's own entry, replayed with its id: refused in A, untouched in B.
        {
            let mut e = forged_entry(b_entry.id, next + 2, a.device_id(), b_customer.id);
            e.id = b_entry.id;
            e
        },
        // A reversal of B's entry for A's own customer.
        {
            let id = Uuid::new_v4();
            let mut entry = recorded_a[0].clone();
            entry.id = id;
            entry.device_seq = next + 3;
            entry.body = ardoise_core::EntryBody::Reversal { of: b_entry.id, reason: "forged".into() };
            Event {
                id,
                seq: next + 3,
                kind: "entry".into(),
                hlc: hlc(next + 3),
                payload: serde_json::to_value(entry).unwrap(),
            }
        },
        // A rename of B's customer.
        Event {
            id: Uuid::new_v4(),
            seq: next + 4,
            kind: "customer".into(),
            hlc: hlc(next + 4),
            payload: json!({
                "customer": {"id": b_customer.id, "reference": "B1", "name": "Forged by A", "email": null, "phone": null,
                             "kind": "consumer", "credit_limit": null, "terms": "30", "blocked": null,
                             "consent_email": false, "consent_sms": false, "notes": ""},
                "changed": ["name"],
            }),
        },
        // A dispute row on B's customer and B's invoice.
        Event {
            id: Uuid::new_v4(),
            seq: next + 5,
            kind: "row".into(),
            hlc: hlc(next + 5),
            payload: json!({"table": "disputes", "row": {
                "uuid": {"$blob": Uuid::new_v4().simple().to_string()},
                "customer_id": {"$customer": b_customer.id.to_string()},
                "invoice": {"$blob": b_entry.id.simple().to_string()},
                "reason": "forged", "state": "open", "opened_on": "2026-07-06", "resolution": null}}),
        },
    ];
    let resp: PushResponse = ok(raw
        .push(&PushRequest { acked_through: 0, epoch: ea.epoch, device_id: a.device_id(), events: events.clone() })
        .await)
    .await;
    assert_eq!(resp.acked_through, next + 5);
    let rejected: Vec<u64> = resp.rejected.iter().map(|r| r.seq).collect();
    // Entries naming customers A's log does not hold stay in A's log (A's devices keep them
    // parked: no customer of A is touched); one claiming B's device as author is refused, and
    // so is the reversal for A's customer of the entry that A's log now holds for another.
    assert_eq!(rejected, vec![next + 1, next + 3], "{:?}", resp.rejected);
    assert_eq!(resp.rejected[0].reason, "invalid entry: its id or device is not the event's");
    assert!(resp.rejected[1].reason.ends_with("is another customer's"), "{:?}", resp.rejected);

    // B's log, head and devices are untouched.
    assert_eq!(server.log(shop_b).await, b_log, "B's log");
    assert_eq!(server.head(shop_b).await, b_head);
    assert_eq!(server.count("rejections", shop_b).await, 0);
    for t in [&b, &b_phone] {
        let r = t.sync(&clock).await.unwrap();
        assert_eq!(r.applied, 0, "{}", t.name);
        assert_eq!(t.with(|s| picture(s, clock.today())), b_picture, "{}: B's devices see nothing of A", t.name);
    }
    assert_converged(&server, shop_b, &[&b, &b_phone], &recorded_b, clock.today()).await;

    // What A wrote stays in A's log; A's till never receives B's data: it pulls A's log only.
    let a_log = server.log(shop_a).await;
    assert!(a_log.iter().all(|l| l.device == a.device_id()));
    // The only id shared with B's log is the copy of B's entry that A forged above from what
    // the test knows: it lives in A's log, as A's device's event, and reached nothing of B.
    let shared: Vec<Uuid> = a_log.iter().filter(|l| b_log.iter().any(|b| b.id == l.id)).map(|l| l.id).collect();
    assert!(shared.iter().all(|id| *id == b_entry.id), "none of B's events is in A's log: {shared:?}");
    a.sync(&clock).await.unwrap();
    let pa = a.with(|s| picture(s, clock.today()));
    assert!(pa.entries.iter().all(|e| e.id != b_entry.id), "B's entry did not reach A");
    assert!(pa.customers.iter().all(|c| c.name != b_customer.name), "B's customer did not reach A");

    // A device of A cannot join B with a code of B: its id belongs to A.
    let code_b = server.code(shop_b).await;
    let r = raw
        .http
        .post(format!("{}/v1/enrol", server.base_url()))
        .json(&json!({"code": code_b, "device_id": a.device_id(), "device_name": "sneaky"}))
        .send()
        .await
        .unwrap();
    let (status, body) = refusal(r).await;
    assert_eq!((status, body.error.as_str()), (StatusCode::CONFLICT, "wrong_device"));
    assert_eq!(server.devices(shop_b).await.len(), 2, "B still has its two devices");
    // The code was not spent by the refusal: a real device of B can still use it.
    let b_new = Till::open(dir.path(), "b-new");
    b_new.enrol(&server.base_url(), &code_b, &clock).await;
}

async fn revoked_token(backend: Backend) {
    let server = Server::start(backend).await;
    let shop = server.shop("Shop R").await;
    let dir = scratch_dir();
    let clock = Clock::starting("2026-08-03");
    let till = Till::open(dir.path(), "till");
    till.enrol(&server.base_url(), &server.code(shop).await, &clock).await;
    let mut recorded = Vec::new();
    till.with(|s| s.add_customer(customer("R1", "Romain"), clock.now())).unwrap();
    recorded.push(till.with(|s| s.sell_on_account(sale("R1", 700), clock.now())).unwrap().entry);
    till.sync(&clock).await.unwrap();
    let head = server.head(shop).await;

    server.db().revoke(till.device_id()).await.unwrap();
    for _ in 0..3 {
        recorded.push(till.with(|s| s.sell_on_account(sale("R1", 300), clock.now())).unwrap().entry);
    }
    let e = till.sync(&clock).await.unwrap_err();
    assert!(matches!(&e, Error::Sync { code, retryable: false, .. } if code == "unauthorized"), "{e}");
    let st = till.with(|s| s.sync_status()).unwrap();
    assert_eq!(st.waiting, 3, "the events stay queued: {st:?}");
    assert_eq!(st.failures, 1);
    assert!(st.last_error.as_deref().is_some_and(|m| m.contains("unauthorized")), "{st:?}");
    assert_eq!(server.head(shop).await, head, "nothing was written");
    let raw = Raw { http: reqwest::Client::new(), base: server.base_url(), token: till.enrolment().token };
    for path in ["/v1/status", "/v1/changes?after=0"] {
        let r = raw.get(path).await;
        assert_eq!(r.headers().get("www-authenticate").and_then(|v| v.to_str().ok()), Some("Bearer"));
        let (status, body) = refusal(r).await;
        assert_eq!((status, body.error.as_str()), (StatusCode::UNAUTHORIZED, "unauthorized"), "{path}");
    }
    // Still refused later, still nothing lost.
    till.sync(&clock).await.unwrap_err();
    let st = till.with(|s| s.sync_status()).unwrap();
    assert_eq!((st.waiting, st.failures), (3, 2));

    // An ordinary code cannot lift the revocation (it would let any device of the shop take
    // over a till); the operator replaces the till, whose code enrols only that device id.
    let refused = till.try_enrol(&server.base_url(), &server.code(shop).await, &clock).await;
    assert!(matches!(&refused, Err(Error::Sync { code, .. }) if code == "device_exists"), "{refused:?}");
    assert!(server.devices(shop).await[0].revoked_at.is_some(), "still revoked");
    // It keeps its sequence, and everything queued arrives once.
    let code = server.db().replace_device(shop, till.device_id(), chrono::Duration::hours(1)).await.unwrap();
    till.enrol(&server.base_url(), &code, &clock).await;
    sync_until_quiet(&[&till], &clock).await;
    assert_converged(&server, shop, &[&till], &recorded, clock.today()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shops_are_isolated_on_sqlite() {
    shops_are_isolated(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shops_are_isolated_on_postgres() {
    shops_are_isolated(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_refused_and_nothing_is_lost_on_sqlite() {
    revoked_token(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_refused_and_nothing_is_lost_on_postgres() {
    revoked_token(Backend::Postgres).await;
}
