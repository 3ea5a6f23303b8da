//! The OFX reader against a handwritten 1.x file (SGML, Windows-1252, two accounts) and a 2.x
//! one (XML), written from the OFX specification, and random statements written in both.

use chrono::NaiveDate;
use proptest::prelude::*;

use super::super::ofx;
use super::super::{BankError, Direction, IdSource, Statement};
use crate::money::Money;

const SGML: &[u8] = include_bytes!("../../../tests/fixtures/bank/ofx1_sgml_two_accounts_1252.ofx");
const XML: &str = include_str!("../../../tests/fixtures/bank/ofx2_xml_statement.ofx");

fn eur(s: &str) -> Money {
    Money::parse(s).unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The SGML fixture as text (Latin-1 read byte for byte), to edit, and back to Latin-1 bytes.
fn sgml_text() -> String {
    SGML.iter().map(|&b| b as char).collect()
}

fn latin1(s: &str) -> Vec<u8> {
    s.chars().map(|c| u8::try_from(c as u32).expect("a Latin-1 character")).collect()
}

/// 1-based line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    1 + text[..text.find(needle).expect(needle)].matches('\n').count()
}

fn malformed(result: Result<Vec<Statement>, BankError>) -> (String, usize, String) {
    match result {
        Err(BankError::Malformed { element, line, reason }) => (element, line, reason),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

const TRN4: &str = "OFX/BANKMSGSRSV1/STMTTRNRS[1]/STMTRS/BANKTRANLIST/STMTTRN[4]";

#[test]
fn ofx1_sgml_two_accounts_in_windows_1252() {
    let stmts = ofx::parse(SGML).unwrap();
    assert_eq!(stmts.len(), 2);
    let first = &stmts[0];
    assert_eq!(first.account_iban.as_deref(), Some("FR7630006000011234567890189"), "built from BANKID/BRANCHID/ACCTID");
    assert_eq!(first.id, "FR7630006000011234567890189/2024-05-01..2024-05-02");
    assert_eq!((first.from, first.to), (Some(day("2024-05-01")), Some(day("2024-05-02"))));
    assert_eq!(first.transactions.len(), 4);
    assert_eq!((first.closing, first.movements(), first.opening), (eur("1243.96"), eur("9.40"), eur("1234.56")));

    let credit = &first.transactions[0];
    assert_eq!((credit.bank_id.as_str(), credit.id_source), ("F24050200001", IdSource::Transaction));
    assert_eq!((credit.amount, credit.direction), (eur("50.00"), Direction::Credit));
    assert_eq!((credit.booking_date, credit.value_date), (Some(day("2024-05-02")), Some(day("2024-05-03"))));
    assert_eq!(credit.bank_label.as_deref(), Some("VIR SEPA RECU /DE MARIE DUPONT"));
    assert_eq!(credit.remittance.as_deref(), Some("Ardoise RF18 5390 0754 7034"));
    assert_eq!(credit.payment_references()[0].as_str(), "RF18539007547034");

    let fee = &first.transactions[1];
    assert_eq!((fee.amount, fee.direction), (eur("4.70"), Direction::Debit), "a comma as decimal separator");
    assert_eq!(fee.booking_date, Some(day("2024-05-02")), "the date as written, time zone not applied");

    let cheque = &first.transactions[3];
    assert_eq!(cheque.counterparty_name.as_deref(), Some("Café des Arts"), "PAYEE/NAME, decoded from 1252");
    assert_eq!(cheque.bank_label.as_deref(), Some("CHEQUE 1234567"));
    assert_eq!(cheque.remittance.as_deref(), Some("Livraison café & thé 1234567"), "MEMO then CHECKNUM");

    let savings = &stmts[1];
    assert_eq!(savings.account_iban, None, "not an IBAN, not a RIB");
    assert_eq!(savings.id, "BANQUEX 000123456/2024-05-01..2024-05-02");
    assert_eq!((savings.closing, savings.opening), (eur("-20.50"), eur("-120.50")));
    let xfer = &savings.transactions[0];
    assert_eq!((xfer.amount, xfer.direction), (eur("100.00"), Direction::Credit));
    assert_eq!(
        xfer.counterparty_iban.as_deref(),
        Some("FR7630006000011234567890189"),
        "a 13-character ACCTID with its RIB key"
    );
}

#[test]
fn ofx2_xml() {
    let stmts = ofx::parse(XML.as_bytes()).unwrap();
    assert_eq!(stmts.len(), 1);
    let s = &stmts[0];
    assert_eq!(s.account_iban.as_deref(), Some("BE68539007547034"));
    assert_eq!((s.from, s.to), (Some(day("2024-06-01")), Some(day("2024-06-30"))));
    assert_eq!((s.opening, s.closing), (eur("100.00"), eur("110.34")));
    let t = &s.transactions[0];
    assert_eq!(t.remittance.as_deref(), Some("Ardoise mai & juin RF18539007547034"));
    assert_eq!(t.payment_references()[0].as_str(), "RF18539007547034");
    assert_eq!(s.transactions[1].signed(), eur("-2.00"), "ORIGCURRENCY: the amount is already in EUR");
}

#[test]
fn ofx_cannot_be_balance_checked_the_opening_is_derived() {
    // Whatever the closing balance says, nothing can contradict it: no opening balance in OFX.
    for balance in ["0", "-99999.99", "1243.95"] {
        let text = sgml_text().replacen("<BALAMT>1243.96", &format!("<BALAMT>{balance}"), 1);
        let s = &ofx::parse(&latin1(&text)).unwrap()[0];
        assert_eq!(s.closing, eur(balance));
        assert_eq!(s.opening + s.movements(), s.closing);
        assert_eq!(s.opening, eur(balance) - eur("9.40"));
    }
}

#[test]
fn a_malformed_amount_is_refused_with_its_element_and_line() {
    let text = sgml_text().replace("<TRNAMT>-31.20", "<TRNAMT>-31.2O");
    let (element, line, reason) = malformed(ofx::parse(&latin1(&text)));
    assert_eq!((element, line), (format!("{TRN4}/TRNAMT"), line_of(&text, "-31.2O")));
    assert!(reason.contains("-31.2O"), "{reason}");
    let text = sgml_text().replace("<TRNAMT>-31.20", "<TRNAMT>-31.205");
    assert!(malformed(ofx::parse(&latin1(&text))).2.contains("more than 2 decimals"));
    let xml = XML.replace("<TRNAMT>12.34</TRNAMT>", "<TRNAMT>12 34</TRNAMT>");
    let (element, line, _) = malformed(ofx::parse(xml.as_bytes()));
    assert_eq!(element, "OFX/BANKMSGSRSV1/STMTTRNRS[1]/STMTRS/BANKTRANLIST/STMTTRN[1]/TRNAMT");
    assert_eq!(line, line_of(&xml, "12 34"));
    let text = sgml_text().replacen("<DTPOSTED>20240502", "<DTPOSTED>2024-05-02", 1);
    assert_eq!(
        malformed(ofx::parse(&latin1(&text))).0,
        "OFX/BANKMSGSRSV1/STMTTRNRS[1]/STMTRS/BANKTRANLIST/STMTTRN[1]/DTPOSTED"
    );
}

#[test]
fn other_currencies_and_broken_structure_are_refused() {
    let text = sgml_text().replacen("<CURDEF>EUR", "<CURDEF>USD", 1);
    assert_eq!(
        ofx::parse(&latin1(&text)),
        Err(BankError::Currency {
            element: "OFX/BANKMSGSRSV1/STMTTRNRS[1]/STMTRS/CURDEF".into(),
            line: line_of(&text, "<CURDEF>USD"),
            currency: "USD".into()
        })
    );
    let xml = XML.replace("<ORIGCURRENCY>", "<CURRENCY>").replace("</ORIGCURRENCY>", "</CURRENCY>");
    assert!(matches!(ofx::parse(xml.as_bytes()), Err(BankError::Currency { currency, .. }) if currency == "USD"));

    let unclosed = sgml_text().replacen("</BANKTRANLIST>", "", 1);
    let (_, line, reason) = malformed(ofx::parse(&latin1(&unclosed)));
    assert!(reason.contains("<BANKTRANLIST> of line 37 is not closed before </STMTRS>"), "{reason}");
    assert_eq!(line, line_of(&unclosed, "</STMTRS>"));
    let stray = sgml_text().replacen("</PAYEE>", "</PAYER>", 1);
    assert!(malformed(ofx::parse(&latin1(&stray))).2.contains("</PAYER> closes no open <PAYER>"));
    let truncated = &SGML[..SGML.len() / 2];
    assert!(malformed(ofx::parse(truncated)).2.contains("ends before"));
    let no_bank = XML.replace("BANKMSGSRSV1", "CREDITCARDMSGSRSV1");
    assert_eq!(malformed(ofx::parse(no_bank.as_bytes())).0, "OFX/BANKMSGSRSV1");
}

#[test]
fn an_empty_leaf_does_not_swallow_its_siblings() {
    let text = sgml_text().replacen("<NAME>FRAIS TENUE DE COMPTE", "<MEMO>\r\n<NAME>FRAIS TENUE DE COMPTE", 1);
    let s = &ofx::parse(&latin1(&text)).unwrap()[0];
    assert_eq!(s.transactions[1].bank_label.as_deref(), Some("FRAIS TENUE DE COMPTE"));
    assert_eq!(s.transactions[1].remittance, None);
    // Leaves closed explicitly, as some 1.x writers do, read the same.
    let closed = sgml_text().replace("<FITID>F24050200001", "<FITID>F24050200001</FITID>");
    assert_eq!(ofx::parse(&latin1(&closed)).unwrap(), ofx::parse(SGML).unwrap());
}

#[test]
fn ids_are_fitids_stable_and_distinct_else_hashes() {
    let ids = |bytes: &[u8]| -> Vec<String> {
        ofx::parse(bytes).unwrap()[0].transactions.iter().map(|t| t.bank_id.clone()).collect()
    };
    assert_eq!(ids(SGML), ["F24050200001", "F24050200002", "F24050200003", "F24050200004"]);
    assert_eq!(ids(SGML), ids(SGML));
    // A repeated FITID (a bank's export bug) does not hide the second transaction.
    let repeated = sgml_text().replace("F24050200003", "F24050200002");
    assert_eq!(ids(&latin1(&repeated))[1..3], ["F24050200002", "F24050200002/2"]);

    // No FITID: the two identical fees of one day get two hashed ids, the same on each read
    // and in an overlapping statement (other dates, the credit left out).
    let no_fitid: String =
        sgml_text().lines().filter(|l| !l.starts_with("<FITID>F2405")).collect::<Vec<_>>().join("\r\n");
    let first = ids(&latin1(&no_fitid));
    assert!(first.iter().all(|id| id.starts_with("h:")));
    assert_ne!(first[1], first[2]);
    assert_eq!(ids(&latin1(&no_fitid)), first);
    let start = no_fitid.find("<STMTTRN>").unwrap();
    let end = no_fitid[start..].find("</STMTTRN>").unwrap() + start + "</STMTTRN>".len();
    let overlapping =
        format!("{}{}", &no_fitid[..start], &no_fitid[end..]).replacen("<DTSTART>20240501", "<DTSTART>20240415", 1);
    let later = ofx::parse(&latin1(&overlapping)).unwrap();
    assert_eq!(later[0].transactions.iter().map(|t| t.bank_id.clone()).collect::<Vec<_>>(), first[1..]);
    assert_eq!(later[0].transactions[0].id_source, IdSource::Hash);
}

/// A random transaction: cents (signed), day, name and memo.
#[derive(Clone, Debug)]
struct Gen {
    cents: i64,
    day: u32,
    name: String,
    memo: Option<String>,
    comma: bool,
}

fn text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[A-Za-z0-9éà/.-]([A-Za-z0-9 éà/.-]{0,30}[A-Za-z0-9éà/.-])?").unwrap()
}

fn gen_trn() -> impl Strategy<Value = Gen> {
    (-100_000_000i64..100_000_000, 1u32..=30, text(), prop::option::of(text()), any::<bool>())
        .prop_map(|(cents, day, name, memo, comma)| Gen { cents, day, name, memo, comma })
}

fn amount(cents: i64, comma: bool) -> String {
    let sep = if comma { "," } else { "." };
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}{sep}{:02}", cents.abs() / 100, cents.abs() % 100)
}

/// The statement as OFX 1.x SGML (`xml == false`) or 2.x XML.
fn write(trns: &[Gen], closing: i64, xml: bool) -> String {
    let leaf = |tag: &str, v: &str| if xml { format!("<{tag}>{v}</{tag}>\n") } else { format!("<{tag}>{v}\n") };
    let mut body = String::new();
    for (i, g) in trns.iter().enumerate() {
        body += "<STMTTRN>\n";
        body += &leaf("TRNTYPE", if g.cents < 0 { "DEBIT" } else { "CREDIT" });
        body += &leaf("DTPOSTED", &format!("202406{:02}120000", g.day));
        body += &leaf("TRNAMT", &amount(g.cents, g.comma));
        body += &leaf("FITID", &format!("T{i}"));
        body += &leaf("NAME", &g.name);
        if let Some(m) = &g.memo {
            body += &leaf("MEMO", m);
        }
        body += "</STMTTRN>\n";
    }
    let header = if xml {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<?OFX OFXHEADER=\"200\" VERSION=\"211\"?>\n"
    } else {
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nCHARSET:1252\n\n"
    };
    format!(
        "{header}<OFX><BANKMSGSRSV1><STMTTRNRS>{}<STMTRS>{}<BANKACCTFROM>{}{}{}</BANKACCTFROM><BANKTRANLIST>{}{}{body}</BANKTRANLIST><LEDGERBAL>{}{}</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n",
        leaf("TRNUID", "1"),
        leaf("CURDEF", "EUR"),
        leaf("BANKID", "30006"),
        leaf("BRANCHID", "00001"),
        leaf("ACCTID", "12345678901"),
        leaf("DTSTART", "20240601"),
        leaf("DTEND", "20240630"),
        leaf("BALAMT", &amount(closing, false)),
        leaf("DTASOF", "20240630"),
    )
}

proptest! {
    #[test]
    fn generated_statements_round_trip(
        trns in prop::collection::vec(gen_trn(), 0..20),
        closing in -1_000_000_000i64..1_000_000_000,
        xml in any::<bool>(),
        latin in any::<bool>(),
    ) {
        let text = write(&trns, closing, xml);
        let bytes = if latin && !xml { latin1(&text) } else { text.into_bytes() };
        let stmts = ofx::parse(&bytes).unwrap();
        prop_assert_eq!(stmts.len(), 1);
        let s = &stmts[0];
        prop_assert_eq!(s.closing.minor(), closing);
        prop_assert_eq!(s.opening.minor(), closing - trns.iter().map(|g| g.cents).sum::<i64>());
        prop_assert_eq!((s.from, s.to), (Some(day("2024-06-01")), Some(day("2024-06-30"))));
        prop_assert_eq!(s.transactions.len(), trns.len());
        for (i, (t, g)) in s.transactions.iter().zip(&trns).enumerate() {
            prop_assert_eq!(t.signed().minor(), g.cents);
            prop_assert_eq!(t.direction == Direction::Debit, g.cents < 0);
            prop_assert_eq!(t.booking_date, NaiveDate::from_ymd_opt(2024, 6, g.day));
            prop_assert_eq!(t.bank_label.as_deref(), Some(g.name.as_str()));
            prop_assert_eq!(&t.remittance, &g.memo);
            prop_assert_eq!(&t.bank_id, &format!("T{i}"));
        }
    }
}
