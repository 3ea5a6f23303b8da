//! The CFONB 120 reader against a handwritten Latin-1 file (three statements of two accounts,
//! written from the brochure's positions) and random statements written as records.

use chrono::NaiveDate;
use proptest::prelude::*;

use super::super::cfonb;
use super::super::{BankError, Direction, IdSource, Statement};
use crate::money::Money;

const FILE: &[u8] = include_bytes!("../../../tests/fixtures/bank/cfonb120_three_statements_latin1.txt");

fn eur(s: &str) -> Money {
    Money::parse(s).unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn lines() -> Vec<String> {
    FILE.split(|&b| b == b'\n')
        .map(|l| l.iter().map(|&b| b as char).collect::<String>().trim_end_matches('\r').to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The fixture's records with `f` applied to line `n` (1-based), as a Latin-1 file.
fn edited(n: usize, f: impl Fn(&str) -> String) -> Vec<u8> {
    let lines: Vec<String> = lines().into_iter().enumerate().map(|(i, l)| if i + 1 == n { f(&l) } else { l }).collect();
    latin1(&lines.join("\r\n"))
}

fn latin1(s: &str) -> Vec<u8> {
    s.chars().map(|c| u8::try_from(c as u32).expect("a Latin-1 character")).collect()
}

/// Replaces positions `from`..=`to` (1-based) of `line`.
fn put(line: &str, from: usize, to: usize, text: &str) -> String {
    let mut chars: Vec<char> = line.chars().collect();
    assert_eq!(text.chars().count(), to - from + 1);
    chars.splice(from - 1..to, text.chars());
    chars.into_iter().collect()
}

fn malformed(result: Result<Vec<Statement>, BankError>) -> (String, usize, String) {
    match result {
        Err(BankError::Malformed { element, line, reason }) => (element, line, reason),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn three_statements_of_two_accounts_with_complements() {
    let stmts = cfonb::parse(FILE).unwrap();
    assert_eq!(stmts.len(), 3);

    let first = &stmts[0];
    assert_eq!(first.account_iban.as_deref(), Some("FR7630006000011234567890189"), "IBAN with the RIB key computed");
    assert_eq!(first.id, "30006-00001-12345678901/2024-05-02");
    assert_eq!((first.opening, first.closing), (eur("1234.56"), eur("1275.16")));
    assert_eq!((first.from, first.to), (Some(day("2024-05-01")), Some(day("2024-05-02"))));
    assert_eq!(first.transactions.len(), 3);
    let credit = &first.transactions[0];
    assert_eq!((credit.amount, credit.direction), (eur("50.00"), Direction::Credit));
    assert_eq!((credit.booking_date, credit.value_date), (Some(day("2024-05-02")), Some(day("2024-05-02"))));
    assert_eq!(credit.bank_label.as_deref(), Some("VIR SEPA RECU /DE MARIE DUPONT"));
    assert_eq!(credit.counterparty_name.as_deref(), Some("MARIE DUPONT"), "NPY names the payer");
    assert_eq!(credit.remittance.as_deref(), Some("FACT12 ARDOISE RF18 5390 0754 7034 E2E-7781"));
    assert_eq!(credit.end_to_end_id.as_deref(), Some("E2E-7781"));
    assert_eq!(credit.payment_references()[0].as_str(), "RF18539007547034");
    assert_eq!(credit.id_source, IdSource::Hash);
    let fee = &first.transactions[1];
    assert_eq!((fee.amount, fee.direction, fee.signed()), (eur("4.70"), Direction::Debit, eur("-4.70")));
    assert_eq!((fee.remittance.as_deref(), fee.counterparty_name.as_deref()), (None, None));

    let second = &stmts[1];
    assert!(
        second.account_iban.as_deref().unwrap().starts_with("FR")
            && super::super::is_iban(second.account_iban.as_deref().unwrap())
    );
    assert_eq!(
        (second.opening, second.closing),
        (eur("-20.00"), eur("12.34")),
        "a closing brace is a negative last digit"
    );
    let cafe = &second.transactions[1];
    assert_eq!(cafe.counterparty_name.as_deref(), Some("Café des Arts"), "Latin-1 decoded");
    assert_eq!(cafe.remittance.as_deref(), Some("Réglement ardoise avril"));
    assert_eq!(second.transactions[0].value_date, Some(day("2024-05-03")));

    let third = &stmts[2];
    assert_eq!(third.account_iban, first.account_iban);
    assert_eq!((third.opening, third.closing, third.movements()), (eur("1275.16"), eur("1282.16"), eur("7.00")));
}

#[test]
fn utf8_and_one_unbroken_stream_read_the_same() {
    let text: String = FILE.iter().map(|&b| b as char).collect();
    let latin1 = cfonb::parse(FILE).unwrap();
    assert_eq!(cfonb::parse(text.as_bytes()).unwrap(), latin1);
    assert_eq!(cfonb::parse(text.replace("\r\n", "").as_bytes()).unwrap(), latin1);
    assert_eq!(cfonb::parse(text.replace("\r\n", "\n").as_bytes()).unwrap(), latin1);
    assert!(cfonb::looks_like(FILE) && cfonb::looks_like(text.replace("\r\n", "").as_bytes()));
    assert!(!cfonb::looks_like(b"Date;Libelle;Montant\n"));
}

#[test]
fn an_unbalanced_statement_refuses_the_file_naming_its_lines() {
    let bad = edited(14, |l| put(l, 91, 104, "0000000000124D"));
    assert_eq!(
        cfonb::parse(&bad),
        Err(BankError::Unbalanced {
            statement: "10278-06076-00020318345/2024-05-02 (lines 9-14)".into(),
            opening: eur("-20.00"),
            movements: eur("32.34"),
            closing: eur("12.44"),
        })
    );
}

#[test]
fn a_malformed_amount_is_refused_with_its_line_and_positions() {
    let (element, line, reason) = malformed(cfonb::parse(&edited(6, |l| put(l, 91, 104, "00000000000 7}"))));
    assert_eq!((element.as_str(), line), ("line 6, positions 91-104 (montant)", 6));
    assert!(reason.contains("00000000000 7}"), "{reason}");
    let (element, _, reason) = malformed(cfonb::parse(&edited(6, |l| put(l, 91, 104, "0000000000047X"))));
    assert_eq!(element, "line 6, positions 91-104 (montant)");
    assert!(reason.contains("'X'"), "{reason}");
    let (element, line, _) = malformed(cfonb::parse(&edited(8, |l| put(l, 91, 104, "000000001275.F"))));
    assert_eq!((element.as_str(), line), ("line 8, positions 91-104 (nouveau solde)", 8));
}

#[test]
fn faults_of_structure_are_named() {
    let (element, line, reason) = malformed(cfonb::parse(&edited(3, |l| l[..119].to_owned())));
    assert_eq!((element.as_str(), line), ("line 3", 3));
    assert!(reason.contains("119"), "{reason}");
    let (element, _, reason) = malformed(cfonb::parse(&edited(5, |l| put(l, 1, 2, "06"))));
    assert_eq!(element, "line 5, positions 1-2 (code)");
    assert!(reason.contains("unknown record code \"06\""), "{reason}");
    // A movement after the 07 of its statement.
    let mut all = lines();
    all.swap(7, 8);
    let swapped = latin1(&all.join("\n"));
    let (element, line, reason) = malformed(cfonb::parse(&swapped));
    assert_eq!((element.as_str(), line), ("line 8, positions 1-2 (code)", 8), "{reason}");
    let unclosed = latin1(&lines()[..16].join("\n"));
    let (_, line, reason) = malformed(cfonb::parse(&unclosed));
    assert_eq!(line, 16);
    assert!(reason.contains("statement of line 15"), "{reason}");
    let (element, _, _) = malformed(cfonb::parse(&edited(7, |l| put(l, 22, 32, "99999999999"))));
    assert_eq!(element, "line 7, positions 3-32 (compte)");
    let (element, _, _) = malformed(cfonb::parse(&edited(6, |l| put(l, 35, 40, "310224"))));
    assert_eq!(element, "line 6, positions 35-40 (date de comptabilisation)");
    let (element, _, reason) = malformed(cfonb::parse(&edited(6, |l| put(l, 20, 20, "3"))));
    assert_eq!(element, "line 6, position 20 (nombre de décimales)", "{reason}");
    assert_eq!(
        cfonb::parse(&edited(6, |l| put(l, 17, 19, "USD"))),
        Err(BankError::Currency {
            element: "line 6, positions 17-19 (code devise)".into(),
            line: 6,
            currency: "USD".into()
        })
    );
}

#[test]
fn identical_movements_get_distinct_stable_ids_also_in_an_overlapping_statement() {
    let stmts = cfonb::parse(FILE).unwrap();
    let ids = |s: &Statement| s.transactions.iter().map(|t| t.bank_id.clone()).collect::<Vec<_>>();
    let first = ids(&stmts[0]);
    assert_ne!(first[1], first[2], "two identical fees the same day");
    assert!(first.iter().all(|id| id.starts_with("h:") && id.len() == 34));
    assert_eq!(ids(&cfonb::parse(FILE).unwrap()[0]), first, "the same file read twice");

    // One statement of account A over both days (a monthly one over the daily ones).
    let l = lines();
    let mut wide: Vec<String> = l[..7].to_vec();
    wide.push(l[15].clone());
    wide.push(l[16].clone());
    let wide = cfonb::parse(&latin1(&wide.join("\r\n"))).unwrap();
    assert_eq!(wide.len(), 1);
    assert_eq!(wide[0].id, "30006-00001-12345678901/2024-05-03");
    let mut expected = first.clone();
    expected.extend(ids(&stmts[2]));
    assert_eq!(ids(&wide[0]), expected);
}

/// A record as the brochure places its fields; `amount` in cents, signed.
fn record(
    code: &str,
    date: &str,
    amount: Option<i64>,
    label: &str,
    reference: &str,
    qualifier: &str,
    text: &str,
) -> String {
    let head = format!("{code}30006015800001EUR2 1234567890105{date}");
    let amount = amount.map(overpunch).unwrap_or_default();
    let line = match code {
        "01" | "07" => format!("{head}{:50}{amount}{:16}", "", ""),
        "04" => format!("{head}  {date}{label:31}  0000000  {amount}{reference:16}"),
        _ => format!("{head}     {qualifier:3}{text:70}  "),
    };
    assert_eq!(line.chars().count(), 120, "{line}");
    line
}

fn overpunch(cents: i64) -> String {
    let digits = format!("{:014}", cents.abs());
    let last = (digits.as_bytes()[13] - b'0') as usize;
    let signs: Vec<char> = if cents < 0 { "}JKLMNOPQR".chars().collect() } else { "{ABCDEFGHI".chars().collect() };
    format!("{}{}", &digits[..13], signs[last])
}

#[derive(Clone, Debug)]
struct Gen {
    cents: i64,
    credit: bool,
    day: u32,
    label: String,
    reference: String,
    name: Option<String>,
    lib: Option<String>,
}

fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Z0-9éèà/.-]([A-Z0-9 éèà/.-]{{0,{}}}[A-Z0-9éèà/.-])?", max - 2)).unwrap()
}

fn gen_movement() -> impl Strategy<Value = Gen> {
    (
        0i64..1_000_000_000,
        any::<bool>(),
        1u32..=28,
        text(31),
        prop::option::of(text(16)),
        prop::option::of(text(70)),
        prop::option::of(text(70)),
    )
        .prop_map(|(cents, credit, day, label, reference, name, lib)| Gen {
            cents,
            credit,
            day,
            label,
            reference: reference.unwrap_or_default(),
            name,
            lib,
        })
}

proptest! {
    #[test]
    fn generated_statements_round_trip(
        opening in -10_000_000_000i64..10_000_000_000,
        movements in prop::collection::vec(gen_movement(), 0..20),
        skew in prop_oneof![4 => Just(0i64), 1 => -500i64..500],
        latin in any::<bool>(),
    ) {
        let signed = |g: &Gen| if g.credit { g.cents } else { -g.cents };
        let closing = opening + movements.iter().map(signed).sum::<i64>() + skew;
        let mut lines = vec![record("01", "310324", Some(opening), "", "", "", "")];
        for g in &movements {
            let date = format!("{:02}0424", g.day);
            lines.push(record("04", &date, Some(signed(g)), &g.label, &g.reference, "", ""));
            let qualifier = if g.credit { "NPY" } else { "NBE" };
            if let Some(n) = &g.name { lines.push(record("05", &date, None, "", "", qualifier, n)); }
            if let Some(l) = &g.lib { lines.push(record("05", &date, None, "", "", "LIB", l)); }
        }
        lines.push(record("07", "300424", Some(closing), "", "", "", ""));
        let text = lines.join("\r\n");
        let bytes = if latin { latin1(&text) } else { text.into_bytes() };
        let result = cfonb::parse(&bytes);
        if skew != 0 {
            let is_unbalanced = matches!(result, Err(BankError::Unbalanced { .. }));
            prop_assert!(is_unbalanced);
            return Ok(());
        }
        let stmts = result.unwrap();
        prop_assert_eq!(stmts.len(), 1);
        let s = &stmts[0];
        prop_assert_eq!((s.opening.minor(), s.closing.minor()), (opening, closing));
        prop_assert_eq!((s.from, s.to), (Some(day("2024-04-01")), Some(day("2024-04-30"))));
        prop_assert_eq!(s.transactions.len(), movements.len());
        for (t, g) in s.transactions.iter().zip(&movements) {
            let date = NaiveDate::from_ymd_opt(2024, 4, g.day);
            prop_assert_eq!((t.amount.minor(), t.direction == Direction::Credit), (g.cents, g.credit));
            prop_assert_eq!((t.booking_date, t.value_date), (date, date));
            prop_assert_eq!(t.bank_label.as_deref(), Some(g.label.as_str()));
            prop_assert_eq!(&t.counterparty_name, &g.name);
            let remittance = super::super::join_texts([g.reference.as_str(), g.lib.as_deref().unwrap_or_default()]);
            prop_assert_eq!(&t.remittance, &remittance);
        }
        let mut ids: Vec<&str> = s.transactions.iter().map(|t| t.bank_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        prop_assert_eq!(ids.len(), s.transactions.len());
    }
}
