//! Store tests: the write path, validation that writes nothing, migrations, search.

use chrono::{DateTime, NaiveDate};

use crate::customer::{CustomerKind, CustomerPatch, NewCustomer, Terms};
use crate::error::{Error, Result};
use crate::money::Money;
use crate::store::*;
use crate::{Decision, EntryBody, EntryRequest, PaymentMethod, Reason, SaleRequest};

pub(crate) fn at(s: &str) -> Now {
    DateTime::parse_from_rfc3339(&format!("{s}T10:00:00+01:00")).unwrap()
}

fn d(s: &str) -> NaiveDate {
    crate::parse_date(s).unwrap()
}

fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

fn shop() -> Store {
    let s = Store::open_in_memory().unwrap();
    for (r, n, limit, terms) in [
        ("C1", "Hélène Dupré", "200", "30"),
        ("C2", "Boulangerie Martin", "1000", "45eom"),
        ("C3", "Jean Petit", "0", "receipt"),
    ] {
        s.add_customer(
            NewCustomer {
                reference: r.into(),
                name: n.into(),
                credit_limit: Some(m(limit)),
                terms: terms.parse().unwrap(),
                kind: if r == "C2" { CustomerKind::Business } else { CustomerKind::Consumer },
                phone: Some(format!("+33 6 12 34 56 7{}", &r[1..])),
                ..Default::default()
            },
            at("2026-01-01"),
        )
        .unwrap();
    }
    s
}

fn sale(s: &mut Store, c: &str, amount: &str, date: &str) -> Result<Recorded> {
    s.sell_on_account(
        SaleRequest {
            customer: c.into(),
            amount: m(amount),
            date: Some(d(date)),
            invoice_ref: None,
            cashier: "anna".into(),
            deposit: None,
        },
        at(date),
    )
}

fn pay(s: &mut Store, c: &str, amount: &str, date: &str) -> Result<Recorded> {
    s.record(
        c,
        None,
        "anna",
        EntryRequest::Payment { amount: m(amount), method: PaymentMethod::Cash, invoice: None },
        at(date),
    )
}

fn counts(s: &Store) -> (i64, i64) {
    let e = s.conn().query_row("SELECT count(*) FROM entries", [], |r| r.get(0)).unwrap();
    let o = s.conn().query_row("SELECT count(*) FROM outbox", [], |r| r.get(0)).unwrap();
    (e, o)
}

#[test]
fn a_sale_then_a_payment_with_due_dates_from_terms() {
    let mut s = shop();
    let r = sale(&mut s, "C1", "80.00", "2026-03-02").unwrap();
    let EntryBody::Sale { due_on, invoice_ref, .. } = &r.entry.body else { panic!() };
    assert_eq!(*due_on, d("2026-04-01"));
    assert_eq!(r.balance, m("80"));
    assert_eq!(r.verdict.as_ref().unwrap().decision, Decision::Allow);
    sale(&mut s, "C2", "100", "2026-01-15").unwrap();
    assert_eq!(s.account("C2", d("2026-01-15")).unwrap().open_invoices[0].due_on, d("2026-03-31"));

    let acc = s.account("C1", d("2026-04-10")).unwrap();
    assert_eq!(acc.overdue, m("80"));
    assert_eq!(acc.oldest_overdue_days, Some(9));
    assert_eq!(acc.open_invoices[0].reference, *invoice_ref);
    pay(&mut s, "C1", "100", "2026-04-10").unwrap();
    let acc = s.account("C1", d("2026-04-10")).unwrap();
    assert_eq!((acc.balance, acc.overdue, acc.credit_on_account), (m("-20"), m("0"), m("20")));
    assert!(acc.open_invoices.is_empty());
    assert_eq!(acc.available_credit, Some(m("220")));
    // Every write has its outbox row, with the same sequence as the entry.
    assert_eq!(counts(&s), (3, 6));
    let pending = s.outbox_pending(100).unwrap();
    assert!(pending.windows(2).all(|w| w[1].seq == w[0].seq + 1));
}

/// An entry's event stores no copy of the entry: the push reads it back from its row, and what
/// goes out is exactly the entry recorded, whichever path wrote it (sale, payment, import); an
/// event written before that, with its copy, still goes out as written.
#[test]
fn an_entry_event_is_pushed_as_the_entry_recorded() {
    let mut s = shop();
    let mut recorded = vec![sale(&mut s, "C1", "80.10", "2026-03-02").unwrap().entry];
    recorded.push(pay(&mut s, "C1", "30", "2026-03-05").unwrap().entry);
    let csv =
        "customer_ref,invoice_ref,issued_on,due_on,amount,paid_on\nC2,F-1,2026-02-01,2026-03-01,12.30,2026-02-20\n";
    s.import_invoices(csv.as_bytes(), crate::import::DateStyle::Iso, at("2026-03-06")).unwrap();
    recorded.extend(s.entries().unwrap().into_iter().skip(2));
    assert_eq!(recorded.len(), 4, "sale, payment, imported invoice and its payment");
    let stored: Vec<String> = s
        .conn()
        .prepare("SELECT payload FROM outbox WHERE kind = 'entry'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(stored, vec![String::new(); 4], "no second copy of an entry");

    let pushed = s.outbox_pending(100).unwrap();
    let entries: Vec<&OutboxEvent> = pushed.iter().filter(|e| e.kind == "entry").collect();
    assert_eq!(entries.len(), 4);
    for (event, entry) in entries.iter().zip(&recorded) {
        assert_eq!(event.event_id, entry.id);
        let payload: serde_json::Value = serde_json::from_str(&event.payload).unwrap();
        assert_eq!(payload, serde_json::to_value(entry).unwrap());
    }
    // The same through the protocol's batch.
    let batch = s.push_batch(100).unwrap();
    assert_eq!(batch.iter().filter(|e| e.kind == "entry").count(), 4);
    assert_eq!(
        batch.iter().find(|e| e.id == recorded[0].id).unwrap().payload,
        serde_json::to_value(&recorded[0]).unwrap()
    );

    // An older event kept its copy: pushed as is.
    let copy = serde_json::to_string(&recorded[1]).unwrap();
    s.conn()
        .execute("UPDATE outbox SET payload = ?1 WHERE event_id = ?2", rusqlite::params![copy, recorded[1].id])
        .unwrap();
    let again = s.outbox_pending(100).unwrap();
    assert_eq!(again.iter().find(|e| e.event_id == recorded[1].id).unwrap().payload, copy);
}

#[test]
fn checkout_warns_refuses_and_a_manager_can_override() {
    let mut s = shop();
    sale(&mut s, "C1", "50", "2026-03-01").unwrap(); // due 2026-03-31
    assert_eq!(s.check("C1", m("10"), at("2026-03-31")).unwrap().decision, Decision::Allow);
    let v = s.check("C1", m("10"), at("2026-04-02")).unwrap();
    assert_eq!(v.decision, Decision::Warn);
    assert_eq!(v.oldest_overdue_days, Some(2));
    let v = s.check("C1", m("10"), at("2026-04-30")).unwrap();
    assert_eq!(v.decision, Decision::Refuse);
    assert!(matches!(v.reasons[0], Reason::Overdue { days: 30, .. }));
    // Refused at the sale too, and nothing is written.
    let before = counts(&s);
    assert!(matches!(sale(&mut s, "C1", "10", "2026-04-30"), Err(Error::Refused(_))));
    assert_eq!(counts(&s), before);
    // Nothing to override while the sale is allowed.
    assert!(matches!(
        s.override_checkout("C1", m("10"), "Marc", "why not", at("2026-03-31")),
        Err(Error::Invalid { .. })
    ));
    // The override covers that sale, once.
    let ov = s.override_checkout("C1", m("10"), "Marc (manager)", "pays on Friday", at("2026-04-30")).unwrap();
    assert_eq!(ov.verdict.decision, Decision::Refuse);
    let r = sale(&mut s, "C1", "10", "2026-04-30").unwrap();
    let EntryBody::Sale { override_id, .. } = r.entry.body else { panic!() };
    assert_eq!(override_id, Some(ov.id));
    assert!(r.verdict.unwrap().reasons.iter().any(|r| matches!(r, Reason::ManagerOverride { .. })));
    assert!(matches!(sale(&mut s, "C1", "10", "2026-04-30"), Err(Error::Refused(_))));
    // Limit 0: on account is refused outright, deposits still shown.
    let v = s.check("C3", m("1"), at("2026-04-30")).unwrap();
    assert_eq!(v.decision, Decision::Refuse);
    // Blocked.
    s.update_customer(
        "C2",
        CustomerPatch { blocked: Some(Some("cheque bounced".into())), ..Default::default() },
        at("2026-04-30"),
    )
    .unwrap();
    let v = s.check("C2", m("1"), at("2026-04-30")).unwrap();
    assert_eq!(v.reasons, vec![Reason::Blocked { reason: "cheque bounced".into() }]);
}

#[test]
fn deposits_taken_applied_refunded() {
    let mut s = shop();
    let take = |s: &mut Store, amount: &str| {
        s.record(
            "C3",
            None,
            "anna",
            EntryRequest::DepositTake {
                amount: m(amount),
                method: PaymentMethod::Card,
                order_ref: Some("CAKE-7".into()),
            },
            at("2026-05-01"),
        )
    };
    take(&mut s, "30").unwrap();
    let acc = s.account("C3", d("2026-05-01")).unwrap();
    assert_eq!((acc.balance, acc.deposits_available), (m("0"), m("30")));
    assert_eq!(acc.deposits[0].order_ref.as_deref(), Some("CAKE-7"));
    // Beyond what is held: refused, nothing written.
    let before = counts(&s);
    let err = s
        .record("C3", None, "anna", EntryRequest::DepositApply { amount: m("30.01"), invoice: None }, at("2026-05-01"))
        .unwrap_err();
    assert!(matches!(err, Error::InsufficientDeposit { .. }), "{err}");
    assert_eq!(counts(&s), before);
    s.record("C3", None, "anna", EntryRequest::DepositApply { amount: m("20"), invoice: None }, at("2026-05-01"))
        .unwrap();
    let r = s
        .record(
            "C3",
            None,
            "anna",
            EntryRequest::DepositRefund { amount: m("10"), method: PaymentMethod::Cash },
            at("2026-05-01"),
        )
        .unwrap();
    assert_eq!((r.balance, r.deposits), (m("-20"), m("0")));
}

#[test]
fn a_deposit_pays_for_a_sale_in_the_same_transaction() {
    let s = shop();
    // C3 has a zero limit: deposits and cash only.
    s.record(
        "C3",
        None,
        "anna",
        EntryRequest::DepositTake { amount: m("20"), method: PaymentMethod::Card, order_ref: Some("CAKE".into()) },
        at("2026-05-01"),
    )
    .unwrap();
    let req = |amount: &str, deposit: &str| SaleRequest {
        customer: "C3".into(),
        amount: m(amount),
        date: None,
        invoice_ref: None,
        cashier: "anna".into(),
        deposit: Some(m(deposit)),
    };
    // The part left on account is still judged: refused at a zero limit, nothing written.
    let before = counts(&s);
    assert!(matches!(s.sell_on_account(req("25", "20"), at("2026-05-02")), Err(Error::Refused(_))));
    assert!(matches!(
        s.sell_on_account(req("25", "30"), at("2026-05-02")),
        Err(Error::Invalid { field: "deposit", .. })
    ));
    assert!(matches!(s.sell_on_account(req("10", "0.5"), at("2026-05-02")), Err(Error::Refused(_))));
    assert_eq!(counts(&s), before);
    // Fully paid by the deposit: allowed, the invoice is settled, the deposit used.
    let r = s.sell_on_account(req("15", "15"), at("2026-05-02")).unwrap();
    assert_eq!((r.balance, r.deposits), (m("0"), m("5")));
    assert_eq!(r.deposit_applied.as_ref().map(|e| e.body.kind()), Some("deposit_applied"));
    assert!(s.account("C3", d("2026-05-02")).unwrap().open_invoices.is_empty());
    // More than is held: refused.
    let err = s.sell_on_account(req("8", "8"), at("2026-05-02")).unwrap_err();
    assert!(matches!(err, Error::InsufficientDeposit { .. }), "{err}");
    s.audit().unwrap();
}

#[test]
fn reversals_correct_without_rewriting() {
    let mut s = shop();
    let a = sale(&mut s, "C2", "300", "2026-02-01").unwrap();
    let p = pay(&mut s, "C2", "300", "2026-02-10").unwrap();
    assert_eq!(p.balance, m("0"));
    let r = s
        .record(
            "C2",
            None,
            "anna",
            EntryRequest::Reversal { entry: p.entry.id, reason: "cheque bounced".into() },
            at("2026-02-12"),
        )
        .unwrap();
    assert_eq!(r.balance, m("300"));
    let acc = s.account("C2", d("2026-02-12")).unwrap();
    assert_eq!(acc.open_invoices.len(), 1);
    let again = s.record(
        "C2",
        None,
        "anna",
        EntryRequest::Reversal { entry: p.entry.id, reason: "twice".into() },
        at("2026-02-12"),
    );
    assert!(matches!(again, Err(Error::NotReversible(..))));
    let other = s.record(
        "C1",
        None,
        "anna",
        EntryRequest::Reversal { entry: a.entry.id, reason: "x".into() },
        at("2026-02-12"),
    );
    assert!(matches!(other, Err(Error::UnknownEntry(_))));
    s.record(
        "C2",
        None,
        "anna",
        EntryRequest::Reversal { entry: a.entry.id, reason: "wrong account".into() },
        at("2026-02-12"),
    )
    .unwrap();
    assert_eq!(s.account("C2", d("2026-02-12")).unwrap().balance, m("0"));
    assert_eq!(s.entries().unwrap().len(), 4);
}

#[test]
fn backdated_entries_refold_the_account() {
    let mut s = shop();
    sale(&mut s, "C2", "100", "2026-03-10").unwrap();
    pay(&mut s, "C2", "100", "2026-03-20").unwrap();
    // An older invoice typed in later: the payment, by fold order, settles the older one first.
    let old = s
        .sell_on_account(
            SaleRequest {
                customer: "C2".into(),
                amount: m("40"),
                date: Some(d("2026-01-05")),
                invoice_ref: Some("OLD-1".into()),
                cashier: "anna".into(),
                deposit: None,
            },
            at("2026-03-21"),
        )
        .unwrap();
    assert_eq!(old.balance, m("40"));
    let acc = s.account("C2", d("2026-03-21")).unwrap();
    assert_eq!(acc.open_invoices.len(), 1);
    assert_ne!(acc.open_invoices[0].reference, "OLD-1");
    assert_eq!(acc.open_invoices[0].remaining, m("40"));
}

#[test]
fn bad_input_is_typed_and_writes_nothing() {
    let mut s = shop();
    let before = counts(&s);
    assert!(matches!(sale(&mut s, "NOPE", "10", "2026-01-02"), Err(Error::UnknownCustomer(_))));
    assert!(matches!(sale(&mut s, "C1", "0", "2026-01-02"), Err(Error::NotPositive { .. })));
    assert!(matches!(sale(&mut s, "C1", "-5", "2026-01-02"), Err(Error::NotPositive { .. })));
    let future = s.sell_on_account(
        SaleRequest {
            customer: "C1".into(),
            amount: m("1"),
            date: Some(d("2026-01-03")),
            invoice_ref: None,
            cashier: "a".into(),
            deposit: None,
        },
        at("2026-01-02"),
    );
    assert!(matches!(future, Err(Error::Invalid { field: "date", .. })));
    let aimed = s.record(
        "C1",
        None,
        "a",
        EntryRequest::Payment { amount: m("1"), method: PaymentMethod::Cash, invoice: Some("F-404".into()) },
        at("2026-01-02"),
    );
    assert!(matches!(aimed, Err(Error::UnknownInvoice(_))));
    assert!(matches!(
        s.update_customer(
            "C1",
            CustomerPatch { credit_limit: Some(Some(m("-1"))), ..Default::default() },
            at("2026-01-02")
        ),
        Err(Error::Invalid { .. })
    ));
    let dup = s
        .add_customer(NewCustomer { reference: "C1".into(), name: "X".into(), ..Default::default() }, at("2026-01-02"));
    assert!(matches!(dup, Err(Error::DuplicateCustomer(_))));
    assert_eq!(counts(&s), before);
    assert_eq!(s.customer("C1").unwrap().credit_limit, Some(m("200")));
}

#[test]
fn search_by_name_prefix_phone_and_reference() {
    let s = shop();
    let refs = |q: &str| s.search_customers(q, 10).unwrap().into_iter().map(|c| c.reference).collect::<Vec<_>>();
    assert_eq!(refs("hel"), ["C1"]);
    assert_eq!(refs("DUP"), ["C1"]);
    assert_eq!(refs("hél du"), ["C1"]);
    assert_eq!(refs("mart"), ["C2"]);
    assert_eq!(refs("06 12 34 56 72"), ["C2"]);
    // In the order of the matching key (here the phone numbers ...71, ...72, ...73).
    assert_eq!(refs("+336123456"), ["C1", "C2", "C3"]);
    assert_eq!(refs("c3"), ["C3"]);
    assert!(refs("zzz").is_empty());
    assert!(refs("").is_empty());
}

#[test]
fn a_migrated_database_equals_a_fresh_one() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("v1.db");
    {
        let conn = rusqlite::Connection::open(&old).unwrap();
        db::schema::create_v1_for_tests(&conn);
    }
    drop(Store::open(&old).unwrap());
    let fresh = dir.path().join("fresh.db");
    drop(Store::open(&fresh).unwrap());
    let describe = |p: &std::path::Path| -> Vec<String> {
        let c = rusqlite::Connection::open(p).unwrap();
        let mut out =
            vec![format!("version {}", c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).unwrap())];
        let objects: Vec<(String, String, Option<String>)> = c
            .prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        for (ty, name, sql) in objects {
            if ty == "table" {
                let cols: Vec<String> = c
                    .prepare(&format!("PRAGMA table_xinfo({name})"))
                    .unwrap()
                    .query_map([], |r| {
                        Ok(format!(
                            "{}:{}:{}:{:?}:{}",
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, i64>(3)?,
                            r.get::<_, Option<String>>(4)?,
                            r.get::<_, i64>(5)?
                        ))
                    })
                    .unwrap()
                    .map(|r| r.unwrap())
                    .collect();
                out.push(format!("table {name} {cols:?}"));
                // What table_xinfo does not show: foreign keys and CHECK constraints, which the
                // full schema of a new file writes out afresh.
                let fks: Vec<String> = c
                    .prepare(&format!("PRAGMA foreign_key_list({name})"))
                    .unwrap()
                    .query_map([], |r| {
                        Ok(format!(
                            "{}->{}.{:?}",
                            r.get::<_, String>(3)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, Option<String>>(4)?
                        ))
                    })
                    .unwrap()
                    .map(|r| r.unwrap())
                    .collect();
                out.push(format!("foreign keys of {name} {fks:?}"));
                let sql = sql.unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ");
                let mut checks: Vec<&str> = sql
                    .match_indices("CHECK (")
                    .map(|(at, _)| {
                        let mut depth = 0;
                        let end = sql[at..].char_indices().find_map(|(k, ch)| {
                            match ch {
                                '(' => depth += 1,
                                ')' => {
                                    depth -= 1;
                                    if depth == 0 {
                                        return Some(at + k + 1);
                                    }
                                }
                                _ => {}
                            }
                            None
                        });
                        &sql[at..end.unwrap_or(sql.len())]
                    })
                    .collect();
                checks.sort_unstable();
                out.push(format!("checks of {name} {checks:?}"));
                out.push(format!("{name} without rowid: {}", sql.ends_with("WITHOUT ROWID")));
            } else {
                let sql = sql.unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ");
                out.push(format!("{ty} {name} {sql}"));
            }
        }
        out
    };
    assert_eq!(describe(&old), describe(&fresh));
    assert!(describe(&fresh).len() > 20);
    // The rows a new file starts with, too.
    let rows = |p: &std::path::Path| -> i64 {
        rusqlite::Connection::open(p).unwrap().query_row("SELECT count(*) FROM sync_state", [], |r| r.get(0)).unwrap()
    };
    assert_eq!((rows(&old), rows(&fresh)), (1, 1));
}

#[test]
fn an_unreadable_or_newer_database_is_reported_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"this is not a database, but it might be someone's money").unwrap();
    let err = Store::open(&junk).unwrap_err();
    assert!(matches!(err, Error::NotArdoise { .. }), "{err}");
    assert_eq!(std::fs::read(&junk).unwrap(), b"this is not a database, but it might be someone's money");
    let newer = dir.path().join("newer.db");
    {
        let c = rusqlite::Connection::open(&newer).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
        c.pragma_update(None, "application_id", crate::store::db::conn::APPLICATION_ID).unwrap();
    }
    assert!(matches!(Store::open(&newer), Err(Error::SchemaTooNew { found: 99, .. })));
    assert!(newer.exists());
}

/// The file's bytes, and whether SQLite left a journal beside it.
fn untouched(path: &std::path::Path) -> (Vec<u8>, Vec<String>) {
    let dir = path.parent().unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut beside: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&name) && *n != name)
        .collect();
    beside.sort();
    (std::fs::read(path).unwrap(), beside)
}

#[test]
fn an_empty_or_foreign_file_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let err = Store::open(&empty).unwrap_err();
    assert!(matches!(&err, Error::NotArdoise { reason, .. } if reason.contains("0 bytes")), "{err}");
    assert!(untouched(&empty) == (Vec::new(), Vec::new()), "the empty file was changed");

    let other = dir.path().join("other.db");
    {
        let c = rusqlite::Connection::open(&other).unwrap();
        c.execute_batch("CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('far breton');").unwrap();
    }
    let before = untouched(&other);
    let err = Store::open(&other).unwrap_err();
    assert!(matches!(&err, Error::NotArdoise { reason, .. } if reason.contains("Ardoise's tables")), "{err}");
    assert!(untouched(&other) == before, "the foreign file was changed");

    let marked = dir.path().join("marked.db");
    {
        let c = rusqlite::Connection::open(&marked).unwrap();
        c.pragma_update(None, "application_id", 0x1234).unwrap();
        c.pragma_update(None, "user_version", SCHEMA_VERSION).unwrap();
    }
    let before = untouched(&marked);
    let err = Store::open(&marked).unwrap_err();
    assert!(matches!(&err, Error::NotArdoise { reason, .. } if reason.contains("another program")), "{err}");
    assert!(untouched(&marked) == before, "the foreign file was changed");

    // A real one is still opened, and bears Ardoise's mark.
    let real = dir.path().join("real.db");
    drop(Store::open(&real).unwrap());
    let app: i64 =
        rusqlite::Connection::open(&real).unwrap().query_row("PRAGMA application_id", [], |r| r.get(0)).unwrap();
    assert_eq!(app, crate::store::db::conn::APPLICATION_ID);
    Store::open(&real).unwrap();
}

#[test]
fn a_file_copied_while_open_is_read_with_its_wal() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live.db");
    let s = Store::open(&live).unwrap();
    s.add_customer(
        NewCustomer { reference: "C1".into(), name: "Ann".into(), terms: "30".parse().unwrap(), ..Default::default() },
        at("2026-01-01"),
    )
    .unwrap();
    // What a power cut leaves: the main file as it is on disk (possibly still 0 bytes, every
    // write in the WAL), with its WAL beside it.
    let copy = dir.path().join("copy.db");
    std::fs::copy(&live, &copy).unwrap();
    std::fs::copy(dir.path().join("live.db-wal"), dir.path().join("copy.db-wal")).unwrap();
    drop(s);
    let reopened = Store::open(&copy).unwrap();
    assert_eq!(reopened.customer("C1").unwrap().name, "Ann");
}

/// A store with a few hundred entries, closed: its file is what a till leaves at night.
fn closed_shop(path: &std::path::Path) {
    let mut s = Store::open(path).unwrap();
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
        sale(&mut s, "C1", "1.50", "2026-01-02").unwrap();
    }
}

#[test]
fn check_says_ok_for_a_healthy_file_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("till.db");
    closed_shop(&path);
    let before = untouched(&path);
    let r = check_database(&path).unwrap();
    assert!(r.ok, "{r:?}");
    assert_eq!((r.integrity.len(), r.foreign_keys.len(), r.audit.len()), (0, 0, 0));
    assert_eq!(r.schema_version, SCHEMA_VERSION);
    assert!(untouched(&path) == before, "check changed the file");
}

#[test]
fn check_finds_a_flipped_byte_in_a_ledger_page() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("till.db");
    closed_shop(&path);
    let (page_size, page): (i64, i64) = {
        let c = rusqlite::Connection::open(&path).unwrap();
        let size = c.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
        // A leaf of the ledger: the last page of the entries table's b-tree, found by dbstat
        // where SQLite has it, else the table's root page.
        let leaf = c
            .query_row("SELECT max(pageno) FROM dbstat WHERE name = 'entries' AND pagetype = 'leaf'", [], |r| r.get(0))
            .or_else(|_| c.query_row("SELECT rootpage FROM sqlite_master WHERE name = 'entries'", [], |r| r.get(0)))
            .unwrap();
        (size, leaf)
    };
    let mut bytes = std::fs::read(&path).unwrap();
    // The page's first byte is its type (a table leaf, 13): flipped, the b-tree no longer holds.
    let at_byte = ((page - 1) * page_size) as usize;
    bytes[at_byte] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let r = check_database(&path).unwrap();
    assert!(!r.ok);
    assert!(!r.integrity.is_empty(), "{r:?}");
    assert!(std::fs::read(&path).unwrap() == bytes, "the damaged file is left for recovery");
}

#[test]
fn check_reports_every_broken_invariant_of_the_audit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("till.db");
    closed_shop(&path);
    rusqlite::Connection::open(&path).unwrap().execute("UPDATE accounts SET balance = balance + 1", []).unwrap();
    let r = check_database(&path).unwrap();
    assert!(!r.ok);
    assert!(r.integrity.is_empty(), "{r:?}");
    assert!(r.audit.iter().any(|a| a.starts_with("balance equals the sum of the entries")), "{r:?}");
}

/// A refold and a customer's export reach allocations through the customer's items (no index
/// leads with an allocation's customer): an allocation of another customer's item is found by
/// the audit; a back-dated payment refolds the account and leaves each allocation once.
#[test]
fn an_allocation_settles_an_item_of_its_own_customer() {
    let mut s = shop();
    sale(&mut s, "C1", "30", "2026-01-05").unwrap();
    sale(&mut s, "C2", "40", "2026-01-05").unwrap();
    pay(&mut s, "C1", "10", "2026-01-20").unwrap();
    // Dated before the first payment: the fold starts over from the entries.
    s.record(
        "C1",
        Some(d("2026-01-10")),
        "anna",
        EntryRequest::Payment { amount: m("5"), method: PaymentMethod::Cash, invoice: None },
        at("2026-01-21"),
    )
    .unwrap();
    s.audit().unwrap();
    let per_item: Vec<(i64, i64)> = {
        let c = s.conn();
        let mut stmt = c.prepare("SELECT count(*), sum(amount) FROM allocations GROUP BY item ORDER BY item").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(per_item, [(2, 1_500)], "two payments on C1's one invoice, each allocated once");
    let exported = s.customer_data("C1", at("2026-01-21")).unwrap();
    assert_eq!(exported["records"]["allocations"].as_array().map(Vec::len), Some(2), "{exported}");
    let other = s.customer_data("C2", at("2026-01-21")).unwrap();
    assert_eq!(other["records"]["allocations"].as_array().map(Vec::len), Some(0), "{other}");

    s.conn()
        .execute("UPDATE allocations SET customer_id = (SELECT id FROM customers WHERE reference = 'C2')", [])
        .unwrap();
    let found = s.audit().unwrap_err().to_string();
    assert!(found.contains("every allocation settles an item of its own customer"), "{found}");
}

#[test]
fn check_refuses_an_empty_file_without_creating_anything() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(check_database(&empty), Err(Error::NotArdoise { .. })));
    assert!(untouched(&empty) == (Vec::new(), Vec::new()), "the empty file was changed");
    let missing = dir.path().join("missing.db");
    assert!(matches!(check_database(&missing), Err(Error::NotArdoise { .. })));
    assert!(!missing.exists());
}

#[test]
fn settings_change_the_thresholds() {
    let mut s = shop();
    sale(&mut s, "C1", "50", "2026-03-01").unwrap();
    let mut settings = (*s.settings()).clone();
    settings.checkout.refuse_overdue_days = 5;
    s.set_settings(settings, at("2026-04-01")).unwrap();
    assert_eq!(s.check("C1", m("1"), at("2026-04-05")).unwrap().decision, Decision::Refuse);
    let _ = Terms::OnReceipt;
}

#[test]
fn search_lists_each_customer_once_in_the_order_of_the_word_typed() {
    let s = Store::open_in_memory().unwrap();
    for (r, n) in [("M1", "Marie Martin"), ("M2", "Marc Dupont"), ("M3", "Anne Marchand"), ("M4", "Zoé Marais")] {
        s.add_customer(NewCustomer { reference: r.into(), name: n.into(), ..Default::default() }, at("2026-01-01"))
            .unwrap();
    }
    let refs =
        |q: &str, limit| s.search_customers(q, limit).unwrap().into_iter().map(|c| c.reference).collect::<Vec<_>>();
    // marais, marc, marchand, marie (martin is Marie again).
    assert_eq!(refs("mar", 10), ["M4", "M2", "M3", "M1"]);
    assert_eq!(refs("mar", 2), ["M4", "M2"]);
    assert_eq!(refs("mar mar", 10), ["M4", "M2", "M3", "M1"]);
    assert_eq!(refs("marie mar", 10), ["M1"]);
    assert!(refs("mar", 0).is_empty());
}

#[test]
fn a_payment_reference_names_its_customer_and_a_mistyped_one_nobody() {
    let s = shop();
    let c2 = s.customer("C2").unwrap();
    let reference = s.payment_reference("C2").unwrap();
    assert_eq!(reference, crate::PaymentReference::for_customer(c2.id), "derived from the UUID");
    assert_ne!(reference, s.payment_reference("C1").unwrap());
    let found = s.customer_by_payment_reference(&reference).unwrap().unwrap();
    assert_eq!(found.reference, "C2");
    // As a bank transfer's label carries it, printed or compact.
    let label = format!("VIR SEPA BOULANGERIE MARTIN {reference} FACTURES NOVEMBRE");
    let named: Vec<String> = crate::payref::find_in(&label)
        .iter()
        .filter_map(|r| s.customer_by_payment_reference(r).unwrap())
        .map(|c| c.reference)
        .collect();
    assert_eq!(named, ["C2"]);
    // One digit wrong: refused before any lookup, and not found in a label.
    let mut typo = reference.as_str().to_owned().into_bytes();
    typo[10] = if typo[10] == b'9' { b'0' } else { typo[10] + 1 };
    let typo = String::from_utf8(typo).unwrap();
    assert!(matches!(crate::PaymentReference::parse(&typo), Err(crate::payref::ReferenceError::CheckDigits(_))));
    assert!(crate::payref::find_in(&format!("VIR {typo}")).is_empty());
    // A valid reference nobody has.
    let nobody = crate::PaymentReference::for_customer(uuid::Uuid::from_u128(7));
    assert_eq!(s.customer_by_payment_reference(&nobody).unwrap(), None);
    assert!(matches!(s.payment_reference("C9"), Err(Error::UnknownCustomer(_))));
}

/// A burst written in one unit of work: each entry on its own, recognised when already there,
/// refused without writing anything for it, and the others recorded.
#[test]
fn record_once_each_records_recognises_and_refuses_each_on_its_own() {
    let mut s = shop();
    sale(&mut s, "C1", "50.00", "2026-01-02").unwrap();
    let now = at("2026-01-05");
    let pay = |amount: &str| EntryRequest::Payment { amount: m(amount), method: PaymentMethod::Online, invoice: None };
    let (a, b, c) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2), uuid::Uuid::from_u128(3));
    s.record_once(a, "C1", None, "back office", pay("10.00"), now).unwrap();
    let before = s.entries().unwrap().len();
    let each = s
        .record_once_each(
            vec![(a, "C1".into(), pay("10.00")), (b, "C9".into(), pay("5.00")), (c, "C1".into(), pay("20.00"))],
            "back office",
            now,
        )
        .unwrap();
    assert!(matches!(each[0], Ok(None)), "already there: {:?}", each[0]);
    assert!(matches!(each[1], Err(Error::UnknownCustomer(_))), "{:?}", each[1]);
    assert_eq!(each[2].as_ref().unwrap().as_ref().unwrap().balance, m("20.00"));
    assert_eq!(s.entries().unwrap().len(), before + 1);
    assert!(s.has_entry(c).unwrap() && !s.has_entry(b).unwrap());
}

/// Entries that stand or fall together: recorded in the order given, recognised when already
/// there, and none of them written when one is refused.
#[test]
fn record_once_all_records_all_or_none() {
    let mut s = shop();
    sale(&mut s, "C1", "50.00", "2026-01-02").unwrap();
    let now = at("2026-01-05");
    let pay = |amount: &str| EntryRequest::Payment { amount: m(amount), method: PaymentMethod::Online, invoice: None };
    let (paid, credit, reversal) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2), uuid::Uuid::from_u128(3));
    s.record_once(paid, "C1", None, "back office", pay("50.00"), now).unwrap();
    let pair = |credit_id, reversal_id, of| {
        vec![
            (credit_id, "C1".to_owned(), EntryRequest::Adjustment { amount: m("-20.00"), reason: "refunded".into() }),
            (reversal_id, "C1".to_owned(), EntryRequest::Reversal { entry: of, reason: "charged back".into() }),
        ]
    };
    let both = s.record_once_all(pair(credit, reversal, paid), "back office", now).unwrap();
    assert_eq!(both.len(), 2);
    assert_eq!(both[0].as_ref().unwrap().balance, m("-20.00"), "the credit first");
    assert_eq!(both[1].as_ref().unwrap().balance, m("30.00"), "then the reversal");
    let ids: Vec<uuid::Uuid> = s.entries().unwrap().iter().map(|e| e.id).collect();
    let at_of = |id| ids.iter().position(|x| *x == id).unwrap();
    assert!(at_of(credit) < at_of(reversal), "in the order given");
    let again = s.record_once_all(pair(credit, reversal, paid), "back office", now).unwrap();
    assert!(again.iter().all(Option::is_none), "recognised: {again:?}");

    // The payment already reversed under another id: the reversal is refused, and the credit
    // that goes with it is not written either.
    let before = s.entries().unwrap().len();
    let (credit_2, reversal_2) = (uuid::Uuid::from_u128(4), uuid::Uuid::from_u128(5));
    let refused = s.record_once_all(pair(credit_2, reversal_2, paid), "back office", now);
    assert!(matches!(refused, Err(Error::NotReversible(..))), "{refused:?}");
    assert_eq!(s.entries().unwrap().len(), before);
    assert!(!s.has_entry(credit_2).unwrap() && !s.has_entry(reversal_2).unwrap());
    assert_eq!(s.account("C1", d("2026-01-05")).unwrap().balance, m("30.00"));
}
