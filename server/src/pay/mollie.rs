//! Mollie. Its webhook is not signed: `POST` with `id=tr_...` is only a hint that payment
//! `tr_...` changed. The back office then asks Mollie itself (`GET /v2/payments/{id}`, with the
//! shop's API key) and believes only that answer: a payment `paid`, in EUR, whose metadata
//! names this shop. A forged hint names a payment Mollie does not know under this key, or one
//! of another shop: nothing is written. Refunds are read from the payment's refunds
//! (`GET /v2/payments/{id}/refunds`) when `amountRefunded` is not zero.
//!
//! Sessions: `POST /v2/payments`, whose `_links.checkout.href` is where the customer pays.

use ardoise_core::Money;
use serde_json::{Value, json};
use uuid::Uuid;

use super::model::{ApiError, Fact, PayApis, Provider, Session, SessionRequest, answer, metadata};

pub async fn create_payment(apis: &PayApis, key: &str, req: &SessionRequest) -> Result<Session, ApiError> {
    let meta: serde_json::Map<String, Value> =
        metadata(req).into_iter().map(|(k, v)| (k.to_owned(), v.into())).collect();
    let mut body = json!({
        "amount": {"currency": "EUR", "value": req.amount.to_string()},
        "description": req.description,
        "redirectUrl": apis.return_url(Provider::Mollie),
        "metadata": meta,
    });
    if let Some(base) = &apis.public_url {
        body["webhookUrl"] = format!("{base}/v1/pay/mollie/{}", req.shop).into();
    }
    let r = apis
        .http
        .post(format!("{}/v2/payments", apis.mollie))
        .bearer_auth(key)
        .header("Idempotency-Key", &req.idempotency_key)
        .json(&body)
        .send()
        .await;
    let v = answer("Mollie", r).await?;
    match (v["id"].as_str(), v["_links"]["checkout"]["href"].as_str()) {
        (Some(id), Some(url)) => Ok(Session { id: id.to_owned(), url: url.to_owned() }),
        _ => Err(ApiError::Unexpected("Mollie", "a payment without id or _links.checkout.href".into())),
    }
}

/// Whether `id` looks like a Mollie payment id; anything else is not even asked about.
pub fn is_payment_id(id: &str) -> bool {
    id.len() <= 64
        && id.strip_prefix("tr_").is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// What Mollie says about payment `id` of `shop`: nothing when Mollie does not know it under
/// this key (a forged hint), when it is not paid, not in EUR, or another shop's.
pub async fn payment_facts(apis: &PayApis, key: &str, shop: Uuid, id: &str) -> Result<Vec<Fact>, ApiError> {
    let r = apis.http.get(format!("{}/v2/payments/{id}", apis.mollie)).bearer_auth(key).send().await;
    let p = match answer("Mollie", r).await {
        Ok(p) => p,
        Err(ApiError::Refused(_, m)) if m.starts_with("404") => {
            tracing::warn!(%shop, payment = id, "Mollie does not know this payment: hint ignored");
            return Ok(Vec::new());
        }
        Err(e) => return Err(e),
    };
    let money = |v: &Value| -> Option<Money> {
        (v["currency"] == "EUR").then(|| v["value"].as_str().and_then(|s| Money::parse(s).ok())).flatten()
    };
    let ours = p["metadata"]["shop"].as_str() == Some(shop.to_string().as_str());
    let (Some(customer), Some(amount), true, true) =
        (p["metadata"]["customer"].as_str(), money(&p["amount"]), p["status"] == "paid", ours)
    else {
        tracing::warn!(%shop, payment = id, status = %p["status"], "Mollie payment not paid in EUR for this shop: nothing recorded");
        return Ok(Vec::new());
    };
    let invoices = p["metadata"]["invoices"]
        .as_str()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let mut facts = vec![Fact::Paid { payment: id.to_owned(), customer: customer.to_owned(), amount, invoices }];
    if money(&p["amountRefunded"]).is_some_and(Money::is_positive) {
        let r = apis.http.get(format!("{}/v2/payments/{id}/refunds", apis.mollie)).bearer_auth(key).send().await;
        let refunds = answer("Mollie", r).await?;
        for r in refunds["_embedded"]["refunds"].as_array().into_iter().flatten() {
            if r["status"] == "failed" || r["status"] == "canceled" {
                continue;
            }
            if let (Some(refund), Some(amount)) = (r["id"].as_str(), money(&r["amount"])) {
                facts.push(Fact::Refunded { payment: id.to_owned(), refund: refund.to_owned(), amount });
            }
        }
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_payment_ids_are_asked_about() {
        assert!(super::is_payment_id("tr_WDqYK6vllg"));
        for bad in ["", "tr_", "re_1", "tr_../../v2/refunds", "tr_a b", &format!("tr_{}", "a".repeat(70))] {
            assert!(!super::is_payment_id(bad), "{bad}");
        }
    }
}
