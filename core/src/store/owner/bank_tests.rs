//! A statement of hard cases into a real ledger, confirm and undo, and properties on random
//! statements and ledgers: nothing applied twice, never more than a transaction's amount, undo
//! restores the accounts.

use chrono::{DateTime, NaiveDate};
use proptest::prelude::*;

use crate::bank::matching::{Reason, Rule};
use crate::bank::{Direction, IdSource, Import, LineState, Statement, Status, Transaction};
use crate::customer::NewCustomer;
use crate::error::Error;
use crate::money::Money;
use crate::store::sync::tests::deliver;
use crate::store::*;
use crate::{EntryRequest, SaleRequest};

const IBAN_SHARED: &str = "FR7611111111111111111111111";
const IBAN_C5: &str = "FR7622222222222222222222222";
const ACCOUNT: &str = "FR7630006000011234567890189";

fn at(s: &str) -> Now {
    DateTime::parse_from_rfc3339(&format!("{s}T10:00:00+01:00")).unwrap()
}
fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}
fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

/// A customer's reference, name and invoices (reference, amount).
type Spec<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

fn shop(customers: &[Spec<'_>]) -> Store {
    let s = Store::open_in_memory().unwrap();
    for (reference, name, invoices) in customers {
        let new = NewCustomer { reference: (*reference).into(), name: (*name).into(), ..Default::default() };
        s.add_customer(new, at("2026-01-01")).unwrap();
        for (invoice, amount) in *invoices {
            let sale = SaleRequest {
                customer: (*reference).into(),
                amount: m(amount),
                date: Some(d("2026-01-02")),
                invoice_ref: Some((*invoice).into()),
                cashier: "anna".into(),
                deposit: None,
            };
            s.sell_on_account(sale, at("2026-01-02")).unwrap();
        }
    }
    s
}

fn tx(id: &str, amount: &str, text: &str) -> Transaction {
    Transaction {
        bank_id: id.into(),
        id_source: IdSource::Transaction,
        booking_date: Some(d("2026-03-10")),
        value_date: None,
        amount: m(amount),
        direction: Direction::Credit,
        status: Status::Booked,
        reversal: false,
        counterparty_name: None,
        counterparty_iban: None,
        remittance: (!text.is_empty()).then(|| text.to_owned()),
        creditor_reference: None,
        end_to_end_id: None,
        bank_label: None,
    }
}

fn from(mut t: Transaction, iban: &str, name: Option<&str>) -> Transaction {
    t.counterparty_iban = Some(iban.into());
    t.counterparty_name = name.map(Into::into);
    t
}

fn statement(id: &str, transactions: Vec<Transaction>) -> Statement {
    let movements: Money = transactions.iter().filter(|t| t.status == Status::Booked).map(Transaction::signed).sum();
    Statement {
        id: id.into(),
        account_iban: Some(ACCOUNT.into()),
        currency: "EUR".into(),
        opening: Money::ZERO,
        closing: movements,
        from: None,
        to: None,
        transactions,
    }
}

fn balance(s: &Store, c: &str) -> Money {
    s.account(c, d("2026-03-20")).unwrap().balance
}

fn open(s: &Store, c: &str) -> Vec<(String, Money)> {
    let mut open: Vec<(String, Money)> =
        s.account(c, d("2026-03-20")).unwrap().open_invoices.into_iter().map(|i| (i.reference, i.remaining)).collect();
    open.sort();
    open
}

fn ids(lines: &[crate::bank::Line]) -> Vec<&str> {
    lines.iter().map(|l| l.transaction.as_str()).collect()
}

fn hard_cases_shop() -> Store {
    shop(&[
        ("C1", "Hélène Dupré", &[("1", "10.00"), ("14", "25.00")]),
        ("C2", "Marc Petit", &[("10", "40.00"), ("1814", "12.50")]),
        ("C3", "SARL Boulangerie Martin", &[("F-7", "99.90"), ("F-8", "50.00")]),
        ("C4", "Jean Martin", &[("F-9", "30.00")]),
        ("C5", "Paul Durand", &[("F-20", "60.00"), ("F-21", "45.00")]),
        ("C6", "Luc Moreau", &[]),
        ("C7", "Eva Moreau", &[]),
    ])
}

#[test]
fn a_statement_of_hard_cases_applies_exactly_what_is_certain() {
    let s = hard_cases_shop();
    let rf = |c: &str| s.payment_reference(c).unwrap();
    // Earlier: C6 and C7 both paid from one account (a couple's), C5 from their own.
    let earlier = statement(
        "S0",
        vec![
            from(tx("E1", "1.00", &rf("C6").to_string()), IBAN_SHARED, None),
            from(tx("E2", "1.00", &rf("C7").to_string()), IBAN_SHARED, None),
            from(tx("E3", "1.00", &format!("{} F-21", rf("C5"))), IBAN_C5, None),
        ],
    );
    let r = s.import_statements(&[earlier], "anna", at("2026-03-11")).unwrap();
    assert_eq!(ids(&r.applied), ["E1", "E2", "E3"]);

    let typo = {
        let good = rf("C5").as_str().to_owned();
        let last = good.chars().last().unwrap();
        format!("{}{}", &good[..good.len() - 1], if last == '0' { '1' } else { '0' })
    };
    let mut pending = tx("P1", "30.00", "F-9");
    pending.status = Status::Pending;
    let mut fee = tx("FEE", "2.50", "FRAIS");
    fee.direction = Direction::Debit;
    let mut structured = tx("T10", "100.00", "");
    structured.creditor_reference = Some(rf("C4").as_str().to_owned());
    let file = statement(
        "S1",
        vec![
            tx("T1", "149.90", "Factures F-7 et F-8"),      // two invoices in one transfer
            tx("T2", "20.00", "acompte F-21"),              // a partial payment
            tx("T3", "60.00", &format!("paiement {typo}")), // a mistyped reference
            tx("T4", "27.50", "F-9"),                       // a bank fee deducted
            tx("T5", "10.00", "facture 1"),                 // invoice 1, not 10
            tx("T6", "12.50", "facture 1814"),              // 1814, not 14
            from(tx("T7", "5.00", ""), IBAN_SHARED, None),  // a shared account
            fee,                                            // a debit
            tx("T9", "40.00", "INV 10"),                    // invoice 10, not 1
            structured,                                     // a structured reference, overpaid
            from(tx("T11", "13.00", "VIREMENT"), "FR7633333333333333333333333", Some("M JEAN MARTIN")),
            from(tx("T12", "7.00", "VIR"), IBAN_C5, None), // an account seen for C5
            pending,                                       // not booked yet
        ],
    );
    let r = s.import_statements(std::slice::from_ref(&file), "anna", at("2026-03-12")).unwrap();
    assert_eq!((r.imported, r.duplicates), (12, 0), "the pending one is not kept");
    assert_eq!(ids(&r.applied), ["T1", "T5", "T6", "T9", "T10"]);
    let rules: Vec<Rule> = r.applied.iter().map(|l| l.rule.unwrap()).collect();
    assert_eq!(rules, [Rule::Invoices, Rule::Invoices, Rule::Invoices, Rule::Invoices, Rule::Reference]);
    assert_eq!(r.applied[0].invoices, ["F-7", "F-8"], "both invoices of the transfer are settled");
    assert_eq!(r.applied[0].by.as_deref(), Some("anna"));
    assert_eq!(ids(&r.suggested), ["T2", "T3", "T4", "T11", "T12"]);
    let first_reason = |id: &str| r.suggested.iter().find(|l| l.transaction == id).unwrap().suggestions[0].clone();
    assert!(matches!(first_reason("T2").reasons[0], Reason::Partial { .. }));
    let t3 = first_reason("T3");
    assert_eq!(t3.customer, "C5");
    assert!(t3.reasons.contains(&Reason::MistypedReference { written: typo.clone() }), "{t3:?}");
    assert_eq!(first_reason("T4").reasons[0], Reason::FeeGap { invoices: vec!["F-9".into()], gap: m("2.50") });
    assert_eq!(first_reason("T11").customer, "C4");
    assert!(matches!(first_reason("T12").reasons[0], Reason::KnownAccount { .. }));
    assert_eq!(ids(&r.unmatched), ["T7", "FEE", "P1"]);
    // What the import reports is what it kept: each line as read back from the tables.
    let kept = s.bank_lines(None, 100, 0).unwrap();
    for reported in r.applied.iter().chain(&r.suggested).chain(&r.unmatched).filter(|l| l.transaction != "P1") {
        let stored = kept.iter().find(|l| l.transaction == reported.transaction).unwrap();
        assert_eq!(reported, stored);
    }

    // The accounts: exactly the certain payments.
    assert_eq!(open(&s, "C1"), [("14".to_owned(), m("25.00"))], "1 paid, 14 untouched");
    assert_eq!(open(&s, "C2"), [], "10 and 1814 paid");
    assert_eq!(balance(&s, "C2"), Money::ZERO);
    assert_eq!(open(&s, "C3"), []);
    assert_eq!(balance(&s, "C4"), m("-70.00"), "the reference's payment in full, the rest on account");
    assert_eq!(balance(&s, "C5"), m("104.00"), "nothing suggested is applied");

    // The same file again: nothing twice.
    let again = s.import_statements(&[file], "anna", at("2026-03-13")).unwrap();
    assert_eq!(
        (again.imported, again.duplicates, again.applied.len(), again.suggested.len()),
        (0, 12, 0, 0),
        "{again:?}"
    );
    assert_eq!(again.unmatched.len(), 1, "only the pending one, reported again");
    s.audit().unwrap();
}

#[test]
fn suggestions_are_confirmed_and_matches_undone() {
    let s = hard_cases_shop();
    let file = statement("S1", vec![tx("T2", "20.00", "acompte F-21"), tx("T1", "149.90", "F-7 F-8")]);
    s.import_statements(std::slice::from_ref(&file), "anna", at("2026-03-12")).unwrap();

    // A debit, an unknown id, a customer that is not: refused, nothing written.
    let before = balance(&s, "C5");
    assert!(matches!(s.confirm_bank_match("T404", "C5", None, "marc", at("2026-03-12")), Err(Error::NotFound { .. })));
    assert!(matches!(
        s.confirm_bank_match("T2", "C404", None, "marc", at("2026-03-12")),
        Err(Error::UnknownCustomer(_))
    ));
    assert_eq!(balance(&s, "C5"), before);

    let l = s.confirm_bank_match("T2", "C5", Some("F-21"), "marc", at("2026-03-12")).unwrap();
    assert_eq!((l.state, l.rule, l.by.as_deref()), (LineState::Applied, Some(Rule::Confirmed), Some("marc")));
    assert_eq!(l.invoices, ["F-21"]);
    assert_eq!(open(&s, "C5"), [("F-20".to_owned(), m("60.00")), ("F-21".to_owned(), m("25.00"))]);
    assert!(s.confirm_bank_match("T2", "C5", None, "marc", at("2026-03-12")).is_err(), "applied already");

    // Undo the automatic one: C3 owes both invoices again; the line is back, never reapplied.
    let l = s.undo_bank_match("T1", "marc", at("2026-03-13")).unwrap();
    assert_eq!((l.state, l.customer.as_deref()), (LineState::Unmatched, None));
    assert!(l.why.unwrap().contains("undone by marc"));
    assert_eq!(balance(&s, "C3"), m("149.90"));
    let again = s.import_statements(&[file], "anna", at("2026-03-14")).unwrap();
    assert_eq!((again.applied.len(), again.duplicates), (0, 2));
    assert_eq!(balance(&s, "C3"), m("149.90"));
    assert!(s.undo_bank_match("T1", "marc", at("2026-03-14")).is_err(), "nothing to undo");

    // Confirmed again by hand: a new payment (the first stays reversed).
    s.confirm_bank_match("T1", "C3", None, "marc", at("2026-03-14")).unwrap();
    assert_eq!(balance(&s, "C3"), Money::ZERO);
    let listed = s.bank_lines(Some(LineState::Applied), 10, 0).unwrap();
    assert_eq!(listed.len(), 2);
    s.audit().unwrap();
}

#[test]
fn a_payment_recorded_elsewhere_is_a_duplicate_here() {
    // Two databases of one shop import the same statement: the second finds the payment
    // (synced, same id) and records nothing.
    let s = hard_cases_shop();
    let rf = s.payment_reference("C1").unwrap();
    let file = statement("S1", vec![tx("T1", "10.00", &rf.to_string())]);
    let id = crate::bank::entry_id(ACCOUNT, "T1");
    let req = EntryRequest::Payment { amount: m("10.00"), method: crate::PaymentMethod::Transfer, invoice: None };
    s.record_once(id, "C1", Some(d("2026-03-10")), "bo", req, at("2026-03-11")).unwrap().unwrap();
    let r = s.import_statements(&[file], "anna", at("2026-03-12")).unwrap();
    assert_eq!((r.imported, r.duplicates, r.applied.len()), (0, 1, 0));
    assert_eq!(balance(&s, "C1"), m("25.00"));
}

#[test]
fn a_payment_the_ledger_refuses_leaves_nothing_of_it_and_the_rest_is_taken() {
    // The first transfer names C5's invoice exactly, but the bank dated it before any date the
    // ledger keeps: it is refused, nothing of it written, and the next one is recorded.
    let s = hard_cases_shop();
    let rf = s.payment_reference("C1").unwrap();
    let mut early = tx("T1", "60.00", "F-20");
    early.booking_date = Some(d("1969-12-31"));
    let file = statement("S1", vec![early, tx("T2", "10.00", &rf.to_string())]);
    let count = |sql: &str| s.read(|c| Ok(c.query_row(sql, [], |r| r.get::<_, i64>(0))?)).unwrap();
    let (entries, seq) = (count("SELECT count(*) FROM entries"), count("SELECT next_seq FROM device"));
    let r = s.import_statements(&[file], "anna", at("2026-03-12")).unwrap();
    assert_eq!(ids(&r.unmatched), ["T1"]);
    assert!(r.unmatched[0].why.as_deref().unwrap().contains("the ledger refused it"), "{:?}", r.unmatched[0].why);
    assert_eq!(ids(&r.applied), ["T2"]);
    assert_eq!(balance(&s, "C5"), m("105.00"));
    assert_eq!(balance(&s, "C1"), m("25.00"));
    // One entry for the one payment taken; this device's gapless sequence numbers that payment
    // and the two lines the other devices receive (one with its match), nothing more.
    assert_eq!(count("SELECT count(*) FROM entries"), entries + 1);
    assert_eq!(count("SELECT next_seq FROM device"), seq + 1 + 2);
}

/// The hard cases' shop on two devices (A the back office, B the owner's phone), B synced.
fn two_devices() -> (Store, Store) {
    let mut a = hard_cases_shop();
    let mut b = Store::open_in_memory().unwrap();
    deliver(&mut a, &mut b, at("2026-03-11"));
    (a, b)
}

#[test]
fn a_statement_imported_on_one_device_is_listed_confirmed_and_undone_on_another() {
    // A is the back office that imports the statement; B the owner's phone.
    let (mut a, mut b) = two_devices();
    let rf = a.payment_reference("C1").unwrap();
    let mut file = statement(
        "S1",
        vec![
            tx("T1", "25.00", &rf.to_string()),
            from(tx("T2", "27.50", "F-9"), IBAN_C5, Some("JEAN MARTIN")),
            tx("FEE", "2.50", "FRAIS"),
        ],
    );
    file.transactions[2].direction = Direction::Debit;
    file.closing = m("50.00");
    let r = a.import_statements(std::slice::from_ref(&file), "anna", at("2026-03-12")).unwrap();
    assert_eq!((ids(&r.applied), ids(&r.suggested), ids(&r.unmatched)), (vec!["T1"], vec!["T2"], vec!["FEE"]));
    let lines = |s: &Store| -> Vec<(String, LineState, Option<String>)> {
        let mut l: Vec<_> =
            s.bank_lines(None, 50, 0).unwrap().into_iter().map(|l| (l.transaction, l.state, l.customer)).collect();
        l.sort_by(|x, y| x.0.cmp(&y.0));
        l
    };
    assert!(lines(&b).is_empty());
    deliver(&mut a, &mut b, at("2026-03-12"));
    // The phone lists what the back office imported, as it imported it, and the payment once.
    assert_eq!(lines(&b), lines(&a));
    assert_eq!(b.bank_lines(Some(LineState::Suggested), 50, 0).unwrap()[0].suggestions[0].customer, "C4");
    assert_eq!((balance(&b, "C1"), balance(&a, "C1")), (m("10.00"), m("10.00")));
    // Importing the same file on the phone takes nothing in twice.
    let again = b.import_statements(&[file], "paul", at("2026-03-12")).unwrap();
    assert_eq!((again.imported, again.duplicates), (0, 3));

    // Confirmed on the phone: the back office sees the payment and the match.
    let confirmed = b.confirm_bank_match("T2", "C4", Some("F-9"), "paul", at("2026-03-13")).unwrap();
    assert_eq!(confirmed.state, LineState::Applied);
    deliver(&mut b, &mut a, at("2026-03-13"));
    let seen = a.bank_lines(Some(LineState::Applied), 50, 0).unwrap();
    let t2 = seen.iter().find(|l| l.transaction == "T2").expect("T2 applied on the back office");
    assert_eq!((t2.customer.as_deref(), t2.by.as_deref(), t2.rule), (Some("C4"), Some("paul"), Some(Rule::Confirmed)));
    assert_eq!(balance(&a, "C4"), m("2.50"));
    assert_eq!(lines(&a), lines(&b));

    // Undone on the back office: the phone has the customer owe it again, the line to confirm.
    a.undo_bank_match("T2", "anna", at("2026-03-14")).unwrap();
    deliver(&mut a, &mut b, at("2026-03-14"));
    assert_eq!(balance(&b, "C4"), m("30.00"));
    assert_eq!(lines(&b), lines(&a));
    assert!(lines(&b).contains(&("T2".into(), LineState::Suggested, None)));
    // Confirmed again, elsewhere: a new payment, the same on both.
    b.confirm_bank_match("T2", "C4", None, "paul", at("2026-03-15")).unwrap();
    deliver(&mut b, &mut a, at("2026-03-15"));
    assert_eq!((balance(&a, "C4"), balance(&b, "C4")), (m("2.50"), m("2.50")));
    assert_eq!(lines(&a), lines(&b));
}

#[test]
fn an_import_sends_each_line_as_the_line_reads_back_with_its_match() {
    use crate::store::sync::replica::{Key, Table, row_of};
    // The import writes the lines' events from what it inserted, without reading them back:
    // they must say what the row says, or devices would disagree.
    let s = hard_cases_shop();
    let rf = s.payment_reference("C1").unwrap();
    let file = statement(
        "S1",
        vec![
            tx("T1", "25.00", &rf.to_string()),
            from(tx("T2", "27.50", "F-9"), IBAN_C5, Some("JEAN MARTIN")),
            tx("T3", "149.90", "Factures F-7 et F-8"),
            tx("T4", "3.00", ""),
        ],
    );
    s.import_statements(&[file], "anna", at("2026-03-12")).unwrap();
    let sent: Vec<(serde_json::Value, String)> = s
        .read(|c| {
            let mut stmt = c.prepare("SELECT payload, hlc FROM outbox WHERE kind = 'row' ORDER BY seq")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            Ok(rows.map(|r| r.map(|(p, h)| (serde_json::from_str(&p).unwrap(), h))).collect::<Result<Vec<_>, _>>()?)
        })
        .unwrap();
    assert_eq!(sent.len(), 4);
    let mut with_match = 0;
    for (payload, hlc) in sent {
        assert_eq!(payload["table"], "bank_transactions");
        let row = payload["row"].as_object().unwrap().clone();
        let id = crate::Uuid::from_slice(&hex_bytes(row["uuid"]["$blob"].as_str().unwrap())).unwrap();
        let stored = s.read(|c| row_of(c, Table::BankLines, Key::Blob(id))).unwrap().unwrap();
        assert_eq!(row, stored);
        with_match += usize::from(!row["$matches"].as_array().unwrap().is_empty());
        // The row keeps the clock it was sent with.
        let kept: String = s
            .read(|c| Ok(c.query_row("SELECT hlc FROM bank_transactions WHERE uuid = ?1", [id], |r| r.get(0))?))
            .unwrap();
        assert_eq!(kept, hlc);
    }
    assert_eq!(with_match, 2, "T1 by its reference, T3 by its invoices");
}

fn hex_bytes(h: &str) -> Vec<u8> {
    (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn a_customer_erased_on_one_device_is_scrubbed_from_the_bank_lines_of_every_device() {
    let (mut a, mut b) = two_devices();
    let rf = a.payment_reference("C1").unwrap();
    let paid = from(tx("T1", "25.00", &format!("{rf} MME DUPRE")), IBAN_SHARED, Some("HELENE DUPRE"));
    a.import_statements(&[statement("S1", vec![paid])], "anna", at("2026-03-12")).unwrap();
    deliver(&mut a, &mut b, at("2026-03-12"));
    assert_eq!(b.bank_lines(None, 10, 0).unwrap()[0].counterparty.as_deref(), Some("HELENE DUPRE"));
    a.erase_customer("C1", "owner", at("2026-03-13")).unwrap();
    deliver(&mut a, &mut b, at("2026-03-13"));
    for s in [&a, &b] {
        let line = &s.bank_lines(None, 10, 0).unwrap()[0];
        assert_eq!((line.counterparty.as_deref(), line.state), (None, LineState::Applied));
        assert!(!line.label.contains("DUPRE"), "{}", line.label);
        assert_eq!(line.amount, m("25.00"));
    }
}

#[test]
fn one_statement_imported_on_two_devices_before_they_sync_is_one_line_and_one_payment() {
    let (mut a, mut b) = two_devices();
    let rf = a.payment_reference("C1").unwrap();
    let file = statement("S1", vec![tx("T1", "25.00", &rf.to_string()), tx("T2", "60.00", "F-20")]);
    a.import_statements(std::slice::from_ref(&file), "anna", at("2026-03-12")).unwrap();
    b.import_statements(&[file], "paul", at("2026-03-12")).unwrap();
    deliver(&mut a, &mut b, at("2026-03-12"));
    deliver(&mut b, &mut a, at("2026-03-12"));
    for s in [&a, &b] {
        let lines = s.bank_lines(None, 50, 0).unwrap();
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| l.state == LineState::Applied), "{lines:?}");
        assert_eq!((balance(s, "C1"), balance(s, "C5")), (m("10.00"), m("45.00")));
    }
}

/// A random shop: up to four customers with up to three invoices each.
fn ledger() -> impl Strategy<Value = Vec<Vec<i64>>> {
    prop::collection::vec(prop::collection::vec(1i64..5_000, 0..4), 1..5)
}

/// A random statement line: which customer's reference (if any), invoice tokens, an amount.
#[derive(Clone, Debug)]
struct Pick {
    reference: Option<usize>,
    invoices: Vec<(usize, usize)>,
    cents: i64,
    debit: bool,
}

fn picks() -> impl Strategy<Value = Vec<Pick>> {
    let pick = (
        prop::option::of(0usize..5),
        prop::collection::vec((0usize..5, 0usize..4), 0..3),
        1i64..10_000,
        prop::bool::weighted(0.2),
    )
        .prop_map(|(reference, invoices, cents, debit)| Pick { reference, invoices, cents, debit });
    prop::collection::vec(pick, 1..12)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn nothing_is_applied_twice_nor_beyond_its_amount_and_undo_restores(ledger in ledger(), picks in picks()) {
        let names = ["Ana Roux", "Bo Lin", "Cy Vidal", "Di Sauvage"];
        // Owned first, then borrowed as `shop` takes them.
        let invoices: Vec<Vec<(String, String)>> = ledger
            .iter()
            .enumerate()
            .map(|(c, amounts)| {
                amounts.iter().enumerate().map(|(k, cents)| (format!("F{c}-{k}"), Money::from_minor(*cents).to_string())).collect()
            })
            .collect();
        let customers: Vec<String> = (0..ledger.len()).map(|c| format!("C{c}")).collect();
        let borrowed: Vec<Vec<(&str, &str)>> =
            invoices.iter().map(|i| i.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()).collect();
        let refs: Vec<Spec<'_>> =
            customers.iter().zip(&borrowed).enumerate().map(|(c, (r, i))| (r.as_str(), names[c], i.as_slice())).collect();
        let s = shop(&refs);
        let before: Vec<Money> = customers.iter().map(|c| balance(&s, c)).collect();
        let transactions: Vec<Transaction> = picks
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let mut text = String::new();
                if let Some(c) = p.reference.filter(|c| *c < customers.len()) {
                    text.push_str(&format!("{} ", s.payment_reference(&customers[c]).unwrap()));
                }
                for (c, i) in &p.invoices {
                    text.push_str(&format!("F{c}-{i} "));
                }
                let mut t = tx(&format!("T{k}"), &Money::from_minor(p.cents).to_string(), &text);
                if p.debit {
                    t.direction = Direction::Debit;
                }
                t
            })
            .collect();
        let file = statement("S", transactions.clone());
        let r: Import = s.import_statements(std::slice::from_ref(&file), "anna", at("2026-03-12")).unwrap();
        prop_assert_eq!(r.imported as usize, transactions.len());
        // Each applied line is one credit, recorded for its full amount, never more.
        let mut paid = Money::ZERO;
        for l in &r.applied {
            let t = transactions.iter().find(|t| t.bank_id == l.transaction).unwrap();
            prop_assert_eq!(t.direction, Direction::Credit);
            prop_assert_eq!(l.amount, t.amount);
            paid += l.amount;
        }
        let after: Money = customers.iter().map(|c| balance(&s, c)).sum();
        prop_assert_eq!(before.iter().copied().sum::<Money>() - paid, after);
        // Again: nothing.
        let again = s.import_statements(&[file], "anna", at("2026-03-13")).unwrap();
        prop_assert!(again.applied.is_empty());
        prop_assert_eq!(again.duplicates as usize, transactions.len());
        // Undo everything applied: every account is as before.
        for l in &r.applied {
            s.undo_bank_match(&l.transaction, "marc", at("2026-03-14")).unwrap();
        }
        let restored: Vec<Money> = customers.iter().map(|c| balance(&s, c)).collect();
        prop_assert_eq!(restored, before);
        s.audit().unwrap();
    }
}
