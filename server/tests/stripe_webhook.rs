//! Stripe tells the back office a customer paid (issue 18, item 3): a signed webhook for a
//! paid Checkout Session becomes the customer's payment once, whatever the number of
//! deliveries; a bad, missing or stale signature is refused with 400 and writes nothing; a
//! secret being rotated still verifies; the payment reaches the till by sync.

mod backoffice;

use std::sync::Arc;

use ardoise_core::Money;
use backoffice::{BackOffice, at, customer_with_sale, dispatcher};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

fn signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

fn session(event: &str, kind: &str, session: &str, cents: i64, customer: &str) -> String {
    json!({"id": event, "object": "event", "type": kind, "data": {"object": {
        "id": session, "object": "checkout.session", "payment_status": "paid", "amount_total": cents,
        "currency": "eur", "metadata": {"customer": customer}}}})
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_session_is_recorded_once_and_bad_signatures_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (db, shop) = BackOffice::open(dir.path()).await;
    let bo = BackOffice::serve(db.clone(), shop, Some(Arc::new(dispatcher(&db, dir.path(), "merged", false)))).await;
    let base = bo.serving.base_url();
    let start = at("2026-11-02T09:00:00+01:00");
    let till = bo.till(dir.path(), "a", start).await;
    customer_with_sale(&till.lock().unwrap(), "C1", "Hélène Dupré", None, "94.20", start);
    bo.sync(&till, start).await;
    db.set_payment_provider(shop, "stripe", "sk_test_x", &["whsec_new".into(), "whsec_old".into()]).await.unwrap();

    let http = reqwest::Client::new();
    let hook = format!("{base}/v1/pay/stripe/{shop}");
    let post = |body: String, sig: Option<String>| {
        let mut r = http.post(&hook).body(body);
        if let Some(sig) = sig {
            r = r.header("Stripe-Signature", sig);
        }
        r.send()
    };
    let now = chrono::Utc::now().timestamp();
    let paid = session("evt_1", "checkout.session.completed", "cs_1", 8_420, "C1");
    let head = db.shop(shop).await.unwrap().head;

    // Refused before anything is read: no signature, a wrong secret, a changed body, stale.
    for (body, sig) in [
        (paid.clone(), None),
        (paid.clone(), Some(signature("whsec_other", now, &paid))),
        (paid.replace("8420", "99999"), Some(signature("whsec_new", now, &paid))),
        (paid.clone(), Some(signature("whsec_new", now - 600, &paid))),
    ] {
        let r = post(body, sig).await.unwrap();
        assert_eq!(r.status(), 400);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"], "bad_signature", "{e}");
    }
    assert_eq!(db.shop(shop).await.unwrap().head, head, "nothing written");
    let r = http.post(format!("{base}/v1/pay/stripe/{}", uuid::Uuid::new_v4())).body("{}").send().await.unwrap();
    assert_eq!(r.status(), 404);

    // Delivered three times (Stripe retries until it hears 2xx): recorded once.
    let mut recorded = Vec::new();
    for _ in 0..3 {
        let r = post(paid.clone(), Some(signature("whsec_new", now, &paid))).await.unwrap();
        assert_eq!(r.status(), 200);
        recorded.push(r.json::<Value>().await.unwrap()["recorded"].as_bool().unwrap());
    }
    assert_eq!(recorded, [true, false, false]);
    // Signed with the secret being rotated out: still verified. An event of another kind is
    // acknowledged and ignored.
    let second = session("evt_2", "checkout.session.completed", "cs_2", 1_000, "C1");
    let r = post(second.clone(), Some(signature("whsec_old", now, &second))).await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["recorded"], true);
    let other = session("evt_3", "payment_intent.created", "pi_3", 500, "C1");
    let r = post(other.clone(), Some(signature("whsec_new", now, &other))).await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["recorded"], false);
    // A customer the shop does not have: 422, nothing written.
    let stranger = session("evt_4", "checkout.session.completed", "cs_4", 700, "C9");
    let r = post(stranger.clone(), Some(signature("whsec_new", now, &stranger))).await.unwrap();
    assert_eq!(r.status(), 422);

    // The till receives both payments once: the account is settled.
    bo.sync(&till, start + chrono::Duration::hours(1)).await;
    {
        let s = till.lock().unwrap();
        let payments: Vec<_> = s.entries().unwrap().into_iter().filter(|e| e.body.kind() == "payment").collect();
        assert_eq!(payments.len(), 2, "{payments:?}");
        assert_eq!(s.account("C1", start.date_naive()).unwrap().balance, Money::ZERO);
        s.audit().unwrap();
    }
    bo.serving.shutdown(std::time::Duration::from_secs(1)).await.unwrap();
}
