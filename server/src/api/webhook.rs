//! The payment providers' notifications. `POST /v1/pay/stripe/{shop}`: the signature is
//! checked before the body is read (`pay::stripe`), then the event's facts (`pay::stripe_events`)
//! are written once each (`pay::apply`). `POST /v1/pay/mollie/{shop}`: an unsigned hint
//! (`id=tr_...`), so Mollie's API is asked what happened (`pay::mollie`) and only its answer
//! counts. `GET /v1/pay/done`: the page a customer returns to after paying.
//!
//! Answers: 200 when the facts are in the ledger (or there was nothing to record: unknown
//! event kinds, unpaid sessions, forged Mollie hints); 400 for a bad signature or body, with
//! nothing written; 404 for a shop without that provider; 409 for a refund or chargeback of a
//! payment not recorded yet (events arrive in any order: the provider retries later, and
//! nothing is written); 422 for a customer the shop does not have; 503 when this process
//! records no payments or Mollie cannot be asked now (retried too).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Html;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::db::providers;
use crate::error::{ApiError, Error};
use crate::pay::apply::{self, ApplyError};
use crate::pay::{Fact, Provider, mollie, stripe, stripe_events};
use crate::state::AppState;

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    data: Data,
}

/// Objects, as Stripe sends them: anything else is a malformed event.
#[derive(Deserialize)]
struct Data {
    object: serde_json::Map<String, Value>,
    #[serde(default)]
    previous_attributes: Option<serde_json::Map<String, Value>>,
}

/// The shop in the path; not a uuid is 400 `malformed`, as every refusal an `ErrorBody`.
fn shop_of(path: Result<Path<Uuid>, PathRejection>) -> Result<Uuid, ApiError> {
    path.map(|Path(shop)| shop).map_err(|e| ApiError::malformed(format!("shop: {}", e.body_text())))
}

fn no_account(p: Provider) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no {} account for this shop", p.as_str()))
}

pub(crate) async fn stripe(
    State(state): State<AppState>,
    shop: Result<Path<Uuid>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let shop = shop_of(shop)?;
    let secrets = providers::webhook_secrets(&mut *state.db.conn().await?, shop, "stripe")
        .await?
        .ok_or_else(|| no_account(Provider::Stripe))?;
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    stripe::verify(signature, &body, &secrets, chrono::Utc::now().timestamp())
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_signature", e.to_string()))?;
    let event: Event = serde_json::from_slice(&body).map_err(|e| ApiError::malformed(e.to_string()))?;
    let o = &Value::Object(event.data.object);
    let previous = event.data.previous_attributes.map_or(Value::Null, Value::Object);
    if let Some(other) = o["metadata"]["shop"].as_str().filter(|s| *s != shop.to_string()) {
        // Signed with this shop's secret but made for another: a mix-up of endpoints.
        return Err(ApiError::malformed(format!("a payment of shop {other}, not of this one")));
    }
    let facts = stripe_events::facts(&event.kind, o, &previous).map_err(|e| ApiError::malformed(e.to_string()))?;
    if facts.is_empty() {
        return Ok(Json(json!({"recorded": false, "ignored": event.kind})));
    }
    record(&state, shop, Provider::Stripe, facts).await
}

#[derive(Deserialize)]
pub(crate) struct Hint {
    id: String,
}

pub(crate) async fn mollie(
    State(state): State<AppState>,
    shop: Result<Path<Uuid>, PathRejection>,
    hint: Result<Form<Hint>, FormRejection>,
) -> Result<Json<Value>, ApiError> {
    let shop = shop_of(shop)?;
    let Form(hint) = hint.map_err(|e| ApiError::malformed(format!("a form with id=tr_...: {}", e.body_text())))?;
    let key = providers::secret_key(&mut *state.db.conn().await?, shop, "mollie")
        .await?
        .ok_or_else(|| no_account(Provider::Mollie))?;
    if !mollie::is_payment_id(&hint.id) {
        return Err(ApiError::malformed("id: not a Mollie payment id (tr_...)"));
    }
    let Some(dispatcher) = &state.dispatcher else { return Err(unavailable()) };
    let facts = mollie::payment_facts(dispatcher.pay_apis(), &key, shop, &hint.id).await.map_err(|e| {
        tracing::warn!(%shop, payment = %hint.id, error = %e, "Mollie could not be asked about a payment");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "provider_unavailable", "Mollie could not be asked; retry later")
    })?;
    if facts.is_empty() {
        return Ok(Json(json!({"recorded": false, "ignored": hint.id})));
    }
    record(&state, shop, Provider::Mollie, facts).await
}

/// Where a customer lands after paying: the payment reaches the shop by the provider's
/// notification, not by this page.
pub(crate) async fn done() -> Html<&'static str> {
    Html(
        "<!doctype html><meta charset=utf-8><title>Paiement reçu</title>\
         <p>Merci : votre paiement est transmis à la boutique. / Thank you: your payment is on its way to the shop.</p>",
    )
}

fn unavailable() -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "this process records no payments")
}

async fn record(state: &AppState, shop: Uuid, p: Provider, facts: Vec<Fact>) -> Result<Json<Value>, ApiError> {
    let Some(dispatcher) = &state.dispatcher else { return Err(unavailable()) };
    let now = chrono::Local::now().fixed_offset();
    let mut entries = Vec::new();
    let mut recorded = false;
    for fact in facts {
        match apply::apply(dispatcher, &state.db, shop, p, fact, now).await {
            Ok(a) => {
                recorded |= a.recorded;
                entries.push(a.entry);
            }
            Err(ApplyError::NotYet(what)) => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "payment_not_recorded_yet",
                    format!("{what}: deliver this event again later"),
                ));
            }
            // What the ledger refuses (an unknown customer) will not change on a retry: the
            // provider is told so, and the event is there for the owner in its dashboard.
            Err(ApplyError::Other(Error::NotFound { what, id })) => {
                return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "not_recorded", format!("no {what} {id}")));
            }
            Err(ApplyError::Other(Error::Refused(e))) => return Err(e),
            Err(ApplyError::Other(e)) => return Err(e.into()),
        }
    }
    let entry = entries.first().copied();
    Ok(Json(json!({"recorded": recorded, "entry": entry, "entries": entries})))
}
