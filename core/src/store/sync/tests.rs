//! Sync scenarios on the store, without the network: the offline credit guard, per-field
//! last-writer-wins, a reference created twice offline, one entry reversed at two tills, a
//! new epoch, and events that cannot apply here.

use chrono::{DateTime, TimeDelta};
use serde_json::json;

use crate::customer::{CustomerPatch, NewCustomer};
use crate::error::Error;
use crate::money::Money;
use crate::store::*;
use crate::sync::protocol::{Change, Event, PushResponse};
use crate::{Decision, EntryRequest, PaymentMethod, Reason, SaleRequest};
use uuid::Uuid;

fn at(s: &str) -> Now {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

fn sale(customer: &str, amount: &str) -> SaleRequest {
    SaleRequest {
        customer: customer.into(),
        amount: m(amount),
        date: None,
        invoice_ref: None,
        cashier: "Léa".into(),
        deposit: None,
    }
}

fn customer(reference: &str, name: &str) -> NewCustomer {
    NewCustomer { reference: reference.into(), name: name.into(), ..Default::default() }
}

/// Moves every pending event of `from` into `to`, as the server would, one shop sequence.
pub(in crate::store) fn deliver(from: &mut Store, to: &mut Store, now: Now) {
    let events = from.push_batch(1000).unwrap();
    let Some(last) = events.last().map(|e| e.seq) else { return };
    let start = to.sync_cursor().unwrap();
    let changes: Vec<Change> = events
        .into_iter()
        .enumerate()
        .map(|(i, event)| Change { cursor: start + i as u64 + 1, device_id: from.device_id(), event })
        .collect();
    let next = start + changes.len() as u64;
    to.apply_changes(&changes, next, now).unwrap();
    from.acknowledge(&PushResponse { epoch: Uuid::nil(), acked_through: last, rejected: vec![], head: next }, now)
        .unwrap();
}

fn enrol(s: &mut Store, now: Now) {
    let e = Enrolment {
        server_url: "https://bo.example".into(),
        shop_id: Uuid::new_v4(),
        token: "t".into(),
        epoch: Uuid::new_v4(),
    };
    s.set_enrolment(&e, now).unwrap();
}

#[test]
fn an_offline_till_caps_sales_on_account_per_customer() {
    let t0 = at("2026-03-02T09:00:00+01:00");
    let mut s = Store::open_in_memory().unwrap();
    s.add_customer(customer("C1", "Hélène Dupré"), t0).unwrap();
    // Not enrolled: no back office, no cap.
    assert_eq!(s.check("C1", m("80.00"), t0 + TimeDelta::days(3)).unwrap().decision, Decision::Allow);
    enrol(&mut s, t0);
    s.record_sync(Ok(()), t0).unwrap();
    assert_eq!(s.check("C1", m("80.00"), t0 + TimeDelta::hours(2)).unwrap().decision, Decision::Allow);
    // 30 hours without a sync: 50.00 EUR per customer until it syncs.
    let late = t0 + TimeDelta::hours(30);
    s.sell_on_account(sale("C1", "35.00"), late).unwrap();
    let v = s.check("C1", m("10.00"), late).unwrap();
    assert_eq!(v.decision, Decision::Warn);
    assert!(
        matches!(v.reasons.last(), Some(Reason::Offline { hours_offline: Some(30), used, left_after, .. })
            if *used == m("35.00") && *left_after == m("5.00")),
        "{v:?}"
    );
    let refused = s.sell_on_account(sale("C1", "20.00"), late).unwrap_err();
    assert!(matches!(refused, Error::Refused(_)), "{refused}");
    // Once the server has the sale and the sync succeeded, the cap is gone.
    let pending = s.push_batch(100).unwrap();
    let last = pending.last().unwrap().seq;
    s.acknowledge(&PushResponse { epoch: Uuid::nil(), acked_through: last, rejected: vec![], head: 9 }, late).unwrap();
    s.record_sync(Ok(()), late).unwrap();
    assert_eq!(s.check("C1", m("20.00"), late).unwrap().decision, Decision::Allow);
    assert_eq!(s.sync_status().unwrap().waiting, 0);
}

#[test]
fn concurrent_edits_of_different_fields_both_survive_and_the_later_edit_of_one_field_wins() {
    let t0 = at("2026-03-02T09:00:00+01:00");
    let mut a = Store::open_in_memory().unwrap();
    let mut b = Store::open_in_memory().unwrap();
    a.add_customer(customer("C1", "Hélène Dupré"), t0).unwrap();
    deliver(&mut a, &mut b, t0);
    let phone = CustomerPatch { phone: Some(Some("06 11 22 33 44".into())), ..Default::default() };
    a.update_customer("C1", phone, t0 + TimeDelta::minutes(5)).unwrap();
    let limit = CustomerPatch { credit_limit: Some(Some(m("150"))), ..Default::default() };
    b.update_customer("C1", limit, t0 + TimeDelta::minutes(6)).unwrap();
    let name_a = CustomerPatch { name: Some("Hélène Dupré-Martin".into()), ..Default::default() };
    a.update_customer("C1", name_a, t0 + TimeDelta::minutes(7)).unwrap();
    let name_b = CustomerPatch { name: Some("Hélène Martin".into()), ..Default::default() };
    b.update_customer("C1", name_b, t0 + TimeDelta::minutes(8)).unwrap();
    let paperless =
        CustomerPatch { paperless_from: Some(Some(crate::parse_date("2026-03-03").unwrap())), ..Default::default() };
    a.update_customer("C1", paperless, t0 + TimeDelta::minutes(8)).unwrap();
    let t1 = t0 + TimeDelta::minutes(9);
    deliver(&mut a, &mut b, t1);
    deliver(&mut b, &mut a, t1);
    let (ca, cb) = (a.customer("C1").unwrap(), b.customer("C1").unwrap());
    assert_eq!(ca, cb);
    assert_eq!(ca.phone.as_deref(), Some("06 11 22 33 44"));
    assert_eq!(ca.credit_limit, Some(m("150")));
    assert_eq!(ca.name, "Hélène Martin", "the later edit of the name wins");
    assert_eq!(ca.paperless_from, Some(crate::parse_date("2026-03-03").unwrap()));
    assert_eq!(a.search_customers("martin", 5).unwrap().len(), 1, "search keys follow the merged name");
}

#[test]
fn one_reference_created_at_two_offline_tills_keeps_both_customers_the_same_way_everywhere() {
    let t0 = at("2026-03-02T09:00:00+01:00");
    let mut a = Store::open_in_memory().unwrap();
    let mut b = Store::open_in_memory().unwrap();
    a.add_customer(customer("C9", "Marc Petit"), t0).unwrap();
    b.add_customer(customer("C9", "Marc Grand"), t0).unwrap();
    a.sell_on_account(sale("C9", "10.00"), t0).unwrap();
    b.sell_on_account(sale("C9", "20.00"), t0).unwrap();
    deliver(&mut a, &mut b, t0);
    deliver(&mut b, &mut a, t0);
    let names = |s: &Store| {
        let mut v: Vec<(String, String, Money)> = s
            .customers(10, 0)
            .unwrap()
            .into_iter()
            .map(|c| {
                let bal = s.account(&c.reference, t0.date_naive()).unwrap().balance;
                (c.reference, c.name, bal)
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&a), names(&b));
    let all = names(&a);
    assert_eq!(all.len(), 2);
    assert_eq!(all.iter().filter(|(r, ..)| r == "C9").count(), 1);
    assert!(all.iter().any(|(r, ..)| r.starts_with("C9~")), "{all:?}");
    let total: Money = all.iter().map(|(_, _, b)| *b).sum();
    assert_eq!(total, m("30.00"));
}

#[test]
fn an_entry_reversed_at_two_tills_is_undone_once() {
    let t0 = at("2026-03-02T09:00:00+01:00");
    let mut a = Store::open_in_memory().unwrap();
    let mut b = Store::open_in_memory().unwrap();
    a.add_customer(customer("C1", "Hélène Dupré"), t0).unwrap();
    a.sell_on_account(sale("C1", "40.00"), t0).unwrap();
    let paid = a
        .record(
            "C1",
            None,
            "Léa",
            EntryRequest::Payment { amount: m("25.00"), method: PaymentMethod::Cheque, invoice: None },
            t0,
        )
        .unwrap();
    deliver(&mut a, &mut b, t0);
    let bounced = |s: &mut Store, minutes| {
        let req = EntryRequest::Reversal { entry: paid.entry.id, reason: "chèque refusé".into() };
        s.record("C1", None, "Léa", req, t0 + TimeDelta::minutes(minutes)).unwrap();
    };
    bounced(&mut b, 5);
    bounced(&mut a, 6);
    let t1 = t0 + TimeDelta::minutes(10);
    deliver(&mut a, &mut b, t1);
    deliver(&mut b, &mut a, t1);
    for s in [&a, &b] {
        assert_eq!(s.account("C1", t0.date_naive()).unwrap().balance, m("40.00"), "not 65.00");
        assert_eq!(s.entries().unwrap().len(), 4, "both reversals are kept");
        s.audit().unwrap();
    }
}

#[test]
fn a_new_epoch_resends_everything_and_pulls_from_the_start() {
    let t0 = at("2026-03-02T09:00:00+01:00");
    let a = Store::open_in_memory().unwrap();
    a.add_customer(customer("C1", "Hélène Dupré"), t0).unwrap();
    a.sell_on_account(sale("C1", "12.00"), t0).unwrap();
    let all = a.push_batch(100).unwrap().len();
    let last = a.push_batch(100).unwrap().last().unwrap().seq;
    a.acknowledge(&PushResponse { epoch: Uuid::nil(), acked_through: last, rejected: vec![], head: 2 }, t0).unwrap();
    assert!(a.push_batch(100).unwrap().is_empty());
    a.reset_epoch(Uuid::new_v4()).unwrap();
    assert_eq!(a.push_batch(100).unwrap().len(), all, "the outbox is kept to refill a restored server");
    assert_eq!(a.sync_cursor().unwrap(), 0);
}

#[test]
fn events_that_cannot_apply_here_are_skipped_without_blocking_or_half_writing() {
    let t0 = at("2026-03-02T09:00:00+01:00");
    let s = Store::open_in_memory().unwrap();
    let other = Uuid::new_v4();
    let hlc = crate::sync::hlc::Hlc { wall_ms: t0.timestamp_millis(), counter: 0, device: other }.to_string();
    let ev = |seq: u64, kind: &str, payload| Change {
        cursor: seq,
        device_id: other,
        event: Event { id: Uuid::new_v4(), seq, kind: kind.into(), hlc: hlc.clone(), payload },
    };
    let changes = vec![
        ev(1, "hologram", json!({})),
        ev(2, "entry", json!({"not": "an entry"})),
        ev(3, "row", json!({"table": "reminders; DROP TABLE entries", "row": {}})),
        ev(4, "row", json!({"table": "disputes", "row": {"uuid": {"$blob": "00"}, "evil); --": 1}})),
    ];
    let report = s.apply_changes(&changes, 4, t0).unwrap();
    assert_eq!((report.applied, report.skipped), (0, 4));
    assert_eq!(s.sync_cursor().unwrap(), 4, "the queue moved on");
    s.integrity_check().unwrap();
    assert!(s.entries().unwrap().is_empty());
    // Kept aside, not lost: counted in the sync status.
    assert_eq!(s.sync_status().unwrap().set_aside, 4);
}

#[test]
fn an_entry_a_till_would_refuse_is_set_aside_not_folded() {
    let t0 = at("2026-03-02T09:00:00+01:00");
    let mut a = Store::open_in_memory().unwrap();
    let mut b = Store::open_in_memory().unwrap();
    a.add_customer(customer("C1", "Hélène Dupré"), t0).unwrap();
    let genuine = a.sell_on_account(sale("C1", "45.20"), t0).unwrap().entry;
    deliver(&mut a, &mut b, t0);
    // Another device's entry with the shape of a sale but a negative amount, a zero amount,
    // a date before any ledger, or a clock that names someone else: the same rules as a
    // till's own sale refuse each.
    let other = Uuid::new_v4();
    let clock = |device| crate::sync::hlc::Hlc { wall_ms: t0.timestamp_millis(), counter: 0, device }.to_string();
    let forged = |seq: u64, edit: &dyn Fn(&mut serde_json::Value), hlc_device: Uuid| {
        let id = Uuid::new_v4();
        let mut payload = serde_json::to_value(&genuine).unwrap();
        payload["id"] = json!(id);
        payload["device_id"] = json!(other);
        payload["device_seq"] = json!(seq);
        edit(&mut payload);
        Change {
            cursor: 100 + seq,
            device_id: other,
            event: Event { id, seq, kind: "entry".into(), hlc: clock(hlc_device), payload },
        }
    };
    let changes = vec![
        forged(1, &|p| p["amount"] = json!("-45.20"), other),
        forged(2, &|p| p["amount"] = json!("0.00"), other),
        forged(3, &|p| p["business_date"] = json!("0000-01-01"), other),
        forged(4, &|_| {}, Uuid::new_v4()),
        forged(5, &|p| p["cashier"] = json!(" padded "), other),
        // A genuine-looking sale reusing the invoice reference of another: the schema refuses
        // it, and that must not stop the queue either.
        forged(6, &|p| p["amount"] = json!("3.00"), other),
    ];
    let report = b.apply_changes(&changes, 106, t0).unwrap();
    assert_eq!((report.applied, report.skipped), (0, 6));
    let st = b.sync_status().unwrap();
    assert_eq!((st.set_aside, st.parked), (6, 0));
    assert_eq!(b.account("C1", t0.date_naive()).unwrap().balance, m("45.20"));
    b.audit().unwrap();
    // The genuine entry from that device still applies.
    let ok = forged(
        7,
        &|p| {
            p["amount"] = json!("1.00");
            p["invoice_ref"] = json!("F-OTHER-1");
        },
        other,
    );
    assert_eq!(b.apply_changes(&[ok], 107, t0).unwrap().applied, 1);
    assert_eq!(b.account("C1", t0.date_naive()).unwrap().balance, m("46.20"));
}

#[test]
fn an_erasure_reaches_every_device_and_keeps_the_books() {
    let t0 = at("2026-03-02T09:00:00+01:00");
    let mut a = Store::open_in_memory().unwrap();
    let mut b = Store::open_in_memory().unwrap();
    let mut c = customer("C1", "Hélène Dupré");
    c.email = Some("helene@example.fr".into());
    a.add_customer(c, t0).unwrap();
    a.sell_on_account(sale("C1", "30.00"), t0).unwrap();
    a.add_note("C1", "prefers calls after 6pm", "owner", t0).unwrap();
    deliver(&mut a, &mut b, t0);
    assert_eq!(b.customer("C1").unwrap().email.as_deref(), Some("helene@example.fr"));
    let t1 = t0 + TimeDelta::hours(1);
    a.erase_customer("C1", "owner", t1).unwrap();
    deliver(&mut a, &mut b, t1);
    let data = b.customer_data("C1", t1).unwrap().to_string();
    for personal in ["Hélène", "helene@example.fr", "6pm"] {
        assert!(!data.contains(personal), "{personal} still on the other till: {data}");
    }
    assert_eq!(b.account("C1", t1.date_naive()).unwrap().balance, m("30.00"));
    assert!(b.customer("C1").unwrap().blocked.is_some());
    b.audit().unwrap();
}

#[test]
fn a_failing_event_in_a_page_applied_without_savepoints_leaves_the_others_applied_and_itself_unwritten() {
    let t0 = at("2026-03-02T09:00:00+01:00");
    let a = Store::open_in_memory().unwrap();
    let stranger = Store::open_in_memory().unwrap();
    a.add_customer(customer("C1", "Hélène Dupré"), t0).unwrap();
    a.sell_on_account(sale("C1", "30.00"), t0).unwrap();
    a.sell_on_account(sale("C1", "12.50"), t0).unwrap();
    stranger.add_customer(customer("C7", "Paul Martin"), t0).unwrap();
    stranger.sell_on_account(sale("C7", "9.00"), t0).unwrap();
    let good = a.push_batch(100).unwrap();
    let orphan = stranger.push_batch(100).unwrap().pop().unwrap();
    let hlc = good[1].hlc.clone();
    let broken = Event { id: Uuid::new_v4(), seq: 99, kind: "entry".into(), hlc, payload: json!({"not": "an entry"}) };
    // The failures sit between good events, so the optimistic pass has written some of the
    // page when it meets them.
    let mut page = vec![
        (a.device_id(), good[0].clone()),
        (a.device_id(), good[1].clone()),
        (a.device_id(), broken),
        (stranger.device_id(), orphan),
        (a.device_id(), good[2].clone()),
    ];
    let changes: Vec<Change> = page
        .drain(..)
        .enumerate()
        .map(|(i, (d, event))| Change { cursor: i as u64 + 1, device_id: d, event })
        .collect();
    let b = Store::open_in_memory().unwrap();
    let report = b.apply_changes(&changes, 5, t0).unwrap();
    assert_eq!((report.applied, report.skipped, report.parked), (3, 1, 1), "{report:?}");
    assert_eq!(b.sync_cursor().unwrap(), 5);
    b.integrity_check().unwrap();
    assert_eq!(b.account("C1", t0.date_naive()).unwrap().balance, m("42.50"));
    let mut ids: Vec<Uuid> = b.entries().unwrap().iter().map(|e| e.id).collect();
    let mut expected: Vec<Uuid> = a.entries().unwrap().iter().map(|e| e.id).collect();
    ids.sort();
    expected.sort();
    assert_eq!(ids, expected, "the good events only, each once");

    // A clean page takes the fast path and gives the same result as one with failures.
    let c = Store::open_in_memory().unwrap();
    let clean: Vec<Change> = a
        .push_batch(100)
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(i, event)| Change { cursor: i as u64 + 1, device_id: a.device_id(), event })
        .collect();
    let report = c.apply_changes(&clean, 3, t0).unwrap();
    assert_eq!((report.applied, report.skipped, report.parked), (3, 0, 0));
    assert_eq!(c.account("C1", t0.date_naive()).unwrap().balance, m("42.50"));
}

#[test]
fn a_page_that_leaves_out_own_events_takes_the_cursor_event_from_the_server() {
    let t0 = at("2026-03-02T09:00:00+01:00");
    let s = Store::open_in_memory().unwrap();
    let at_next = Uuid::new_v4();
    s.apply_changes_at(&[], 7, Some(at_next), t0).unwrap();
    assert_eq!(s.sync_position().unwrap(), (7, Some(at_next)));
    // A page that carries the event at `next` names it itself.
    s.apply_changes_at(&[], 7, None, t0).unwrap();
    assert_eq!(s.sync_position().unwrap(), (7, Some(at_next)));
}

#[test]
fn a_change_whose_clock_is_not_canonical_or_not_its_senders_is_skipped_and_counted() {
    let t0 = at("2026-03-02T09:00:00+01:00");
    let mut a = Store::open_in_memory().unwrap();
    let mut b = Store::open_in_memory().unwrap();
    a.add_customer(customer("C1", "Hélène Dupré"), t0).unwrap();
    deliver(&mut a, &mut b, t0);
    a.update_customer("C1", CustomerPatch { name: Some("Nom forgé".into()), ..Default::default() }, t0).unwrap();
    let forged = a.push_batch(100).unwrap().pop().unwrap();
    let clock = crate::sync::hlc::Hlc::parse(&forged.hlc).unwrap();
    let t = clock.wall_ms;
    let third = Uuid::new_v4();
    let spellings = [
        crate::sync::hlc::Hlc { device: third, ..clock }.to_string(),
        format!("{t}.0.{}", a.device_id().simple()),
        format!("{t:015}.000000.{}", a.device_id().hyphenated()),
        forged.hlc.to_uppercase(),
    ];
    let changes: Vec<Change> = spellings
        .iter()
        .enumerate()
        .map(|(i, hlc)| Change {
            cursor: 2 + i as u64,
            device_id: a.device_id(),
            event: Event { id: Uuid::new_v4(), hlc: hlc.clone(), ..forged.clone() },
        })
        .collect();
    let report = b.apply_changes(&changes, 5, t0).unwrap();
    assert_eq!((report.applied, report.skipped), (0, 4), "{report:?}");
    assert_eq!(b.customer("C1").unwrap().name, "Hélène Dupré");
    assert_eq!(b.sync_cursor().unwrap(), 5, "the queue moved on");
    // The same event with its own clock applies.
    let report = b.apply_changes(&[Change { cursor: 6, device_id: a.device_id(), event: forged }], 6, t0).unwrap();
    assert_eq!(report.applied, 1);
    assert_eq!(b.customer("C1").unwrap().name, "Nom forgé");
}

#[test]
fn a_clock_an_older_release_stored_as_it_came_is_compared_as_a_clock_not_as_text() {
    let t0 = at("2026-03-02T09:00:00+01:00");
    let mut a = Store::open_in_memory().unwrap();
    let mut b = Store::open_in_memory().unwrap();
    a.add_customer(customer("C1", "Hélène Dupré"), t0).unwrap();
    a.hold_reminders("C1", None, Some("en vacances"), "Léa", t0).unwrap();
    deliver(&mut a, &mut b, t0);
    // What an older release kept of a forged edit: its clock as it came. `5.0.…` sorts after
    // every real clock as text, so the later edits below used to be ignored here.
    let legacy = format!("5.0.{}", Uuid::new_v4().simple());
    {
        let c = b.conn();
        assert_eq!(c.execute("UPDATE customer_clocks SET hlc = ?1 WHERE field = 'name'", [&legacy]).unwrap(), 1);
        assert_eq!(c.execute("UPDATE dunning_customers SET hlc = ?1", [&legacy]).unwrap(), 1);
    }
    let t1 = t0 + TimeDelta::hours(1);
    a.update_customer("C1", CustomerPatch { name: Some("Hélène Martin".into()), ..Default::default() }, t1).unwrap();
    a.hold_reminders("C1", None, Some("rentrée"), "Léa", t1).unwrap();
    deliver(&mut a, &mut b, t1);
    assert_eq!(b.customer("C1").unwrap().name, "Hélène Martin");
    let hold: String = b.conn().query_row("SELECT hold_reason FROM dunning_customers", [], |r| r.get(0)).unwrap();
    assert_eq!(hold, "rentrée");
}
