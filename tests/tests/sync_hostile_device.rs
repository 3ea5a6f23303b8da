//! One hostile device inside a shop (issue 17, findings 4 and 5), with its own valid token and
//! the ids every device sees in the log: forged cursors and acknowledgements are refused and
//! change neither the shop's epoch nor its log, so the other tills never resync nor hear of a
//! restore; a fresh enrolment code cannot take over a till of the shop, live or revoked; only
//! the operator's `replace-device` re-enrols a till, revoking its old token.

use ardoise_core::customer::{NewCustomer, Terms};
use ardoise_core::sync::protocol::{EnrolRequest, ErrorBody, PushRequest};
use ardoise_core::{Entry, Money, SaleRequest, Uuid};
use ardoise_tests::check::assert_converged;
use ardoise_tests::server::{Backend, Server, scratch_dir};
use ardoise_tests::till::{Clock, Till, sync_until_quiet};
use reqwest::StatusCode;

async fn refusal(r: reqwest::Response) -> (StatusCode, ErrorBody) {
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("not an ErrorBody ({e}): {text}")))
}

fn sell(t: &Till, customer: &str, cents: i64, clock: &Clock, recorded: &mut Vec<Entry>) {
    let sale = SaleRequest {
        customer: customer.into(),
        amount: Money::from_minor(cents),
        cashier: "Inès".into(),
        ..Default::default()
    };
    recorded.push(t.with(|s| s.sell_on_account(sale, clock.now())).unwrap().entry);
}

fn add_customer(t: &Till, reference: &str, clock: &Clock) {
    let new =
        NewCustomer { reference: reference.into(), name: "Rémi".into(), terms: Terms::Net(30), ..Default::default() };
    t.with(|s| s.add_customer(new, clock.now())).unwrap();
}

async fn enrol_raw(server: &Server, code: &str, device: Uuid) -> reqwest::Response {
    let body = EnrolRequest { code: code.into(), device_id: device, device_name: "intrus".into() };
    reqwest::Client::new().post(format!("{}/v1/enrol", server.base_url())).json(&body).send().await.unwrap()
}

async fn forged_reads_and_pushes_change_nothing(backend: Backend) {
    let server = Server::start(backend).await;
    let shop = server.shop("Épicerie").await;
    let dir = scratch_dir();
    let clock = Clock::starting("2026-09-07");
    let tills: Vec<Till> = ["till-a", "till-b", "hostile"].iter().map(|n| Till::open(dir.path(), n)).collect();
    for t in &tills {
        t.enrol(&server.base_url(), &server.code(shop).await, &clock).await;
    }
    let (a, b, hostile) = (&tills[0], &tills[1], &tills[2]);
    let mut recorded = Vec::new();
    add_customer(a, "R1", &clock);
    sell(a, "R1", 1_250, &clock, &mut recorded);
    sync_until_quiet(&[a, b, hostile], &clock).await;
    let (epoch, head) = (server.db().shop(shop).await.unwrap().epoch, server.head(shop).await);
    let known = server.log(shop).await;

    let http = reqwest::Client::new();
    let token = hostile.enrolment().token;
    let get = |query: String| http.get(format!("{}/v1/changes?{query}", server.base_url())).bearer_auth(&token).send();
    for after in [head + 1, 1 << 63, u64::MAX] {
        let (status, e) = refusal(get(format!("after={after}&epoch={epoch}")).await.unwrap()).await;
        assert_eq!((status, e.error.as_str(), e.epoch), (StatusCode::CONFLICT, "cursor_ahead", Some(epoch)), "{after}");
    }
    let (status, e) = refusal(get("after=18446744073709551616".into()).await.unwrap()).await;
    assert_eq!((status, e.error.as_str()), (StatusCode::BAD_REQUEST, "malformed"));
    for at in [Uuid::new_v4(), known[0].id] {
        let (status, e) = refusal(get(format!("after={head}&epoch={epoch}&at={at}")).await.unwrap()).await;
        assert_eq!((status, e.error.as_str(), e.epoch), (StatusCode::CONFLICT, "history_differs", Some(epoch)));
    }
    // A push claiming acknowledgements the server never gave, with a gap: the hostile till's
    // genuine sale, renumbered.
    sell(hostile, "R1", 100, &clock, &mut recorded);
    let mut events = hostile.with(|s| s.push_batch(1)).unwrap();
    events[0].seq += 40;
    let body = PushRequest { epoch, device_id: hostile.device_id(), acked_through: u64::MAX, events };
    let r = http.post(format!("{}/v1/push", server.base_url())).bearer_auth(&token).json(&body).send().await.unwrap();
    let (status, e) = refusal(r).await;
    assert_eq!((status, e.error.as_str()), (StatusCode::CONFLICT, "sequence_gap"));

    // Nothing was written.
    assert_eq!(server.db().shop(shop).await.unwrap().epoch, epoch);
    assert_eq!(server.log(shop).await, known);

    // The other tills carry on: no resync, no "server restored", and everyone converges (the
    // hostile till's genuine sale included).
    sell(b, "R1", 700, &clock, &mut recorded);
    for t in [a, b] {
        let r = t.sync(&clock).await.unwrap();
        assert!(!r.epoch_reset, "{}: {r:?}", t.name);
        assert_eq!(t.enrolment().epoch, epoch);
    }
    sync_until_quiet(&[a, b, hostile], &clock).await;
    assert_converged(&server, shop, &[a, b, hostile], &recorded, clock.today()).await;
    assert_eq!(server.db().shop(shop).await.unwrap().epoch, epoch);
}

async fn an_enrolment_code_cannot_take_over_a_till(backend: Backend) {
    let server = Server::start(backend).await;
    let shop = server.shop("Quincaillerie").await;
    let dir = scratch_dir();
    let clock = Clock::starting("2026-09-14");
    let live = Till::open(dir.path(), "live");
    let lost = Till::open(dir.path(), "lost");
    for t in [&live, &lost] {
        t.enrol(&server.base_url(), &server.code(shop).await, &clock).await;
    }
    let mut recorded = Vec::new();
    add_customer(&live, "R1", &clock);
    sell(&live, "R1", 4_000, &clock, &mut recorded);
    sync_until_quiet(&[&live, &lost], &clock).await;
    server.db().revoke(lost.device_id()).await.unwrap();
    let before = server.devices(shop).await;

    // A fresh code, with the id of a live or a revoked till: refused, nothing changed, the
    // code still unspent.
    let code = server.code(shop).await;
    for target in [live.device_id(), lost.device_id()] {
        let (status, e) = refusal(enrol_raw(&server, &code, target).await).await;
        assert_eq!((status, e.error.as_str()), (StatusCode::CONFLICT, "device_exists"), "{e:?}");
    }
    assert_eq!(server.devices(shop).await, before);
    sell(&live, "R1", 300, &clock, &mut recorded);
    let r = live.sync(&clock).await.unwrap();
    assert_eq!(r.pushed, 1, "the live till's token still works");
    assert!(lost.sync(&clock).await.is_err(), "the revoked till stays revoked");
    assert_eq!(enrol_raw(&server, &code, Uuid::new_v4()).await.status(), StatusCode::OK, "code unspent");

    // The operator replaces the lost till: its code enrols that device id only.
    let replace = server.db().replace_device(shop, lost.device_id(), chrono::Duration::hours(1)).await.unwrap();
    let (status, e) = refusal(enrol_raw(&server, &replace, Uuid::new_v4()).await).await;
    assert_eq!((status, e.error.as_str()), (StatusCode::CONFLICT, "code_for_another_device"));
    lost.enrol(&server.base_url(), &replace, &clock).await;
    sell(&lost, "R1", 900, &clock, &mut recorded);
    sync_until_quiet(&[&live, &lost], &clock).await;
    assert_converged(&server, shop, &[&live, &lost], &recorded, clock.today()).await;

    // Replacing the live till revokes it at once: its next sync is refused.
    let _code = server.db().replace_device(shop, live.device_id(), chrono::Duration::hours(1)).await.unwrap();
    assert!(live.sync(&clock).await.is_err());
    let listed = server.devices(shop).await;
    assert!(listed.iter().find(|d| d.id == live.device_id()).unwrap().revoked_at.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_reads_and_pushes_change_nothing_on_sqlite() {
    forged_reads_and_pushes_change_nothing(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_reads_and_pushes_change_nothing_on_postgres() {
    forged_reads_and_pushes_change_nothing(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrolment_code_cannot_take_over_a_till_on_sqlite() {
    an_enrolment_code_cannot_take_over_a_till(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrolment_code_cannot_take_over_a_till_on_postgres() {
    an_enrolment_code_cannot_take_over_a_till(Backend::Postgres).await;
}
