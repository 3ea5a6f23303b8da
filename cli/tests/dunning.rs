//! Reminders end to end through the `ardoise` binary: penalties, the daily run and its queue,
//! disputes, plans, promises, notes, calls, holds, stops, the full timeline and the demo.
//! Every date is fixed (2024) so nothing depends on today.

mod common;

use std::collections::BTreeSet;

use common::Till;
use serde_json::Value;

/// A shop with its contact details, a consumer and an English-speaking business, both on 30
/// days' terms and agreeing to reminders by email.
fn shop() -> Till {
    let t = Till::new();
    t.ok(&[
        "shop",
        "set",
        "--name",
        "Épicerie du Marché",
        "--phone",
        "04 12 34 56 78",
        "--email",
        "bonjour@epicerie.fr",
        "--address",
        "2 place du Marché, 13210 Saint-Rémy",
        "--payment-url",
        "https://pay.example.fr/{customer_ref}?amount={amount}",
        "--date",
        "2024-01-01",
    ]);
    let consumer = ["--email", "p1@example.fr", "--consent-email", "true", "--terms", "30", "--date", "2024-01-01"];
    t.add("P1", "Hélène Dupré", &consumer);
    t.add(
        "B1",
        "Boulangerie Martin",
        &[
            "--kind",
            "business",
            "--email",
            "b1@example.fr",
            "--consent-email",
            "true",
            "--terms",
            "30",
            "--language",
            "en",
            "--address",
            "1 avenue de la Gare, 13210 Saint-Rémy",
            "--date",
            "2024-01-01",
        ],
    );
    t
}

fn sale(t: &Till, customer: &str, amount: &str, date: &str, invoice: &str) {
    t.ok(&["sale", "--customer", customer, "--amount", amount, "--date", date, "--invoice-ref", invoice]);
}

fn run(t: &Till, day: &str) -> Value {
    t.json(&["dunning", "run", "--as-of", day])
}

fn queued(t: &Till, customer: &str) -> Vec<Value> {
    t.json(&["reminders", "list", "--state", "queued", "--customer", customer]).as_array().unwrap().clone()
}

/// Marks every queued reminder sent, as the back office would after sending them.
fn send_all(t: &Till, day: &str) {
    for r in t.json(&["reminders", "list", "--state", "queued"]).as_array().unwrap() {
        t.ok(&["reminders", "mark", r["id"].as_str().unwrap(), "--state", "sent", "--date", day]);
    }
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn kinds(items: &Value) -> Vec<String> {
    items.as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap().to_owned()).collect()
}

fn short(id: &Value) -> String {
    let id = id.as_str().unwrap();
    id[id.len() - 8..].to_owned()
}

#[test]
fn penalty_crosses_a_half_year_and_adds_the_indemnity_without_a_database() {
    let t = Till::new();
    let p = t.json(&[
        "penalty",
        "--amount",
        "1000",
        "--due",
        "2024-06-15",
        "--until",
        "2024-07-10",
        "--debtor",
        "business",
    ]);
    assert_eq!(keys(&p), BTreeSet::from(["debtor", "interest", "indemnity", "total", "periods"]));
    assert_eq!((&p["interest"], &p["indemnity"], &p["total"]), (&"9.86".into(), &"40.00".into(), &"49.86".into()));
    assert_eq!(p["debtor"], "business");
    let periods = p["periods"].as_array().unwrap();
    assert_eq!(periods.len(), 2);
    assert_eq!(keys(&periods[0]), BTreeSet::from(["from", "to", "days", "base", "rate_pct", "interest"]));
    assert_eq!((&periods[0]["from"], &periods[0]["to"]), (&"2024-06-16".into(), &"2024-06-30".into()));
    assert_eq!((periods[0]["days"].as_i64(), periods[1]["days"].as_i64()), (Some(15), Some(10)));
    assert_eq!((&periods[0]["rate_pct"], &periods[1]["rate_pct"]), (&"14.50".into(), &"14.25".into()));
    assert_eq!((&periods[0]["interest"], &periods[1]["interest"]), (&"5.96".into(), &"3.90".into()));
    assert!(!t.db.exists(), "penalty needs no database and creates none");

    let text =
        t.ok(&["penalty", "--amount", "1000", "--due", "2024-06-15", "--until", "2024-07-10", "--debtor", "business"]);
    for want in ["2024-06-16", "14.50", "14.25", "recovery indemnity", "49.86"] {
        assert!(text.contains(want), "{want:?} missing from {text}");
    }

    // A partial payment lowers the base from its date.
    let p = t.json(&[
        "penalty",
        "--amount",
        "1000",
        "--due",
        "2025-01-31",
        "--until",
        "2025-03-31",
        "--debtor",
        "business",
        "--paid",
        "2025-03-01:600",
    ]);
    let got: Vec<(i64, &str, &str)> = p["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["days"].as_i64().unwrap(), x["base"].as_str().unwrap(), x["interest"].as_str().unwrap()))
        .collect();
    assert_eq!(got, [(28, "1000.00", "10.09"), (31, "400.00", "4.47")]);
}

#[test]
fn a_consumer_owes_interest_from_the_formal_notice_only() {
    let t = Till::new();
    let args = ["penalty", "--amount", "500", "--due", "2025-11-10", "--until", "2026-01-31", "--debtor", "consumer"];
    let out = t.run(&[&["--json"][..], &args].concat());
    assert_eq!(out.code, 0, "{out:?}");
    let p: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!((&p["interest"], &p["indemnity"], &p["total"]), (&"0.00".into(), &"0.00".into(), &"0.00".into()));
    assert!(p["periods"].as_array().unwrap().is_empty());
    assert!(out.stderr.contains("note: a consumer owes no interest until a formal notice"), "{}", out.stderr);
    assert!(t.ok(&args).contains("give --notice DATE"));

    let p = t.json(&[&args[..], &["--notice", "2025-12-15"]].concat());
    let periods: Vec<(i64, &str)> = p["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["days"].as_i64().unwrap(), x["rate_pct"].as_str().unwrap()))
        .collect();
    assert_eq!(periods, [(16, "2.76"), (31, "2.62")]);
    assert_eq!((&p["interest"], &p["indemnity"], &p["total"]), (&"1.71".into(), &"0.00".into(), &"1.71".into()));
    assert_eq!(p["debtor"], "consumer");
}

#[test]
fn penalty_refuses_bad_input() {
    let t = Till::new();
    let base = ["penalty", "--amount", "100", "--due", "2024-06-15", "--until", "2024-07-10", "--debtor", "business"];
    let with = |flag: &str, value: &str| -> Vec<String> {
        let mut v: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        match v.iter().position(|a| a == flag) {
            Some(i) => v[i + 1] = value.to_owned(),
            None => v.extend([flag.to_owned(), value.to_owned()]),
        }
        v
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (with("--amount", "1,5"), "is not a decimal number"),
        (with("--amount", "12.345"), "more than 2 decimals"),
        (with("--amount", "0"), "must be more than zero"),
        (with("--due", "2024-13-01"), "invalid date \"2024-13-01\""),
        (with("--until", "10/07/2024"), "invalid date"),
        (with("--debtor", "robot"), "not a kind of customer: business, consumer or public"),
        (with("--contract-rate", "9,5"), "is not a percentage like 9.5"),
        (with("--notice", "2024-06-01"), "cannot come before the due date"),
        (with("--paid", "2024-07-01"), "expected YYYY-MM-DD:AMOUNT"),
        (with("--paid", "2024-07-01:1,5"), "is not a decimal number"),
    ];
    for (args, words) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        t.fails(&args, words);
    }
    // A contract rate is a business's only: the others' rates are set by law.
    let consumer: Vec<String> =
        with("--debtor", "consumer").into_iter().chain(["--contract-rate".into(), "15".into()]).collect();
    let consumer: Vec<&str> = consumer.iter().map(String::as_str).collect();
    t.fails(&consumer, "--contract-rate applies to a business only");
    // A half-year the shipped table does not cover is refused, never guessed: the table is stale.
    let stale = t.fails(
        &["penalty", "--amount", "100", "--due", "2026-12-01", "--until", "2027-01-05", "--debtor", "business"],
        "the ECB table does not cover 2027 H1 (checked through 2026-12-04)",
    );
    assert!(stale.contains("update the rate tables"), "{stale}");
    let out = t.run(&[
        "--json",
        "penalty",
        "--amount",
        "100",
        "--due",
        "2026-11-01",
        "--until",
        "2027-01-05",
        "--debtor",
        "consumer",
        "--notice",
        "2026-11-10",
    ]);
    assert_eq!(out.code, 1, "{out:?}");
    let e: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(e["code"], "stale_rates");
    assert!(!t.db.exists());
}

#[test]
fn the_daily_run_queues_once_and_a_payment_at_the_till_cancels_at_once() {
    let t = shop();
    sale(&t, "P1", "40", "2024-05-01", "F-1"); // due 2024-05-31
    let r = run(&t, "2024-06-04");
    assert_eq!(r["queued"], serde_json::json!([]));
    assert_eq!(r["skipped"]["nothing_due"], 1);

    let r = run(&t, "2024-06-05");
    assert_eq!(r["as_of"], "2024-06-05");
    let q = r["queued"].as_array().unwrap();
    assert_eq!(q.len(), 1, "{r}");
    assert_eq!(
        (&q[0]["level"], &q[0]["channel"], &q[0]["step"]),
        (&0.into(), &"email".into(), &"Rappel courtois".into())
    );
    assert_eq!((&q[0]["recipient"], &q[0]["amount_due"]), (&"p1@example.fr".into(), &"40.00".into()));
    assert_eq!(q[0]["invoices"], serde_json::json!(["F-1"]));
    let body = q[0]["body"].as_str().unwrap();
    for want in ["Bonjour Hélène Dupré", "40,00 EUR", "https://pay.example.fr/P1?amount=40.00", "04 12 34 56 78"] {
        assert!(body.contains(want), "{want:?} missing from {body}");
    }

    // The same day again: nothing more.
    let again = run(&t, "2024-06-05");
    assert_eq!(again["queued"], serde_json::json!([]));
    assert_eq!(again["skipped"]["already_at_level"], 1);
    let text = t.ok(&["dunning", "run", "--as-of", "2024-06-05"]);
    assert!(text.contains("0 reminders queued") && text.contains("1 already reminded at their step"), "{text}");
    assert_eq!(queued(&t, "P1").len(), 1);

    // Paid at the till: the queued reminder is cancelled in the same write, never sent.
    t.ok(&["pay", "--customer", "P1", "--amount", "40", "--date", "2024-06-06"]);
    assert!(t.json(&["reminders", "list", "--state", "queued"]).as_array().unwrap().is_empty());
    let all = t.json(&["reminders", "list"]);
    assert_eq!(all[0]["state"], "cancelled");
    assert!(all[0]["state_note"].as_str().unwrap().contains("nothing overdue"), "{all}");
}

#[test]
fn reminders_are_read_marked_and_climb_the_ladder_in_the_customer_s_language() {
    let t = shop();
    sale(&t, "P1", "40", "2024-05-01", "F-1");
    sale(&t, "B1", "100", "2024-05-01", "F-2");
    let r = run(&t, "2024-06-05");
    let p1 = r["queued"].as_array().unwrap().iter().find(|q| q["customer_ref"] == "P1").unwrap().clone();
    let id = p1["id"].as_str().unwrap();

    let text = t.ok(&["reminders", "show", &short(&p1["id"])]);
    assert!(text.contains("Subject: Épicerie du Marché : petit rappel pour 40,00 EUR"), "{text}");
    assert!(text.contains("Bonjour Hélène Dupré") && text.contains("p1@example.fr"), "{text}");
    assert_eq!(t.json(&["reminders", "show", id])["id"], id);
    let list = t.ok(&["reminders", "list"]);
    assert!(list.contains(&short(&p1["id"])) && list.contains("Rappel courtois"), "{list}");

    let sent = t.json(&[
        "reminders",
        "mark",
        id,
        "--state",
        "sent",
        "--note",
        "sent by the back office",
        "--date",
        "2024-06-05",
    ]);
    assert_eq!((&sent["state"], &sent["state_note"]), (&"sent".into(), &"sent by the back office".into()));
    t.fails(&["reminders", "mark", id, "--state", "cancelled"], "a sent reminder cannot become cancelled");
    t.fails(&["reminders", "mark", id, "--state", "lost"], "reminder state");
    t.fails(&["reminders", "show", "zzzz"], "unknown reminder \"zzzz\"");
    t.fails(&["reminders", "list", "--customer", "NOPE"], "unknown customer");
    t.fails(&["reminders", "list", "--state", "maybe"], "reminder state");
    send_all(&t, "2024-06-05");

    // Fifteen days late: the second reminder; the business reads it in English.
    let r = run(&t, "2024-06-20");
    let by = |c: &str| r["queued"].as_array().unwrap().iter().find(|q| q["customer_ref"] == c).unwrap().clone();
    assert_eq!((&by("P1")["level"], &by("P1")["step"]), (&1.into(), &"Second rappel".into()));
    assert_eq!(by("B1")["language"], "en");
    assert!(by("B1")["subject"].as_str().unwrap().starts_with("Épicerie du Marché: second reminder"), "{}", by("B1"));
    assert!(by("B1")["body"].as_str().unwrap().starts_with("Hello Boulangerie Martin"), "{}", by("B1"));
}

#[test]
fn a_formal_notice_to_a_business_states_penalties_and_the_indemnity() {
    let t = shop();
    sale(&t, "B1", "1000", "2024-05-16", "F-9"); // due 2024-06-15
    for day in ["2024-06-20", "2024-06-30", "2024-07-10", "2024-07-25"] {
        run(&t, day);
        send_all(&t, day);
    }
    let all = t.json(&["reminders", "list", "--customer", "B1"]);
    let steps: Vec<&str> = all.as_array().unwrap().iter().rev().map(|r| r["step"].as_str().unwrap()).collect();
    assert_eq!(steps, ["Rappel courtois", "Second rappel", "Appel téléphonique", "Mise en demeure"]);
    let notice = &all[0];
    assert_eq!((&notice["kind"], &notice["channel"]), (&"formal_notice".into(), &"letter".into()));
    assert_eq!(notice["recipient"], "1 avenue de la Gare, 13210 Saint-Rémy");
    assert_eq!((&notice["penalties"], &notice["indemnity"]), (&"15.72".into(), &"40.00".into()));
    assert_eq!(notice["subject"], "Formal notice to pay 1055.72 EUR");
    // The shop charges them to the account (its rule for businesses), and `penalty` agrees,
    // reading the database's rate tables.
    assert_eq!(t.show("B1", "2024-07-25")["balance"], "1055.72");
    let p = t.json(&[
        "penalty",
        "--amount",
        "1000",
        "--due",
        "2024-06-15",
        "--until",
        "2024-07-25",
        "--debtor",
        "business",
    ]);
    assert_eq!(p["interest"], "15.72");
}

#[test]
fn disputes_take_an_invoice_out_of_the_reminders_until_resolved() {
    let t = shop();
    sale(&t, "P1", "40", "2024-05-01", "F-1");
    sale(&t, "P1", "10", "2024-05-02", "F-2");
    assert_eq!(run(&t, "2024-06-10")["queued"][0]["amount_due"], "50.00");

    let d = t.json(&[
        "dispute",
        "open",
        "--invoice",
        "F-1",
        "--reason",
        "cake was not the one ordered",
        "--date",
        "2024-06-11",
    ]);
    assert_eq!((&d["state"], &d["customer_ref"], &d["invoice"]), (&"open".into(), &"P1".into(), &"F-1".into()));
    assert_eq!(queued(&t, "P1")[0]["amount_due"], "10.00");
    let v = t.json(&["checkout", "--customer", "P1", "--amount", "5", "--date", "2024-06-11"]);
    assert!(v["reasons"].as_array().unwrap().iter().any(|r| r["code"] == "disputed"), "{v}");
    assert!(v["messages"].as_array().unwrap().iter().any(|m| m.as_str().unwrap().contains("under dispute")), "{v}");
    assert!(t.ok(&["checkout", "--customer", "P1", "--amount", "5", "--date", "2024-06-11"]).contains("under dispute"));
    assert!(t.ok(&["dispute", "list"]).contains("cake was not the one ordered"));
    assert_eq!(t.json(&["dispute", "list", "--customer", "P1"]).as_array().unwrap().len(), 1);

    let id = short(&d["id"]);
    t.ok(&["dispute", "note", "--id", &id, "--note", "customer sent a photo", "--date", "2024-06-12"]);
    let r = t.json(&[
        "dispute",
        "resolve",
        "--id",
        &id,
        "--rejected",
        "--note",
        "photo shows the right cake",
        "--date",
        "2024-06-13",
    ]);
    assert_eq!((&r["dispute"]["state"], &r["credit_note"]), (&"rejected".into(), &Value::Null));
    assert_eq!(queued(&t, "P1")[0]["amount_due"], "50.00");
    t.fails(&["dispute", "resolve", "--id", &id, "--rejected", "--note", "again"], "already resolved");

    // Upheld: a credit note settles what is left on the invoice.
    let d2 = t.json(&["dispute", "open", "--invoice", "F-1", "--reason", "second look", "--date", "2024-06-14"]);
    let r = t.json(&[
        "dispute",
        "resolve",
        "--id",
        d2["id"].as_str().unwrap(),
        "--upheld",
        "--note",
        "we were wrong",
        "--date",
        "2024-06-15",
    ]);
    assert_eq!(r["dispute"]["state"], "upheld");
    assert_eq!(
        (&r["credit_note"]["entry"]["kind"], &r["credit_note"]["balance"]),
        (&"credit_note".into(), &"10.00".into())
    );
    assert_eq!(queued(&t, "P1")[0]["amount_due"], "10.00");

    let story = kinds(&t.json(&["timeline", "--customer", "P1", "--full", "--limit", "100"]));
    for k in ["dispute_opened", "dispute_note", "dispute_rejected", "dispute_upheld", "reminder", "entry:credit_note"] {
        assert!(story.iter().any(|x| x == k), "{k} missing from {story:?}");
    }
}

#[test]
fn promises_and_plans_pause_the_ladder_until_broken() {
    let t = shop();
    sale(&t, "P1", "90", "2024-05-01", "F-1"); // due 2024-05-31
    let p = t.json(&["promise", "--customer", "P1", "--amount", "50", "--by", "2024-06-15", "--date", "2024-06-04"]);
    assert_eq!((&p["state"], &p["amount"], &p["promised_on"]), (&"open".into(), &"50.00".into(), &"2024-06-15".into()));
    let r = run(&t, "2024-06-10");
    assert_eq!((&r["queued"], &r["skipped"]["promise"]), (&serde_json::json!([]), &1.into()));
    let r = run(&t, "2024-06-16");
    assert_eq!(r["promises_broken"], 1);
    assert_eq!(r["queued"][0]["level"], 1);
    assert!(t.ok(&["dunning", "run", "--as-of", "2024-06-16"]).contains("Not reminded today"));
    send_all(&t, "2024-06-16");

    // Three instalments of what is overdue (90.00), every 30 days from 2024-06-20.
    let plan = t.json(&[
        "plan",
        "create",
        "--customer",
        "P1",
        "--instalments",
        "3",
        "--every",
        "30",
        "--first",
        "2024-06-20",
        "--date",
        "2024-06-18",
    ]);
    let inst: Vec<(&str, &str)> = plan["instalments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["due_on"].as_str().unwrap(), i["amount"].as_str().unwrap()))
        .collect();
    assert_eq!(inst, [("2024-06-20", "30.00"), ("2024-07-20", "30.00"), ("2024-08-19", "30.00")]);
    assert_eq!(plan["state"], "active");
    t.fails(
        &["plan", "create", "--customer", "P1", "--instalments", "2", "--every", "30", "--date", "2024-06-18"],
        "already has an active plan",
    );
    t.ok(&["pay", "--customer", "P1", "--amount", "30", "--date", "2024-06-20"]);
    let show = t.json(&["plan", "show", "--customer", "P1", "--as-of", "2024-07-10"]);
    assert_eq!(
        (&show["status"]["state"], &show["paid"], &show["status"]["next_due"]),
        (&"active".into(), &"30.00".into(), &"2024-07-20".into())
    );
    assert_eq!(run(&t, "2024-07-10")["skipped"]["plan"], 1);

    // The second instalment missed past the grace days: broken, reminders resume.
    let r = run(&t, "2024-07-26");
    assert_eq!(r["plans_broken"], 1);
    assert_eq!(r["queued"].as_array().unwrap().len(), 1);
    let text = t.ok(&["plan", "show", "--customer", "P1", "--as-of", "2024-07-26"]);
    assert!(text.contains("BROKEN") && text.contains("2024-07-20"), "{text}");

    // An explicit schedule, and a customer without a plan.
    sale(&t, "B1", "100", "2024-05-01", "F-2");
    let plan = t.json(&[
        "plan",
        "create",
        "--customer",
        "B1",
        "--schedule",
        "2024-06-10:60,2024-07-10:40",
        "--date",
        "2024-06-05",
    ]);
    assert_eq!(plan["instalments"][1]["amount"], "40.00");
    t.add("P2", "Jean Petit", &[]);
    assert_eq!(t.json(&["plan", "show", "--customer", "P2"]), Value::Null);
    assert!(t.ok(&["plan", "show", "--customer", "P2"]).contains("No payment plan for P2"));
    t.fails(&["plan", "create", "--customer", "P2", "--instalments", "3", "--every", "30"], "has nothing overdue");
}

#[test]
fn notes_calls_holds_stops_and_ladders_show_in_the_full_timeline() {
    let t = shop();
    sale(&t, "P1", "20", "2024-05-01", "F-1");
    let n = t.json(&["note", "--customer", "P1", "--text", "prefers a call after 6pm", "--date", "2024-06-01"]);
    assert_eq!((&n[0]["kind"], &n[0]["text"]), (&"note".into(), &"prefers a call after 6pm".into()));
    let c = t.json(&[
        "call",
        "--customer",
        "P1",
        "--outcome",
        "no-answer",
        "--note",
        "voicemail",
        "--author",
        "Marc",
        "--date",
        "2024-06-02",
    ]);
    assert_eq!(c[0]["text"], "call: no answer (voicemail)");

    t.ok(&["hold", "--customer", "P1", "--until", "2024-06-30", "--reason", "in hospital", "--date", "2024-06-03"]);
    assert_eq!(run(&t, "2024-06-10")["skipped"]["on_hold"], 1);
    t.ok(&["hold", "--customer", "P1", "--release", "--date", "2024-06-11"]);
    t.ok(&["ladder", "set-customer", "--customer", "P1", "--exclude", "--date", "2024-06-11"]);
    assert_eq!(run(&t, "2024-06-12")["skipped"]["excluded"], 1);
    t.ok(&["ladder", "set-customer", "--customer", "P1", "--default", "--date", "2024-06-12"]);
    let stop = t.json(&["stop", "--invoice", "F-1", "--reason", "goodwill: old friend", "--date", "2024-06-12"]);
    assert_eq!(stop["stopped"], true);
    assert_eq!(run(&t, "2024-06-13")["skipped"]["nothing_due"], 1);
    t.ok(&["stop", "--invoice", "F-1", "--resume", "--date", "2024-06-14"]);
    assert_eq!(run(&t, "2024-06-14")["queued"].as_array().unwrap().len(), 1);

    // A call that ends in a promise records both.
    let c = t.json(&[
        "call",
        "--customer",
        "P1",
        "--outcome",
        "promise",
        "--amount",
        "20",
        "--by",
        "2024-06-30",
        "--date",
        "2024-06-15",
    ]);
    let mut recorded = kinds(&c);
    recorded.sort();
    assert_eq!(recorded, ["call", "promise"]);

    let full = t.json(&["timeline", "--customer", "P1", "--full", "--limit", "100"]);
    let story = kinds(&full);
    for k in ["note", "call", "hold", "ladder", "invoice_stop", "reminder", "promise", "entry:sale"] {
        assert!(story.iter().any(|x| x == k), "{k} missing from {story:?}");
    }
    let text = t.ok(&["timeline", "--customer", "P1", "--full"]);
    // The reminder queued on the 14th was cancelled by the promise of the 15th: it says why.
    for want in [
        "prefers a call after 6pm",
        "Rappel courtois by email: cancelled (Annulée : le client a promis de payer",
        "reminders on hold until 2024-06-30",
    ] {
        assert!(text.contains(want), "{want:?} missing from {text}");
    }
    // Without --full: the ledger entries, in the shape scripts already read.
    let entries = t.json(&["timeline", "--customer", "P1"]);
    assert_eq!(entries.as_array().unwrap().len(), 1);
    assert_eq!((&entries[0]["entry"]["kind"], &entries[0]["effect"]["balance"]), (&"sale".into(), &"20.00".into()));

    let ladder = t.json(&["ladder", "show"]);
    assert_eq!((&ladder["name"], ladder["steps"].as_array().unwrap().len()), (&"default".into(), 5));
    assert_eq!(ladder["steps"][3]["kind"], "formal_notice");
    assert!(t.ok(&["ladder", "show", "default"]).contains("Mise en demeure"));
    t.fails(&["ladder", "show", "nope"], "ladder \"nope\"");
}

/// Everything a follow-up command could change.
fn state(t: &Till) -> Vec<Value> {
    vec![
        t.show("P1", "2024-06-20"),
        t.json(&["timeline", "--customer", "P1", "--full", "--limit", "1000"]),
        t.json(&["reminders", "list"]),
        t.json(&["dispute", "list"]),
        t.json(&["plan", "show", "--customer", "P1", "--as-of", "2024-06-20"]),
        t.json(&["shop", "show"]),
    ]
}

#[test]
fn bad_follow_ups_fail_cleanly_and_write_nothing() {
    let t = shop();
    sale(&t, "P1", "40", "2024-05-01", "F-1");
    run(&t, "2024-06-05");
    let before = state(&t);
    let d = ["--date", "2024-06-06"];
    let cases: &[(&[&str], &str)] = &[
        (&["dispute", "open", "--invoice", "F-404", "--reason", "wrong"], "unknown invoice \"F-404\""),
        (&["dispute", "open", "--invoice", "F-1", "--reason", "  "], "reason"),
        (&["dispute", "note", "--id", "00000000", "--note", "x"], "unknown dispute"),
        (&["dispute", "resolve", "--id", "0000", "--rejected", "--note", "x"], "unknown dispute"),
        (
            &["dispute", "resolve", "--id", "0000", "--upheld", "--credit", "1,5", "--note", "x"],
            "is not a decimal number",
        ),
        (&["dunning", "run", "--as-of", "2024-13-01"], "invalid date \"2024-13-01\""),
        (&["dunning", "run", "--as-of", "05/06/2024"], "invalid date"),
        (&["dunning", "run", "--as-of", "2999-01-01"], "is in the future"),
        (&["promise", "--customer", "P1", "--amount", "1,5", "--by", "2024-07-01"], "is not a decimal number"),
        (&["promise", "--customer", "P1", "--amount", "10", "--by", "2024-06-31"], "invalid date"),
        (&["promise", "--customer", "P1", "--amount", "10", "--by", "2024-06-01"], "already in the past"),
        (&["promise", "--customer", "P1", "--amount", "-10", "--by", "2024-07-01"], "more than zero"),
        (&["promise", "--customer", "NOPE", "--amount", "10", "--by", "2024-07-01"], "unknown customer"),
        (&["plan", "create", "--customer", "P1", "--schedule", "2024-07-01:12.345"], "more than 2 decimals"),
        (&["plan", "create", "--customer", "P1", "--schedule", "2024-07-01"], "expected YYYY-MM-DD:AMOUNT"),
        (&["plan", "create", "--customer", "P1", "--schedule", "2024-08-01:10,2024-07-01:10"], "date order"),
        (&["plan", "create", "--customer", "P1", "--instalments", "0", "--every", "30"], "1 to 36 instalments"),
        (
            &["plan", "create", "--customer", "P1", "--instalments", "2", "--every", "30", "--first", "2024-05-01"],
            "before the plan",
        ),
        (
            &["plan", "create", "--customer", "P1", "--instalments", "2", "--every", "30", "--total", "1,5"],
            "decimal number",
        ),
        (&["call", "--customer", "P1", "--outcome", "promise", "--amount", "10"], "needs --amount and --by"),
        (&["call", "--customer", "P1", "--outcome", "maybe"], "use reached, no-answer or promise"),
        (&["call", "--customer", "P1", "--outcome", "reached", "--amount", "5"], "go with --outcome promise"),
        (&["call", "--customer", "P1", "--outcome", "promise", "--amount", "5", "--by", "2024-02-30"], "invalid date"),
        (&["note", "--customer", "P1", "--text", "  "], "note"),
        (&["note", "--customer", "NOPE", "--text", "x"], "unknown customer"),
        (&["hold", "--customer", "P1", "--until", "2024-01-01", "--reason", "x"], "cannot end before"),
        (&["hold", "--customer", "P1", "--reason", " "], "needs a reason"),
        (&["stop", "--invoice", "F-404", "--reason", "x"], "unknown invoice"),
        (&["stop", "--invoice", "F-1", "--reason", " "], "needs a reason"),
        (&["ladder", "set-customer", "--customer", "P1", "--ladder", "nope"], "ladder \"nope\""),
        (&["reminders", "mark", "zzzz", "--state", "sent"], "unknown reminder"),
        (&["customer", "update", "P1", "--language", "de"], "use fr or en"),
        (&["shop", "set", "--payment-url", "http://pay.example.fr"], "payment url"),
        (&["shop", "set", "--payment-url", "https://pay.example.fr/{client}"], "payment url"),
        (&["shop", "set", "--siret", "73282932000075"], "SIRET"),
        (&["shop", "set", "--siret", "73282932000074", "--vat-number", "FR45732829320"], "should be 44"),
        (&["shop", "set", "--iban", "FR7630006000011234567890188"], "IBAN"),
    ];
    for (args, words) in cases {
        // Every one of them records on a date, except the run, whose date is --as-of.
        let args = if args[0] == "dunning" { args.to_vec() } else { [args, &d[..]].concat() };
        t.fails(&args, words);
        assert_eq!(state(&t), before, "ardoise {args:?} changed the database");
    }
    // Usage errors are clap's: code 2.
    for args in [
        &["hold", "--customer", "P1"][..],
        &["hold", "--customer", "P1", "--reason", "x", "--release"],
        &["dispute", "resolve", "--id", "x", "--note", "y"],
        &["dispute", "resolve", "--id", "x", "--rejected", "--credit", "5", "--note", "y"],
        &["plan", "create", "--customer", "P1"],
        &["plan", "create", "--customer", "P1", "--instalments", "3"],
        &["stop", "--invoice", "F-1"],
        &["ladder", "set-customer", "--customer", "P1"],
        &["penalty", "--amount", "5"],
    ] {
        assert_eq!(t.run(args).code, 2, "ardoise {args:?}");
    }
    assert_eq!(state(&t), before);
}

#[test]
fn the_shop_identity_is_set_checked_and_shown() {
    let t = Till::new();
    let s = t.json(&[
        "shop",
        "set",
        "--name",
        "Boulangerie Martin",
        "--siret",
        "732 829 320 00074",
        "--iban",
        "fr76 3000 6000 0112 3456 7890 189",
    ]);
    assert_eq!(s["identity"]["siret"], "73282932000074");
    assert_eq!(s["identity"]["iban"], "FR7630006000011234567890189");
    let shown = t.ok(&["shop", "show"]);
    assert!(shown.contains("FR76 3000 6000 0112 3456 7890 189"), "{shown}");
    assert!(shown.contains("no: set legal name, address, representative, representative role"), "{shown}");
    t.json(&[
        "shop",
        "set",
        "--legal-name",
        "Boulangerie Martin SARL",
        "--legal-form",
        "SARL",
        "--vat-number",
        "FR44732829320",
        "--rcs-city",
        "Lyon",
        "--legal-address",
        "12 rue de la République\\n69002 Lyon",
        "--representative",
        "Claire Martin",
        "--representative-role",
        "gérante",
    ]);
    let shown = t.ok(&["shop", "show"]);
    assert!(shown.contains("12 rue de la République, 69002 Lyon"), "{shown}");
    assert!(shown.contains("Claire Martin (gérante)"), "{shown}");
    assert!(!shown.contains("no: set"), "{shown}");
}

#[test]
fn the_shop_and_customers_carry_what_reminders_need() {
    let t = Till::new();
    t.fails(&["shop", "show"], "no database at");
    t.fails(&["shop", "set", "--payment-url", "ftp://x"], "payment url");
    assert!(!t.db.exists(), "a refused setting must not create the database");
    let s = t.json(&[
        "shop",
        "set",
        "--name",
        "Épicerie",
        "--phone",
        "04 00 00 00 00",
        "--payment-url",
        "https://p.fr/{amount}",
    ]);
    assert_eq!(
        (&s["shop_name"], &s["shop_phone"], &s["payment_url"]),
        (&"Épicerie".into(), &"04 00 00 00 00".into(), &"https://p.fr/{amount}".into())
    );
    let s = t.json(&["shop", "set", "--payment-url", "", "--min-gap-days", "10"]);
    assert_eq!(
        (&s["payment_url"], &s["shop_name"], &s["dunning"]["min_gap_days"]),
        (&Value::Null, &"Épicerie".into(), &10.into())
    );
    assert!(t.ok(&["shop", "show"]).contains("none (pay at the shop)"));

    t.add("C1", "John Smith", &["--address", "1 High Street, Bath", "--language", "en"]);
    let c = &t.show("C1", "2024-06-01")["customer"];
    assert_eq!((&c["address"], &c["language"]), (&"1 High Street, Bath".into(), &"en".into()));
    assert!(t.ok(&["customer", "show", "C1"]).contains("1 High Street, Bath"));
    let c = t.json(&["customer", "update", "C1", "--address", "", "--language", "fr"]);
    assert_eq!((&c["customer"]["address"], &c["customer"]["language"]), (&Value::Null, &"fr".into()));
    t.fails(&["customer", "add", "--ref", "C2", "--name", "X", "--language", "de"], "use fr or en");

    // Bills by email from a day, back on paper, and a bad day refused.
    let c = t.json(&["customer", "update", "C1", "--paperless-from", "2024-05-01"]);
    assert_eq!(c["customer"]["paperless_from"], "2024-05-01");
    assert!(t.ok(&["customer", "show", "C1"]).contains("by email from 2024-05-01"));
    let c = t.json(&["customer", "update", "C1", "--paperless-from", ""]);
    assert_eq!(c["customer"]["paperless_from"], Value::Null);
    t.fails(&["customer", "add", "--ref", "C3", "--name", "Y", "--paperless-from", "2024-02-30"], "2024-02-30");
    assert!(t.json(&["customer", "list"]).to_string().find("\"C3\"").is_none());
}

#[test]
fn rate_tables_can_be_replaced_and_penalty_then_uses_them() {
    let t = shop();
    let dir = tempfile::tempdir().unwrap();
    let ecb = dir.path().join("ecb.csv");
    let legal = dir.path().join("legal.csv");
    std::fs::write(&ecb, "# checked_through: 2026-12-20\neffective_date,rate\n2016-03-16,0.00\n2024-01-01,1.00\n")
        .unwrap();
    std::fs::write(&legal, "# checked_through: 2026-12-20\nyear,half,a,b\n2024,1,8.01,5.07\n2024,2,8.16,4.92\n")
        .unwrap();
    let (ecb, legal) = (ecb.to_str().unwrap(), legal.to_str().unwrap());
    let before = t.json(&["rates", "show"]);
    t.fails(&["rates", "set", "--ecb", legal, "--legal", legal], "invalid date \"2024\"");
    t.fails(&["rates", "set", "--ecb", "/nonexistent.csv", "--legal", legal], "could not read");
    assert_eq!(t.json(&["rates", "show"]), before);
    let rates = t.json(&["rates", "set", "--ecb", ecb, "--legal", legal]);
    assert_eq!(rates["ecb"].as_array().unwrap().len(), 2);
    assert_eq!(rates["ecb_checked_through"], "2026-12-20");
    // 1.00 + 10 points = 11 %: 1000 x 15 x 11 / 36500 = 4.52, then 1000 x 10 x 11 / 36500 = 3.01.
    let p = t.json(&[
        "penalty",
        "--amount",
        "1000",
        "--due",
        "2024-06-15",
        "--until",
        "2024-07-10",
        "--debtor",
        "business",
    ]);
    assert_eq!((&p["interest"], &p["periods"][0]["rate_pct"]), (&"7.53".into(), &"11.00".into()));
}

#[test]
fn the_demo_tells_the_day_s_reminders() {
    let t = Till::new();
    let text = t.ok(&["demo", "--seed", "42", "--date", "2026-03-02"]);
    for want in [
        "6. The day's reminders",
        "not before",
        "Rappel courtois",
        "Mise en demeure",
        "Objet : Mise en demeure de payer",
        "Indemnité forfaitaire pour frais de recouvrement\n40,00 €",
        "Pénalités de retard dues de plein droit",
        "Lettre recommandée avec accusé de réception",
        "Claire Martin",
        "Broken today: 1 promise to pay",
        "Bonjour Cécile Mercier",
        "04 90 92 12 34",
        "cancelled (nothing overdue any more",
    ] {
        assert!(text.contains(want), "{want:?} missing from the demo:\n{text}");
    }
    // The shop left behind: the cancelled reminder, the restaurant's broken promise and notice.
    assert!(t.json(&["reminders", "list", "--customer", "C008", "--state", "queued"]).as_array().unwrap().is_empty());
    let story = kinds(&t.json(&["timeline", "--customer", "C030", "--full", "--limit", "100"]));
    for k in ["call", "promise", "promise_broken", "reminder", "entry:adjustment"] {
        assert!(story.iter().any(|x| x == k), "{k} missing from {story:?}");
    }

    let other = Till::new();
    let story = other.json(&["demo", "--seed", "7", "--date", "2026-03-02"]);
    let d = &story["dunning"];
    assert!(!d["run"]["queued"].as_array().unwrap().is_empty());
    assert_eq!(
        (&d["formal_notice"]["kind"], &d["formal_notice"]["channel"]),
        (&"formal_notice".into(), &"letter".into())
    );
    assert_eq!(
        (&d["formal_notice"]["indemnity"], &d["formal_notice"]["created_on"]),
        (&"40.00".into(), &"2026-03-02".into())
    );
    assert_eq!((&d["reminder"]["kind"], &d["reminder"]["channel"]), (&"reminder".into(), &"email".into()));
    assert_eq!(d["cancelled"]["id"], d["reminder"]["id"]);
    assert_eq!(d["cancelled"]["state"], "cancelled");
    assert_eq!(d["payment"]["entry"]["kind"], "payment");
}

#[test]
fn a_formal_notice_pdf_needs_the_shop_identity_and_then_is_written() {
    let t = shop();
    t.ok(&["customer", "update", "P1", "--address", "8 chemin des Oliviers, 13150 Tarascon", "--date", "2024-01-01"]);
    sale(&t, "P1", "500", "2023-12-01", "F-1");
    for day in ["2024-01-05", "2024-01-15", "2024-01-25"] {
        run(&t, day);
        send_all(&t, day);
    }
    run(&t, "2024-02-09");
    let notice = queued(&t, "P1").into_iter().find(|r| r["kind"] == "formal_notice").expect("a formal notice");
    let id = notice["id"].as_str().unwrap();
    let out = t.db.with_file_name("notice.pdf");
    let args = ["reminders", "pdf", id, "--out", out.to_str().unwrap(), "--date", "2024-02-09"];
    let e = t.fails(&args, "shop's identity is incomplete for a formal notice");
    assert!(e.contains("legal name") && e.contains("representative"), "{e}");
    assert!(!out.exists(), "nothing written");
    t.ok(&[
        "shop",
        "set",
        "--legal-name",
        "Épicerie du Marché SARL",
        "--siret",
        "73282932000074",
        "--legal-address",
        "2 place du Marché\\n13210 Saint-Rémy",
        "--representative",
        "Claire Martin",
        "--representative-role",
        "gérante",
        "--date",
        "2024-02-09",
    ]);
    let doc = t.json(&args);
    assert_eq!(doc["kind"], "formal_notice");
    assert_eq!(doc["signatory"], "Claire Martin");
    assert_eq!(doc["principal"], "500.00");
    assert!(std::fs::read(&out).unwrap().starts_with(b"%PDF-"));
}

/// Runs `penalty --json` and gives (from, to, days, base, rate, interest) per period, then
/// (interest, indemnity, total).
fn penalty_figures(t: &Till, args: &[&str]) -> (Vec<[String; 6]>, [String; 3]) {
    let p = t.json(&[&["penalty"][..], args].concat());
    let s = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    let periods = p["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| [s(&x["from"]), s(&x["to"]), s(&x["days"]), s(&x["base"]), s(&x["rate_pct"]), s(&x["interest"])])
        .collect();
    (periods, [s(&p["interest"]), s(&p["indemnity"]), s(&p["total"])])
}

fn rows(rows: &[[&str; 6]]) -> Vec<[String; 6]> {
    rows.iter().map(|r| r.map(str::to_owned)).collect()
}

fn sums(s: [&str; 3]) -> [String; 3] {
    s.map(str::to_owned)
}

/// The hand-worked cases of `core/src/dunning/penalty.rs` (each period: amount x days x rate /
/// 36500, rounded half away from zero), printed by the CLI with the same figures.
#[test]
fn penalty_json_prints_the_hand_worked_figures_for_each_kind_of_debtor() {
    let t = Till::new();
    let business = ["--amount", "1000", "--due", "2025-12-15", "--until", "2026-01-31", "--paid", "2026-01-10:400"];
    assert_eq!(
        penalty_figures(&t, &[&business[..], &["--debtor", "business"]].concat()),
        (
            rows(&[
                ["2025-12-16", "2025-12-31", "16", "1000.00", "12.15", "5.33"],
                ["2026-01-01", "2026-01-09", "9", "1000.00", "12.15", "3.00"],
                ["2026-01-10", "2026-01-31", "22", "600.00", "12.15", "4.39"],
            ]),
            sums(["12.72", "40.00", "52.72"])
        )
    );
    let july = ["--amount", "1000", "--due", "2026-06-20", "--until", "2026-07-20", "--paid", "2026-07-05:250"];
    assert_eq!(
        penalty_figures(&t, &[&july[..], &["--debtor", "business"]].concat()),
        (
            rows(&[
                ["2026-06-21", "2026-06-30", "10", "1000.00", "12.15", "3.33"],
                ["2026-07-01", "2026-07-04", "4", "1000.00", "12.40", "1.36"],
                ["2026-07-05", "2026-07-20", "16", "750.00", "12.40", "4.08"],
            ]),
            sums(["8.77", "40.00", "48.77"])
        )
    );
    // A public buyer: one rate, that of the half-year the delay began in, + 8 points.
    assert_eq!(
        penalty_figures(&t, &[&business[..], &["--debtor", "public"]].concat()),
        (
            rows(&[
                ["2025-12-16", "2026-01-09", "25", "1000.00", "10.15", "6.95"],
                ["2026-01-10", "2026-01-31", "22", "600.00", "10.15", "3.67"],
            ]),
            sums(["10.62", "40.00", "50.62"])
        )
    );
    assert_eq!(
        penalty_figures(&t, &[&july[..], &["--debtor", "public"]].concat()),
        (
            rows(&[
                ["2026-06-21", "2026-07-04", "14", "1000.00", "10.15", "3.89"],
                ["2026-07-05", "2026-07-20", "16", "750.00", "10.15", "3.34"],
            ]),
            sums(["7.23", "40.00", "47.23"])
        )
    );
    // A consumer, from the day after the notice was sent.
    assert_eq!(
        penalty_figures(
            &t,
            &[
                "--amount",
                "500",
                "--due",
                "2025-11-10",
                "--until",
                "2026-02-10",
                "--debtor",
                "consumer",
                "--notice",
                "2025-12-15",
                "--paid",
                "2026-01-20:200"
            ]
        ),
        (
            rows(&[
                ["2025-12-16", "2025-12-31", "16", "500.00", "2.76", "0.60"],
                ["2026-01-01", "2026-01-19", "19", "500.00", "2.62", "0.68"],
                ["2026-01-20", "2026-02-10", "22", "300.00", "2.62", "0.47"],
            ]),
            sums(["1.75", "0.00", "1.75"])
        )
    );
    assert_eq!(
        penalty_figures(
            &t,
            &[
                "--amount",
                "800",
                "--due",
                "2026-05-31",
                "--until",
                "2026-07-31",
                "--debtor",
                "consumer",
                "--notice",
                "2026-06-15",
                "--paid",
                "2026-07-10:300"
            ]
        )
        .1,
        sums(["2.23", "0.00", "2.23"])
    );
    // One payment-day convention: paid in full on 15 April is `--until` 14 April.
    let paid = penalty_figures(
        &t,
        &[
            "--amount",
            "1000",
            "--due",
            "2026-03-31",
            "--until",
            "2026-04-30",
            "--paid",
            "2026-04-15:1000",
            "--debtor",
            "business",
        ],
    );
    let until = penalty_figures(
        &t,
        &["--amount", "1000", "--due", "2026-03-31", "--until", "2026-04-14", "--debtor", "business"],
    );
    assert_eq!(paid, until);
    assert_eq!(until.1, sums(["4.66", "40.00", "44.66"]));
}

#[test]
fn rate_tables_say_how_far_they_were_checked_and_when_they_are_stale() {
    let t = Till::new();
    let fine = t.ok(&["rates", "show", "--on", "2026-12-31"]);
    assert!(fine.contains("through 2026-12-04 (ECB) and 2026-12-04 (legal rate)"), "{fine}");
    assert!(fine.contains("They cover 2026-12-31's half-year."), "{fine}");
    let out = t.run(&["rates", "show", "--on", "2027-01-02"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("STALE: the ECB table does not cover 2027 H1"), "{}", out.stdout);
    let out = t.run(&["--json", "rates", "show", "--on", "2027-01-02"]);
    let tables: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(tables["legal_checked_through"], "2026-12-04");
    assert!(out.stderr.contains("warning: STALE"), "{}", out.stderr);
}

#[test]
fn public_buyers_and_business_terms_follow_the_law() {
    let t = Till::new();
    t.add("MAIRIE", "Mairie de Saint-Rémy", &["--kind", "public"]);
    assert_eq!(t.show("MAIRIE", "2026-01-01")["customer"]["kind"], "public");
    assert_eq!(t.show("MAIRIE", "2026-01-01")["customer"]["terms"], "30");
    t.add("SARL", "SARL Fournil", &["--kind", "business"]);
    assert_eq!(t.show("SARL", "2026-01-01")["customer"]["terms"], "30");
    t.add("P1", "Hélène Dupré", &[]);
    assert_eq!(t.show("P1", "2026-01-01")["customer"]["terms"], "receipt");
    let e = t.fails(
        &["customer", "add", "--ref", "B2", "--name", "SAS Longue", "--kind", "business", "--terms", "90"],
        "longer than the law allows",
    );
    assert!(e.contains("L441-10"), "{e}");
    t.fails(&["customer", "add", "--ref", "B3", "--name", "SAS", "--kind", "business", "--terms", "50eom"], "L441-10");
    t.ok(&["customer", "add", "--ref", "B4", "--name", "SAS Ok", "--kind", "business", "--terms", "45eom"]);
}

#[test]
fn insolvency_is_recorded_and_refused_in_the_future() {
    let t = shop();
    t.fails(&["insolvency", "--customer", "B1", "--since", "2099-01-01"], "cannot open in the future");
    t.fails(&["insolvency", "--customer", "NOPE", "--since", "2024-02-01", "--date", "2024-02-01"], "NOPE");
    t.ok(&["insolvency", "--customer", "B1", "--since", "2024-02-01", "--date", "2024-02-01"]);
    let timeline = t.ok(&["timeline", "--customer", "B1", "--full"]);
    assert!(timeline.contains("insolvency proceedings opened on 2024-02-01"), "{timeline}");
    t.ok(&["insolvency", "--customer", "B1", "--none", "--date", "2024-02-02"]);
    assert!(t.ok(&["timeline", "--customer", "B1", "--full"]).contains("no insolvency proceedings"));
}

#[test]
fn a_customer_the_run_cannot_process_is_reported_and_fails_the_run() {
    let t = Till::new();
    let shop = ["shop", "set", "--name", "Épicerie", "--phone", "04 12 34 56 78", "--email", "b@epicerie.fr"];
    t.ok(&[&shop[..], &["--address", "2 place du Marché, 13210 Saint-Rémy", "--date", "2015-01-01"]].concat());
    let contact = ["--email", "x@example.fr", "--consent-email", "true", "--terms", "30", "--date", "2015-01-01"];
    t.add("B1", "Boulangerie Martin", &[&contact[..], &["--kind", "business"]].concat());
    t.add("P1", "Hélène Dupré", &contact);
    // Due 2015-12-31, before the first row of the ECB table (2016-03-16): its penalties
    // cannot be priced. The consumer owes no penalties before a formal notice, so is reminded.
    sale(&t, "B1", "1000", "2015-12-01", "F-1");
    sale(&t, "P1", "50", "2015-12-01", "F-2");

    let out = t.run(&["dunning", "run", "--as-of", "2016-01-10"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("1 reminder queued"), "{}", out.stdout);
    assert!(out.stdout.contains("Could not process: B1: "), "{}", out.stdout);
    assert!(out.stdout.contains("no ECB rate known on 2016-01-01 (the table starts on 2016-03-16)"), "{}", out.stdout);
    assert!(out.stderr.starts_with("error: 1 customer could not be processed: B1: "), "{}", out.stderr);

    let out = t.run(&["--json", "dunning", "run", "--as-of", "2016-01-11"]);
    assert_eq!(out.code, 1, "{out:?}");
    let report: Value = serde_json::from_str(&out.stdout).expect("one JSON object, the report");
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{report}");
    assert!(errors[0].as_str().unwrap().starts_with("B1: "), "{report}");
    assert_eq!(queued(&t, "P1").len(), 1, "the others' reminders are not held up");
}
