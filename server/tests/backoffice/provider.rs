//! A stand-in for Stripe's and Mollie's APIs on loopback: it records the sessions and payments
//! the back office creates (with their bearer key and idempotency key), answers as the real
//! APIs do (the same session for the same idempotency key, 404 for a payment another key
//! made), and can be taken down (503) to see that nothing waits on it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// A session (Stripe) or payment (Mollie) the back office asked for.
#[derive(Clone, Debug)]
pub struct Created {
    pub id: String,
    pub url: String,
    pub bearer: String,
    pub idempotency_key: Option<String>,
    /// Stripe's form fields as sent; Mollie's JSON body.
    pub form: BTreeMap<String, String>,
    pub json: Value,
}

#[derive(Default)]
pub struct Books {
    pub created: Vec<Created>,
    /// Requests that made a session or payment, repeats under the same key included.
    pub requests: usize,
    pub down: bool,
    /// Mollie payments by id: (the key that owns it, the payment as Mollie shows it).
    pub mollie: HashMap<String, (String, Value)>,
    pub mollie_refunds: HashMap<String, Vec<Value>>,
    pub mollie_chargebacks: HashMap<String, Vec<Value>>,
    /// Each list of chargebacks asked for, by payment.
    pub chargeback_reads: Vec<String>,
}

#[derive(Clone)]
pub struct StandIn {
    pub base: String,
    pub books: Arc<Mutex<Books>>,
}

type Shared = (String, Arc<Mutex<Books>>);

fn bearer(h: &HeaderMap) -> Option<String> {
    h.get("authorization")?.to_str().ok()?.strip_prefix("Bearer ").map(str::to_owned)
}

fn unavailable() -> (StatusCode, Json<Value>) {
    (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error": "down"})))
}

async fn stripe_session(
    State((base, books)): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> (StatusCode, Json<Value>) {
    let mut b = books.lock().unwrap();
    if b.down {
        return unavailable();
    }
    let Some(key) = bearer(&headers) else { return (StatusCode::UNAUTHORIZED, Json(json!({}))) };
    b.requests += 1;
    let idem = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    if let Some(done) = b.created.iter().find(|c| idem.is_some() && c.idempotency_key == idem) {
        return (StatusCode::OK, Json(done.json.clone()));
    }
    let id = format!("cs_test_{}", b.created.len() + 1);
    let url = format!("{base}/c/pay/{id}");
    let form: BTreeMap<String, String> = form.into_iter().collect();
    let metadata: serde_json::Map<String, Value> = form
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("metadata[")?.strip_suffix(']')?.to_owned(), Value::from(v.clone()))))
        .collect();
    let amount: i64 = form["line_items[0][price_data][unit_amount]"].parse().unwrap();
    let answer = json!({"id": id, "object": "checkout.session", "url": url, "amount_total": amount,
        "currency": "eur", "payment_status": "unpaid", "payment_intent": null, "metadata": metadata});
    b.created.push(Created { id, url, bearer: key, idempotency_key: idem, form, json: answer.clone() });
    (StatusCode::OK, Json(answer))
}

async fn mollie_create(
    State((base, books)): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let mut b = books.lock().unwrap();
    if b.down {
        return unavailable();
    }
    let Some(key) = bearer(&headers) else { return (StatusCode::UNAUTHORIZED, Json(json!({}))) };
    b.requests += 1;
    let idem = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    if let Some(done) = b.created.iter().find(|c| idem.is_some() && c.idempotency_key == idem) {
        return (StatusCode::CREATED, Json(done.json.clone()));
    }
    let id = format!("tr_test{}", b.created.len() + 1);
    let url = format!("{base}/checkout/select-method/{id}");
    let payment = json!({"resource": "payment", "id": id, "status": "open", "amount": body["amount"],
        "amountRefunded": {"value": "0.00", "currency": "EUR"}, "metadata": body["metadata"],
        "description": body["description"], "_links": {"checkout": {"href": url}}});
    b.mollie.insert(id.clone(), (key.clone(), payment.clone()));
    b.created.push(Created {
        id,
        url,
        bearer: key,
        idempotency_key: idem,
        form: BTreeMap::new(),
        json: payment.clone(),
    });
    (StatusCode::CREATED, Json(payment))
}

async fn mollie_get(
    State((_, books)): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> (StatusCode, Json<Value>) {
    let b = books.lock().unwrap();
    if b.down {
        return unavailable();
    }
    match (b.mollie.get(&id), bearer(&headers)) {
        (Some((owner, p)), Some(key)) if *owner == key => (StatusCode::OK, Json(p.clone())),
        _ => (StatusCode::NOT_FOUND, Json(json!({"status": 404, "title": "Not Found"}))),
    }
}

async fn mollie_refunds(
    State((_, books)): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> (StatusCode, Json<Value>) {
    let b = books.lock().unwrap();
    match (b.mollie.get(&id), bearer(&headers)) {
        (Some((owner, _)), Some(key)) if *owner == key => {
            let list = b.mollie_refunds.get(&id).cloned().unwrap_or_default();
            (StatusCode::OK, Json(json!({"count": list.len(), "_embedded": {"refunds": list}})))
        }
        _ => (StatusCode::NOT_FOUND, Json(json!({"status": 404}))),
    }
}

async fn mollie_chargebacks(
    State((_, books)): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> (StatusCode, Json<Value>) {
    let mut b = books.lock().unwrap();
    b.chargeback_reads.push(id.clone());
    match (b.mollie.get(&id), bearer(&headers)) {
        (Some((owner, _)), Some(key)) if *owner == key => {
            let list = b.mollie_chargebacks.get(&id).cloned().unwrap_or_default();
            (StatusCode::OK, Json(json!({"count": list.len(), "_embedded": {"chargebacks": list}})))
        }
        _ => (StatusCode::NOT_FOUND, Json(json!({"status": 404}))),
    }
}

impl StandIn {
    pub async fn start() -> StandIn {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let books = Arc::new(Mutex::new(Books::default()));
        let app = Router::new()
            .route("/v1/checkout/sessions", post(stripe_session))
            .route("/v2/payments", post(mollie_create))
            .route("/v2/payments/{id}", get(mollie_get))
            .route("/v2/payments/{id}/refunds", get(mollie_refunds))
            .route("/v2/payments/{id}/chargebacks", get(mollie_chargebacks))
            .with_state((base.clone(), Arc::clone(&books)));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        StandIn { base, books }
    }

    /// The back office's view of the providers: this stand-in for both.
    pub fn apis(&self) -> ardoise_server::pay::PayApis {
        ardoise_server::pay::PayApis::new(Some(self.base.clone()), Some(self.base.clone()), None)
    }

    /// The same, for a back office reached at `public_url`: reminders then carry its own links.
    pub fn apis_at(&self, public_url: &str) -> ardoise_server::pay::PayApis {
        ardoise_server::pay::PayApis::new(Some(self.base.clone()), Some(self.base.clone()), Some(public_url.to_owned()))
    }

    pub fn created(&self) -> Vec<Created> {
        self.books.lock().unwrap().created.clone()
    }

    pub fn set_down(&self, down: bool) {
        self.books.lock().unwrap().down = down;
    }

    /// Changes a Mollie payment as Mollie would (paid, refunded).
    pub fn mollie_update(&self, id: &str, f: impl FnOnce(&mut Value)) {
        f(&mut self.books.lock().unwrap().mollie.get_mut(id).unwrap().1);
    }

    /// A payment made under `key` outside the back office (another shop's, for instance).
    pub fn mollie_insert(&self, key: &str, payment: Value) {
        let id = payment["id"].as_str().unwrap().to_owned();
        self.books.lock().unwrap().mollie.insert(id, (key.to_owned(), payment));
    }

    pub fn mollie_refund(&self, id: &str, refund: Value) {
        self.books.lock().unwrap().mollie_refunds.entry(id.to_owned()).or_default().push(refund);
    }

    /// Changes the chargebacks Mollie lists for payment `id` (one added, one reversed).
    pub fn mollie_chargebacks(&self, id: &str, f: impl FnOnce(&mut Vec<Value>)) {
        f(self.books.lock().unwrap().mollie_chargebacks.entry(id.to_owned()).or_default());
    }

    pub fn chargeback_reads(&self) -> Vec<String> {
        self.books.lock().unwrap().chargeback_reads.clone()
    }
}

/// Stripe's signature header for `body` at `t` under `secret`.
pub fn stripe_signature(secret: &str, t: i64, body: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// A Stripe event of `kind` about `object`.
pub fn stripe_event(id: &str, kind: &str, object: Value) -> String {
    json!({"id": id, "object": "event", "type": kind, "data": {"object": object}}).to_string()
}
