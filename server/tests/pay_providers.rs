//! What payment providers report, end to end through the real server on loopback (issue 18):
//! Stripe's signed events in any order (a refund or a chargeback before its payment is 409
//! and writes nothing, then is taken once it can be), partial and full refunds, a chargeback
//! and the dispute won; Mollie's unsigned hints checked with (a stand-in of) Mollie's API,
//! forged ones and another shop's writing nothing, and its chargebacks (and their reversal)
//! taken once each. Several chargebacks of one payment, by either provider and by two
//! processes at once, charge the customer what the bank took back, once. Every result
//! reaches the till by sync.

mod backoffice;

use std::sync::{Arc, Mutex};

use ardoise_core::Money;
use ardoise_core::store::Store;
use backoffice::provider::{StandIn, stripe_event, stripe_signature};
use backoffice::{BackOffice, at, customer_with_sale, dispatcher, m};
use serde_json::{Value, json};

fn invoice_of(till: &Mutex<Store>, customer: &str) -> String {
    let s = till.lock().unwrap();
    s.account(customer, chrono::Local::now().date_naive()).unwrap().open_invoices[0].reference.clone()
}

fn balance(till: &Mutex<Store>, customer: &str) -> Money {
    till.lock().unwrap().account(customer, chrono::Local::now().date_naive()).unwrap().balance
}

fn kinds(till: &Mutex<Store>) -> Vec<&'static str> {
    till.lock().unwrap().entries().unwrap().iter().map(|e| e.body.kind()).collect()
}

fn paid_session(session: &str, intent: &str, cents: i64, customer: &str, invoice: &str) -> Value {
    json!({"id": session, "object": "checkout.session", "payment_status": "paid", "payment_intent": intent,
        "amount_total": cents, "currency": "eur", "metadata": {"customer": customer, "invoices": invoice}})
}

struct Hook {
    http: reqwest::Client,
    url: String,
}

impl Hook {
    /// Delivers `body` signed with `secret` now; the status and the answer.
    async fn send(&self, body: &str, secret: &str) -> (u16, Value) {
        let sig = stripe_signature(secret, chrono::Utc::now().timestamp(), body);
        let r = self.http.post(&self.url).header("Stripe-Signature", sig).body(body.to_owned()).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// Delivers `body` again while the server answers 409 ("not yet"), as Stripe retries.
    async fn send_until_taken(&self, body: &str) -> (u16, Value) {
        for _ in 0..100 {
            match self.send(body, "whsec_a").await {
                (409, _) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
                answer => return answer,
            }
        }
        panic!("still 409 after 100 tries");
    }
}

/// Two server processes on one database, each with its own merged copy, and a till; customers
/// `C0..=Cn` each bought 94.20 on account and paid it through Stripe (`pi_{i}`).
struct TwoProcesses {
    db: ardoise_server::Db,
    shop: uuid::Uuid,
    bo: BackOffice,
    other: BackOffice,
    till: Mutex<Store>,
    start: ardoise_core::store::Now,
    /// The webhook of each process.
    hooks: Arc<(Hook, Hook)>,
}

impl TwoProcesses {
    async fn open(dir: &std::path::Path, url: &str, n: usize) -> TwoProcesses {
        let (db, shop) = BackOffice::open_url(url).await;
        let bo = BackOffice::serve(db.clone(), shop, Some(Arc::new(dispatcher(&db, dir, "merged", false)))).await;
        let other = BackOffice::serve(db.clone(), shop, Some(Arc::new(dispatcher(&db, dir, "merged-b", false)))).await;
        let start = at("2026-11-02T09:00:00+01:00");
        let till = bo.till(dir, "a", start).await;
        for i in 0..=n {
            customer_with_sale(&till.lock().unwrap(), &format!("C{i}"), &format!("Client {i}"), None, "94.20", start);
        }
        bo.sync(&till, start).await;
        db.set_payment_provider(shop, "stripe", "sk_test_x", &["whsec_a".into()]).await.unwrap();
        let http = reqwest::Client::new();
        let hook =
            |b: &BackOffice| Hook { http: http.clone(), url: format!("{}/v1/pay/stripe/{shop}", b.serving.base_url()) };
        let hooks = Arc::new((hook(&bo), hook(&other)));
        for i in 0..=n {
            let paid = paid_session(&format!("cs_{i}"), &format!("pi_{i}"), 9420, &format!("C{i}"), "");
            let paid = stripe_event(&format!("evt_p{i}"), "checkout.session.completed", paid);
            assert_eq!(hooks.0.send(&paid, "whsec_a").await.1["recorded"], true);
        }
        TwoProcesses { db, shop, bo, other, till, start, hooks }
    }

    async fn head(&self) -> u64 {
        self.db.shop(self.shop).await.unwrap().head
    }

    /// Delivers each pair's first event to one process and its second to the other, all at the
    /// same moment; every one is taken (200, recorded) once the server stops answering 409.
    async fn race(&self, pairs: Vec<[String; 2]>) {
        let mut sends = Vec::new();
        for pair in pairs {
            for (n, body) in pair.into_iter().enumerate() {
                let hooks = Arc::clone(&self.hooks);
                sends.push(tokio::spawn(async move {
                    let hook = if n == 0 { &hooks.0 } else { &hooks.1 };
                    hook.send_until_taken(&body).await
                }));
            }
        }
        for s in sends {
            let (status, r) = s.await.unwrap();
            assert_eq!((status, &r["recorded"]), (200, &json!(true)), "{r}");
        }
    }

    async fn shutdown(self) {
        self.other.serving.shutdown(std::time::Duration::from_secs(1)).await.unwrap();
        self.bo.serving.shutdown(std::time::Duration::from_secs(1)).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_refunds_and_chargebacks_in_any_order_are_recorded_once_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("server.db").display());
    refunds_and_chargebacks(dir, &url).await;
}

/// The same on a PostgreSQL server (127.0.0.1:5432, database test, a schema of its own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_refunds_and_chargebacks_in_any_order_are_recorded_once_on_postgres() {
    let (url, _schema) = backoffice::pg::PgSchema::create("pay").await;
    refunds_and_chargebacks(tempfile::tempdir().unwrap(), &url).await;
}

async fn refunds_and_chargebacks(dir: tempfile::TempDir, url: &str) {
    let (db, shop) = BackOffice::open_url(url).await;
    let bo = BackOffice::serve(db.clone(), shop, Some(Arc::new(dispatcher(&db, dir.path(), "merged", false)))).await;
    let start = at("2026-11-02T09:00:00+01:00");
    let till = bo.till(dir.path(), "a", start).await;
    for (c, amount) in [("C1", "94.20"), ("C2", "50.00"), ("C3", "20.00")] {
        customer_with_sale(&till.lock().unwrap(), c, &format!("Client {c}"), None, amount, start);
    }
    bo.sync(&till, start).await;
    let (f1, f2, f3) = (invoice_of(&till, "C1"), invoice_of(&till, "C2"), invoice_of(&till, "C3"));
    db.set_payment_provider(shop, "stripe", "sk_test_x", &["whsec_a".into()]).await.unwrap();
    let hook = Hook { http: reqwest::Client::new(), url: format!("{}/v1/pay/stripe/{shop}", bo.serving.base_url()) };
    let head = || async { db.shop(shop).await.unwrap().head };

    // A refund that overtook its payment: 409, nothing written; Stripe delivers it again.
    let refund_1 = stripe_event(
        "evt_r1",
        "charge.refunded",
        json!({"id": "ch_1", "object": "charge", "payment_intent": "pi_1", "amount": 9420, "amount_refunded": 2000,
            "currency": "eur", "refunds": {"data": [{"id": "re_1", "amount": 2000, "status": "succeeded"}]}}),
    );
    let before = head().await;
    let (status, e) = hook.send(&refund_1, "whsec_a").await;
    assert_eq!((status, e["error"].as_str()), (409, Some("payment_not_recorded_yet")), "{e}");
    assert_eq!(head().await, before, "nothing written");
    // Signed with a secret of nobody: 400, nothing written either.
    assert_eq!(hook.send(&refund_1, "whsec_z").await.0, 400);

    // The payment, named by its PaymentIntent; delivered again, and as the async success too.
    let paid = stripe_event("evt_p1", "checkout.session.completed", paid_session("cs_1", "pi_1", 9420, "C1", &f1));
    let (status, r) = hook.send(&paid, "whsec_a").await;
    assert_eq!((status, &r["recorded"]), (200, &json!(true)), "{r}");
    assert_eq!(r["entry"], json!(ardoise_core::bank::entry_id("stripe", "pi_1")), "keyed by the PaymentIntent");
    assert_eq!(hook.send(&paid, "whsec_a").await.1["recorded"], false);
    let async_paid = stripe_event(
        "evt_p1b",
        "checkout.session.async_payment_succeeded",
        paid_session("cs_1", "pi_1", 9420, "C1", &f1),
    );
    assert_eq!(hook.send(&async_paid, "whsec_a").await.1["recorded"], false);

    // Now the refund is taken, once; a later event listing it with a second refund adds only
    // the second.
    assert_eq!(hook.send(&refund_1, "whsec_a").await.1["recorded"], true);
    assert_eq!(hook.send(&refund_1, "whsec_a").await.1["recorded"], false);
    let refund_2 = stripe_event(
        "evt_r2",
        "charge.refunded",
        json!({"id": "ch_1", "payment_intent": "pi_1", "amount": 9420, "amount_refunded": 3000, "currency": "eur",
            "refunds": {"data": [{"id": "re_2", "amount": 1000}, {"id": "re_1", "amount": 2000}]}}),
    );
    let (status, r) = hook.send(&refund_2, "whsec_a").await;
    assert_eq!((status, r["entries"].as_array().map(Vec::len)), (200, Some(2)), "{r}");

    // C2: the dispute is won before its chargeback arrives (409), then the chargeback
    // (reversal and a dispute on the invoice), then the win again (the payment again).
    let paid_2 = stripe_event("evt_p2", "checkout.session.completed", paid_session("cs_2", "pi_2", 5000, "C2", &f2));
    assert_eq!(hook.send(&paid_2, "whsec_a").await.1["recorded"], true);
    let dispute = json!({"id": "dp_1", "object": "dispute", "charge": "ch_2", "payment_intent": "pi_2", "amount": 5000,
        "currency": "eur", "status": "won"});
    let won = stripe_event("evt_d2", "charge.dispute.closed", dispute.clone());
    let before = head().await;
    assert_eq!(hook.send(&won, "whsec_a").await.0, 409);
    assert_eq!(head().await, before, "nothing written");
    let mut opened = dispute.clone();
    opened["status"] = "needs_response".into();
    let created = stripe_event("evt_d1", "charge.dispute.created", opened);
    assert_eq!(hook.send(&created, "whsec_a").await.1["recorded"], true);
    assert_eq!(hook.send(&created, "whsec_a").await.1["recorded"], false);
    bo.sync(&till, start + chrono::Duration::minutes(30)).await;
    assert_eq!(balance(&till, "C2"), m("50.00"), "the bank took the money back");
    let disputes = till.lock().unwrap().disputes(Some("C2")).unwrap();
    assert_eq!(disputes.len(), 1, "{disputes:?}");
    assert_eq!((disputes[0].invoice.as_str(), disputes[0].state.as_str()), (f2.as_str(), "open"));
    assert_eq!(hook.send(&won, "whsec_a").await.1["recorded"], true);
    assert_eq!(hook.send(&won, "whsec_a").await.1["recorded"], false);

    // C3: paid, then refunded in full (an API version without the refunds list): a reversal.
    let paid_3 = stripe_event("evt_p3", "checkout.session.completed", paid_session("cs_3", "pi_3", 2000, "C3", &f3));
    assert_eq!(hook.send(&paid_3, "whsec_a").await.1["recorded"], true);
    let full = json!({"id": "evt_r3", "type": "charge.refunded", "data": {
        "object": {"id": "ch_3", "payment_intent": "pi_3", "amount": 2000, "amount_refunded": 2000, "currency": "eur"},
        "previous_attributes": {"amount_refunded": 0}}})
    .to_string();
    assert_eq!(hook.send(&full, "whsec_a").await.1["recorded"], true);
    assert_eq!(hook.send(&full, "whsec_a").await.1["recorded"], false);

    // C1, partly refunded (30.00 of 94.20), then charged back for the rest: the customer owes
    // the 94.20 again, not the refunds a second time.
    let chargeback = json!({"id": "dp_9", "object": "dispute", "charge": "ch_1", "payment_intent": "pi_1",
        "amount": 6420, "currency": "eur", "status": "needs_response"});
    let created = stripe_event("evt_d9", "charge.dispute.created", chargeback);
    assert_eq!(hook.send(&created, "whsec_a").await.1["recorded"], true);
    assert_eq!(hook.send(&created, "whsec_a").await.1["recorded"], false);

    // Kinds the back office does not record: acknowledged, nothing written.
    let before = head().await;
    let other = stripe_event("evt_x", "customer.created", json!({"id": "cus_1"}));
    assert_eq!(hook.send(&other, "whsec_a").await, (200, json!({"recorded": false, "ignored": "customer.created"})));
    assert_eq!(head().await, before);

    bo.sync(&till, start + chrono::Duration::hours(1)).await;
    assert_eq!(balance(&till, "C1"), m("94.20"), "94.20 paid, 20.00 and 10.00 refunded, 64.20 charged back");
    assert_eq!(balance(&till, "C2"), Money::ZERO, "the dispute was won");
    assert_eq!(balance(&till, "C3"), m("20.00"), "refunded in full");
    let k = kinds(&till);
    let count = |kind: &str| k.iter().filter(|x| **x == kind).count();
    assert_eq!((count("payment"), count("adjustment"), count("reversal")), (4, 3, 3), "{k:?}");
    till.lock().unwrap().audit().unwrap();
    bo.serving.shutdown(std::time::Duration::from_secs(1)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mollie_hints_are_checked_with_mollie_and_forged_ones_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let provider = StandIn::start().await;
    let (db, shop) = BackOffice::open(dir.path()).await;
    let other_shop = db.create_shop("Boulangerie").await.unwrap();
    let d = dispatcher(&db, dir.path(), "merged", false).with_pay_apis(provider.apis());
    let d = Arc::new(d);
    let bo = BackOffice::serve(db.clone(), shop, Some(Arc::clone(&d))).await;
    let start = at("2026-11-02T09:00:00+01:00");
    let till = bo.till(dir.path(), "a", start).await;
    customer_with_sale(&till.lock().unwrap(), "C1", "Hélène Dupré", None, "94.20", start);
    bo.sync(&till, start).await;
    db.set_payment_provider(shop, "mollie", "test_shop1", &[]).await.unwrap();
    db.set_payment_provider(other_shop, "mollie", "test_shop2", &[]).await.unwrap();
    let http = reqwest::Client::new();
    let hook = format!("{}/v1/pay/mollie/{shop}", bo.serving.base_url());
    let hint = |id: &str| http.post(&hook).form(&[("id", id)]).send();
    let head = || async { db.shop(shop).await.unwrap().head };

    // The back office asks Mollie for a payment of what C1 owes (pay-link).
    let (session, amount) = d.payment_session(shop, "C1", chrono::Local::now().fixed_offset()).await.unwrap();
    assert_eq!(amount, m("94.20"));
    let created = provider.created();
    assert_eq!(created.len(), 1);
    assert_eq!(session.url, created[0].url);
    assert_eq!(created[0].bearer, "test_shop1");
    assert_eq!(created[0].json["amount"], json!({"currency": "EUR", "value": "94.20"}));
    assert_eq!(created[0].json["metadata"]["customer"], "C1");
    assert_eq!(created[0].json["metadata"]["shop"], shop.to_string());
    let id = session.id.clone();

    let before = head().await;
    // Forged: an id Mollie does not know, a payment of another shop's account, one of this
    // account naming another shop, one not paid yet, and one in another currency.
    provider.mollie_insert(
        "test_shop2",
        json!({"id": "tr_other", "status": "paid", "amount": {"currency": "EUR", "value": "94.20"},
            "metadata": {"shop": other_shop.to_string(), "customer": "C1"}}),
    );
    provider.mollie_insert(
        "test_shop1",
        json!({"id": "tr_mixed", "status": "paid", "amount": {"currency": "EUR", "value": "94.20"},
            "metadata": {"shop": other_shop.to_string(), "customer": "C1"}}),
    );
    provider.mollie_insert(
        "test_shop1",
        json!({"id": "tr_usd", "status": "paid", "amount": {"currency": "USD", "value": "94.20"},
            "metadata": {"shop": shop.to_string(), "customer": "C1"}}),
    );
    for forged in ["tr_unknown", "tr_other", "tr_mixed", "tr_usd", id.as_str()] {
        let r = hint(forged).await.unwrap();
        assert_eq!(r.status(), 200, "{forged}");
        assert_eq!(r.json::<Value>().await.unwrap()["recorded"], false, "{forged}");
    }
    for malformed in ["re_1", "tr_../v2/refunds", ""] {
        assert_eq!(hint(malformed).await.unwrap().status(), 400, "{malformed}");
    }
    assert_eq!(http.post(&hook).body("nothing").send().await.unwrap().status(), 400);
    assert_eq!(head().await, before, "nothing written");

    // Paid: recorded once, however often Mollie hints.
    provider.mollie_update(&id, |p| p["status"] = "paid".into());
    let r: Value = hint(&id).await.unwrap().json().await.unwrap();
    assert_eq!(r["recorded"], true, "{r}");
    assert_eq!(r["entry"], json!(ardoise_core::bank::entry_id("mollie", &id)));
    assert_eq!(hint(&id).await.unwrap().json::<Value>().await.unwrap()["recorded"], false);

    // Part refunded: an adjustment, once.
    provider.mollie_update(&id, |p| p["amountRefunded"] = json!({"currency": "EUR", "value": "10.00"}));
    provider.mollie_refund(
        &id,
        json!({"id": "re_m1", "status": "refunded", "amount": {"currency": "EUR", "value": "10.00"}}),
    );
    assert_eq!(hint(&id).await.unwrap().json::<Value>().await.unwrap()["recorded"], true);
    assert_eq!(hint(&id).await.unwrap().json::<Value>().await.unwrap()["recorded"], false);

    // Mollie down: 503, Mollie hints again later.
    provider.set_down(true);
    assert_eq!(hint(&id).await.unwrap().status(), 503);
    provider.set_down(false);
    // A shop without a Mollie account.
    let r =
        http.post(format!("{}/v1/pay/mollie/{}", bo.serving.base_url(), uuid::Uuid::new_v4())).form(&[("id", "tr_1")]);
    assert_eq!(r.send().await.unwrap().status(), 404);

    bo.sync(&till, start + chrono::Duration::hours(1)).await;
    assert_eq!(balance(&till, "C1"), m("10.00"));
    assert_eq!(kinds(&till).iter().filter(|k| **k == "payment").count(), 1);
    till.lock().unwrap().audit().unwrap();
    bo.serving.shutdown(std::time::Duration::from_secs(1)).await.unwrap();
}

/// A shop paid through Mollie (its API stood in on loopback): C1 bought 94.20 on account at a
/// till, synced, then paid it online, Mollie's hint taken.
struct MolliePaid {
    _dir: tempfile::TempDir,
    provider: StandIn,
    bo: BackOffice,
    till: Mutex<Store>,
    start: ardoise_core::store::Now,
    /// C1's invoice.
    invoice: String,
    http: reqwest::Client,
    hook: String,
    /// The Mollie payment.
    id: String,
}

impl MolliePaid {
    async fn start() -> MolliePaid {
        let dir = tempfile::tempdir().unwrap();
        let provider = StandIn::start().await;
        let (db, shop) = BackOffice::open(dir.path()).await;
        let d = Arc::new(dispatcher(&db, dir.path(), "merged", false).with_pay_apis(provider.apis()));
        let bo = BackOffice::serve(db.clone(), shop, Some(Arc::clone(&d))).await;
        let start = at("2026-11-02T09:00:00+01:00");
        let till = bo.till(dir.path(), "a", start).await;
        customer_with_sale(&till.lock().unwrap(), "C1", "Hélène Dupré", None, "94.20", start);
        bo.sync(&till, start).await;
        let invoice = invoice_of(&till, "C1");
        db.set_payment_provider(shop, "mollie", "test_shop1", &[]).await.unwrap();
        let hook = format!("{}/v1/pay/mollie/{shop}", bo.serving.base_url());
        let (session, _) = d.payment_session(shop, "C1", chrono::Local::now().fixed_offset()).await.unwrap();
        provider.mollie_update(&session.id, |p| p["status"] = "paid".into());
        let paid = MolliePaid {
            _dir: dir,
            provider,
            bo,
            till,
            start,
            invoice,
            http: reqwest::Client::new(),
            hook,
            id: session.id,
        };
        assert_eq!(paid.hint().await["recorded"], true);
        paid
    }

    /// Mollie hints that the payment changed: the server's answer, always 200.
    async fn hint(&self) -> Value {
        let r = self.http.post(&self.hook).form(&[("id", &self.id)]).send().await.unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()
    }

    async fn shutdown(self) {
        self.bo.serving.shutdown(std::time::Duration::from_secs(1)).await.unwrap();
    }
}

/// A Mollie payment charged back: the hint that reports it reverses the payment and opens a
/// dispute on the invoice, once however often Mollie hints; the chargeback reversed, the money
/// is back, once too. A payment Mollie reports no chargeback for is not even asked about.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mollie_chargebacks_are_disputes_and_their_reversal_a_dispute_won_once_each() {
    let paid = MolliePaid::start().await;
    let MolliePaid { provider, bo, till, invoice, id, .. } = &paid;
    let (db, shop, start) = (&bo.db, bo.shop, paid.start);

    assert!(provider.chargeback_reads().is_empty(), "no chargeback reported, none asked for");
    bo.sync(till, start + chrono::Duration::minutes(10)).await;
    assert_eq!(balance(till, "C1"), Money::ZERO);

    // Charged back: the payment still `paid`, with `amountChargedBack` and the list.
    provider.mollie_update(id, |p| {
        p["amountChargedBack"] = json!({"currency": "EUR", "value": "94.20"});
        p["_links"]["chargebacks"] = json!({"href": format!("https://api.mollie.com/v2/payments/{id}/chargebacks")});
    });
    provider.mollie_chargebacks(id, |list| {
        list.push(json!({"resource": "chargeback", "id": "chb_m1", "paymentId": id,
            "amount": {"currency": "EUR", "value": "94.20"}, "settlementAmount": {"currency": "EUR", "value": "-94.20"},
            "createdAt": "2026-11-20T10:00:00+00:00", "reversedAt": null}));
    });
    let r = paid.hint().await;
    assert_eq!(r["recorded"], true, "{r}");
    assert_eq!(r["entries"][1], json!(ardoise_core::bank::entry_id("mollie", &format!("reversal/{id}"))), "{r}");
    let head = db.shop(shop).await.unwrap().head;
    for _ in 0..2 {
        assert_eq!(paid.hint().await["recorded"], false);
    }
    assert_eq!(db.shop(shop).await.unwrap().head, head, "hinted again: nothing more written");
    bo.sync(till, start + chrono::Duration::minutes(20)).await;
    assert_eq!(balance(till, "C1"), m("94.20"), "the bank took the money back");
    let disputes = till.lock().unwrap().disputes(Some("C1")).unwrap();
    assert_eq!(disputes.len(), 1, "{disputes:?}");
    assert_eq!((disputes[0].invoice.as_str(), disputes[0].state.as_str()), (invoice.as_str(), "open"));

    // Reversed: Mollie's total charged back may fall to zero, the link stays; the money is
    // back once.
    provider.mollie_update(id, |p| p["amountChargedBack"] = json!({"currency": "EUR", "value": "0.00"}));
    provider.mollie_chargebacks(id, |list| list[0]["reversedAt"] = "2026-12-01T10:00:00+00:00".into());
    let r = paid.hint().await;
    assert_eq!(r["recorded"], true, "{r}");
    assert_eq!(r["entries"][2], json!(ardoise_core::bank::entry_id("mollie", "dispute-won/chb_m1")), "{r}");
    let head = db.shop(shop).await.unwrap().head;
    assert_eq!(paid.hint().await["recorded"], false);
    assert_eq!(db.shop(shop).await.unwrap().head, head);

    bo.sync(till, start + chrono::Duration::hours(1)).await;
    assert_eq!(balance(till, "C1"), Money::ZERO, "the chargeback was reversed");
    let k = kinds(till);
    let count = |kind: &str| k.iter().filter(|x| **x == kind).count();
    assert_eq!((count("payment"), count("reversal")), (2, 1), "{k:?}");
    till.lock().unwrap().audit().unwrap();
    paid.shutdown().await;
}

/// A Mollie payment charged back twice (50.00, then 44.20 of its 94.20), each reported by a
/// hint of its own and hinted again: the first reverses the payment and credits what the bank
/// did not take, the second charges what it took on top, so the customer owes the 94.20 once,
/// and a hint that brings nothing new writes nothing. The second reversed, its 44.20 is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mollie_chargebacks_of_one_payment_are_each_taken_once() {
    let paid = MolliePaid::start().await;
    let MolliePaid { provider, bo, till, invoice, id, .. } = &paid;
    let (db, shop, start) = (&bo.db, bo.shop, paid.start);
    let head = || async { db.shop(shop).await.unwrap().head };
    let entry = |name: &str| json!(ardoise_core::bank::entry_id("mollie", name));

    let chargeback = |chb: &str, value: &str| {
        json!({"resource": "chargeback", "id": chb, "paymentId": id,
            "amount": {"currency": "EUR", "value": value}, "settlementAmount": {"currency": "EUR", "value": format!("-{value}")},
            "createdAt": "2026-11-20T10:00:00+00:00", "reversedAt": null})
    };

    // The first: 50.00 of the 94.20.
    let first = chargeback("chb_1", "50.00");
    provider.mollie_update(id, |p| {
        p["amountChargedBack"] = json!({"currency": "EUR", "value": "50.00"});
        p["_links"]["chargebacks"] = json!({"href": format!("https://api.mollie.com/v2/payments/{id}/chargebacks")});
    });
    provider.mollie_chargebacks(id, |list| list.push(first));
    let before = head().await;
    let r = paid.hint().await;
    assert_eq!(r["recorded"], true, "{r}");
    assert_eq!(r["entries"][1], entry(&format!("reversal/{id}")), "{r}");
    // In the log, the credit before the reversal: whoever reads the reversal has its credit.
    let written = db.changes(shop, before, 100).await.unwrap().changes;
    let entries: Vec<Value> = written.iter().filter(|c| c.event.kind == "entry").map(|c| json!(c.event.id)).collect();
    assert_eq!(entries, [entry("chargeback-refunded/chb_1"), entry(&format!("reversal/{id}"))]);
    let tables: Vec<&Value> = written.iter().map(|c| &c.event.payload["table"]).collect();
    assert!(tables.contains(&&json!("disputes")), "a dispute opened on the invoice: {tables:?}");
    let after_first = head().await;
    for _ in 0..2 {
        assert_eq!(paid.hint().await["recorded"], false);
    }
    assert_eq!(head().await, after_first, "hinted again: nothing more written");
    bo.sync(till, start + chrono::Duration::minutes(10)).await;
    assert_eq!(balance(till, "C1"), m("50.00"), "94.20 reversed, 44.20 the bank did not take credited");

    // The second: the 44.20 left. Mollie lists both; the first is recognised.
    provider.mollie_update(id, |p| p["amountChargedBack"] = json!({"currency": "EUR", "value": "94.20"}));
    provider.mollie_chargebacks(id, |list| list.push(chargeback("chb_2", "44.20")));
    let r = paid.hint().await;
    assert_eq!(r["recorded"], true, "{r}");
    assert_eq!(r["entries"][1], entry(&format!("reversal/{id}")), "{r}");
    assert_eq!(r["entries"][2], entry("chargeback/chb_2"), "{r}");
    let written = db.changes(shop, after_first, 100).await.unwrap().changes;
    let kinds_written: Vec<&str> = written.iter().map(|c| c.event.kind.as_str()).collect();
    assert_eq!(kinds_written, ["entry"], "one adjustment; the invoice's dispute is open already");
    assert_eq!(written[0].event.id, ardoise_core::bank::entry_id("mollie", "chargeback/chb_2"));
    assert_eq!(written[0].event.payload["amount"], "44.20");
    let after_second = head().await;
    for _ in 0..2 {
        assert_eq!(paid.hint().await["recorded"], false);
    }
    assert_eq!(head().await, after_second, "hinted again: nothing more written");
    bo.sync(till, start + chrono::Duration::minutes(20)).await;
    assert_eq!(balance(till, "C1"), m("94.20"), "what the bank took back, once");
    let disputes = till.lock().unwrap().disputes(Some("C1")).unwrap();
    assert_eq!(disputes.len(), 1, "{disputes:?}");
    assert_eq!((disputes[0].invoice.as_str(), disputes[0].state.as_str()), (invoice.as_str(), "open"));

    // The second reversed: its 44.20 is back, once.
    provider.mollie_update(id, |p| p["amountChargedBack"] = json!({"currency": "EUR", "value": "50.00"}));
    provider.mollie_chargebacks(id, |list| list[1]["reversedAt"] = "2026-12-01T10:00:00+00:00".into());
    let r = paid.hint().await;
    assert_eq!(r["recorded"], true, "{r}");
    assert_eq!(r["entries"][3], entry("dispute-won/chb_2"), "{r}");
    let after_won = head().await;
    assert_eq!(after_won, after_second + 1);
    assert_eq!(paid.hint().await["recorded"], false);
    assert_eq!(head().await, after_won);

    bo.sync(till, start + chrono::Duration::hours(1)).await;
    assert_eq!(balance(till, "C1"), m("50.00"), "the first chargeback stands, the second was reversed");
    let k = kinds(till);
    let count = |kind: &str| k.iter().filter(|x| **x == kind).count();
    assert_eq!((count("payment"), count("reversal"), count("adjustment")), (2, 1, 2), "{k:?}");
    till.lock().unwrap().audit().unwrap();
    paid.shutdown().await;
}

fn dispute(id: &str, intent: &str, cents: i64, status: &str) -> Value {
    json!({"id": id, "object": "dispute", "charge": format!("ch_{intent}"), "payment_intent": intent,
        "amount": cents, "currency": "eur", "status": status})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_disputes_of_one_payment_are_each_taken_once_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("server.db").display());
    disputes_of_one_payment(dir, &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_disputes_of_one_payment_are_each_taken_once_on_postgres() {
    let (url, _schema) = backoffice::pg::PgSchema::create("pay").await;
    disputes_of_one_payment(tempfile::tempdir().unwrap(), &url).await;
}

/// Stripe: two disputes of one PaymentIntent, in one process and then in two processes on one
/// database at the same moment; a dispute won before its own dispute was taken in is 409 even
/// when another dispute reversed the payment already.
async fn disputes_of_one_payment(dir: tempfile::TempDir, url: &str) {
    const RACES: usize = 4;
    let t = TwoProcesses::open(dir.path(), url, RACES).await;
    let (hook, till, start) = (&t.hooks.0, &t.till, t.start);

    // C0, one process: 50.00, then the 44.20 left.
    let created_a = stripe_event("evt_a", "charge.dispute.created", dispute("dp_a", "pi_0", 5000, "needs_response"));
    assert_eq!(hook.send(&created_a, "whsec_a").await.1["recorded"], true);
    assert_eq!(hook.send(&created_a, "whsec_a").await.1["recorded"], false);
    // dp_b won before dp_b itself arrived: the payment is reversed (by dp_a), but taking the
    // win now would pay back money the ledger never charged.
    let won_b = stripe_event("evt_bw", "charge.dispute.closed", dispute("dp_b", "pi_0", 4420, "won"));
    let before = t.head().await;
    let (status, e) = hook.send(&won_b, "whsec_a").await;
    assert_eq!((status, e["error"].as_str()), (409, Some("payment_not_recorded_yet")), "{e}");
    assert_eq!(t.head().await, before, "nothing written");
    let created_b = stripe_event("evt_b", "charge.dispute.created", dispute("dp_b", "pi_0", 4420, "needs_response"));
    let (status, r) = hook.send(&created_b, "whsec_a").await;
    assert_eq!((status, &r["recorded"]), (200, &json!(true)), "{r}");
    assert_eq!(r["entry"], json!(ardoise_core::bank::entry_id("stripe", "chargeback/dp_b")));
    let before = t.head().await;
    assert_eq!(hook.send(&created_b, "whsec_a").await.1["recorded"], false);
    assert_eq!(hook.send(&created_a, "whsec_a").await.1["recorded"], false);
    assert_eq!(t.head().await, before, "delivered again: nothing written");
    t.bo.sync(till, start + chrono::Duration::minutes(10)).await;
    assert_eq!(balance(till, "C0"), m("94.20"), "50.00 and 44.20 taken back, once each");
    assert_eq!(hook.send(&won_b, "whsec_a").await.1["recorded"], true);
    assert_eq!(hook.send(&won_b, "whsec_a").await.1["recorded"], false);
    t.bo.sync(till, start + chrono::Duration::minutes(20)).await;
    assert_eq!(balance(till, "C0"), m("50.00"), "dp_b won: its 44.20 came back");

    // C1..: each payment's two disputes delivered at the same moment, one to each process.
    // Whichever process is second either finds the first's reversal or is told to come back
    // (409, as Stripe would retry); never do both reverse the payment.
    let pairs = (1..=RACES)
        .map(|i| {
            [("x", 5000), ("y", 4420)].map(|(dp, cents)| {
                stripe_event(
                    &format!("evt_{dp}{i}"),
                    "charge.dispute.created",
                    dispute(&format!("dp_{dp}{i}"), &format!("pi_{i}"), cents, "needs_response"),
                )
            })
        })
        .collect();
    t.race(pairs).await;
    t.bo.sync(till, start + chrono::Duration::hours(1)).await;
    for i in 1..=RACES {
        assert_eq!(balance(till, &format!("C{i}")), m("94.20"), "C{i}: 50.00 and 44.20, once each");
    }
    let k = kinds(till);
    let count = |kind: &str| k.iter().filter(|x| **x == kind).count();
    assert_eq!(count("reversal"), 1 + RACES, "one reversal per payment: {k:?}");
    till.lock().unwrap().audit().unwrap();
    t.shutdown().await;
}

fn full_refund(event: &str, intent: &str, refund: &str, cents: i64) -> String {
    stripe_event(
        event,
        "charge.refunded",
        json!({"id": format!("ch_{intent}"), "object": "charge", "payment_intent": intent, "amount": cents,
            "amount_refunded": cents, "currency": "eur", "refunds": {"data": [{"id": refund, "amount": cents}]}}),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_a_full_refund_and_a_chargeback_of_one_payment_are_both_taken_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("server.db").display());
    refund_and_chargeback(dir, &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_a_full_refund_and_a_chargeback_of_one_payment_are_both_taken_on_postgres() {
    let (url, _schema) = backoffice::pg::PgSchema::create("pay").await;
    refund_and_chargeback(tempfile::tempdir().unwrap(), &url).await;
}

/// Stripe: a payment refunded in full and charged back whole (a customer may dispute a charge
/// the shop refunded): the shop gave the money back twice, so the customer owes it twice,
/// whichever comes first, in one process or in two at the same moment; the dispute won gives
/// one back.
async fn refund_and_chargeback(dir: tempfile::TempDir, url: &str) {
    const RACES: usize = 4;
    let t = TwoProcesses::open(dir.path(), url, RACES + 1).await;
    let (hook, hook_b, till, start) = (&t.hooks.0, &t.hooks.1, &t.till, t.start);

    // C0: refunded in full (the payment reversed), then charged back whole (on top).
    let refunded = full_refund("evt_r0", "pi_0", "re_0", 9420);
    let (status, r) = hook.send(&refunded, "whsec_a").await;
    assert_eq!((status, &r["recorded"]), (200, &json!(true)), "{r}");
    let charged = stripe_event("evt_d0", "charge.dispute.created", dispute("dp_0", "pi_0", 9420, "needs_response"));
    let (status, r) = hook.send(&charged, "whsec_a").await;
    assert_eq!((status, &r["recorded"]), (200, &json!(true)), "{r}");
    assert_eq!(r["entry"], json!(ardoise_core::bank::entry_id("stripe", "chargeback/dp_0")), "{r}");
    let before = t.head().await;
    for body in [&refunded, &charged] {
        assert_eq!(hook.send(body, "whsec_a").await.1["recorded"], false);
        assert_eq!(hook_b.send(body, "whsec_a").await.1["recorded"], false);
    }
    assert_eq!(t.head().await, before, "delivered again, to either process: nothing written");
    // C1: the other way round: the chargeback reverses the payment, the refund comes on top.
    let charged = stripe_event("evt_d1", "charge.dispute.created", dispute("dp_1", "pi_1", 9420, "needs_response"));
    assert_eq!(hook.send(&charged, "whsec_a").await.1["recorded"], true);
    let (status, r) = hook.send(&full_refund("evt_r1", "pi_1", "re_1", 9420), "whsec_a").await;
    assert_eq!((status, &r["recorded"]), (200, &json!(true)), "{r}");
    assert_eq!(r["entries"][0], json!(ardoise_core::bank::entry_id("stripe", "refund/re_1")), "{r}");
    t.bo.sync(till, start + chrono::Duration::minutes(10)).await;
    for c in ["C0", "C1"] {
        assert_eq!(balance(till, c), m("188.40"), "{c}: given back by the shop and taken back by the bank");
    }
    let won = stripe_event("evt_w0", "charge.dispute.closed", dispute("dp_0", "pi_0", 9420, "won"));
    assert_eq!(hook.send(&won, "whsec_a").await.1["recorded"], true);
    assert_eq!(hook.send(&won, "whsec_a").await.1["recorded"], false);
    t.bo.sync(till, start + chrono::Duration::minutes(20)).await;
    assert_eq!(balance(till, "C0"), m("94.20"), "the dispute won: the bank's part came back");

    // C2..: the full refund to one process, the chargeback to the other, at the same moment.
    let pairs = (2..=RACES + 1)
        .map(|i| {
            [
                full_refund(&format!("evt_r{i}"), &format!("pi_{i}"), &format!("re_{i}"), 9420),
                stripe_event(
                    &format!("evt_d{i}"),
                    "charge.dispute.created",
                    dispute(&format!("dp_{i}"), &format!("pi_{i}"), 9420, "needs_response"),
                ),
            ]
        })
        .collect();
    t.race(pairs).await;
    t.bo.sync(till, start + chrono::Duration::hours(1)).await;
    for i in 2..=RACES + 1 {
        assert_eq!(balance(till, &format!("C{i}")), m("188.40"), "C{i}: refund and chargeback, once each");
    }
    let k = kinds(till);
    let count = |kind: &str| k.iter().filter(|x| **x == kind).count();
    assert_eq!(count("reversal"), RACES + 2, "one reversal per payment: {k:?}");
    till.lock().unwrap().audit().unwrap();
    t.shutdown().await;
}

/// A burst of deliveries at once (the back office writes them one after the other on the
/// shop's merged copy, and puts them into the log together): each is answered 200 once its
/// payment is recorded, all of them reach the log, once each, and the till.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_deliveries_reaches_the_log_and_the_till_once_each() {
    let dir = tempfile::tempdir().unwrap();
    let (db, shop) = BackOffice::open(dir.path()).await;
    let bo = BackOffice::serve(db.clone(), shop, Some(Arc::new(dispatcher(&db, dir.path(), "merged", false)))).await;
    let start = at("2026-11-02T09:00:00+01:00");
    let till = bo.till(dir.path(), "a", start).await;
    for i in 0..20 {
        customer_with_sale(&till.lock().unwrap(), &format!("C{i}"), &format!("Client {i}"), None, "12.34", start);
    }
    bo.sync(&till, start).await;
    db.set_payment_provider(shop, "stripe", "sk_test_x", &["whsec_a".into()]).await.unwrap();
    let hook =
        Arc::new(Hook { http: reqwest::Client::new(), url: format!("{}/v1/pay/stripe/{shop}", bo.serving.base_url()) });
    let head = db.shop(shop).await.unwrap().head;
    let sends: Vec<_> = (0..20)
        .flat_map(|i| [i, i])
        .map(|i| {
            let hook = Arc::clone(&hook);
            tokio::spawn(async move {
                let body = stripe_event(
                    &format!("evt_{i}"),
                    "checkout.session.completed",
                    paid_session(&format!("cs_{i}"), &format!("pi_{i}"), 1234, &format!("C{i}"), ""),
                );
                hook.send(&body, "whsec_a").await
            })
        })
        .collect();
    let mut recorded = 0;
    for s in sends {
        let (status, r) = s.await.unwrap();
        assert_eq!(status, 200, "{r}");
        recorded += usize::from(r["recorded"] == true);
    }
    assert_eq!(recorded, 20, "each payment once, though each was delivered twice at once");
    // The last write of the burst put them all into the log.
    assert_eq!(db.shop(shop).await.unwrap().head, head + 20);
    bo.sync(&till, start + chrono::Duration::hours(1)).await;
    for i in 0..20 {
        assert_eq!(balance(&till, &format!("C{i}")), Money::ZERO, "C{i}");
    }
    till.lock().unwrap().audit().unwrap();
    bo.serving.shutdown(std::time::Duration::from_secs(1)).await.unwrap();
}
