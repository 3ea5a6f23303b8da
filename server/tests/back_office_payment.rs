//! The back office records a payment it received (issue 18, item 2): an entry of the server's
//! own device, written through the same path as a till's. It cancels the queued reminder on
//! the back office at once (nothing is sent for a debt already paid), reaches both tills by
//! sync exactly once, and a bad customer or payment reference changes nothing anywhere.

mod backoffice;

use ardoise_core::store::ReminderState;
use ardoise_core::{Money, PaymentMethod};
use backoffice::{BackOffice, at, customer_with_sale, dispatcher, m};
use chrono::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_the_back_office_records_reaches_every_till_once_and_stops_the_reminder() {
    let dir = tempfile::tempdir().unwrap();
    let bo = BackOffice::start(dir.path()).await;
    let (db, shop) = (&bo.db, bo.shop);
    let start = at("2026-03-02T09:00:00+01:00");
    let a = bo.till(dir.path(), "a", start).await;
    let b = bo.till(dir.path(), "b", start).await;
    customer_with_sale(&a.lock().unwrap(), "C1", "Hélène Dupré", Some("c1@example.fr"), "84.20", start);
    bo.sync(&a, start).await;

    let mail = dir.path().join("mail");
    let dispatcher = dispatcher(db, dir.path(), "merged", true);
    let later = start + Duration::days(45);
    let first = dispatcher.run_once(later).await.unwrap();
    assert_eq!((first.queued_by_ladder, first.sent), (1, 0), "{first:?}");

    // The transfer arrives on the bank account: the owner records it by the customer's
    // payment reference, as the bank statement printed it.
    let rf = a.lock().unwrap().payment_reference("C1").unwrap().to_string();
    let head = db.shop(shop).await.unwrap().head;
    let paid = later + Duration::minutes(2);
    // A reference with a wrong check digit, an unknown customer, a zero amount, an unknown
    // invoice: refused with what is wrong, and the log is untouched.
    let mut typo = rf.clone();
    let last = typo.pop().unwrap();
    typo.push(if last == '9' { '8' } else { '9' });
    for (who, amount, invoice, what) in [
        (typo.as_str(), "84.20", None, "no customer"),
        ("C9", "84.20", None, "no customer"),
        ("C1", "0", None, "malformed"),
        ("C1", "84.20", Some("F-NOPE"), "no invoice"),
    ] {
        let e = dispatcher
            .record_payment(shop, who, m(amount), PaymentMethod::Transfer, invoice.map(str::to_owned), None, paid)
            .await
            .unwrap_err();
        assert!(e.to_string().contains(what), "{who} {amount}: {e}");
    }
    assert_eq!(db.shop(shop).await.unwrap().head, head, "nothing reached the log");

    let r = dispatcher.record_payment(shop, &rf, m("84.20"), PaymentMethod::Transfer, None, None, paid).await.unwrap();
    assert_eq!(r.balance, Money::ZERO);
    assert_eq!(db.shop(shop).await.unwrap().head, head + 2, "the entry, and the reminder it cancelled");

    // The next round sends nothing: the debt is paid.
    let second = dispatcher.run_once(later + Duration::minutes(15)).await.unwrap();
    assert_eq!(second.sent, 0, "{second:?}");
    assert!(!mail.exists() || std::fs::read_dir(&mail).unwrap().next().is_none(), "no email was written");

    // Both tills receive the payment once, and see the reminder cancelled.
    for till in [&a, &b] {
        for _ in 0..2 {
            bo.sync(till, later + Duration::minutes(20)).await;
        }
        let s = till.lock().unwrap();
        let payments: Vec<_> = s.entries().unwrap().into_iter().filter(|e| e.body.kind() == "payment").collect();
        assert_eq!(payments.len(), 1, "{payments:?}");
        assert_eq!(payments[0].id, r.entry.id);
        assert_eq!(s.account("C1", later.date_naive()).unwrap().balance, Money::ZERO);
        let reminders = s.reminders(None, Some("C1"), 10).unwrap();
        assert!(
            reminders.iter().all(|x| x.state != ReminderState::Queued && x.state != ReminderState::Sent),
            "{reminders:?}"
        );
        s.audit().unwrap();
    }
    bo.serving.shutdown(std::time::Duration::from_secs(1)).await.unwrap();
}
