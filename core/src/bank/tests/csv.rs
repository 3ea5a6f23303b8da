//! The CSV reader against a handwritten Latin-1 export with a running balance and the mapping
//! of the documentation, exports without balance or header, and random exports.

use chrono::NaiveDate;
use proptest::prelude::*;

use super::super::csv::{self, Column, CsvMapping};
use super::super::{BankError, Direction, IdSource, Statement};
use crate::money::Money;

const FILE: &[u8] = include_bytes!("../../../tests/fixtures/bank/csv_latin1_running_balance.csv");
const MAPPING: &str = include_str!("../../../tests/fixtures/bank/csv_mapping_example.json");
const ID: &str = "FR7630006000011234567890189/2024-05-02..2024-05-03";

fn eur(s: &str) -> Money {
    Money::parse(s).unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn mapping() -> CsvMapping {
    CsvMapping::from_json(MAPPING).unwrap()
}

fn text() -> String {
    FILE.iter().map(|&b| b as char).collect()
}

fn latin1(s: &str) -> Vec<u8> {
    s.chars().map(|c| u8::try_from(c as u32).expect("a Latin-1 character")).collect()
}

fn malformed(result: Result<Vec<Statement>, BankError>) -> (String, usize, String) {
    match result {
        Err(BankError::Malformed { element, line, reason }) => (element, line, reason),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

/// A mapping of a headerless export: date, signed amount, label, bank id by index.
fn by_index() -> CsvMapping {
    CsvMapping::from_json(
        r#"{"delimiter": ",", "has_header": false, "date": 0, "date_format": "%Y-%m-%d",
        "amount": 1, "decimal_separator": ".", "label": 2, "bank_id": 3}"#,
    )
    .unwrap()
}

#[test]
fn the_documented_mapping_reads_a_latin1_export_with_a_running_balance() {
    let stmts = csv::parse(FILE, &mapping()).unwrap();
    assert_eq!(stmts.len(), 1);
    let s = &stmts[0];
    assert_eq!(s.id, ID);
    assert_eq!(s.account_iban.as_deref(), Some("FR7630006000011234567890189"));
    assert_eq!((s.opening, s.closing, s.movements()), (eur("1234.56"), eur("1243.96"), eur("9.40")));
    assert_eq!((s.from, s.to), (Some(day("2024-05-02")), Some(day("2024-05-03"))));
    assert_eq!(s.transactions.len(), 4);
    let credit = &s.transactions[0];
    assert_eq!((credit.amount, credit.direction), (eur("50.00"), Direction::Credit));
    assert_eq!(credit.bank_label.as_deref(), Some("VIR SEPA RECU /DE MARIE DUPONT"));
    assert_eq!(credit.payment_references()[0].as_str(), "RF18539007547034");
    assert_eq!((s.transactions[1].amount, s.transactions[1].direction), (eur("4.70"), Direction::Debit));
    let cheque = &s.transactions[3];
    assert_eq!(cheque.remittance.as_deref(), Some("Café des Arts"), "Latin-1 decoded");
    assert_eq!((cheque.booking_date, cheque.value_date), (Some(day("2024-05-03")), Some(day("2024-05-04"))));
    assert!(s.transactions.iter().all(|t| t.id_source == IdSource::Hash));
    // The same export in UTF-8 reads the same.
    assert_eq!(csv::parse(text().as_bytes(), &mapping()).unwrap(), stmts);
}

#[test]
fn a_row_that_does_not_follow_the_running_balance_is_refused_naming_its_line() {
    let bad = text().replace("1 279,86", "1 279,87");
    assert_eq!(
        csv::parse(&latin1(&bad), &mapping()),
        Err(BankError::Unbalanced {
            statement: format!("{ID}, line 5"),
            opening: eur("1284.56"),
            movements: eur("-4.70"),
            closing: eur("1279.87"),
        })
    );
}

#[test]
fn unreadable_amounts_and_dates_are_refused_naming_line_and_column() {
    let bad = text().replacen(";4,70;", ";4,7O;", 1);
    let (element, line, reason) = malformed(csv::parse(&latin1(&bad), &mapping()));
    assert_eq!((element.as_str(), line), ("line 5, column \"Débit\"", 5));
    assert!(reason.contains("4,7O"), "{reason}");
    let bad = text().replacen(";4,70;", ";4,705;", 1);
    assert!(malformed(csv::parse(&latin1(&bad), &mapping())).2.contains("more than 2 decimals"));
    let bad = text().replacen(";4,70;", ";4.70;", 1);
    assert_eq!(malformed(csv::parse(&latin1(&bad), &mapping())).0, "line 5, column \"Débit\"");
    let bad = text().replacen("03/05/2024;04/05/2024", "31/02/2024;04/05/2024", 1);
    assert_eq!(malformed(csv::parse(&latin1(&bad), &mapping())).0, "line 7, column \"Date opération\"");
    let both = text().replacen(";;4,70;;1 279,86", ";;4,70;1,00;1 279,86", 1);
    assert!(malformed(csv::parse(&latin1(&both), &mapping())).2.contains("both a debit and a credit"));
}

#[test]
fn mapping_faults_are_named() {
    let mut m = mapping();
    m.balance = Some(Column::Name("Solde final".into()));
    let (element, line, reason) = malformed(csv::parse(FILE, &m));
    assert_eq!((element.as_str(), line), ("line 3 (header)", 3));
    assert!(reason.contains("\"Solde final\""), "{reason}");
    let mut m = mapping();
    m.amount = Some(Column::Index(4));
    assert!(malformed(csv::parse(FILE, &m)).2.contains("either"));
    assert!(
        CsvMapping::from_json(r#"{"date": 0, "amount": 1, "colour": "blue"}"#).is_err(),
        "unknown keys are refused"
    );
    let defaults = CsvMapping::from_json(r#"{"date": "Date", "amount": "Montant"}"#).unwrap();
    assert_eq!((defaults.delimiter, defaults.decimal_separator, defaults.date_format.as_str()), (';', ',', "%d/%m/%Y"));
    assert!(defaults.has_header);
}

#[test]
fn a_newest_first_export_is_read_oldest_first() {
    let t = text();
    let lines: Vec<&str> = t.split("\r\n").filter(|l| !l.is_empty()).collect();
    let mut reversed: Vec<&str> = lines[..3].to_vec();
    reversed.extend(lines[3..].iter().rev());
    let stmts = csv::parse(&latin1(&reversed.join("\r\n")), &mapping()).unwrap();
    assert_eq!(stmts, csv::parse(FILE, &mapping()).unwrap());
}

#[test]
fn without_a_balance_column_there_is_nothing_to_check() {
    let file = "2024-05-02,12.50,Ardoise,B1\n2024-05-02,-3.00,Frais,B2\n\n2024-05-03,1.00,Ardoise,B1\n";
    let s = &csv::parse(file.as_bytes(), &by_index()).unwrap()[0];
    assert_eq!((s.opening, s.closing), (Money::ZERO, eur("10.50")));
    assert_eq!(s.id, "csv/2024-05-02..2024-05-03");
    let ids: Vec<(&str, IdSource)> = s.transactions.iter().map(|t| (t.bank_id.as_str(), t.id_source)).collect();
    assert_eq!(ids, [("B1", IdSource::Transaction), ("B2", IdSource::Transaction), ("B1/2", IdSource::Transaction)]);
    assert_eq!(s.transactions[1].signed(), eur("-3.00"));
    let (element, line, _) = malformed(csv::parse(b"2024-05-02,12.50,Ardoise,B1\n2024-05-02\n", &by_index()));
    assert_eq!((element.as_str(), line), ("line 2, column 1", 2));
}

#[test]
fn identical_rows_get_distinct_stable_ids_also_in_an_overlapping_export() {
    let ids = |bytes: &[u8]| -> Vec<String> {
        csv::parse(bytes, &mapping()).unwrap()[0].transactions.iter().map(|t| t.bank_id.clone()).collect()
    };
    let first = ids(FILE);
    assert_ne!(first[1], first[2], "two identical fees the same day");
    assert_eq!(ids(FILE), first);
    // A wider export: a row of the day before, balances of its own.
    let t = text();
    let mut lines: Vec<&str> = t.split("\r\n").filter(|l| !l.is_empty()).collect();
    lines.insert(3, "01/05/2024;01/05/2024;VIR SEPA RECU /DE PAUL;;;1 000,00;1 234,56");
    let wider = ids(&latin1(&lines.join("\r\n")));
    assert_eq!(wider[1..], first[..]);
}

/// A random row: signed cents, day and label.
#[derive(Clone, Debug)]
struct Gen {
    cents: i64,
    day: u32,
    label: String,
    reference: Option<String>,
}

fn gen_row() -> impl Strategy<Value = Gen> {
    let text = || proptest::string::string_regex("[A-Za-z0-9éà/.-]([A-Za-z0-9 éà/.-]{0,30}[A-Za-z0-9éà/.-])?").unwrap();
    (-1_000_000_000i64..1_000_000_000, 1u32..=28, text(), prop::option::of(text()))
        .prop_map(|(cents, day, label, reference)| Gen { cents, day, label, reference })
}

fn french(cents: i64) -> String {
    let abs = cents.abs();
    let units = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i) % 3 == 0 {
            grouped.push('\u{a0}');
        }
        grouped.push(c);
    }
    format!("{}{grouped},{:02}", if cents < 0 { "-" } else { "" }, abs % 100)
}

proptest! {
    #[test]
    fn generated_exports_round_trip(
        mut rows in prop::collection::vec(gen_row(), 1..20),
        opening in -1_000_000_000i64..1_000_000_000,
        with_balance in any::<bool>(),
        split in any::<bool>(),
        latin in any::<bool>(),
    ) {
        rows.sort_by_key(|r| r.day);
        let mut m = CsvMapping::from_json(r#"{"date": "Date", "label": "Libellé", "reference": "Réf", "thousands_separator": " "}"#).unwrap();
        if split {
            (m.debit, m.credit) = (Some(Column::Name("Débit".into())), Some(Column::Name("Crédit".into())));
        } else {
            m.amount = Some(Column::Name("Montant".into()));
        }
        if with_balance {
            m.balance = Some(Column::Name("Solde".into()));
        }
        let mut out = String::from("Date;Libellé;Réf;Montant;Débit;Crédit;Solde\n");
        let mut balance = opening;
        for r in &rows {
            balance += r.cents;
            let (debit, credit) = if r.cents < 0 { (french(-r.cents), String::new()) } else { (String::new(), french(r.cents)) };
            let reference = r.reference.as_deref().unwrap_or_default();
            out += &format!("{:02}/06/2024;{};{reference};{};{debit};{credit};{}\n", r.day, r.label, french(r.cents), french(balance));
        }
        let bytes = if latin { latin1(&out) } else { out.into_bytes() };
        let s = &csv::parse(&bytes, &m).unwrap()[0];
        let movements: i64 = rows.iter().map(|r| r.cents).sum();
        if with_balance {
            prop_assert_eq!((s.opening.minor(), s.closing.minor()), (opening, opening + movements));
        } else {
            prop_assert_eq!((s.opening.minor(), s.closing.minor()), (0, movements));
        }
        prop_assert_eq!(s.transactions.len(), rows.len());
        for (t, r) in s.transactions.iter().zip(&rows) {
            prop_assert_eq!(t.signed().minor(), r.cents);
            prop_assert_eq!(t.direction == Direction::Debit, r.cents < 0);
            prop_assert_eq!(t.booking_date, NaiveDate::from_ymd_opt(2024, 6, r.day));
            prop_assert_eq!(t.bank_label.as_deref(), Some(r.label.as_str()));
            prop_assert_eq!(&t.remittance, &r.reference);
        }
        let mut ids: Vec<&str> = s.transactions.iter().map(|t| t.bank_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        prop_assert_eq!(ids.len(), s.transactions.len());
    }
}
