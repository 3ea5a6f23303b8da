//! Stripe's API, the part the back office calls: a Checkout Session (`POST
//! /v1/checkout/sessions`, form-encoded, bearer secret key) for exactly what a customer owes,
//! with the shop, customer, payment reference and invoices in its metadata and in its
//! PaymentIntent's (so that charge, refund and dispute events carry them too), under an
//! `Idempotency-Key` so that a resend never makes two sessions.

use super::model::{ApiError, PayApis, Provider, Session, SessionRequest, answer, metadata};

pub async fn create_session(apis: &PayApis, key: &str, req: &SessionRequest) -> Result<Session, ApiError> {
    let mut form: Vec<(String, String)> = vec![
        ("mode".into(), "payment".into()),
        ("line_items[0][quantity]".into(), "1".into()),
        ("line_items[0][price_data][currency]".into(), "eur".into()),
        ("line_items[0][price_data][unit_amount]".into(), req.amount.minor().to_string()),
        ("line_items[0][price_data][product_data][name]".into(), req.description.clone()),
        ("success_url".into(), apis.return_url(Provider::Stripe)),
        ("client_reference_id".into(), req.payment_reference.clone()),
    ];
    for (name, value) in metadata(req) {
        form.push((format!("metadata[{name}]"), value.clone()));
        form.push((format!("payment_intent_data[metadata][{name}]"), value));
    }
    let r = apis
        .http
        .post(format!("{}/v1/checkout/sessions", apis.stripe))
        .bearer_auth(key)
        .header("Idempotency-Key", &req.idempotency_key)
        .form(&form)
        .send()
        .await;
    let v = answer("Stripe", r).await?;
    match (v["id"].as_str(), v["url"].as_str()) {
        (Some(id), Some(url)) => Ok(Session { id: id.to_owned(), url: url.to_owned() }),
        _ => Err(ApiError::Unexpected("Stripe", "a Checkout Session without id or url".into())),
    }
}
