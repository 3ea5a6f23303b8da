//! What a Stripe event (already verified by its signature, `pay::stripe`) says about a
//! payment, as `Fact`s:
//!
//! - `checkout.session.completed` with `payment_status: paid`, and
//!   `checkout.session.async_payment_succeeded` (a SEPA debit cleared later): paid. The payment
//!   is named by its PaymentIntent when the session has one (so that the charge's later events
//!   find it), else by the session.
//! - `charge.refunded`: each refund of the charge (`refunds.data` when Stripe includes it; else
//!   the step from `previous_attributes.amount_refunded` to `amount_refunded`).
//! - `charge.dispute.created`: a chargeback; `charge.dispute.closed` with `status: won`: the
//!   money came back. A lost dispute changes nothing more: the money already left.
//!
//! Any other event says nothing to record.

use ardoise_core::Money;
use serde_json::Value;

use super::model::Fact;

/// Why an event of a kind we record cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub String);

fn bad(what: &str) -> Malformed {
    Malformed(what.to_owned())
}

/// A field that is an id, or an expanded object with one.
fn id_of(v: &Value) -> Option<&str> {
    v.as_str().or_else(|| v["id"].as_str())
}

fn amount(v: &Value, what: &str) -> Result<Money, Malformed> {
    let cents = v.as_i64().ok_or_else(|| bad(what))?;
    Money::try_from_minor(cents).map_err(|e| Malformed(format!("{what}: {e}")))
}

fn euros(o: &Value) -> Result<(), Malformed> {
    match o["currency"].as_str() {
        Some(c) if !c.eq_ignore_ascii_case("eur") => Err(Malformed(format!("a payment in {c}, not EUR"))),
        _ => Ok(()),
    }
}

/// The facts of one event of `kind` about `object` (`data.object`), `previous` being
/// `data.previous_attributes` when Stripe sends them.
pub fn facts(kind: &str, object: &Value, previous: &Value) -> Result<Vec<Fact>, Malformed> {
    let o = object;
    match kind {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            if o["payment_status"] != "paid" {
                // Paid later (async_payment_succeeded) or never.
                return Ok(Vec::new());
            }
            euros(o)?;
            let session = o["id"].as_str().ok_or_else(|| bad("a session without id"))?;
            let payment = id_of(&o["payment_intent"]).unwrap_or(session).to_owned();
            let customer =
                o["metadata"]["customer"].as_str().ok_or_else(|| bad("a session without metadata.customer"))?;
            let invoices = match (o["metadata"]["invoices"].as_str(), o["metadata"]["invoice"].as_str()) {
                (Some(list), _) => {
                    list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
                }
                (None, Some(one)) => vec![one.to_owned()],
                (None, None) => Vec::new(),
            };
            let amount = amount(&o["amount_total"], "a session without amount_total")?;
            Ok(vec![Fact::Paid { payment, customer: customer.to_owned(), amount, invoices }])
        }
        "charge.refunded" => {
            euros(o)?;
            let charge = o["id"].as_str().ok_or_else(|| bad("a charge without id"))?;
            let payment = id_of(&o["payment_intent"]).unwrap_or(charge).to_owned();
            let refunds: Vec<Fact> = match o["refunds"]["data"].as_array() {
                Some(list) if !list.is_empty() => list
                    .iter()
                    .filter(|r| r["status"] != "failed" && r["status"] != "canceled")
                    .map(|r| {
                        let refund = r["id"].as_str().ok_or_else(|| bad("a refund without id"))?;
                        let amount = amount(&r["amount"], "a refund without amount")?;
                        Ok(Fact::Refunded { payment: payment.clone(), refund: refund.to_owned(), amount })
                    })
                    .collect::<Result<_, Malformed>>()?,
                _ => {
                    // Recent API versions leave the refunds out: the step since the last event
                    // is this refund, named by the charge and the total refunded after it.
                    let total = o["amount_refunded"].as_i64().ok_or_else(|| bad("a charge without amount_refunded"))?;
                    let before = previous["amount_refunded"].as_i64().unwrap_or(0);
                    if total <= before {
                        return Ok(Vec::new());
                    }
                    let amount = Money::try_from_minor(total - before).map_err(|e| Malformed(e.to_string()))?;
                    vec![Fact::Refunded { payment, refund: format!("{charge}@{total}"), amount }]
                }
            };
            Ok(refunds)
        }
        "charge.dispute.created" | "charge.dispute.closed" => {
            let dispute = o["id"].as_str().ok_or_else(|| bad("a dispute without id"))?.to_owned();
            let payment = id_of(&o["payment_intent"])
                .or_else(|| id_of(&o["charge"]))
                .ok_or_else(|| bad("a dispute without payment_intent or charge"))?
                .to_owned();
            if kind == "charge.dispute.created" {
                let amount = amount(&o["amount"], "a dispute without amount")?;
                return Ok(vec![Fact::Disputed { payment, dispute, amount }]);
            }
            if o["status"] != "won" {
                return Ok(Vec::new());
            }
            euros(o)?;
            let amount = amount(&o["amount"], "a dispute without amount")?;
            Ok(vec![Fact::DisputeWon { payment, dispute, amount }])
        }
        _ => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_paid_session_is_named_by_its_payment_intent() {
        let o = json!({"id": "cs_1", "payment_status": "paid", "payment_intent": "pi_1", "amount_total": 1250,
            "currency": "eur", "metadata": {"customer": "C1", "invoices": "F1,F2"}});
        let f = facts("checkout.session.completed", &o, &Value::Null).unwrap();
        assert_eq!(
            f,
            [Fact::Paid {
                payment: "pi_1".into(),
                customer: "C1".into(),
                amount: Money::from_minor(1250),
                invoices: vec!["F1".into(), "F2".into()]
            }]
        );
        let unpaid = json!({"id": "cs_1", "payment_status": "unpaid", "metadata": {"customer": "C1"}});
        assert!(facts("checkout.session.completed", &unpaid, &Value::Null).unwrap().is_empty());
        let dollars = json!({"id": "cs_1", "payment_status": "paid", "amount_total": 5, "currency": "usd",
            "metadata": {"customer": "C1"}});
        assert!(facts("checkout.session.completed", &dollars, &Value::Null).is_err());
    }

    #[test]
    fn refunds_are_read_from_the_list_or_from_the_step() {
        let listed = json!({"id": "ch_1", "payment_intent": "pi_1", "amount": 1000, "amount_refunded": 1000,
            "currency": "eur", "refunds": {"data": [{"id": "re_1", "amount": 300}, {"id": "re_2", "amount": 700}]}});
        let f = facts("charge.refunded", &listed, &Value::Null).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(
            f[1],
            Fact::Refunded { payment: "pi_1".into(), refund: "re_2".into(), amount: Money::from_minor(700) }
        );
        let bare =
            json!({"id": "ch_1", "payment_intent": "pi_1", "amount": 1000, "amount_refunded": 1000, "currency": "eur"});
        let f = facts("charge.refunded", &bare, &json!({"amount_refunded": 300})).unwrap();
        assert_eq!(
            f,
            [Fact::Refunded { payment: "pi_1".into(), refund: "ch_1@1000".into(), amount: Money::from_minor(700) }]
        );
    }

    #[test]
    fn disputes_and_unknown_events() {
        let d = json!({"id": "dp_1", "charge": "ch_1", "payment_intent": "pi_1", "amount": 1000, "currency": "eur", "status": "won"});
        assert_eq!(
            facts("charge.dispute.created", &d, &Value::Null).unwrap(),
            [Fact::Disputed { payment: "pi_1".into(), dispute: "dp_1".into(), amount: Money::from_minor(1000) }]
        );
        assert_eq!(
            facts("charge.dispute.closed", &d, &Value::Null).unwrap(),
            [Fact::DisputeWon { payment: "pi_1".into(), dispute: "dp_1".into(), amount: Money::from_minor(1000) }]
        );
        let lost = json!({"id": "dp_1", "payment_intent": "pi_1", "amount": 1000, "status": "lost"});
        assert!(facts("charge.dispute.closed", &lost, &Value::Null).unwrap().is_empty());
        assert!(facts("customer.created", &d, &Value::Null).unwrap().is_empty());
    }
}
