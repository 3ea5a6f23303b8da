//! The server's event rules on hand-made batches: shapes refused whole, business rules
//! refused event by event, and references checked against what the log holds.

use chrono::{NaiveDate, TimeZone};
use serde_json::json;

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap()
}

fn event(device: Uuid, seq: u64, kind: &str, payload: serde_json::Value) -> Event {
    let hlc = Hlc::tick(None, now().timestamp_millis(), device).to_string();
    Event { id: Uuid::new_v4(), seq, kind: kind.to_owned(), hlc, payload }
}

fn customer(device: Uuid, seq: u64, id: Uuid) -> Event {
    let c = ardoise_core::Customer {
        id,
        reference: "C1".into(),
        name: "Mme Martin".into(),
        email: None,
        phone: None,
        kind: ardoise_core::CustomerKind::Consumer,
        credit_limit: None,
        terms: ardoise_core::Terms::Net(30),
        blocked: None,
        consent_email: false,
        consent_sms: false,
        notes: String::new(),
        address: None,
        language: Default::default(),
        paperless_from: None,
    };
    event(device, seq, "customer", json!({"customer": c, "changed": ["*"]}))
}

/// An entry event whose payload is the entry, with `body` merged in.
fn entry(device: Uuid, seq: u64, customer: Uuid, body: serde_json::Value) -> Event {
    let mut e = event(device, seq, "entry", json!({}));
    let mut payload = json!({"id": e.id, "device_id": device, "device_seq": seq, "customer": customer,
                             "business_date": "2026-12-04", "recorded_at": "2026-12-04T11:00:00Z",
                             "cashier": "Léa"});
    payload.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
    e.payload = payload;
    e
}

fn sale(amount: &str) -> serde_json::Value {
    json!({"kind": "sale", "amount": amount, "invoice_ref": "F-1", "due_on": "2026-12-31"})
}

fn decide(known: &mut Known, device: Uuid, events: &[Event]) -> Vec<Verdict> {
    let checked = check_batch(events, device, Some(now())).unwrap();
    events.iter().zip(&checked).map(|(e, c)| verdict(known, e, c)).collect()
}

fn refused(v: &Verdict) -> &str {
    match v {
        Verdict::Refuse(r) => r,
        Verdict::Store { .. } => panic!("stored, expected a refusal"),
    }
}

#[test]
fn a_batch_is_refused_whole_for_a_bad_shape() {
    let d = Uuid::new_v4();
    let good = customer(d, 1, Uuid::new_v4());
    assert_eq!(check_batch(std::slice::from_ref(&good), d, Some(now())).unwrap().len(), 1);
    let unknown = event(d, 2, "teleport", json!({}));
    assert_eq!(check_batch(&[good.clone(), unknown], d, Some(now())).unwrap_err().body.error, "unknown_kind");
    let gap = customer(d, 3, Uuid::new_v4());
    assert_eq!(check_batch(&[good, gap], d, Some(now())).unwrap_err().body.error, "malformed");
}

#[test]
fn entries_a_till_would_refuse_are_refused_by_the_same_rules() {
    let (d, c) = (Uuid::new_v4(), Uuid::new_v4());
    let mut known = Known::default();
    let bad = [
        (sale("-45.20"), "amount"),
        (sale("0"), "amount"),
        (sale("NaN"), "entry"),
        (sale("1e309"), "entry"),
        (sale("1,50"), "entry"),
        (json!({"kind": "sale", "amount": "10.00", "invoice_ref": "F-1", "due_on": "2026-11-01"}), "due date"),
        (
            json!({"kind": "sale", "amount": "10.00", "invoice_ref": " F-1", "due_on": "2026-12-31"}),
            "invoice reference",
        ),
        (json!({"kind": "adjustment", "amount": "0", "reason": "x", "reference": "ADJ-1"}), "amount"),
        (json!({"kind": "payment", "amount": "5", "method": "gold"}), "entry"),
    ];
    for (i, (body, why)) in bad.iter().enumerate() {
        let e = entry(d, i as u64 + 1, c, body.clone());
        let v = decide(&mut known, d, std::slice::from_ref(&e));
        assert!(refused(&v[0]).contains(why), "{body}: {v:?}");
    }
    // The same sale, positive, is stored.
    let ok = entry(d, 1, c, sale("45.20"));
    assert_eq!(decide(&mut known, d, &[ok]), vec![Verdict::Store { customer: None }]);
}

#[test]
fn dates_out_of_range_and_clocks_of_another_device_are_refused() {
    let (d, c) = (Uuid::new_v4(), Uuid::new_v4());
    let mut known = Known::default();
    let mut old = entry(d, 1, c, sale("10.00"));
    old.payload["business_date"] = json!("0000-01-01");
    assert!(refused(&decide(&mut known, d, &[old])[0]).contains("business date"));
    // A till whose date is wrong by days still gets its sale in; a year ahead, it does not.
    let dated = |date: &str| {
        let mut e = entry(d, 1, c, sale("10.00"));
        e.payload["business_date"] = json!(date);
        e.payload["recorded_at"] = json!(format!("{date}T10:00:00Z"));
        e.payload["due_on"] = json!(date);
        e
    };
    assert_eq!(decide(&mut known, d, &[dated("2026-12-09")]), vec![Verdict::Store { customer: None }]);
    assert!(refused(&decide(&mut known, d, &[dated("2028-01-09")])[0]).contains("recorded at"));
    let mut forged = customer(d, 1, Uuid::new_v4());
    forged.hlc = Hlc::tick(None, now().timestamp_millis(), Uuid::new_v4()).to_string();
    assert!(refused(&decide(&mut known, d, &[forged])[0]).contains("not of its sender"));
    let mut future = customer(d, 1, Uuid::new_v4());
    let year_9999 = NaiveDate::from_ymd_opt(9999, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc();
    future.hlc = Hlc::tick(None, year_9999.timestamp_millis(), d).to_string();
    assert!(refused(&decide(&mut known, d, &[future])[0]).contains("ahead"));
    let other = entry(Uuid::new_v4(), 1, c, sale("10.00"));
    assert!(refused(&decide(&mut known, d, &[other])[0]).contains("sender"));
}

#[test]
fn references_must_name_an_entry_of_the_same_customer_and_the_right_kind() {
    let (d, alice, bob) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let mut known = Known::default();
    let s = entry(d, 1, alice, sale("30.00"));
    let pay_bob = entry(d, 2, bob, json!({"kind": "payment", "amount": "30.00", "method": "cash", "invoice": s.id}));
    let v = decide(&mut known, d, &[s.clone(), pay_bob]);
    assert_eq!(v[0], Verdict::Store { customer: None });
    assert!(refused(&v[1]).contains("another customer's"));
    // Across batches, the log's entries are looked up (here: already known).
    let pay = entry(d, 3, alice, json!({"kind": "payment", "amount": "30.00", "method": "cash", "invoice": s.id}));
    let rev = entry(d, 4, alice, json!({"kind": "reversal", "of": pay.id, "reason": "wrong till"}));
    let rev_rev = entry(d, 5, alice, json!({"kind": "reversal", "of": rev.id, "reason": "again"}));
    let aim_payment =
        entry(d, 6, alice, json!({"kind": "credit_note", "amount": "1.00", "reason": "r", "invoice": pay.id}));
    let v = decide(&mut known, d, &[pay, rev, rev_rev, aim_payment]);
    assert_eq!(v[0], Verdict::Store { customer: None });
    assert_eq!(v[1], Verdict::Store { customer: None });
    assert!(refused(&v[2]).contains("is a reversal"));
    assert!(refused(&v[3]).contains("is a payment"));
    // An entry the log does not hold is kept: devices hold it until it arrives.
    let unknown =
        entry(d, 7, alice, json!({"kind": "payment", "amount": "5.00", "method": "cash", "invoice": Uuid::new_v4()}));
    assert_eq!(decide(&mut known, d, &[unknown]), vec![Verdict::Store { customer: None }]);
}

#[test]
fn repeats_and_kinds_no_device_applies_are_refused() {
    let d = Uuid::new_v4();
    let mut known = Known::default();
    let c = customer(d, 1, Uuid::new_v4());
    let v = decide(&mut known, d, std::slice::from_ref(&c));
    assert!(matches!(v[0], Verdict::Store { customer: Some(_) }));
    assert_eq!(decide(&mut known, d, &[c]), vec![Verdict::Refuse("event id already used".into())]);
    let followup = event(d, 1, "followup", json!({"anything": [1, 2, 3]}));
    assert!(refused(&decide(&mut known, d, &[followup])[0]).contains("no device applies"));
    let row = event(d, 1, "row", json!({"table": "reminders", "row": {"uuid": {"$blob": "00"}, "secret_column": 1}}));
    assert!(refused(&decide(&mut known, d, &[row])[0]).contains("no column"));
}
