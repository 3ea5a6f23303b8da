//! Test harness: a real server on loopback over SQLite (a temporary file) or PostgreSQL (a
//! fresh schema per test, dropped afterwards), and helpers to speak the protocol.

#![allow(dead_code)]

use ardoise_core::sync::hlc::Hlc;
use ardoise_core::sync::protocol::{
    Change, ChangesResponse, EnrolRequest, EnrolResponse, ErrorBody, Event, PushRequest, PushResponse, StatusResponse,
};
use ardoise_core::{Entry, EntryBody, Money};
use ardoise_server::{Db, RateLimit, ServeConfig, Serving};
use chrono::{NaiveDate, TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

#[path = "../../../tests/src/pg.rs"]
pub mod pg;
use pg::PgSchema;

/// Runs each named `async fn name(backend: Backend)` once per backend, as `name::sqlite` and
/// `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name($crate::common::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::$name($crate::common::Backend::Postgres).await
            }
        }
    )*};
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where a test's data lives; dropping it removes it.
enum Store {
    Sqlite(tempfile::TempDir),
    Postgres(PgSchema),
}

/// The device side of an enrolment.
#[derive(Clone, Debug)]
pub struct Device {
    pub id: Uuid,
    pub token: String,
    pub shop: Uuid,
    pub epoch: Uuid,
}

pub struct Env {
    pub db: Db,
    pub base: String,
    pub http: reqwest::Client,
    serving: Option<Serving>,
    _store: Store,
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(serving) = &self.serving {
            serving.stopper().stop(std::time::Duration::ZERO);
        }
    }
}

impl Env {
    /// A server without rate limit.
    pub async fn new(backend: Backend) -> Env {
        Env::with_rate(backend, RateLimit { per_second: 0, burst: 0 }).await
    }

    pub async fn with_rate(backend: Backend, rate: RateLimit) -> Env {
        Env::with_config(backend, ServeConfig { tls: None, rate, ..Default::default() }).await
    }

    pub async fn with_config(backend: Backend, config: ServeConfig) -> Env {
        let (url, store) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("server.db").display());
                (url, Store::Sqlite(dir))
            }
            Backend::Postgres => {
                let (url, schema) = PgSchema::create("t").await;
                (url, Store::Postgres(schema))
            }
        };
        let db = ardoise_server::connect(&url).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let serving = ardoise_server::serve(listener, db.clone(), config).await.unwrap();
        Env { db, base: serving.base_url(), http: reqwest::Client::new(), serving: Some(serving), _store: store }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn shop(&self, name: &str) -> Uuid {
        self.db.create_shop(name).await.unwrap()
    }

    pub async fn code(&self, shop: Uuid) -> String {
        self.db.enrol_code(shop, chrono::Duration::hours(1)).await.unwrap()
    }

    pub async fn post_enrol(&self, code: &str, device: Uuid) -> reqwest::Response {
        let body = EnrolRequest { code: code.to_owned(), device_id: device, device_name: "Till 1".into() };
        self.http.post(self.url("/v1/enrol")).json(&body).send().await.unwrap()
    }

    /// A new device enrolled into `shop`.
    pub async fn device(&self, shop: Uuid) -> Device {
        let id = Uuid::new_v4();
        let r = self.post_enrol(&self.code(shop).await, id).await;
        assert_eq!(r.status(), StatusCode::OK);
        let e: EnrolResponse = r.json().await.unwrap();
        assert_eq!(e.shop_id, shop);
        Device { id, token: e.token, shop, epoch: e.epoch }
    }

    pub async fn push(&self, d: &Device, events: Vec<Event>) -> reqwest::Response {
        self.push_body(&d.token, &PushRequest { acked_through: 0, epoch: d.epoch, device_id: d.id, events }).await
    }

    pub async fn push_body(&self, token: &str, body: &PushRequest) -> reqwest::Response {
        self.push_raw(token, serde_json::to_vec(body).unwrap()).await
    }

    pub async fn push_raw(&self, token: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.http
            .post(self.url("/v1/push"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn push_ok(&self, d: &Device, events: Vec<Event>) -> PushResponse {
        let r = self.push(d, events).await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    pub async fn changes(&self, d: &Device, after: u64, limit: Option<u32>) -> reqwest::Response {
        let mut url = format!("{}?after={after}&epoch={}", self.url("/v1/changes"), d.epoch);
        if let Some(limit) = limit {
            url.push_str(&format!("&limit={limit}"));
        }
        self.http.get(url).bearer_auth(&d.token).send().await.unwrap()
    }

    pub async fn changes_ok(&self, d: &Device, after: u64, limit: Option<u32>) -> ChangesResponse {
        let r = self.changes(d, after, limit).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }

    /// Every change of the device's shop, page by page.
    pub async fn pull_all(&self, d: &Device) -> Vec<Change> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let page = self.changes_ok(d, after, None).await;
            all.extend(page.changes);
            after = page.next;
            if page.next >= page.head {
                return all;
            }
        }
    }

    pub async fn status(&self, token: &str) -> reqwest::Response {
        self.http.get(self.url("/v1/status")).bearer_auth(token).send().await.unwrap()
    }

    pub async fn status_ok(&self, d: &Device) -> StatusResponse {
        let r = self.status(&d.token).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }

    pub async fn count(&self, table: &str, shop: Uuid) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table} WHERE shop_id = $1")))
            .bind(shop.to_string())
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }

    /// The shop's sequence numbers as stored, in order.
    pub async fn shop_seqs(&self, shop: Uuid) -> Vec<i64> {
        sqlx::query_scalar("SELECT shop_seq FROM events WHERE shop_id = $1 ORDER BY shop_seq")
            .bind(shop.to_string())
            .fetch_all(self.db.pool())
            .await
            .unwrap()
    }
}

/// A refusal's status and body; panics unless the body is an `ErrorBody`.
pub async fn refusal(r: reqwest::Response) -> (StatusCode, ErrorBody) {
    let status = r.status();
    let text = r.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not an ErrorBody ({e}): {text}"));
    (status, body)
}

pub fn hlc(device: Uuid, seq: u64) -> String {
    Hlc { wall_ms: 1_750_000_000_000 + seq as i64, counter: 0, device }.to_string()
}

pub fn event(device: Uuid, seq: u64, kind: &str, payload: Value) -> Event {
    Event { id: Uuid::new_v4(), seq, kind: kind.to_owned(), hlc: hlc(device, seq), payload }
}

/// A `customer` event as the till records it (`{customer: Customer, changed}`).
pub fn customer(device: Uuid, seq: u64, customer: Uuid) -> Event {
    let c = ardoise_core::Customer {
        id: customer,
        reference: format!("C{seq}"),
        name: "Amélie Poulain".into(),
        email: None,
        phone: Some("+33 6 00 00 00 00".into()),
        kind: ardoise_core::CustomerKind::Consumer,
        credit_limit: None,
        terms: ardoise_core::Terms::Net(30),
        blocked: None,
        consent_email: false,
        consent_sms: false,
        notes: String::new(),
        address: None,
        language: Default::default(),
        paperless_from: None,
    };
    event(device, seq, "customer", json!({"customer": c, "changed": ["*"]}))
}

/// An `entry` event: a sale recorded on `recorded_by` for `customer`.
pub fn entry(device: Uuid, seq: u64, customer: Uuid, recorded_by: Uuid) -> Event {
    let id = Uuid::new_v4();
    let entry = Entry {
        id,
        device_id: recorded_by,
        device_seq: seq,
        customer,
        business_date: NaiveDate::from_ymd_opt(2025, 6, 2).unwrap(),
        recorded_at: Utc.with_ymd_and_hms(2025, 6, 2, 10, 30, 0).unwrap(),
        cashier: "Nino".into(),
        body: EntryBody::Sale {
            amount: Money::from_minor(12_345),
            invoice_ref: format!("F-{seq}"),
            due_on: NaiveDate::from_ymd_opt(2025, 7, 2).unwrap(),
            override_id: None,
        },
    };
    Event { id, seq, kind: "entry".into(), hlc: hlc(device, seq), payload: serde_json::to_value(entry).unwrap() }
}

/// Row events of the shop's settings table, numbered `from..=to`.
pub fn settings(device: Uuid, from: u64, to: u64) -> Vec<Event> {
    (from..=to)
        .map(|seq| {
            event(
                device,
                seq,
                "row",
                json!({"table": "settings", "row": {"key": format!("k{seq}"), "value": seq.to_string()}}),
            )
        })
        .collect()
}
