//! The `ardoise` binary end to end: each test runs it on a fresh database in a temporary
//! directory, with fixed `--date`s so nothing depends on today.

mod common;

use std::path::Path;
use std::process::Command;

use common::{BIN, Till, run_in};
use serde_json::Value;

fn refs(rows: &Value) -> Vec<String> {
    rows.as_array().unwrap().iter().map(|r| r["customer"]["reference"].as_str().unwrap().to_owned()).collect()
}

fn codes(verdict: &Value) -> Vec<String> {
    verdict["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn customers_are_added_shown_and_found_without_accents() {
    let t = Till::new();
    t.add("C042", "Hélène Dupré", &["--phone", "+33 6 12 34 56 78", "--credit-limit", "200", "--terms", "30"]);
    t.add("C043", "Boulangerie Martin", &["--kind", "business", "--terms", "45eom", "--email", "contact@martin.fr"]);
    t.add("C044", "Jean Petit", &["--phone", "+33 6 98 76 54 32", "--credit-limit", "0"]);

    for query in ["hel", "HEL", "Hél", "dupre", "hel dup", "C042", "06 12 34"] {
        assert_eq!(refs(&t.json(&["customer", "search", query])), ["C042"], "search {query:?}");
    }
    assert_eq!(refs(&t.json(&["customer", "search", "06 98"])), ["C044"]);
    assert!(refs(&t.json(&["customer", "search", "zzz"])).is_empty());
    let text = t.ok(&["customer", "search", "hel"]);
    assert!(text.contains("Hélène Dupré") && text.contains("+33 6 12 34 56 78"), "{text}");
    assert!(t.ok(&["customer", "search", "zzz"]).contains("No customer matches"));

    // Listed by name, with the numbers of each account.
    let list = t.json(&["customer", "list"]);
    assert_eq!(refs(&list), ["C043", "C042", "C044"]);
    assert_eq!(list[1]["balance"], "0.00");
    assert_eq!(list[1]["credit_limit"], "200.00");
    assert_eq!(list[0]["credit_limit"], Value::Null);

    let show = t.show("C042", "2026-03-02");
    assert_eq!(show["customer"]["name"], "Hélène Dupré");
    assert_eq!(show["customer"]["terms"], "30");
    assert_eq!(show["customer"]["kind"], "consumer");
    assert_eq!(show["balance"], "0.00");
    assert_eq!(show["overdue"], "0.00");
    assert_eq!(show["oldest_overdue_days"], Value::Null);
    assert_eq!(show["available_credit"], "200.00");
    assert_eq!(show["open_invoices"], serde_json::json!([]));
    let martin = t.show("C043", "2026-03-02");
    assert_eq!(martin["customer"]["kind"], "business");
    assert_eq!(martin["customer"]["terms"], "45eom");
    assert_eq!(martin["customer"]["email"], "contact@martin.fr");

    let text = t.ok(&["customer", "show", "C042"]);
    assert!(text.contains("Hélène Dupré") && text.contains("No open invoices"), "{text}");
    // The payment reference: compact in JSON, in groups of four on screen, one per customer.
    let compact = show["payment_reference"].as_str().unwrap();
    let reference = ardoise_core::PaymentReference::parse(compact).unwrap();
    assert_eq!(reference.as_str(), compact);
    assert_ne!(martin["payment_reference"], show["payment_reference"]);
    let line = text.lines().find(|l| l.contains("payment reference")).unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains(&reference.to_string()), "{text}");
    assert_eq!(t.show("C042", "2026-03-02")["payment_reference"], compact, "stable");
    t.fails(&["customer", "add", "--ref", "C042", "--name", "Autre"], "already exists");
    t.fails(&["customer", "show", "C999"], "unknown customer \"C999\"");
}

#[test]
fn sales_and_payments_follow_dates_and_terms() {
    let t = Till::new();
    t.add("C1", "Hélène Dupré", &["--credit-limit", "500", "--terms", "30"]);

    let sale = t.json(&["sale", "--customer", "C1", "--amount", "80.00", "--date", "2026-03-02"]);
    assert_eq!(sale["balance"], "80.00");
    assert_eq!(sale["deposits"], "0.00");
    assert_eq!(sale["entry"]["kind"], "sale");
    assert_eq!(sale["entry"]["amount"], "80.00");
    assert_eq!(sale["entry"]["business_date"], "2026-03-02");
    assert_eq!(sale["entry"]["due_on"], "2026-04-01");
    assert_eq!(sale["entry"]["cashier"], "anna");
    assert_eq!(sale["verdict"]["decision"], "allow");

    let sale2 = t.json(&["sale", "--customer", "C1", "--amount", "20", "--date", "2026-03-10", "--invoice-ref", "F-2"]);
    assert_eq!(sale2["balance"], "100.00");
    assert_eq!(sale2["entry"]["invoice_ref"], "F-2");
    assert_eq!(sale2["entry"]["due_on"], "2026-04-09");
    t.fails(&["sale", "--customer", "C1", "--amount", "5", "--date", "2026-03-10", "--invoice-ref", "F-2"], "F-2");

    let pay = t.json(&["pay", "--customer", "C1", "--amount", "50", "--date", "2026-03-15", "--method", "card"]);
    assert_eq!(pay["balance"], "50.00");
    assert_eq!(pay["entry"]["kind"], "payment");
    assert_eq!(pay["entry"]["method"], "card");
    assert_eq!(pay["verdict"], Value::Null);

    // The payment went to the oldest invoice first.
    let show = t.show("C1", "2026-03-20");
    assert_eq!(show["balance"], "50.00");
    assert_eq!(show["overdue"], "0.00");
    let open = show["open_invoices"].as_array().unwrap();
    assert_eq!(open.len(), 2);
    assert_eq!(open[0]["issued_on"], "2026-03-02");
    assert_eq!(open[0]["due_on"], "2026-04-01");
    assert_eq!(open[0]["amount"], "80.00");
    assert_eq!(open[0]["remaining"], "30.00");
    assert_eq!(open[0]["days_overdue"], 0);
    assert_eq!(open[1]["reference"], "F-2");
    assert_eq!(open[1]["remaining"], "20.00");

    // Four days after the first due date, its remainder is overdue.
    let later = t.show("C1", "2026-04-05");
    assert_eq!(later["overdue"], "30.00");
    assert_eq!(later["oldest_overdue_days"], 4);
    assert_eq!(later["open_invoices"][0]["days_overdue"], 4);
    let text = t.ok(&["customer", "show", "C1", "--date", "2026-04-05"]);
    assert!(text.contains("4 days") && text.contains("F-2"), "{text}");

    // A payment aimed at the newer invoice settles it, not the oldest.
    let aimed = t.json(&["pay", "--customer", "C1", "--amount", "20", "--invoice", "F-2", "--date", "2026-04-05"]);
    assert_eq!(aimed["balance"], "30.00");
    let open = t.show("C1", "2026-04-05")["open_invoices"].clone();
    assert_eq!(open.as_array().unwrap().len(), 1);
    assert_eq!(open[0]["remaining"], "30.00");
    t.fails(
        &["pay", "--customer", "C1", "--amount", "1", "--invoice", "F-2", "--date", "2026-04-05"],
        "already settled",
    );

    // Text output says what was recorded and where the account stands.
    let text = t.ok(&["pay", "--customer", "C1", "--amount", "30", "--date", "2026-04-06"]);
    assert!(text.contains("payment (cash)") && text.contains("Balance: 0.00 EUR owed"), "{text}");
}

#[test]
fn a_sale_can_be_paid_partly_from_a_deposit() {
    let t = Till::new();
    t.add("C5", "Zoé Lemaître", &["--credit-limit", "0", "--terms", "30"]);
    t.ok(&["deposit", "take", "--customer", "C5", "--amount", "15", "--order", "GATEAU-1", "--date", "2026-03-01"]);
    // A zero limit: the part left on account is refused, and nothing is written.
    let before = t.snapshot("C5");
    t.fails(&["sale", "--customer", "C5", "--amount", "38", "--deposit", "15", "--date", "2026-03-04"], "credit limit");
    assert_eq!(t.snapshot("C5"), before);
    let sold = t.json(&["sale", "--customer", "C5", "--amount", "15", "--deposit", "15", "--date", "2026-03-04"]);
    assert_eq!(sold["entry"]["kind"], "sale");
    assert_eq!(sold["deposit_applied"]["kind"], "deposit_applied");
    assert_eq!(sold["deposit_applied"]["invoice"], sold["entry"]["id"]);
    assert_eq!((sold["balance"].as_str(), sold["deposits"].as_str()), (Some("0.00"), Some("0.00")));
    t.fails(
        &["sale", "--customer", "C5", "--amount", "5", "--deposit", "6", "--date", "2026-03-04"],
        "more than the sale",
    );
}

#[test]
fn deposits_are_taken_applied_and_refunded() {
    let t = Till::new();
    t.add("C1", "Hélène Dupré", &["--credit-limit", "300", "--terms", "30"]);

    let took = t.json(&[
        "deposit",
        "take",
        "--customer",
        "C1",
        "--amount",
        "30",
        "--order",
        "CAKE-7",
        "--method",
        "card",
        "--date",
        "2026-03-01",
    ]);
    assert_eq!(took["entry"]["kind"], "deposit_received");
    assert_eq!(took["entry"]["order_ref"], "CAKE-7");
    assert_eq!(took["balance"], "0.00");
    assert_eq!(took["deposits"], "30.00");
    let show = t.show("C1", "2026-03-01");
    assert_eq!(show["deposits_available"], "30.00");
    assert_eq!(show["deposits"][0]["order_ref"], "CAKE-7");
    assert_eq!(show["deposits"][0]["remaining"], "30.00");

    t.ok(&["sale", "--customer", "C1", "--amount", "45", "--date", "2026-03-04", "--invoice-ref", "F-1"]);
    let applied =
        t.json(&["deposit", "apply", "--customer", "C1", "--amount", "20", "--invoice", "F-1", "--date", "2026-03-04"]);
    assert_eq!(applied["entry"]["kind"], "deposit_applied");
    assert_eq!(applied["balance"], "25.00");
    assert_eq!(applied["deposits"], "10.00");

    let before = t.snapshot("C1");
    t.fails(
        &["deposit", "apply", "--customer", "C1", "--amount", "15", "--date", "2026-03-04"],
        "15.00 of deposit requested but only 10.00 is available",
    );
    assert_eq!(t.snapshot("C1"), before, "a refused deposit use writes nothing");

    let refunded = t.json(&["deposit", "refund", "--customer", "C1", "--amount", "10", "--date", "2026-03-05"]);
    assert_eq!(refunded["entry"]["kind"], "deposit_refunded");
    assert_eq!(refunded["deposits"], "0.00");
    assert_eq!(refunded["balance"], "25.00");
    let show = t.show("C1", "2026-03-05");
    assert_eq!(show["deposits_available"], "0.00");
    assert_eq!(show["deposits"], serde_json::json!([]));
    assert_eq!(show["open_invoices"][0]["reference"], "F-1");
    assert_eq!(show["open_invoices"][0]["remaining"], "25.00");
}

/// Four customers: in good standing, a few days late, long overdue, at their limit.
fn checkout_shop() -> Till {
    let t = Till::new();
    for (r, name, limit) in [
        ("GOOD", "Cécile Mercier", "500"),
        ("LATE", "Françoise Gérard", "500"),
        ("GONE", "Jean-Michel Lefèvre", "500"),
        ("FULL", "Noël Caron", "100"),
    ] {
        t.add(r, name, &["--credit-limit", limit, "--terms", "30"]);
    }
    t.ok(&["sale", "--customer", "LATE", "--amount", "40", "--date", "2026-01-10"]); // due 2026-02-09
    t.ok(&["sale", "--customer", "GONE", "--amount", "40", "--date", "2025-12-01"]); // due 2025-12-31
    t.ok(&["sale", "--customer", "FULL", "--amount", "90", "--date", "2026-03-01"]);
    t
}

#[test]
fn checkout_allows_warns_and_refuses_with_reasons() {
    let t = checkout_shop();
    let before = t.snapshot("GONE");

    let ok = t.json(&["checkout", "--customer", "GOOD", "--amount", "30", "--date", "2026-03-02"]);
    assert_eq!(ok["decision"], "allow");
    assert_eq!(ok["reasons"], serde_json::json!([]));
    assert_eq!(ok["messages"], serde_json::json!([]));
    assert_eq!(ok["available_credit"], "500.00");
    assert_eq!(ok["cart_total"], "30.00");

    let warn = t.json(&["checkout", "--customer", "LATE", "--amount", "30", "--date", "2026-02-15"]);
    assert_eq!(warn["decision"], "warn");
    assert_eq!(codes(&warn), ["overdue"]);
    assert_eq!(warn["reasons"][0]["days"], 6);
    assert_eq!(warn["reasons"][0]["amount"], "40.00");
    assert_eq!(warn["reasons"][0]["oldest_due"], "2026-02-09");
    assert_eq!(warn["oldest_overdue_days"], 6);
    assert!(warn["messages"][0].as_str().unwrap().contains("6 days late"), "{warn}");

    let gone = t.json(&["checkout", "--customer", "GONE", "--amount", "30", "--date", "2026-03-02"]);
    assert_eq!(gone["decision"], "refuse");
    assert_eq!(codes(&gone), ["overdue"]);
    assert_eq!(gone["reasons"][0]["days"], 61);
    assert_eq!(gone["reasons"][0]["decision"], "refuse");
    assert_eq!(gone["overdue"], "40.00");

    let full = t.json(&["checkout", "--customer", "FULL", "--amount", "30", "--date", "2026-03-02"]);
    assert_eq!(full["decision"], "refuse");
    assert_eq!(codes(&full), ["over_limit"]);
    assert_eq!(full["reasons"][0]["over_by"], "20.00");
    assert!(full["messages"][0].as_str().unwrap().contains("over the credit limit by 20.00 EUR"), "{full}");

    let near = t.json(&["checkout", "--customer", "FULL", "--amount", "5", "--date", "2026-03-02"]);
    assert_eq!(near["decision"], "warn");
    assert_eq!(codes(&near), ["near_limit"]);

    let text = t.ok(&["checkout", "--customer", "GONE", "--amount", "30", "--date", "2026-03-02"]);
    for want in ["REFUSE", "cash, card or deposit still fine", "61 days late", "available credit", "deposits usable"] {
        assert!(text.contains(want), "{want:?} missing from {text}");
    }
    assert!(t.ok(&["checkout", "--customer", "GOOD", "--amount", "30", "--date", "2026-03-02"]).contains("ALLOW"));
    assert!(t.ok(&["checkout", "--customer", "LATE", "--amount", "30", "--date", "2026-02-15"]).contains("WARN"));
    assert_eq!(t.snapshot("GONE"), before, "a checkout only reads");
}

#[test]
fn a_manager_override_lets_one_refused_sale_through() {
    let t = checkout_shop();
    let sale = ["sale", "--customer", "GONE", "--amount", "25", "--date", "2026-03-02"];
    let stderr = t.fails(&sale, "sale on account refused");
    assert!(stderr.contains("61 days late") && stderr.contains("--override-by"), "{stderr}");
    let out = t.run(&[&["--json"][..], &sale[..]].concat());
    assert_eq!(out.code, 1);
    let err: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(err["code"], "refused");
    assert_eq!(err["verdict"]["decision"], "refuse");
    assert_eq!(codes(&err["verdict"]), ["overdue"]);

    let ov = t.json(&[
        "checkout",
        "--customer",
        "GONE",
        "--amount",
        "30",
        "--date",
        "2026-03-02",
        "--override-by",
        "Marc",
        "--reason",
        "pays Friday",
    ]);
    assert_eq!(ov["decision"], "refuse", "the verdict itself is reported as it was");
    assert_eq!(ov["override"]["manager"], "Marc");
    assert_eq!(ov["override"]["reason"], "pays Friday");
    assert_eq!(ov["override"]["amount"], "30.00");
    assert_eq!(ov["override"]["business_date"], "2026-03-02");

    // Only within the amount, only that day.
    t.fails(&["sale", "--customer", "GONE", "--amount", "35", "--date", "2026-03-02"], "refused");
    t.fails(&["sale", "--customer", "GONE", "--amount", "25", "--date", "2026-03-01"], "refused");
    let through = t.json(&sale);
    assert_eq!(through["balance"], "65.00");
    assert_eq!(through["verdict"]["decision"], "warn");
    assert_eq!(codes(&through["verdict"]), ["overdue", "manager_override"]);
    assert!(through["entry"]["override_id"].is_string());
    assert!(through["verdict"]["messages"][1].as_str().unwrap().contains("allowed by Marc: pays Friday"));
    // Used once.
    t.fails(&["sale", "--customer", "GONE", "--amount", "5", "--date", "2026-03-02"], "refused");

    // No override is stored when nothing is refused.
    let not_needed = t.json(&[
        "checkout",
        "--customer",
        "GOOD",
        "--amount",
        "30",
        "--date",
        "2026-03-02",
        "--override-by",
        "Marc",
        "--reason",
        "why not",
    ]);
    assert_eq!(not_needed["decision"], "allow");
    assert_eq!(not_needed["override"], Value::Null);
    let text = t.ok(&[
        "checkout",
        "--customer",
        "FULL",
        "--amount",
        "30",
        "--date",
        "2026-03-02",
        "--override-by",
        "Marc",
        "--reason",
        "birthday",
    ]);
    assert!(text.contains("Override recorded: Marc allows up to 30.00 EUR"), "{text}");

    // The override needs both its manager and its reason: a usage error.
    let usage = t.run(&["checkout", "--customer", "GONE", "--amount", "5", "--override-by", "Marc"]);
    assert_eq!(usage.code, 2, "{usage:?}");
}

#[test]
fn bad_input_fails_cleanly_and_writes_nothing() {
    let t = Till::new();
    t.add("C1", "Hélène Dupré", &["--credit-limit", "300", "--terms", "30"]);
    t.ok(&["sale", "--customer", "C1", "--amount", "40", "--date", "2026-03-02", "--invoice-ref", "F-1"]);
    t.ok(&["deposit", "take", "--customer", "C1", "--amount", "10", "--date", "2026-03-02"]);
    let before = t.snapshot("C1");

    let cases: &[(&[&str], &str)] = &[
        (&["sale", "--customer", "C1", "--amount", "12.345"], "has more than 2 decimals"),
        (&["sale", "--customer", "C1", "--amount", "1,50"], "is not a decimal number"),
        (&["sale", "--customer", "C1", "--amount", "-3"], "must be more than zero"),
        (&["sale", "--customer", "C1", "--amount", "1e3"], "is not a decimal number"),
        (&["sale", "--customer", "C1", "--amount", " 5"], "is not a decimal number"),
        (&["pay", "--customer", "C1", "--amount", "0"], "must be more than zero"),
        (&["sale", "--customer", "NOPE", "--amount", "5"], "unknown customer \"NOPE\""),
        (&["pay", "--customer", "NOPE", "--amount", "5"], "unknown customer"),
        (&["sale", "--customer", "C1", "--amount", "5", "--date", "2026-13-01"], "invalid date \"2026-13-01\""),
        (&["sale", "--customer", "C1", "--amount", "5", "--date", "02/03/2026"], "invalid date"),
        (&["sale", "--customer", "C1", "--amount", "5", "--date", "2999-01-01"], "is in the future"),
        (&["pay", "--customer", "C1", "--amount", "5", "--date", "2999-01-01"], "is in the future"),
        (&["deposit", "apply", "--customer", "C1", "--amount", "50"], "only 10.00 is available"),
        (&["deposit", "refund", "--customer", "C1", "--amount", "10.01"], "only 10.00 is available"),
        (&["pay", "--customer", "C1", "--amount", "5", "--method", "bitcoin"], "payment method"),
        (&["pay", "--customer", "C1", "--amount", "5", "--invoice", "F-404"], "unknown invoice"),
        (&["pay", "--customer", "C1", "--amount", "5", "--invoice", "F-1", "--date", "2026-03-01"], "issued on"),
        (&["credit-note", "--customer", "C1", "--amount", "5", "--reason", "  "], "reason"),
        (&["adjust", "--customer", "C1", "--amount", "0", "--reason", "x"], "more than zero"),
        (&["reverse", "--customer", "C1", "--entry", "00000000", "--reason", "x"], "unknown entry"),
        (&["customer", "update", "C1", "--credit-limit", "-5"], "negative"),
        (&["customer", "update", "C1", "--email", "nope"], "not an email"),
        (&["customer", "update", "C1", "--terms", "soon"], "terms"),
        (&["customer", "update", "C1", "--block", " "], "block"),
        (&["customer", "update", "C9", "--name", "X"], "unknown customer"),
        (&["customer", "add", "--ref", "C1", "--name", "Autre"], "already exists"),
        (
            &["customer", "add", "--ref", "C2", "--name", "Jean", "--credit-limit", "-50"],
            "credit limit: -50.00 is negative",
        ),
        (&["customer", "add", "--ref", "C2", "--name", "Jean", "--credit-limit", "5.001"], "more than 2 decimals"),
        (&["customer", "add", "--ref", "C 2", "--name", "Jean"], "reference"),
        (
            &["customer", "add", "--ref", "C2", "--name", "Jean", "--kind", "robot"],
            "not a kind of customer: business, consumer or public",
        ),
        (&["customer", "add", "--ref", "C2", "--name", "Jean", "--phone", "call me"], "not a phone number"),
        (&["checkout", "--customer", "C1", "--amount", "-1"], "more than zero"),
        (&["customer", "show", "C1", "--date", "2026-02-30"], "invalid date"),
    ];
    for (args, words) in cases {
        t.fails(args, words);
        assert_eq!(t.snapshot("C1"), before, "ardoise {args:?} changed the database");
    }

    // Usage errors are clap's: code 2.
    for args in
        [&["sale", "--customer", "C1"][..], &["frobnicate"], &["customer", "update", "C1", "--block", "x", "--unblock"]]
    {
        assert_eq!(t.run(args).code, 2, "ardoise {args:?}");
    }
    assert_eq!(t.snapshot("C1"), before);
}

#[test]
fn json_errors_carry_a_code() {
    let t = Till::new();
    t.add("C1", "Hélène Dupré", &[]);
    for (args, code) in [
        (&["sale", "--customer", "C1", "--amount", "12.345"][..], "amount"),
        (&["sale", "--customer", "C1", "--amount", "-3"], "not_positive"),
        (&["sale", "--customer", "NOPE", "--amount", "5"], "unknown_customer"),
        (&["sale", "--customer", "C1", "--amount", "5", "--date", "2026-13-01"], "invalid_date"),
        (&["deposit", "apply", "--customer", "C1", "--amount", "5"], "insufficient_deposit"),
        (&["customer", "add", "--ref", "C1", "--name", "X"], "duplicate_customer"),
    ] {
        let out = t.run(&[&["--json"][..], args].concat());
        assert_eq!(out.code, 1, "{args:?}");
        let err: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {}", out.stdout));
        assert_eq!(err["code"], code, "{args:?}");
        let message = err["error"].as_str().unwrap();
        assert!(out.stderr.contains(message), "{args:?}: stderr {} vs {message}", out.stderr);
    }
}

#[test]
fn credit_notes_adjustments_write_offs_and_reversals() {
    let t = Till::new();
    t.add("C1", "Boulangerie Martin", &["--kind", "business", "--credit-limit", "1000", "--terms", "eom45"]);
    let d = ["--date", "2026-03-02"];
    let sale = t.json(&[&["sale", "--customer", "C1", "--amount", "100", "--invoice-ref", "F-1"][..], &d[..]].concat());
    assert_eq!(sale["entry"]["due_on"], "2026-05-15"); // end of March + 45 days
    let step = |args: &[&str], balance: &str| {
        let r = t.json(&[args, &d[..]].concat());
        assert_eq!(r["balance"], balance, "{args:?}");
        r
    };
    step(
        &["credit-note", "--customer", "C1", "--amount", "10", "--reason", "pain rassis", "--invoice", "F-1"],
        "90.00",
    );
    step(&["adjust", "--customer", "C1", "--amount", "-5", "--reason", "arrondi"], "85.00");
    step(&["adjust", "--customer", "C1", "--amount", "2.50", "--reason", "consigne"], "87.50");
    let off = step(&["write-off", "--customer", "C1", "--amount", "7.50", "--reason", "geste commercial"], "80.00");

    let timeline = t.json(&["timeline", "--customer", "C1"]);
    let kinds: Vec<&str> = timeline.as_array().unwrap().iter().map(|e| e["entry"]["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["write_off", "adjustment", "adjustment", "credit_note", "sale"]);
    assert_eq!(timeline[0]["effect"]["balance"], "-7.50");
    assert_eq!(t.json(&["timeline", "--customer", "C1", "--limit", "2"]).as_array().unwrap().len(), 2);
    let text = t.ok(&["timeline", "--customer", "C1"]);
    assert!(text.contains("write-off: geste commercial") && text.contains("invoice F-1"), "{text}");

    // Reversal by full id, then by a unique end of an id (entry ids are time-ordered: ids
    // written in the same minute share their start, not their end).
    let off_id = off["entry"]["id"].as_str().unwrap();
    step(&["reverse", "--customer", "C1", "--entry", off_id, "--reason", "erreur"], "87.50");
    t.fails(&["reverse", "--customer", "C1", "--entry", off_id, "--reason", "encore"], "already reversed");
    let note_id = timeline[3]["entry"]["id"].as_str().unwrap();
    let rev = step(
        &["reverse", "--customer", "C1", "--entry", &note_id[note_id.len() - 8..], "--reason", "pas rassis"],
        "97.50",
    );
    assert_eq!(rev["entry"]["kind"], "reversal");
    assert_eq!(rev["entry"]["of"], note_id);
    t.fails(&["reverse", "--customer", "C1", "--entry", "zzzz", "--reason", "x"], "unknown entry");
}

#[test]
fn customers_can_be_updated_blocked_and_unblocked() {
    let t = Till::new();
    t.add("C1", "Hélène Dupré", &["--credit-limit", "100", "--terms", "30"]);
    let check = || t.json(&["checkout", "--customer", "C1", "--amount", "10", "--date", "2026-03-02"]);

    let blocked = t.json(&["customer", "update", "C1", "--block", "chèque impayé"]);
    assert_eq!(blocked["customer"]["blocked"], "chèque impayé");
    let v = check();
    assert_eq!(v["decision"], "refuse");
    assert_eq!(codes(&v), ["blocked"]);
    assert_eq!(v["messages"][0], "account blocked: chèque impayé");

    t.ok(&["customer", "update", "C1", "--unblock"]);
    assert_eq!(check()["decision"], "allow");

    let updated = t.json(&[
        "customer",
        "update",
        "C1",
        "--name",
        "Hélène Dupré-Martin",
        "--phone",
        "+33 7 11 22 33 44",
        "--terms",
        "45eom",
        "--consent-email",
        "true",
        "--consent-sms",
        "false",
        "--credit-limit",
        "none",
    ]);
    let c = &updated["customer"];
    assert_eq!(c["name"], "Hélène Dupré-Martin");
    assert_eq!(c["terms"], "45eom");
    assert_eq!(c["consent_email"], true);
    assert_eq!(c["consent_sms"], false);
    assert_eq!(c["credit_limit"], Value::Null);
    assert_eq!(updated["available_credit"], Value::Null);
    assert_eq!(refs(&t.json(&["customer", "search", "martin"])), ["C1"]);
    assert_eq!(refs(&t.json(&["customer", "search", "07 11"])), ["C1"]);
    let cleared = t.json(&["customer", "update", "C1", "--phone", ""]);
    assert_eq!(cleared["customer"]["phone"], Value::Null);
}

#[test]
fn commands_need_an_existing_database_except_adding_a_customer() {
    let t = Till::new();
    for args in [&["customer", "list"][..], &["sale", "--customer", "C1", "--amount", "5"], &["customer", "show", "C1"]]
    {
        t.fails(args, "no database at");
        assert!(!t.db.exists(), "ardoise {args:?} created the database");
    }
    // Bad input does not create the file either.
    t.fails(&["customer", "add", "--ref", "C1", "--name", "Jean", "--credit-limit", "-1"], "negative");
    assert!(!t.db.exists());
    t.add("C1", "Jean", &[]);
    assert!(t.db.exists());
    let out = t.run(&["--json", "customer", "list"]);
    assert_eq!(refs(&serde_json::from_str(&out.stdout).unwrap()), ["C1"]);
}

#[test]
fn the_demo_tells_a_day_with_all_three_decisions() {
    let t = Till::new();
    let text = t.ok(&["demo"]);
    for want in [
        "ALLOW   on account OK",
        "WARN    on account OK, but check with the customer",
        "REFUSE  on account refused — cash, card or deposit still fine",
        "deposit",
        "allowed by Sophie Marchand",
        "Top debtors",
        "Épicerie du Marché",
    ] {
        assert!(text.contains(want), "{want:?} missing from the demo:\n{text}");
    }
    // The shop stays in the database given, ready to explore.
    let list = t.json(&["customer", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 36);
    assert!(list.as_array().unwrap().iter().any(|a| a["oldest_overdue_days"].as_u64().is_some_and(|d| d >= 30)));
    assert!(list.as_array().unwrap().iter().any(|a| a["oldest_overdue_days"].as_u64().is_some_and(|d| d < 30)));
    t.fails(&["demo"], "needs an empty database");

    // The same story in JSON: each checkout's decision chosen by the verdicts themselves.
    let other = Till::new();
    let story = other.json(&["demo", "--seed", "7"]);
    let decisions: Vec<&str> =
        story["checkouts"].as_array().unwrap().iter().map(|v| v["decision"].as_str().unwrap()).collect();
    assert_eq!(decisions, ["allow", "warn", "refuse"]);
    assert_eq!(codes(&story["checkouts"][1])[0], "overdue");
    assert!(story["checkouts"][2]["reasons"][0]["days"].as_u64().unwrap() >= 30, "{}", story["checkouts"][2]);
    assert_eq!(story["deposit"]["sale"]["deposits"], "0.00");
    assert_eq!(story["deposit"]["sale"]["deposit_applied"]["kind"], "deposit_applied");
    assert_eq!(story["override_sale"]["verdict"]["decision"], "warn");
    assert_eq!(story["history"]["customers"], 36);
    assert!(story["history"]["sales"].as_u64().unwrap() > 100);
}

#[test]
fn the_demo_without_db_uses_a_temporary_database_and_says_where() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(BIN).arg("demo").env("TMPDIR", tmp.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("Database: ")).expect("the demo says where its database is");
    let path = line.trim_start_matches("Database: ").split(" (temporary").next().unwrap();
    assert!(line.contains("temporary"), "{line}");
    assert!(Path::new(path).starts_with(tmp.path()) && Path::new(path).exists(), "{line}");
    let list = run_in(Path::new(path), &["--json", "customer", "list"]);
    assert_eq!(serde_json::from_str::<Value>(&list.stdout).unwrap().as_array().unwrap().len(), 36);
}
