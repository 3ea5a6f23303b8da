//! `ardoise check`: a healthy database says OK, a damaged one is named with a non-zero exit,
//! and an empty or foreign file is refused by every command and left as it was.

mod common;

use ardoise_core::{Money, NewCustomer, SaleRequest, Store};
use common::Till;

fn at(day: &str) -> ardoise_core::Now {
    chrono::DateTime::parse_from_rfc3339(&format!("{day}T10:00:00+01:00")).unwrap()
}

/// A till's file with a few hundred entries, closed as at night.
fn shop(till: &Till) {
    let s = Store::open(&till.db).unwrap();
    s.add_customer(
        NewCustomer {
            reference: "C1".into(),
            name: "Hélène Dupré".into(),
            terms: "30".parse().unwrap(),
            ..Default::default()
        },
        at("2026-01-01"),
    )
    .unwrap();
    for _ in 0..300 {
        s.sell_on_account(
            SaleRequest {
                customer: "C1".into(),
                amount: Money::parse("1.50").unwrap(),
                date: Some(chrono::NaiveDate::from_ymd_opt(2026, 1, 2).unwrap()),
                invoice_ref: None,
                cashier: "anna".into(),
                deposit: None,
            },
            at("2026-01-02"),
        )
        .unwrap();
    }
}

#[test]
fn a_healthy_database_is_ok() {
    let till = Till::new();
    shop(&till);
    let before = std::fs::read(&till.db).unwrap();
    let text = till.ok(&["check"]);
    assert!(text.contains("File structure (SQLite integrity check): OK"), "{text}");
    assert!(text.contains("Accounts against the ledger (audit): OK"), "{text}");
    assert!(text.trim_end().ends_with("OK: nothing is wrong."), "{text}");
    let json = till.json(&["doctor"]);
    assert_eq!(json["ok"], true);
    assert_eq!(json["integrity"].as_array().unwrap().len(), 0);
    assert!(std::fs::read(&till.db).unwrap() == before, "check changed the file");
}

#[test]
fn a_flipped_byte_in_a_ledger_page_is_reported_with_a_failing_exit() {
    let till = Till::new();
    shop(&till);
    let (page_size, page): (i64, i64) = {
        let c = rusqlite::Connection::open(&till.db).unwrap();
        let size = c.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
        let leaf = c
            .query_row("SELECT max(pageno) FROM dbstat WHERE name = 'entries' AND pagetype = 'leaf'", [], |r| r.get(0))
            .or_else(|_| c.query_row("SELECT rootpage FROM sqlite_master WHERE name = 'entries'", [], |r| r.get(0)))
            .unwrap();
        (size, leaf)
    };
    let mut bytes = std::fs::read(&till.db).unwrap();
    bytes[((page - 1) * page_size) as usize] ^= 0xff;
    std::fs::write(&till.db, &bytes).unwrap();

    let stderr = till.fails(&["check"], "is damaged");
    assert!(stderr.contains("keep a copy of the file"), "{stderr}");
    let out = till.run(&["check"]);
    assert!(out.stdout.contains("File structure (SQLite integrity check): "), "{}", out.stdout);
    assert!(!out.stdout.contains("File structure (SQLite integrity check): OK"), "{}", out.stdout);
    assert!(out.stdout.contains("NOT OK"), "{}", out.stdout);

    let out = till.run(&["--json", "check"]);
    assert_eq!(out.code, 1);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON object");
    assert_eq!(json["ok"], false);
    assert!(!json["integrity"].as_array().unwrap().is_empty(), "{json}");
    assert!(std::fs::read(&till.db).unwrap() == bytes, "the damaged file is left for recovery");
}

#[test]
fn a_broken_account_is_named_by_the_audit() {
    let till = Till::new();
    shop(&till);
    rusqlite::Connection::open(&till.db).unwrap().execute("UPDATE accounts SET balance = balance + 1", []).unwrap();
    till.fails(&["check"], "2 problems");
    let out = till.run(&["--json", "check"]);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(json["audit"][0].as_str().unwrap().starts_with("balance equals the sum of the entries"), "{json}");
}

#[test]
fn an_empty_or_foreign_file_is_refused_everywhere_and_left_alone() {
    let till = Till::new();
    for (content, why) in
        [(&b""[..], "the file is empty (0 bytes)"), (&b"Nom;Solde\nDupont;12,50\n"[..], "not a SQLite database")]
    {
        std::fs::write(&till.db, content).unwrap();
        for args in [&["check"][..], &["customer", "list"], &["customer", "add", "--ref", "C1", "--name", "Ann"]] {
            let stderr = till.fails(args, why);
            assert!(stderr.contains("is not an Ardoise database"), "{stderr}");
            let out = till.run(&[&["--json"][..], args].concat());
            let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
            assert_eq!(json["code"], "not_ardoise", "{args:?}");
        }
        assert_eq!(std::fs::read(&till.db).unwrap(), content);
        let beside = std::fs::read_dir(till.db.parent().unwrap()).unwrap().count();
        assert_eq!(beside, 1, "no journal was created beside the refused file");
    }
}

#[test]
fn check_on_a_missing_file_creates_nothing() {
    let till = Till::new();
    till.fails(&["check"], "no database at");
    assert!(!till.db.exists());
}
