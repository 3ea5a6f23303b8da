//! `POST /v1/pay/stripe/{shop}`: Stripe tells the back office a customer paid. The signature
//! is checked before the body is read (`pay::stripe`); a paid Checkout Session becomes the
//! customer's payment, once, under an id derived from the session, however often and in
//! whatever order Stripe delivers its events. Other events are acknowledged and ignored.

use ardoise_core::{Money, PaymentMethod, bank};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::db::providers;
use crate::dispatch::Payment;
use crate::error::{ApiError, Error};
use crate::pay::stripe;
use crate::state::AppState;

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    object: Value,
}

pub(crate) async fn stripe(
    State(state): State<AppState>,
    Path(shop): Path<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let unknown = || ApiError::new(StatusCode::NOT_FOUND, "not_found", "no Stripe account for this shop");
    let secrets =
        providers::webhook_secrets(&mut *state.db.conn().await?, shop, "stripe").await?.ok_or_else(unknown)?;
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    stripe::verify(signature, &body, &secrets, chrono::Utc::now().timestamp())
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_signature", e.to_string()))?;
    let event: Event = serde_json::from_slice(&body).map_err(|e| ApiError::malformed(e.to_string()))?;
    let o = &event.data.object;
    if event.kind != "checkout.session.completed" || o["payment_status"] != "paid" {
        return Ok(Json(json!({"recorded": false, "ignored": event.kind})));
    }
    let (Some(session), Some(customer), Some(cents)) =
        (o["id"].as_str(), o["metadata"]["customer"].as_str(), o["amount_total"].as_i64())
    else {
        return Err(ApiError::malformed("a paid session without id, metadata.customer or amount_total"));
    };
    if o["currency"].as_str().is_some_and(|c| !c.eq_ignore_ascii_case("eur")) {
        return Err(ApiError::malformed("a session in another currency than EUR"));
    }
    let amount = Money::try_from_minor(cents).map_err(|e| ApiError::malformed(e.to_string()))?;
    let Some(dispatcher) = &state.dispatcher else {
        return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "this process records no payments"));
    };
    let payment = Payment {
        customer: customer.to_owned(),
        amount,
        method: PaymentMethod::Online,
        invoice: o["metadata"]["invoice"].as_str().map(str::to_owned),
        date: None,
    };
    let id = bank::entry_id("stripe", session);
    let now = chrono::Local::now().fixed_offset();
    match dispatcher.record_payment_once(shop, payment, Some(id), now).await {
        Ok(r) => Ok(Json(json!({"recorded": r.is_some(), "entry": id}))),
        // What the ledger refuses (an unknown customer) will not change on a retry: Stripe is
        // told so, and the event is there for the owner in Stripe's dashboard.
        Err(Error::NotFound { what, id }) => {
            Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "not_recorded", format!("no {what} {id}")))
        }
        Err(Error::Refused(e)) => Err(e),
        Err(e) => Err(e.into()),
    }
}
