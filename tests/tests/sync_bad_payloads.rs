//! Bad requests over raw HTTP: each gets a 4xx whose body is an `ErrorBody` with the code
//! docs/SYNC.md gives for it, and writes nothing: the shop's head, the device's expected
//! sequence, the log, the rejections and the known customers stay as they were. A good push
//! afterwards is taken as if nothing had happened.

use ardoise_core::Uuid;
use ardoise_core::sync::hlc::Hlc;
use ardoise_core::sync::protocol::{
    EnrolResponse, ErrorBody, Event, MAX_BODY_BYTES, MAX_EVENT_BYTES, MAX_PUSH_EVENTS, PushRequest, PushResponse,
    StatusResponse,
};
use ardoise_tests::server::{Backend, Server};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Device {
    id: Uuid,
    token: String,
    epoch: Uuid,
}

struct Env {
    server: Server,
    http: reqwest::Client,
    shop: Uuid,
    device: Device,
    /// The state every refused request must leave as it found.
    baseline: Option<Snapshot>,
}

/// What must not move.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    head: u64,
    expected: u64,
    events: i64,
    rejections: i64,
    customers: i64,
}

impl Env {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    async fn snapshot(&self) -> Snapshot {
        let st: StatusResponse = self.get_ok("/v1/status").await;
        let expected = self.server.db().expected_seq(self.shop, self.device.id).await.unwrap();
        assert_eq!(st.expected, expected);
        Snapshot {
            head: self.server.head(self.shop).await,
            expected,
            events: self.server.count("events", self.shop).await,
            rejections: self.server.count("rejections", self.shop).await,
            customers: self.server.count("shop_customers", self.shop).await,
        }
    }

    async fn get_ok<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let r = self.http.get(self.url(path)).bearer_auth(&self.device.token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }

    async fn push_raw(&self, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.http
            .post(self.url("/v1/push"))
            .bearer_auth(&self.device.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn push(&self, events: Vec<Event>) -> reqwest::Response {
        let body = PushRequest { acked_through: 0, epoch: self.device.epoch, device_id: self.device.id, events };
        self.push_raw(serde_json::to_vec(&body).unwrap()).await
    }

    /// The request got `status` and `code`, and nothing moved.
    async fn refused(&self, what: &str, r: reqwest::Response, status: StatusCode, code: &str) -> ErrorBody {
        let before = self.baseline.as_ref().expect("a baseline");
        let got = r.status();
        let text = r.text().await.unwrap();
        let body: ErrorBody =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: not an ErrorBody ({e}): {text}"));
        assert_eq!((got, body.error.as_str()), (status, code), "{what}: {}", body.message);
        assert!(!body.message.is_empty(), "{what}: an error says why");
        assert_eq!(&self.snapshot().await, before, "{what} wrote something");
        body
    }

    fn event(&self, seq: u64, kind: &str, payload: Value) -> Event {
        let hlc = Hlc { wall_ms: 1_780_000_000_000 + seq as i64, counter: 0, device: self.device.id }.to_string();
        Event { id: Uuid::new_v4(), seq, kind: kind.to_owned(), hlc, payload }
    }

    fn note(&self, seq: u64) -> Event {
        self.event(seq, "row", json!({"table": "settings", "row": {"key": "k", "value": seq.to_string()}}))
    }
}

async fn env(backend: Backend) -> Env {
    let server = Server::start(backend).await;
    let shop = server.shop("Pâtisserie").await;
    let http = reqwest::Client::new();
    let id = Uuid::new_v4();
    let r = http
        .post(format!("{}/v1/enrol", server.base_url()))
        .json(&json!({"code": server.code(shop).await, "device_id": id, "device_name": "till"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let e: EnrolResponse = r.json().await.unwrap();
    let mut env = Env { server, http, shop, device: Device { id, token: e.token, epoch: e.epoch }, baseline: None };
    // One good event first, so that "nothing moved" means something.
    let customer = env.event(
        1,
        "customer",
        json!({"customer": {"id": Uuid::new_v4(), "reference": "C1", "name": "Chloé", "email": null, "phone": null,
                            "kind": "consumer", "credit_limit": null, "terms": "30", "blocked": null,
                            "consent_email": false, "consent_sms": false, "notes": ""},
               "changed": ["*"]}),
    );
    let r = env.push(vec![customer]).await;
    assert_eq!(r.status(), StatusCode::OK);
    env.baseline = Some(env.snapshot().await);
    env
}

async fn bad_payloads(backend: Backend) {
    let env = env(backend).await;
    let start = env.snapshot().await;
    assert_eq!((start.head, start.expected, start.events, start.customers), (1, 2, 1, 1));
    let d = &env.device;
    let bad = StatusCode::BAD_REQUEST;
    let large = StatusCode::PAYLOAD_TOO_LARGE;

    // Size.
    let huge = "x".repeat(MAX_BODY_BYTES + 1024);
    let body =
        json!({"epoch": d.epoch, "device_id": d.id, "events": [env.event(2, "settings", json!({"blob": huge}))]});
    env.refused(
        "a body over 4 MiB",
        env.push_raw(serde_json::to_vec(&body).unwrap()).await,
        large,
        "payload_too_large",
    )
    .await;
    let many: Vec<Event> = (2..2 + MAX_PUSH_EVENTS as u64 + 1).map(|s| env.note(s)).collect();
    env.refused("501 events", env.push(many).await, large, "payload_too_large").await;
    let fat = env.event(2, "settings", json!({"blob": "y".repeat(MAX_EVENT_BYTES + 1)}));
    env.refused("a payload over 64 KiB", env.push(vec![fat]).await, large, "payload_too_large").await;

    // Shape.
    env.refused("truncated JSON", env.push_raw(r#"{"epoch": "#).await, bad, "malformed").await;
    env.refused("not JSON", env.push_raw("hello").await, bad, "malformed").await;
    env.refused("an empty body", env.push_raw("").await, bad, "malformed").await;
    let good = serde_json::to_value(env.note(2)).unwrap();
    let wrong_types: Vec<(&str, Value)> = vec![
        ("seq as a string", json!({"epoch": d.epoch, "device_id": d.id, "events": [with(&good, "seq", json!("2"))]})),
        ("a negative seq", json!({"epoch": d.epoch, "device_id": d.id, "events": [with(&good, "seq", json!(-2))]})),
        ("events as an object", json!({"epoch": d.epoch, "device_id": d.id, "events": {"0": good}})),
        ("a device id that is no uuid", json!({"epoch": d.epoch, "device_id": "till-1", "events": [good]})),
        (
            "an event id that is no uuid",
            json!({"epoch": d.epoch, "device_id": d.id, "events": [with(&good, "id", json!(7))]}),
        ),
        (
            "an event without payload",
            json!({"epoch": d.epoch, "device_id": d.id, "events": [without(&good, "payload")]}),
        ),
        ("no epoch", json!({"device_id": d.id, "events": [good]})),
        ("an array", json!([good])),
    ];
    for (what, body) in wrong_types {
        env.refused(what, env.push_raw(serde_json::to_vec(&body).unwrap()).await, bad, "malformed").await;
    }

    // Sequences.
    env.refused("a gap inside the batch", env.push(vec![env.note(2), env.note(4)]).await, bad, "malformed").await;
    env.refused("a batch out of order", env.push(vec![env.note(3), env.note(2)]).await, bad, "malformed").await;
    env.refused("sequence 0", env.push(vec![env.note(0)]).await, bad, "malformed").await;
    let gap = env
        .refused(
            "a gap after the expected sequence",
            env.push(vec![env.note(5)]).await,
            StatusCode::CONFLICT,
            "sequence_gap",
        )
        .await;
    assert_eq!(gap.expected, Some(2), "the answer says where to resume");

    // Kinds and clocks.
    env.refused("an unknown kind", env.push(vec![env.event(2, "teleport", json!({}))]).await, bad, "unknown_kind")
        .await;
    env.refused(
        "a good event then an unknown kind",
        env.push(vec![env.note(2), env.event(3, "teleport", json!({}))]).await,
        bad,
        "unknown_kind",
    )
    .await;
    for hlc in
        ["", "yesterday", "1.2", "-5.0.00000000000000000000000000000000", "12.x.00000000000000000000000000000000"]
    {
        let mut e = env.note(2);
        e.hlc = hlc.to_owned();
        env.refused(&format!("the hlc {hlc:?}"), env.push(vec![e]).await, bad, "malformed").await;
        let mut e = env.note(3);
        e.hlc = hlc.to_owned();
        env.refused(
            &format!("a good event then the hlc {hlc:?}"),
            env.push(vec![env.note(2), e]).await,
            bad,
            "malformed",
        )
        .await;
    }

    // Who and which epoch.
    let other = PushRequest { acked_through: 0, epoch: d.epoch, device_id: Uuid::new_v4(), events: vec![env.note(2)] };
    env.refused(
        "another device id",
        env.push_raw(serde_json::to_vec(&other).unwrap()).await,
        StatusCode::FORBIDDEN,
        "wrong_device",
    )
    .await;
    let stale = PushRequest { acked_through: 0, epoch: Uuid::new_v4(), device_id: d.id, events: vec![env.note(2)] };
    let body = env
        .refused(
            "another epoch",
            env.push_raw(serde_json::to_vec(&stale).unwrap()).await,
            StatusCode::CONFLICT,
            "epoch_changed",
        )
        .await;
    assert_eq!(body.epoch, Some(d.epoch));
    let no_token = env.http.post(env.url("/v1/push")).json(&PushRequest {
        acked_through: 0,
        epoch: d.epoch,
        device_id: d.id,
        events: vec![env.note(2)],
    });
    env.refused("no token", no_token.send().await.unwrap(), StatusCode::UNAUTHORIZED, "unauthorized").await;
    let forged = env.http.post(env.url("/v1/push")).bearer_auth("0".repeat(64)).json(&PushRequest {
        acked_through: 0,
        epoch: d.epoch,
        device_id: d.id,
        events: vec![env.note(2)],
    });
    env.refused("an unknown token", forged.send().await.unwrap(), StatusCode::UNAUTHORIZED, "unauthorized").await;
    let v2 = env
        .http
        .post(env.url("/v1/push"))
        .bearer_auth(&d.token)
        .header("Ardoise-Protocol", "2")
        .json(&PushRequest { acked_through: 0, epoch: d.epoch, device_id: d.id, events: vec![env.note(2)] });
    env.refused("protocol version 2", v2.send().await.unwrap(), bad, "malformed").await;

    // Reads with bad queries, and requests to nowhere.
    for q in ["after=-1", "after=abc", "after=1&limit=x", "after=1&epoch=nope"] {
        let r = env.http.get(env.url(&format!("/v1/changes?{q}"))).bearer_auth(&d.token).send().await.unwrap();
        env.refused(q, r, bad, "malformed").await;
    }
    let r = env.http.get(env.url("/v1/push")).bearer_auth(&d.token).send().await.unwrap();
    env.refused("GET /v1/push", r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    let r = env.http.post(env.url("/v1/teleport")).bearer_auth(&d.token).body("{}").send().await.unwrap();
    env.refused("an unknown endpoint", r, StatusCode::NOT_FOUND, "not_found").await;

    // Enrolment.
    let r = env
        .http
        .post(env.url("/v1/enrol"))
        .json(&json!({"code": "ABCDEFGHJK", "device_id": Uuid::new_v4(), "device_name": "x"}));
    env.refused("an unknown code", r.send().await.unwrap(), StatusCode::UNAUTHORIZED, "bad_code").await;
    let code = env.server.code(env.shop).await;
    let r = env
        .http
        .post(env.url("/v1/enrol"))
        .json(&json!({"code": code, "device_id": Uuid::new_v4(), "device_name": " "}));
    env.refused("a blank device name", r.send().await.unwrap(), bad, "malformed").await;
    let r = env.http.post(env.url("/v1/enrol")).json(&json!({"code": code, "device_id": "till"}));
    env.refused("an enrolment without uuid nor name", r.send().await.unwrap(), bad, "malformed").await;
    assert_eq!(env.server.devices(env.shop).await.len(), 1, "no device was enrolled");

    // After all that, the device resumes exactly where it was.
    assert_eq!(env.snapshot().await, start);
    let r = env.push(vec![env.note(2), env.note(3)]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let resp: PushResponse = r.json().await.unwrap();
    assert_eq!((resp.acked_through, resp.head, resp.rejected.len()), (3, 3, 0));
}

/// `base` with `key` set to `value`.
fn with(base: &Value, key: &str, value: Value) -> Value {
    let mut m = base.as_object().unwrap().clone();
    m.insert(key.to_owned(), value);
    Value::Object(m)
}

/// `base` without `key`.
fn without(base: &Value, key: &str) -> Value {
    let mut m = base.as_object().unwrap().clone();
    m.remove(key);
    Value::Object(m)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_payloads_are_refused_with_their_code_and_write_nothing_on_sqlite() {
    bad_payloads(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_payloads_are_refused_with_their_code_and_write_nothing_on_postgres() {
    bad_payloads(Backend::Postgres).await;
}
