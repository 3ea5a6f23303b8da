//! Mollie. Its webhook is not signed: `POST` with `id=tr_...` is only a hint that payment
//! `tr_...` changed. The back office then asks Mollie itself (`GET /v2/payments/{id}`, with the
//! shop's API key) and believes only that answer: a payment `paid`, in EUR, whose metadata
//! names this shop. A forged hint names a payment Mollie does not know under this key, or one
//! of another shop: nothing is written. Refunds are read from the payment's refunds
//! (`GET /v2/payments/{id}/refunds`) when `amountRefunded` is not zero. Chargebacks from its
//! chargebacks (`GET /v2/payments/{id}/chargebacks`) once Mollie reports any
//! (`amountChargedBack`, or a `chargebacks` link): each is a dispute, and one Mollie has since
//! reversed (`reversedAt`) a dispute won too. Every hint reports the payment's whole story
//! again; `apply` keys each fact by Mollie's ids, so each is written once.
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

/// An amount as Mollie writes it (`{"currency": "EUR", "value": "94.20"}`); any other
/// currency is none.
fn eur(v: &Value) -> Option<Money> {
    (v["currency"] == "EUR").then(|| v["value"].as_str().and_then(|s| Money::parse(s).ok())).flatten()
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
    let ours = p["metadata"]["shop"].as_str() == Some(shop.to_string().as_str());
    let (Some(customer), Some(amount), true, true) =
        (p["metadata"]["customer"].as_str(), eur(&p["amount"]), p["status"] == "paid", ours)
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
    if eur(&p["amountRefunded"]).is_some_and(Money::is_positive) {
        let r = apis.http.get(format!("{}/v2/payments/{id}/refunds", apis.mollie)).bearer_auth(key).send().await;
        let refunds = answer("Mollie", r).await?;
        for r in refunds["_embedded"]["refunds"].as_array().into_iter().flatten() {
            if r["status"] == "failed" || r["status"] == "canceled" {
                continue;
            }
            if let (Some(refund), Some(amount)) = (r["id"].as_str(), eur(&r["amount"])) {
                facts.push(Fact::Refunded { payment: id.to_owned(), refund: refund.to_owned(), amount });
            }
        }
    }
    // A reversed chargeback may bring `amountChargedBack` back to zero: the link, which Mollie
    // adds with the first chargeback, still says to look.
    let charged_back = p.get("amountChargedBack").is_some() || p["_links"].get("chargebacks").is_some();
    if charged_back {
        let r = apis.http.get(format!("{}/v2/payments/{id}/chargebacks", apis.mollie)).bearer_auth(key).send().await;
        let chargebacks = answer("Mollie", r).await?;
        facts.extend(chargeback_facts(id, &chargebacks));
    }
    Ok(facts)
}

/// The facts of a payment's chargebacks list: each chargeback a dispute of its amount, and a
/// reversed one also a dispute won (after it, so that its reversal is there to undo).
fn chargeback_facts(payment: &str, list: &Value) -> Vec<Fact> {
    let mut facts = Vec::new();
    for c in list["_embedded"]["chargebacks"].as_array().into_iter().flatten() {
        let (Some(dispute), Some(amount)) = (c["id"].as_str(), eur(&c["amount"])) else {
            tracing::warn!(payment, "a Mollie chargeback without id or EUR amount: skipped");
            continue;
        };
        let (payment, dispute) = (payment.to_owned(), dispute.to_owned());
        facts.push(Fact::Disputed { payment: payment.clone(), dispute: dispute.clone(), amount });
        if c["reversedAt"].as_str().is_some_and(|at| !at.is_empty()) {
            facts.push(Fact::DisputeWon { payment, dispute, amount });
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use ardoise_core::Money;
    use serde_json::json;

    use super::Fact;

    #[test]
    fn chargebacks_are_disputes_and_reversed_ones_disputes_won() {
        let list = json!({"count": 3, "_embedded": {"chargebacks": [
            {"resource": "chargeback", "id": "chb_1", "amount": {"currency": "EUR", "value": "94.20"},
             "createdAt": "2026-11-20T10:00:00+00:00", "reversedAt": null, "paymentId": "tr_1"},
            {"resource": "chargeback", "id": "chb_2", "amount": {"currency": "EUR", "value": "5.00"},
             "createdAt": "2026-11-21T10:00:00+00:00", "reversedAt": "2026-12-01T10:00:00+00:00"},
            {"resource": "chargeback", "id": "chb_3", "amount": {"currency": "USD", "value": "5.00"}}
        ]}});
        let cents = Money::from_minor;
        assert_eq!(
            super::chargeback_facts("tr_1", &list),
            [
                Fact::Disputed { payment: "tr_1".into(), dispute: "chb_1".into(), amount: cents(9420) },
                Fact::Disputed { payment: "tr_1".into(), dispute: "chb_2".into(), amount: cents(500) },
                Fact::DisputeWon { payment: "tr_1".into(), dispute: "chb_2".into(), amount: cents(500) },
            ]
        );
        assert!(super::chargeback_facts("tr_1", &json!({"count": 0})).is_empty());
    }

    #[test]
    fn only_payment_ids_are_asked_about() {
        assert!(super::is_payment_id("tr_WDqYK6vllg"));
        for bad in ["", "tr_", "re_1", "tr_../../v2/refunds", "tr_a b", &format!("tr_{}", "a".repeat(70))] {
            assert!(!super::is_payment_id(bad), "{bad}");
        }
    }
}
