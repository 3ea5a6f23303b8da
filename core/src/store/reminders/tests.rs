//! Scenario and property tests of reminders: the ladder over time, pauses, the queue kept true
//! to the ledger, penalties in the formal notice.

use chrono::{DateTime, Days, NaiveDate, TimeDelta};
use proptest::prelude::*;

use crate::customer::{CustomerKind, NewCustomer};
use crate::dunning::ladder::{Channel, Ladder, StepKind};
use crate::dunning::plan::split_evenly;
use crate::dunning::run::Skip;
use crate::dunning::template::{Language, Template};
use crate::money::Money;
use crate::store::*;
use crate::{EntryRequest, PaymentMethod, SaleRequest};

fn at(date: &str, time: &str) -> Now {
    DateTime::parse_from_rfc3339(&format!("{date}T{time}+01:00")).unwrap()
}

fn noon(date: &str) -> Now {
    at(date, "12:00:00")
}

fn d(s: &str) -> NaiveDate {
    crate::parse_date(s).unwrap()
}

fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

fn shop() -> Store {
    let mut s = Store::open_in_memory().unwrap();
    let mut settings = (*s.settings()).clone();
    settings.shop_name = "Épicerie du Marché".into();
    settings.shop_phone = "04 12 34 56 78".into();
    settings.shop_email = "bonjour@epicerie.fr".into();
    settings.shop_address = "2 place du Marché, 13210 Saint-Rémy".into();
    settings.payment_url = Some("https://pay.example.fr/{customer_ref}?amount={amount}".into());
    s.set_settings(settings, noon("2024-01-01")).unwrap();
    let add = |s: &mut Store, r: &str, name: &str, kind, email: bool, sms: bool, address: bool, lang| {
        s.add_customer(
            NewCustomer {
                reference: r.into(),
                name: name.into(),
                email: email.then(|| format!("{}@example.fr", r.to_lowercase())),
                phone: Some("+33 6 11 22 33 44".into()),
                kind,
                terms: "30".parse().unwrap(),
                consent_email: email,
                consent_sms: sms,
                address: address.then(|| "5 rue des Lilas, 13210 Saint-Rémy".into()),
                language: lang,
                ..Default::default()
            },
            noon("2024-01-01"),
        )
        .unwrap();
    };
    add(&mut s, "B1", "Boulangerie Martin", CustomerKind::Business, true, false, true, Language::Fr);
    add(&mut s, "P1", "Hélène Dupré", CustomerKind::Consumer, true, true, true, Language::Fr);
    add(&mut s, "E1", "John Smith", CustomerKind::Consumer, false, true, false, Language::En);
    s
}

fn sale(s: &mut Store, c: &str, amount: &str, date: &str) -> String {
    let req = SaleRequest {
        customer: c.into(),
        amount: m(amount),
        date: Some(d(date)),
        cashier: "t".into(),
        ..Default::default()
    };
    let r = s.sell_on_account(req, noon(date)).unwrap();
    match r.entry.body {
        crate::EntryBody::Sale { invoice_ref, .. } => invoice_ref,
        _ => unreachable!(),
    }
}

fn pay(s: &mut Store, c: &str, amount: &str, date: &str) {
    let req = EntryRequest::Payment { amount: m(amount), method: PaymentMethod::Cash, invoice: None };
    s.record(c, None, "t", req, noon(date)).unwrap();
}

fn queued(s: &Store, c: &str) -> Vec<ReminderRecord> {
    s.reminders(Some(ReminderState::Queued), Some(c), 100).unwrap()
}

#[test]
fn the_ladder_climbs_one_reminder_per_customer_and_a_run_is_idempotent() {
    let mut s = shop();
    sale(&mut s, "P1", "40", "2024-05-01"); // due 05-31
    sale(&mut s, "P1", "25.50", "2024-05-20"); // due 06-19
    // 4 days late: nothing; 5 days: the courteous reminder.
    assert!(s.run_dunning(noon("2024-06-04")).unwrap().queued.is_empty());
    let r = s.run_dunning(noon("2024-06-05")).unwrap();
    assert_eq!(r.queued.len(), 1);
    let first = &r.queued[0];
    assert_eq!((first.level, first.channel, first.amount_due), (0, Channel::Email, m("40")));
    assert_eq!(first.recipient.as_deref(), Some("p1@example.fr"));
    assert!(first.body.contains("Bonjour Hélène Dupré"), "{}", first.body);
    assert!(first.body.contains("40,00 EUR"), "{}", first.body);
    assert!(first.body.contains("https://pay.example.fr/P1?amount=40.00"), "{}", first.body);
    assert!(first.body.contains("04 12 34 56 78"));
    let reference = s.payment_reference("P1").unwrap();
    assert!(first.body.contains(&format!("Référence de paiement à indiquer : {reference}")), "{}", first.body);
    // Same day again: nothing new.
    assert!(s.run_dunning(noon("2024-06-05")).unwrap().queued.is_empty());
    s.set_reminder_state(first.id, ReminderState::Sent, None, noon("2024-06-05")).unwrap();
    // 15 days late, the second reminder covers both invoices (the second is 1 day late).
    let r = s.run_dunning(noon("2024-06-20")).unwrap();
    assert_eq!(r.queued.len(), 1);
    assert_eq!(r.queued[0].level, 1);
    assert_eq!(r.queued[0].amount_due, m("65.50"));
    assert_eq!(r.queued[0].invoices.len(), 2);
    // Never more than one reminder per customer per run, never a second in the gap.
    assert!(s.run_dunning(noon("2024-06-22")).unwrap().queued.is_empty());
}

#[test]
fn a_payment_at_the_till_cancels_or_rewrites_queued_reminders_at_once() {
    let mut s = shop();
    sale(&mut s, "P1", "40", "2024-05-01");
    sale(&mut s, "P1", "60", "2024-05-02");
    let r = s.run_dunning(noon("2024-06-10")).unwrap();
    assert_eq!(r.queued[0].amount_due, m("100"));
    // A partial payment: the queued reminder now asks for the rest only.
    pay(&mut s, "P1", "40", "2024-06-10");
    let q = queued(&s, "P1");
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].amount_due, m("60"));
    assert!(q[0].body.contains("60,00 EUR") && !q[0].body.contains("100,00"), "{}", q[0].body);
    // Paid in full: cancelled, never sent.
    pay(&mut s, "P1", "60", "2024-06-10");
    assert!(queued(&s, "P1").is_empty());
    let all = s.reminders(None, Some("P1"), 10).unwrap();
    assert_eq!(all[0].state, ReminderState::Cancelled);
    assert!(all[0].state_note.as_deref().unwrap().contains("nothing overdue"));
    // A payment received from another till (ingested) does the same.
    sale(&mut s, "P1", "30", "2024-06-10");
    assert_eq!(s.run_dunning(noon("2024-07-20")).unwrap().queued.len(), 1);
    let other = Store::open_in_memory().unwrap();
    other.ingest_customer(&s.customer("P1").unwrap(), noon("2024-01-01")).unwrap();
    other
        .ingest(
            &s.entries()
                .unwrap()
                .into_iter()
                .filter(|e| e.customer == s.customer("P1").unwrap().id)
                .collect::<Vec<_>>(),
            noon("2024-07-20"),
        )
        .unwrap();
    let paid_elsewhere = other
        .record(
            "P1",
            None,
            "t2",
            EntryRequest::Payment { amount: m("30"), method: PaymentMethod::Card, invoice: None },
            noon("2024-07-20"),
        )
        .unwrap();
    s.ingest(&[paid_elsewhere.entry], noon("2024-07-20")).unwrap();
    assert!(queued(&s, "P1").is_empty());
    s.audit().unwrap();
}

#[test]
fn a_disputed_invoice_leaves_the_reminder_and_comes_back_if_rejected() {
    let mut s = shop();
    let a = sale(&mut s, "P1", "40", "2024-05-01");
    sale(&mut s, "P1", "10", "2024-05-02");
    s.run_dunning(noon("2024-06-10")).unwrap();
    let d1 = s.open_dispute(&a, "cake was not the one ordered", "anna", noon("2024-06-11")).unwrap();
    assert_eq!(queued(&s, "P1")[0].amount_due, m("10"));
    // The till shows the dispute and does not hold it against the customer.
    let v = s.check("P1", m("5"), noon("2024-06-11")).unwrap();
    assert_eq!(v.overdue, m("10"));
    assert!(v.reasons.iter().any(|r| matches!(r, crate::Reason::Disputed { invoices: 1, .. })));
    s.note_dispute(d1.id, "customer sent a photo", "anna", noon("2024-06-12")).unwrap();
    let (_, credit) = s
        .resolve_dispute(d1.id, DisputeResolution::Rejected, "photo shows the right cake", "marc", noon("2024-06-13"))
        .unwrap();
    assert!(credit.is_none());
    assert_eq!(queued(&s, "P1")[0].amount_due, m("50"));
    // Upheld: a credit note settles it.
    let d2 = s.open_dispute(&a, "second look", "anna", noon("2024-06-14")).unwrap();
    let (d2, credit) = s
        .resolve_dispute(d2.id, DisputeResolution::Upheld { credit: None }, "we were wrong", "marc", noon("2024-06-15"))
        .unwrap();
    assert_eq!(d2.state, "upheld");
    assert_eq!(credit.unwrap().balance, m("10"));
    assert_eq!(queued(&s, "P1")[0].amount_due, m("10"));
    assert!(s.resolve_dispute(d2.id, DisputeResolution::Rejected, "again", "marc", noon("2024-06-15")).is_err());
    let kinds: Vec<String> = s.customer_timeline("P1", 100).unwrap().into_iter().map(|t| t.kind).collect();
    for k in ["dispute_opened", "dispute_note", "dispute_rejected", "dispute_upheld", "reminder", "entry:credit_note"] {
        assert!(kinds.iter().any(|x| x == k), "{k} missing from {kinds:?}");
    }
}

#[test]
fn promises_plans_holds_exclusions_and_stops_pause_the_ladder() {
    let mut s = shop();
    let inv = sale(&mut s, "P1", "90", "2024-05-01"); // due 05-31
    s.promise_to_pay("P1", d("2024-06-15"), m("50"), "anna", noon("2024-06-04")).unwrap();
    let r = s.run_dunning(noon("2024-06-10")).unwrap();
    assert!(r.queued.is_empty());
    assert_eq!(r.skipped.get(&Skip::Promise), Some(&1));
    // Not kept by its date: broken, the ladder resumes (at the level now due).
    let r = s.run_dunning(noon("2024-06-16")).unwrap();
    assert_eq!(r.promises_broken, 1);
    assert_eq!(r.queued[0].level, 1);
    s.set_reminder_state(r.queued[0].id, ReminderState::Sent, None, noon("2024-06-16")).unwrap();
    // A plan: three instalments of 30; paused while kept.
    let plan = s
        .create_plan("P1", split_evenly(m("90"), 3, d("2024-06-20"), 30).unwrap(), "anna", noon("2024-06-18"))
        .unwrap();
    assert_eq!(plan.instalments.len(), 3);
    pay(&mut s, "P1", "30", "2024-06-20");
    let r = s.run_dunning(noon("2024-07-10")).unwrap();
    assert_eq!(r.skipped.get(&Skip::Plan), Some(&1));
    // The second instalment (07-20) is missed past 5 grace days: broken, the ladder resumes
    // where it was (the phone call, not the first reminder again).
    let r = s.run_dunning(noon("2024-07-26")).unwrap();
    assert_eq!(r.plans_broken, 1);
    assert_eq!(r.queued[0].level, 3, "{:?}", r.queued[0]);
    assert!(matches!(
        s.plan("P1", d("2024-07-26")).unwrap().unwrap().status,
        crate::dunning::plan::PlanStatus::Broken { .. }
    ));
    // A manual hold, an exclusion, a stopped invoice: nothing queued.
    let mut t = shop();
    let i1 = sale(&mut t, "P1", "20", "2024-05-01");
    t.hold_reminders("P1", Some(d("2024-06-30")), Some("in hospital"), "marc", noon("2024-06-01")).unwrap();
    assert_eq!(t.run_dunning(noon("2024-06-10")).unwrap().skipped.get(&Skip::OnHold), Some(&1));
    let holds = t.reminder_holds(d("2024-06-10")).unwrap();
    assert_eq!(
        holds.iter().map(|h| (h.customer_ref.as_str(), h.until, h.reason.as_str())).collect::<Vec<_>>(),
        [("P1", Some(d("2024-06-30")), "in hospital")]
    );
    assert!(t.reminder_holds(d("2024-07-01")).unwrap().is_empty(), "a hold whose day passed is over");
    t.hold_reminders("P1", None, None, "marc", noon("2024-06-11")).unwrap();
    assert!(t.reminder_holds(d("2024-06-11")).unwrap().is_empty(), "released");
    t.set_customer_ladder("P1", None, true, "marc", noon("2024-06-11")).unwrap();
    assert_eq!(t.run_dunning(noon("2024-06-12")).unwrap().skipped.get(&Skip::Excluded), Some(&1));
    t.set_customer_ladder("P1", None, false, "marc", noon("2024-06-12")).unwrap();
    t.stop_invoice(&i1, Some("goodwill: old friend"), "marc", noon("2024-06-12")).unwrap();
    assert_eq!(t.run_dunning(noon("2024-06-13")).unwrap().skipped.get(&Skip::NothingDue), Some(&1));
    t.stop_invoice(&i1, None, "marc", noon("2024-06-14")).unwrap();
    assert_eq!(t.run_dunning(noon("2024-06-14")).unwrap().queued.len(), 1);
    let _ = inv;
}

#[test]
fn a_hold_a_promise_or_a_plan_made_after_a_reminder_was_queued_cancels_it() {
    let pause: [&dyn Fn(&mut Store); 4] = [
        &|s| s.hold_reminders("P1", None, Some("on holiday"), "marc", noon("2024-06-11")).map(|_| ()).unwrap(),
        &|s| s.promise_to_pay("P1", d("2024-06-20"), m("40"), "anna", noon("2024-06-11")).map(|_| ()).unwrap(),
        &|s| {
            let plan = split_evenly(m("40"), 2, d("2024-06-20"), 30).unwrap();
            s.create_plan("P1", plan, "anna", noon("2024-06-11")).map(|_| ()).unwrap()
        },
        &|s| s.set_customer_ladder("P1", None, true, "marc", noon("2024-06-11")).unwrap(),
    ];
    for (i, pause) in pause.iter().enumerate() {
        let mut s = shop();
        sale(&mut s, "P1", "40", "2024-05-01"); // due 05-31
        let r = s.run_dunning(noon("2024-06-10")).unwrap();
        assert_eq!(r.queued.len(), 1, "case {i}");
        pause(&mut s);
        assert!(queued(&s, "P1").is_empty(), "case {i}: the paused account's reminder still goes");
        let r = s.reminder(r.queued[0].id).unwrap();
        assert_eq!(r.state, ReminderState::Cancelled, "case {i}");
        assert!(r.state_note.as_deref().is_some_and(|n| n.starts_with("Annulée")), "case {i}: {:?}", r.state_note);
    }
}

#[test]
fn channels_follow_consent_and_sms_waits_for_daytime() {
    let mut s = shop();
    // An SMS-first ladder.
    let mut l = Ladder::default_french();
    l.name = "sms".into();
    l.steps[0].channel = Channel::Sms;
    s.set_ladder(l, noon("2024-01-01")).unwrap();
    for c in ["B1", "P1", "E1"] {
        s.set_customer_ladder(c, Some("sms"), false, "marc", noon("2024-01-01")).unwrap();
        sale(&mut s, c, "10", "2024-03-01"); // due 03-31
    }
    // Saturday 6 April 2024, 21:30.
    let r = s.run_dunning(at("2024-04-06", "21:30:00")).unwrap();
    let by = |c: &str| r.queued.iter().find(|q| q.customer_ref == c).unwrap().clone();
    // B1: no SMS consent -> email. P1: SMS, held until Monday 09:00. E1: SMS in English.
    assert_eq!(by("B1").channel, Channel::Email);
    assert_eq!(by("P1").channel, Channel::Sms);
    assert_eq!(by("P1").not_before, at("2024-04-08", "09:00:00"));
    assert_eq!(by("E1").channel, Channel::Sms);
    assert!(by("E1").body.starts_with("Épicerie du Marché: friendly reminder"), "{}", by("E1").body);
    assert!(by("P1").body.chars().count() <= 480);
    // The text message carries the customer's reference too, in their language.
    for c in ["P1", "E1"] {
        let reference = s.payment_reference(c).unwrap().to_string();
        assert!(by(c).body.contains(&reference), "{}", by(c).body);
    }
    assert!(by("E1").body.contains("Ref. RF"), "{}", by("E1").body);
    // Email-only ladder step without email consent, no address: a phone call task.
    let mut t = shop();
    sale(&mut t, "E1", "10", "2024-03-01");
    let r = t.run_dunning(noon("2024-04-06")).unwrap();
    assert_eq!(r.queued[0].channel, Channel::Sms, "E1 consents to SMS");
}

#[test]
fn the_formal_notice_states_penalties_and_the_indemnity_for_a_business() {
    let mut s = shop();
    // Crossing the 1 July 2024 half-year: 14.50 % then 14.25 %.
    sale(&mut s, "B1", "1000", "2024-05-16"); // due 06-15
    let mut day = d("2024-06-20");
    let mut levels = Vec::new();
    while day <= d("2024-08-20") {
        for q in s.run_dunning(noon(&day.to_string())).unwrap().queued {
            levels.push((q.level, q.created_on));
            s.set_reminder_state(q.id, ReminderState::Sent, None, noon(&day.to_string())).unwrap();
        }
        day = day + Days::new(1);
    }
    assert_eq!(levels.iter().map(|l| l.0).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
    let notice =
        s.reminders(None, Some("B1"), 10).unwrap().into_iter().find(|r| r.kind == StepKind::FormalNotice).unwrap();
    assert_eq!(notice.created_on, d("2024-07-25"));
    assert_eq!(notice.channel, Channel::Letter);
    assert_eq!(notice.recipient.as_deref(), Some("5 rue des Lilas, 13210 Saint-Rémy"));
    // 15 days of June at 14.50 % = 5.96; 25 days of July at 14.25 % = 9.76.
    assert_eq!(notice.penalties, m("15.72"));
    assert_eq!(notice.indemnity, m("40"));
    assert!(notice.subject.contains("1 055,72"), "{}", notice.subject);
    assert!(notice.body.contains("mettons en demeure") && notice.body.contains("40,00 EUR"), "{}", notice.body);
    assert!(notice.body.contains("Rappel courtois"), "history of reminders: {}", notice.body);
    // Business penalty fees are added to the account (a shop setting, on by default for businesses).
    let acc = s.account("B1", d("2024-07-25")).unwrap();
    assert_eq!(acc.balance, m("1055.72"));
    let file = s.reminders(None, Some("B1"), 10).unwrap().into_iter().find(|r| r.kind == StepKind::CourtFile).unwrap();
    assert_eq!(file.channel, Channel::Document);
    assert!(file.body.contains("INJONCTION DE PAYER") && file.body.contains("Mise en demeure"), "{}", file.body);
    assert!(!file.body.contains("Référence de paiement"), "the court file asks nobody to pay: {}", file.body);
    assert!(notice.body.contains("Référence de paiement à indiquer : RF"), "{}", notice.body);
    s.audit().unwrap();
}

#[test]
fn a_consumer_formal_notice_has_no_indemnity_and_interest_runs_from_it() {
    let mut s = shop();
    sale(&mut s, "P1", "500", "2023-12-01"); // due 2023-12-31
    for day in ["2024-01-05", "2024-01-15", "2024-01-25", "2024-02-09"] {
        for q in s.run_dunning(noon(day)).unwrap().queued {
            s.set_reminder_state(q.id, ReminderState::Sent, None, noon(day)).unwrap();
        }
    }
    let notice =
        s.reminders(None, Some("P1"), 10).unwrap().into_iter().find(|r| r.kind == StepKind::FormalNotice).unwrap();
    assert_eq!((notice.penalties, notice.indemnity), (Money::ZERO, Money::ZERO));
    assert_eq!(s.account("P1", d("2024-02-09")).unwrap().balance, m("500"), "no fee entries for consumers by default");
    // 20 days later the court file still waits: the notice's deadline runs until 3 March
    // (sent 9 February, + 15 days for the registered letter, + 8 days).
    let r = s.run_dunning(noon("2024-03-01")).unwrap();
    assert!(r.queued.is_empty());
    assert_eq!(r.skipped.get(&Skip::NoticePending), Some(&1));
    let r = s.run_dunning(noon("2024-03-04")).unwrap();
    let file = &r.queued[0];
    assert_eq!(file.kind, StepKind::CourtFile);
    // Legal rate 2024 H1 (5.07 %) from the day after the notice was sent, over a leap February:
    // 24 days (10 Feb .. 4 Mar, 29 Feb included) x 500 x 5.07 / 36500 = 1.6668 -> 1.67
    assert_eq!(file.penalties, m("1.67"));
    assert_eq!(file.indemnity, Money::ZERO);
    assert!(file.body.contains("tribunal judiciaire") && file.body.contains("12948"), "{}", file.body);
}

#[test]
fn a_consumer_owes_interest_only_from_a_notice_actually_sent() {
    let mut s = shop();
    sale(&mut s, "P1", "500", "2024-01-01"); // due 01-31
    for day in ["2024-02-05", "2024-02-15", "2024-02-25"] {
        for q in s.run_dunning(noon(day)).unwrap().queued {
            s.set_reminder_state(q.id, ReminderState::Sent, None, noon(day)).unwrap();
        }
    }
    let notice = s.run_dunning(noon("2024-03-11")).unwrap().queued[0].clone();
    assert_eq!((notice.kind, notice.penalties), (StepKind::FormalNotice, Money::ZERO));
    // Queued, then failed: never received, so it starts nothing and the court file waits.
    s.set_reminder_state(notice.id, ReminderState::Failed, Some("returned"), noon("2024-03-12")).unwrap();
    let r = s.run_dunning(noon("2024-04-05")).unwrap();
    assert!(r.queued.is_empty());
    assert_eq!(r.skipped.get(&Skip::NoticePending), Some(&1));
    // The owner records that the letter went by post on 13 March: interest runs from the 14th,
    // and the file may come once the deadline (13 March + 23 days = 5 April) has passed.
    s.set_reminder_state(notice.id, ReminderState::Sent, Some("posted at the counter"), noon("2024-03-13")).unwrap();
    let file = s.run_dunning(noon("2024-04-06")).unwrap().queued[0].clone();
    assert_eq!(file.kind, StepKind::CourtFile);
    // 24 days (14 Mar .. 6 Apr) x 500 x 5.07 / 36500 = 1.6668 -> 1.67
    assert_eq!(file.penalties, m("1.67"));
    // The file lists the reminders that went, with the day each went, and not itself.
    assert!(file.body.contains("- 13 mars 2024 : Mise en demeure"), "{}", file.body);
    assert!(!file.body.contains("11 mars 2024"), "{}", file.body);
}

#[test]
fn no_fee_is_ever_charged_to_a_consumer() {
    let mut s = shop();
    let mut ladder = Ladder::default_french();
    for step in &mut ladder.steps {
        step.fee = Some(m("15"));
    }
    s.set_ladder(ladder, noon("2024-01-01")).unwrap();
    let mut settings = (*s.settings()).clone();
    settings.dunning.penalty_fees_consumer = true;
    s.set_settings(settings, noon("2024-01-01")).unwrap();
    sale(&mut s, "P1", "100", "2024-05-01"); // due 05-31
    sale(&mut s, "B1", "100", "2024-05-01");
    let r = s.run_dunning(noon("2024-06-05")).unwrap();
    assert_eq!(r.queued.len(), 2);
    assert_eq!(s.account("P1", d("2024-06-05")).unwrap().balance, m("100"), "L111-8: the fee stays with the shop");
    assert_eq!(s.account("B1", d("2024-06-05")).unwrap().balance, m("115"));
}

#[test]
fn templates_are_checked_when_saved_and_used_when_rendered() {
    let mut s = shop();
    let mut t =
        s.templates().unwrap().into_iter().find(|t| t.name == "courteous" && t.language == Language::Fr).unwrap();
    t.body = "Coucou {customer_name}, {amount_due} EUR. {montant}".into();
    let err = s.set_template(t.clone(), noon("2024-01-01")).unwrap_err();
    assert!(err.to_string().contains("unknown placeholder {montant}"), "{err}");
    t.body = "Coucou {customer_name}, il reste {amount_due} EUR :\n{invoice_list}".into();
    s.set_template(t, noon("2024-01-01")).unwrap();
    sale(&mut s, "P1", "12.30", "2024-05-01");
    let r = s.run_dunning(noon("2024-06-05")).unwrap();
    assert!(r.queued[0].body.starts_with("Coucou Hélène Dupré, il reste 12,30 EUR"), "{}", r.queued[0].body);
    // A template that does not place the payment reference gets it on a last line of its own.
    let reference = s.payment_reference("P1").unwrap();
    assert!(
        r.queued[0].body.ends_with(&format!("\n\nRéférence de paiement à indiquer : {reference}")),
        "{}",
        r.queued[0].body
    );
    let mut bad = Ladder::default_french();
    bad.steps[0].template = "nope".into();
    assert!(s.set_ladder(bad, noon("2024-01-01")).is_err());
    let _: Option<Template> = None;
}

#[test]
fn rate_tables_can_be_replaced_without_a_release() {
    let s = shop();
    let ecb = "# checked_through: 2026-12-20\neffective_date,rate\n2016-03-16,0.00\n2024-01-01,1.00\n";
    let legal = "# checked_through: 2026-12-20\nyear,half,a,b\n2024,1,8.01,5.07\n2024,2,8.16,4.92\n";
    let rates = s.set_rate_tables(ecb, legal, noon("2024-01-01")).unwrap();
    assert_eq!(rates.ecb_on(d("2024-01-01")).unwrap().to_string(), "1.00");
    assert_eq!(s.rate_tables().unwrap(), rates);
    assert!(s.set_rate_tables("garbage", legal, noon("2024-01-01")).is_err());
    // An older copy than the one in use changes nothing.
    let older = ecb.replace("2026-12-20", "2026-12-01");
    let e = s.set_rate_tables(&older, legal, noon("2024-01-01")).unwrap_err();
    assert!(matches!(&e, crate::Error::Invalid { reason, .. } if reason.contains("before the ones in use")), "{e}");
    assert_eq!(s.rate_tables().unwrap(), rates);
}

// Properties: random sales, payments and daily runs over weeks.
#[derive(Clone, Debug)]
enum Op {
    Sale(usize, i64),
    Pay(usize, i64),
    Run,
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0usize..3, 100i64..20_000).prop_map(|(c, a)| Op::Sale(c, a)),
        2 => (0usize..3, 100i64..20_000).prop_map(|(c, a)| Op::Pay(c, a)),
        3 => Just(Op::Run),
        3 => (1u64..12).prop_map(Op::Advance),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn never_a_reminder_with_nothing_overdue_runs_are_idempotent_payments_cancel(ops in proptest::collection::vec(op(), 1..60)) {
        let s = shop();
        let refs = ["B1", "P1", "E1"];
        let mut day = d("2024-01-02");
        for (n, op) in ops.iter().enumerate() {
            let now = noon(&day.to_string()) + TimeDelta::seconds(n as i64);
            match op {
                Op::Sale(c, a) => {
                    let req = SaleRequest { customer: refs[*c].into(), amount: Money::from_minor(*a), cashier: "p".into(), ..Default::default() };
                    let _ = s.sell_on_account(req, now);
                }
                Op::Pay(c, a) => {
                    let req = EntryRequest::Payment { amount: Money::from_minor(*a), method: PaymentMethod::Cash, invoice: None };
                    s.record(refs[*c], None, "p", req, now).unwrap();
                }
                Op::Run => {
                    let first = s.run_dunning(now).unwrap();
                    for q in &first.queued {
                        let acc = s.account(&q.customer_ref, day).unwrap();
                        prop_assert!(acc.overdue.is_positive() && q.amount_due.is_positive(), "{q:?} with nothing overdue");
                    }
                    let again = s.run_dunning(now + TimeDelta::seconds(1)).unwrap();
                    prop_assert!(again.queued.is_empty(), "second run queued {:?}", again.queued);
                }
                Op::Advance(n) => day = day + Days::new(*n),
            }
            // At every moment: a queued reminder is for a customer with something overdue.
            for q in s.reminders(Some(ReminderState::Queued), None, 1000).unwrap() {
                let acc = s.account(&q.customer_ref, q.created_on.max(day)).unwrap();
                prop_assert!(acc.overdue.is_positive() || acc.open_invoices.iter().any(|i| i.due_on < day), "{q:?}");
                prop_assert!(q.amount_due <= acc.balance, "{q:?} asks more than the balance {}", acc.balance);
            }
        }
        s.audit().unwrap();
    }
}

#[test]
fn the_court_file_claims_each_debt_once() {
    // The formal notice charged the indemnity and interest to the account: those fee entries
    // must not be chased as invoices, bear interest, or multiply the indemnity.
    let mut s = shop();
    sale(&mut s, "B1", "1000", "2024-05-16"); // due 06-15
    // The notice went on 25 July: its deadline runs until 17 August, the file comes on the 18th.
    for day in ["2024-06-20", "2024-06-30", "2024-07-10", "2024-07-25", "2024-08-14", "2024-08-18"] {
        for q in s.run_dunning(noon(day)).unwrap().queued {
            s.set_reminder_state(q.id, ReminderState::Sent, None, noon(day)).unwrap();
        }
    }
    let file = s.reminders(None, Some("B1"), 10).unwrap().into_iter().find(|r| r.kind == StepKind::CourtFile).unwrap();
    assert_eq!(file.created_on, d("2024-08-18"));
    assert_eq!(file.amount_due, m("1000"));
    assert_eq!(file.indemnity, m("40"));
    // 15 days at 14.50 % + 49 days at 14.25 % on 1000 EUR: 5.96 + 19.13 (698250 / 36500 = 19.130)
    assert_eq!(file.penalties, m("25.09"));
    assert!(file.body.contains("tribunal de commerce") && file.body.contains("12946"), "{}", file.body);
    assert_eq!(file.invoices.len(), 1);
    assert!(!file.body.contains("ADJ-"), "{}", file.body);
}

#[test]
fn a_half_year_the_tables_lack_holds_the_reminder_until_the_owner_updates_them() {
    let mut s = shop();
    sale(&mut s, "B1", "1000", "2026-11-01"); // due 12-01
    assert_eq!(s.run_dunning(noon("2026-12-06")).unwrap().queued.len(), 1);
    // Still queued in 2027, which the shipped tables (checked through 2026-12-04) do not
    // cover: a payment goes through, and the reminder waits for the owner instead of going out
    // with a guessed rate.
    pay(&mut s, "B1", "100", "2027-01-02");
    assert!(queued(&s, "B1").is_empty());
    let held = s.reminders(Some(ReminderState::Held), Some("B1"), 10).unwrap();
    assert_eq!(held.len(), 1);
    let note = held[0].state_note.clone().unwrap();
    assert!(note.contains("1er semestre 2027") && note.contains("BCE"), "{note}");
    // The next step is held too, and said so in the run's report.
    let r = s.run_dunning(noon("2027-01-05")).unwrap();
    assert!(r.errors.is_empty() && r.queued.is_empty(), "{r:?}");
    assert_eq!(r.held.len(), 1);
    assert_eq!(r.held[0].state, ReminderState::Held);
    assert!(s.run_dunning(noon("2027-01-06")).unwrap().held.is_empty(), "held once, not every day");
    // The owner loads the 2027 H1 rates: both are written and queued at once.
    let ecb = "# checked_through: 2027-01-04\neffective_date,rate\n2025-06-11,2.15\n2026-06-17,2.40\n";
    let legal = "# checked_through: 2027-01-04\nyear,half,a,b\n2026,2,6.84,2.75\n2027,1,6.90,2.80\n";
    s.set_rate_tables(ecb, legal, noon("2027-01-05")).unwrap();
    assert!(s.reminders(Some(ReminderState::Held), Some("B1"), 10).unwrap().is_empty());
    let now_queued = queued(&s, "B1");
    assert_eq!(now_queued.len(), 2);
    for q in &now_queued {
        // 1000 x 30 x 12.40 / 36500 = 10.19 (December), 1000 x 1 x 12.40 / 36500 = 0.34
        // (1 January), 900 x 4 x 12.40 / 36500 = 1.22 (2 to 5 January)
        assert_eq!(q.penalties, m("11.75"), "{q:?}");
        assert_eq!(q.state_note, None);
    }
}

#[test]
fn insolvency_stops_the_indemnity_and_the_court_file() {
    let mut s = shop();
    sale(&mut s, "B1", "1000", "2024-05-16"); // due 06-15
    for day in ["2024-06-20", "2024-06-30", "2024-07-10", "2024-07-25"] {
        for q in s.run_dunning(noon(day)).unwrap().queued {
            s.set_reminder_state(q.id, ReminderState::Sent, None, noon(day)).unwrap();
        }
    }
    s.set_insolvency("B1", Some(d("2024-08-01")), noon("2024-08-01")).unwrap();
    let r = s.run_dunning(noon("2024-08-18")).unwrap();
    assert!(r.queued.is_empty());
    assert_eq!(r.refused.len(), 1);
    assert!(r.refused[0].contains("procédure collective") && r.refused[0].starts_with("B1"), "{:?}", r.refused);
    // Lifted (recorded by mistake): the file comes.
    s.set_insolvency("B1", None, noon("2024-08-19")).unwrap();
    let file = s.run_dunning(noon("2024-08-19")).unwrap().queued[0].clone();
    assert_eq!((file.kind, file.indemnity), (StepKind::CourtFile, m("40")));
    assert!(s.set_insolvency("NOPE", None, noon("2024-08-19")).is_err());
    // Recorded while the file waits in the queue: it is withdrawn, with the reason.
    s.set_insolvency("B1", Some(d("2024-08-20")), noon("2024-08-20")).unwrap();
    let withdrawn = s.reminder(file.id).unwrap();
    assert_eq!(withdrawn.state, ReminderState::Cancelled);
    assert!(withdrawn.state_note.unwrap().contains("procédure collective"));
}

#[test]
fn a_formal_notice_stays_a_letter_and_says_when_the_address_is_missing() {
    let mut s = shop();
    s.update_customer("E1", crate::CustomerPatch { address: Some(None), ..Default::default() }, noon("2024-01-01"))
        .unwrap();
    sale(&mut s, "E1", "80", "2024-05-01"); // due 05-31
    let r = s.run_dunning(noon("2024-07-10")).unwrap();
    let notice = &r.queued[0];
    assert_eq!((notice.kind, notice.channel), (StepKind::FormalNotice, Channel::Letter));
    assert_eq!(notice.recipient, None);
    assert!(notice.state_note.as_deref().unwrap().contains("no postal address"));
    assert!(notice.body.contains("Formal notice") || notice.subject.contains("Formal notice"), "{}", notice.subject);
}

#[test]
fn a_formal_notice_document_needs_the_identity_and_lists_only_what_was_sent_before_it() {
    use crate::document::DocumentKind;
    let mut s = shop();
    sale(&mut s, "B1", "1000", "2024-05-16"); // due 06-15
    let mut day = d("2024-06-20");
    let mut notice = None;
    while day <= d("2024-07-25") {
        for q in s.run_dunning(noon(&day.to_string())).unwrap().queued {
            if q.kind == StepKind::FormalNotice {
                notice = Some(q.id);
            } else {
                s.set_reminder_state(q.id, ReminderState::Sent, None, noon(&day.to_string())).unwrap();
            }
        }
        day = day + Days::new(1);
    }
    let notice = notice.expect("a formal notice on 25 July");
    let err = s.reminder_document(notice, d("2024-07-25")).unwrap_err();
    assert!(matches!(&err, crate::Error::IdentityIncomplete { document: "formal notice", .. }), "{err}");
    assert!(err.to_string().contains("legal name, address, SIRET, representative"), "{err}");

    let mut settings = (*s.settings()).clone();
    settings.identity = crate::identity::sample();
    s.set_settings(settings, noon("2024-07-25")).unwrap();
    let doc = s.reminder_document(notice, d("2024-07-25")).unwrap();
    assert_eq!(doc.kind, DocumentKind::FormalNotice);
    assert_eq!(doc.place_and_date(), "Saint-Rémy-de-Provence, le 25 juillet 2024");
    assert_eq!(doc.deadline, Some(d("2024-08-09")));
    assert_eq!(doc.invoices.len(), 1);
    assert_eq!((doc.invoices[0].amount, doc.invoices[0].left), (m("1000"), m("1000")));
    // The same figures as the reminder row: 15 days of June at 14.50 %, 25 of July at 14.25 %.
    assert_eq!((doc.interest, doc.indemnity, doc.total), (m("15.72"), m("40"), m("1055.72")));
    assert_eq!(doc.penalties.iter().map(|p| p.interest).sum::<Money>(), doc.interest);
    assert_eq!(doc.penalties.len(), 2);
    assert!(
        doc.legal_basis.iter().any(|b| b.contains("L441-10")) && doc.legal_basis.iter().any(|b| b.contains("D441-5"))
    );
    // The three reminders sent before it, and neither itself nor anything after it.
    assert_eq!(doc.earlier.len(), 3, "{:?}", doc.earlier);
    assert!(doc.earlier.iter().all(|e| e.on < d("2024-07-25")));
    assert_eq!(doc.signatory.as_deref(), Some("Claire Martin"));
    assert_eq!(doc.iban.as_deref(), Some("FR76 3000 6000 0112 3456 7890 189"));
    assert_eq!(doc.payment_reference, s.customer("B1").unwrap().payment_reference());
    assert!(notice_body_quotes(&s, notice, &doc.payment_reference));
    assert!(doc.creditor.lines.contains(&"RCS Tarascon 732 829 320".to_owned()), "{:?}", doc.creditor);

    // A failed notice starts nothing: no court file after it.
    s.set_reminder_state(notice, ReminderState::Failed, Some("returned"), noon("2024-07-26")).unwrap();
    let r = s.run_dunning(noon("2024-08-20")).unwrap();
    assert!(r.queued.iter().all(|q| q.kind != StepKind::CourtFile), "{r:?}");
    // Posted on 26 July after all: once its deadline has passed, the court file lists the three
    // reminders and the notice, each on the day it left.
    s.set_reminder_state(notice, ReminderState::Sent, Some("posted"), noon("2024-07-26")).unwrap();
    let file = s.run_dunning(noon("2024-08-20")).unwrap().queued;
    let file = file.iter().find(|q| q.kind == StepKind::CourtFile).expect("the court file");
    let doc = s.reminder_document(file.id, d("2024-08-20")).unwrap();
    assert_eq!(doc.kind, DocumentKind::CourtFile);
    assert_eq!(doc.earlier.len(), 4, "{:?}", doc.earlier);
    assert_eq!(doc.earlier.last().map(|e| e.on), Some(d("2024-07-26")), "{:?}", doc.earlier);
    assert!(doc.court.as_ref().unwrap().cerfa.contains("12946"), "between traders");
    assert!(doc.attachments.iter().any(|a| a.starts_with("Facture")));
}

/// The letter's own text asks for the reference too, printed in groups of four.
fn notice_body_quotes(s: &Store, notice: uuid::Uuid, reference: &crate::PaymentReference) -> bool {
    let row = s.reminders(None, None, 100).unwrap().into_iter().find(|r| r.id == notice).unwrap();
    row.body.contains(&format!("Référence de paiement à indiquer : {reference}"))
}

#[test]
fn an_old_debt_gets_its_notice_first_and_limitation_runs_from_the_last_payment() {
    let mut s = shop();
    // Both consumers, both due 31 January 2022; P1 paid 10 EUR on 1 June 2023, which
    // acknowledged the debt and started the 2 years (L218-2) again (Code civil 2240).
    sale(&mut s, "P1", "100", "2022-01-01");
    sale(&mut s, "E1", "100", "2022-01-01");
    pay(&mut s, "P1", "10", "2023-06-01");
    // Long past the court-file step, but no notice was ever sent: the notice goes first.
    let r = s.run_dunning(noon("2024-04-02")).unwrap();
    assert_eq!(r.queued.len(), 2, "{r:?}");
    assert!(r.queued.iter().all(|q| q.kind == StepKind::FormalNotice), "{r:?}");
    for q in &r.queued {
        s.set_reminder_state(q.id, ReminderState::Sent, None, noon("2024-04-02")).unwrap();
    }
    // Once its deadline passed (2 April + 23 days), P1's file comes; E1's debt is time-barred
    // since 31 January 2024.
    let r = s.run_dunning(noon("2024-04-26")).unwrap();
    assert_eq!(r.queued.len(), 1, "{r:?}");
    assert_eq!((r.queued[0].customer_ref.as_str(), r.queued[0].kind), ("P1", StepKind::CourtFile));
    assert_eq!(r.refused.len(), 1, "{r:?}");
    assert!(r.refused[0].starts_with("E1") && r.refused[0].contains("L218-2"), "{:?}", r.refused);
    assert!(r.refused[0].contains("2 years since 2022-01-31"), "{:?}", r.refused);
}
