//! The CAMT.053 reader against handwritten statements (from the schemas, one per version
//! family) and random ones generated as XML.

use chrono::NaiveDate;
use proptest::prelude::*;

use super::camt;
use super::{BankError, Direction, IdSource, Status};
use crate::money::Money;

const V02: &str = include_str!("../../tests/fixtures/bank/camt053_v02_two_statements.xml");
const V08: &str = include_str!("../../tests/fixtures/bank/camt053_v08_batch.xml");

fn eur(s: &str) -> Money {
    Money::parse(s).unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A one-statement document of `version` ("02" to "08") around `entries`.
fn doc(version: &str, opening: &str, closing: &str, entries: &str) -> String {
    // A minus sign in a balance is written as DBIT, as banks do.
    let signed = |a: &str| match a.strip_prefix('-') {
        Some(abs) => (abs.to_owned(), "DBIT"),
        None => (a.to_owned(), "CRDT"),
    };
    let ((opening, op_cd), (closing, cl_cd)) = (signed(opening), signed(closing));
    format!(
        r#"<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">
<BkToCstmrStmt><GrpHdr><MsgId>M</MsgId><CreDtTm>2024-05-02T06:00:00</CreDtTm></GrpHdr>
<Stmt><Id>S1</Id><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{opening}</Amt><CdtDbtInd>{op_cd}</CdtDbtInd><Dt><Dt>2024-04-30</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{closing}</Amt><CdtDbtInd>{cl_cd}</CdtDbtInd><Dt><Dt>2024-05-01</Dt></Dt></Bal>
{entries}
</Stmt></BkToCstmrStmt></Document>"#
    )
}

/// An entry with the status written as `version` writes it.
fn ntry(version: &str, amount: &str, cd: &str, status: &str) -> String {
    let sts = if version >= "08" { format!("<Sts><Cd>{status}</Cd></Sts>") } else { format!("<Sts>{status}</Sts>") };
    format!(
        "<Ntry><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>{cd}</CdtDbtInd>{sts}\
         <BookgDt><Dt>2024-05-01</Dt></BookgDt><ValDt><Dt>2024-05-01</Dt></ValDt></Ntry>"
    )
}

fn malformed(result: Result<Vec<super::Statement>, BankError>) -> (String, usize, String) {
    match result {
        Err(BankError::Malformed { element, line, reason }) => (element, line, reason),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn v02_two_statements_with_remittance_text_a_debit_and_a_pending_entry() {
    let stmts = camt::parse(V02.as_bytes()).unwrap();
    assert_eq!(stmts.len(), 2);

    let first = &stmts[0];
    assert_eq!(first.id, "STMT-2024-01-15");
    assert_eq!(first.account_iban.as_deref(), Some("FR7630006000011234567890189"));
    assert_eq!(first.currency, "EUR");
    assert_eq!((first.opening, first.closing), (eur("100.00"), eur("145.30")));
    assert_eq!((first.from, first.to), (Some(day("2024-01-15")), Some(day("2024-01-15"))));
    assert_eq!(first.transactions.len(), 2);

    let credit = &first.transactions[0];
    assert_eq!((credit.bank_id.as_str(), credit.id_source), ("BQ-0001", IdSource::Entry));
    assert_eq!((credit.amount, credit.direction, credit.status), (eur("50.00"), Direction::Credit, Status::Booked));
    assert_eq!(credit.booking_date, Some(day("2024-01-15")));
    assert_eq!(credit.counterparty_name.as_deref(), Some("Marie Dupont & Fils"));
    assert_eq!(credit.counterparty_iban.as_deref(), Some("FR1420041010050500013M02606"));
    assert_eq!(credit.remittance.as_deref(), Some("Facture 12 RF18 5390 0754 7034 merci"));
    assert_eq!(credit.end_to_end_id, None, "NOTPROVIDED is no id");
    let refs: Vec<String> = credit.payment_references().iter().map(|r| r.as_str().to_owned()).collect();
    assert_eq!(refs, ["RF18539007547034"], "the RF reference split over two Ustrd lines is found");

    let fee = &first.transactions[1];
    assert_eq!((fee.amount, fee.direction, fee.signed()), (eur("4.70"), Direction::Debit, eur("-4.70")));
    assert_eq!(fee.id_source, IdSource::Hash);
    assert_eq!(fee.bank_label.as_deref(), Some("FRAIS TENUE DE COMPTE JANVIER"));
    assert!(fee.bank_id.starts_with("h:") && fee.bank_id.len() == 34, "{}", fee.bank_id);

    let second = &stmts[1];
    assert_eq!((second.opening, second.closing), (eur("-20.00"), eur("0.00")), "PRCD in DBIT is negative");
    assert_eq!(second.account_iban.as_deref(), Some("FR7630006000011234567890189"));
    assert_eq!(second.transactions.len(), 2);
    let paid = &second.transactions[0];
    assert_eq!((paid.bank_id.as_str(), paid.id_source), ("2", IdSource::EntryRef));
    assert_eq!(paid.amount, eur("20.00"), "a single detail without amount takes the entry's");
    assert_eq!(paid.counterparty_name.as_deref(), Some("Boulangerie Martin"));
    assert_eq!(paid.end_to_end_id.as_deref(), Some("E2E-7781"));
    let pending = &second.transactions[1];
    assert_eq!((pending.status, pending.amount), (Status::Pending, eur("99.00")));
    assert_eq!(pending.booking_date, None);
    assert_eq!(second.movements(), eur("20.00"), "the pending entry is not a movement");
}

#[test]
fn v08_batch_of_three_with_structured_reference() {
    let stmts = camt::parse(V08.as_bytes()).unwrap();
    assert_eq!(stmts.len(), 1);
    let s = &stmts[0];
    let booked: Vec<_> = s.transactions.iter().filter(|t| t.status == Status::Booked).collect();
    assert_eq!(booked.len(), 3, "one transaction per TxDtls");
    let amounts: Vec<Money> = booked.iter().map(|t| t.amount).collect();
    assert_eq!(amounts, [eur("10.00"), eur("25.50"), eur("4.50")]);
    let ids: Vec<(&str, IdSource)> = booked.iter().map(|t| (t.bank_id.as_str(), t.id_source)).collect();
    assert_eq!(
        ids,
        [("TX-778-1", IdSource::Transaction), ("TX-778-2", IdSource::Transaction), ("LOT-778/3", IdSource::Entry)]
    );
    assert!(booked.iter().all(|t| t.booking_date == Some(day("2024-03-01"))), "BookgDt/DtTm read as a date");
    let first = booked[0];
    assert_eq!(first.creditor_reference.as_deref(), Some("RF18539007547034"));
    assert_eq!(first.payment_references()[0].as_str(), "RF18539007547034");
    assert_eq!(first.counterparty_name.as_deref(), Some("Café des Arts"), ".08 names the party in Pty/Nm");
    assert_eq!(first.end_to_end_id.as_deref(), Some("FACT-2024-031"));
    assert_eq!(booked[1].remittance.as_deref(), Some("Ardoise janvier"));
    assert_eq!(booked[1].end_to_end_id, None);

    let pending = &s.transactions[3];
    assert_eq!(
        (pending.status, pending.direction, pending.bank_id.as_str()),
        (Status::Pending, Direction::Debit, "PEND-1")
    );
    assert_eq!((s.opening, s.closing, s.movements()), (eur("0"), eur("40.00"), eur("40.00")));
}

#[test]
fn every_version_from_02_to_08_is_read_with_its_status_form() {
    for v in ["02", "03", "04", "05", "06", "07", "08"] {
        let entries =
            [ntry(v, "12.00", "CRDT", "BOOK"), ntry(v, "2.00", "DBIT", "BOOK"), ntry(v, "7.00", "CRDT", "PDNG")];
        let stmts = camt::parse(doc(v, "1.00", "11.00", &entries.concat()).as_bytes()).unwrap();
        let t = &stmts[0].transactions;
        assert_eq!(t.len(), 3, "version {v}");
        assert_eq!([t[0].status, t[1].status, t[2].status], [Status::Booked, Status::Booked, Status::Pending]);
        assert_eq!(t[1].signed(), eur("-2.00"));
    }
}

#[test]
fn an_entry_without_details_is_matched_by_the_banks_label() {
    let label = "<AddtlNtryInf>VIR SEPA RECU /DE CAFE DES ARTS /REF RF18 5390 0754 7034</AddtlNtryInf></Ntry>";
    let xml = doc("04", "0", "8.00", &ntry("04", "8.00", "CRDT", "BOOK").replace("</Ntry>", label));
    let t = &camt::parse(xml.as_bytes()).unwrap()[0].transactions[0];
    assert_eq!((t.remittance.as_deref(), t.creditor_reference.as_deref()), (None, None));
    assert_eq!(t.payment_references().iter().map(|r| r.as_str()).collect::<Vec<_>>(), ["RF18539007547034"]);
}

#[test]
fn a_prefixed_namespace_in_version_05_is_read() {
    let xml = doc("05", "0", "3.00", &ntry("05", "3.00", "CRDT", "BOOK"))
        .replace("<Document xmlns=", "<c:Document xmlns:c=")
        .replace("</Document>", "</c:Document>");
    assert_eq!(camt::parse(xml.as_bytes()).unwrap()[0].transactions[0].amount, eur("3.00"));
}

#[test]
fn an_unbalanced_statement_is_refused_with_its_numbers() {
    let xml = doc(
        "08",
        "100.00",
        "150.00",
        &[ntry("08", "60.00", "CRDT", "BOOK"), ntry("08", "5.00", "CRDT", "PDNG")].concat(),
    );
    assert_eq!(
        camt::parse(xml.as_bytes()),
        Err(BankError::Unbalanced {
            statement: "S1".into(),
            opening: eur("100.00"),
            movements: eur("60.00"),
            closing: eur("150.00"),
        })
    );
}

#[test]
fn one_bad_statement_refuses_the_whole_file() {
    let bad = V02.replace("<Amt Ccy=\"EUR\">0.00</Amt>", "<Amt Ccy=\"EUR\">0.01</Amt>");
    assert!(
        matches!(camt::parse(bad.as_bytes()), Err(BankError::Unbalanced { statement, .. }) if statement == "STMT-2024-01-16")
    );
}

#[test]
fn a_malformed_amount_is_refused_with_its_path_and_line() {
    let entries = [ntry("02", "1.00", "CRDT", "BOOK"), ntry("02", "1,50", "CRDT", "BOOK")].concat();
    let xml = doc("02", "0", "2.50", &entries);
    let (element, line, reason) = malformed(camt::parse(xml.as_bytes()));
    assert_eq!(element, "Stmt[1]/Ntry[2]/Amt");
    assert_eq!(line, 7, "{reason}");
    assert!(reason.contains("1,50"), "{reason}");

    let xml = doc("02", "0", "1.00", &ntry("02", "1.00", "CRDT", "BOOK").replace("<CdtDbtInd>CRDT</CdtDbtInd>", ""));
    assert_eq!(malformed(camt::parse(xml.as_bytes())).0, "Stmt[1]/Ntry[1]/CdtDbtInd");
}

#[test]
fn amounts_are_read_as_the_schema_writes_decimals() {
    for (written, cents) in [("+5", 500), (".50", 50), ("5.", 500), ("007.10", 710), ("0", 0)] {
        let xml = doc("03", "0", &signed_cents(cents), &ntry("03", written, "CRDT", "BOOK"));
        assert_eq!(camt::parse(xml.as_bytes()).unwrap()[0].transactions[0].amount.minor(), cents, "{written}");
    }
    for bad in ["-1.00", "1 000.00", "1,00", "1e2", ".", "+-1", "5..", "", "NaN"] {
        let xml = doc("03", "0", "1.00", &ntry("03", bad, "CRDT", "BOOK"));
        let (element, _, reason) = malformed(camt::parse(xml.as_bytes()));
        assert_eq!(element, "Stmt[1]/Ntry[1]/Amt", "{bad:?}: {reason}");
    }
}

#[test]
fn the_fault_is_named_in_the_statement_where_it_is() {
    let bad = V02.replace("<Amt Ccy=\"EUR\">99.00</Amt>", "<Amt Ccy=\"EUR\">99.OO</Amt>");
    let (element, line, _) = malformed(camt::parse(bad.as_bytes()));
    assert_eq!((element.as_str(), line), ("Stmt[2]/Ntry[2]/Amt", 107));
    let bad = V02.replace("<Sts>PDNG</Sts>", "<Sts>DONE</Sts>");
    assert_eq!(malformed(camt::parse(bad.as_bytes())).0, "Stmt[2]/Ntry[2]/Sts");
}

#[test]
fn a_byte_order_mark_is_skipped_and_a_second_root_refused() {
    let with_bom = [b"\xEF\xBB\xBF".as_slice(), V08.as_bytes()].concat();
    assert_eq!(camt::parse(&with_bom).unwrap()[0].transactions.len(), 4);
    let two_roots = format!("{V08}<Document/>");
    assert!(malformed(camt::parse(two_roots.as_bytes())).2.contains("second root"));
}

#[test]
fn three_decimals_are_refused() {
    let xml = doc("04", "0", "1.00", &ntry("04", "1.005", "CRDT", "BOOK"));
    let (element, _, reason) = malformed(camt::parse(xml.as_bytes()));
    assert_eq!(element, "Stmt[1]/Ntry[1]/Amt");
    assert!(reason.contains("more than 2 decimals"), "{reason}");
}

#[test]
fn another_currency_is_refused() {
    let xml = doc("08", "0", "1.00", &ntry("08", "1.00", "CRDT", "BOOK").replace("Ccy=\"EUR\"", "Ccy=\"CHF\""));
    assert_eq!(
        camt::parse(xml.as_bytes()),
        Err(BankError::Currency { element: "Stmt[1]/Ntry[1]/Amt".into(), line: 7, currency: "CHF".into() })
    );
}

#[test]
fn a_single_detail_in_the_payers_currency_takes_the_entrys_amount() {
    let usd = "<NtryDtls><TxDtls><AmtDtls><InstdAmt><Amt Ccy=\"USD\">11.00</Amt></InstdAmt>\
               <TxAmt><Amt Ccy=\"USD\">11.00</Amt></TxAmt></AmtDtls></TxDtls></NtryDtls></Ntry>";
    let xml = doc("02", "0", "10.00", &ntry("02", "10.00", "CRDT", "BOOK").replace("</Ntry>", usd));
    assert_eq!(camt::parse(xml.as_bytes()).unwrap()[0].transactions[0].amount, eur("10.00"));
    // In a batch the entry cannot say which part is whose: refused.
    let two = V08.replace("<Amt Ccy=\"EUR\">4.50</Amt>", "<Amt Ccy=\"USD\">4.90</Amt>");
    assert!(matches!(camt::parse(two.as_bytes()), Err(BankError::Currency { currency, .. }) if currency == "USD"));
}

#[test]
fn other_documents_are_refused() {
    for ns in ["camt.052.001.08", "camt.053.001.01", "camt.053.001.09", "pain.001.001.03"] {
        let xml = doc("02", "0", "0", "").replace("camt.053.001.02", ns);
        let err = camt::parse(xml.as_bytes()).unwrap_err();
        assert!(matches!(&err, BankError::UnknownFormat { found } if found.contains(ns)), "{err}");
    }
    let err = camt::parse(b"<Document><BkToCstmrStmt/></Document>").unwrap_err();
    assert!(matches!(err, BankError::UnknownFormat { .. }), "{err}");
    let err = camt::parse(b"<html xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"/>").unwrap_err();
    assert!(matches!(err, BankError::UnknownFormat { .. }), "{err}");
}

#[test]
fn broken_xml_is_refused_with_its_line() {
    let xml = doc("02", "0", "1.00", &ntry("02", "1.00", "CRDT", "BOOK")).replace("</Ntry>", "</Nrty>");
    let (_, line, reason) = malformed(camt::parse(xml.as_bytes()));
    assert_eq!(line, 7, "{reason}");
    let truncated = &V08[..V08.len() / 2];
    assert!(matches!(camt::parse(truncated.as_bytes()), Err(BankError::Malformed { .. })));
}

#[test]
fn a_batch_that_does_not_add_up_is_refused_naming_the_entry() {
    let bad = V08.replace("<Amt Ccy=\"EUR\">4.50</Amt>", "<Amt Ccy=\"EUR\">4.40</Amt>");
    assert_eq!(
        camt::parse(bad.as_bytes()),
        Err(BankError::BatchMismatch {
            entry: "Stmt[1]/Ntry[1]".into(),
            entry_amount: eur("40.00"),
            details: eur("39.90")
        })
    );
    let missing = V08.replace("<Amt Ccy=\"EUR\">4.50</Amt>", "");
    assert_eq!(malformed(camt::parse(missing.as_bytes())).0, "Stmt[1]/Ntry[1]/NtryDtls[1]/TxDtls[3]/Amt");
}

#[test]
fn pages_of_one_statement_balance_on_their_interim_balances() {
    let interim = |sub: &str| format!("<Tp><CdOrPrtry><Cd>ITBD</Cd></CdOrPrtry><SubTp><Cd>{sub}</Cd></SubTp></Tp>");
    let first = doc("08", "10.00", "15.00", &ntry("08", "5.00", "CRDT", "BOOK"))
        .replace("<Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>", &interim("CIBD"));
    let last = doc("08", "15.00", "12.00", &ntry("08", "3.00", "DBIT", "BOOK"))
        .replace("<Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>", &interim("OIBD"));
    for (page, opening, closing) in [(first, "10.00", "15.00"), (last, "15.00", "12.00")] {
        let s = &camt::parse(page.as_bytes()).unwrap()[0];
        assert_eq!((s.opening, s.closing), (eur(opening), eur(closing)));
    }
}

#[test]
fn missing_balances_are_named() {
    let xml = doc("03", "0", "0", "").replace("CLBD", "CLAV");
    let (element, _, reason) = malformed(camt::parse(xml.as_bytes()));
    assert_eq!((element.as_str(), reason.as_str()), ("Stmt[1]/Bal", "no closing balance (CLBD)"));
}

#[test]
fn ids_without_a_bank_reference_are_stable_and_distinct() {
    // Two identical fees the same day, no reference from the bank: two ids, the same each read.
    let entries = [ntry("06", "1.50", "DBIT", "BOOK"), ntry("06", "1.50", "DBIT", "BOOK")].concat();
    let xml = doc("06", "10.00", "7.00", &entries);
    let ids = |xml: &str| -> Vec<String> {
        camt::parse(xml.as_bytes()).unwrap()[0].transactions.iter().map(|t| t.bank_id.clone()).collect()
    };
    let first = ids(&xml);
    assert_eq!(first, ids(&xml));
    assert_ne!(first[0], first[1]);
    // A statement with another id and more entries the same day (an overlapping one) agrees.
    let wider = doc("06", "10.00", "12.00", &[entries.clone(), ntry("06", "5.00", "CRDT", "BOOK")].concat())
        .replace("<Id>S1</Id>", "<Id>MONTHLY-05</Id>");
    assert_eq!(ids(&wider)[..2], first[..]);
}

#[test]
fn details_sharing_a_bank_reference_get_one_id_each() {
    let copied = V08.replace("TX-778-2", "TX-778-1");
    let stmts = camt::parse(copied.as_bytes()).unwrap();
    let ids: Vec<&str> = stmts[0].transactions.iter().map(|t| t.bank_id.as_str()).collect();
    assert_eq!(ids, ["TX-778-1/1", "TX-778-1/2", "LOT-778/3", "PEND-1"]);
}

/// A random entry: cents, credit or not, booked or not, and the amounts of its transaction
/// details when it is batched (none: an entry without details).
#[derive(Clone, Debug)]
struct Gen {
    cents: i64,
    credit: bool,
    booked: bool,
    parts: Vec<i64>,
}

impl Gen {
    /// As a bank of `version` writes it: .02 has detail amounts only in `AmtDtls/TxAmt`.
    fn xml(&self, version: &str) -> String {
        let cd = if self.credit { "CRDT" } else { "DBIT" };
        let entry = ntry(version, &cents(self.cents), cd, if self.booked { "BOOK" } else { "PDNG" });
        if self.parts.is_empty() {
            return entry;
        }
        let details: String = self
            .parts
            .iter()
            .map(|&p| {
                let amt = format!("<Amt Ccy=\"EUR\">{}</Amt>", cents(p));
                if version == "02" {
                    format!("<TxDtls><AmtDtls><TxAmt>{amt}</TxAmt></AmtDtls></TxDtls>")
                } else {
                    format!("<TxDtls>{amt}<CdtDbtInd>{cd}</CdtDbtInd></TxDtls>")
                }
            })
            .collect();
        entry.replace("</Ntry>", &format!("<NtryDtls>{details}</NtryDtls></Ntry>"))
    }

    fn transactions(&self) -> Vec<i64> {
        if self.parts.is_empty() { vec![self.cents] } else { self.parts.clone() }
    }
}

fn gen_entry() -> impl Strategy<Value = Gen> {
    (0i64..10_000_000, any::<bool>(), prop::bool::weighted(0.8), prop::collection::vec(0i64..2_000_000, 0..4)).prop_map(
        |(cents, credit, booked, parts)| {
            let cents = if parts.is_empty() { cents } else { parts.iter().sum() };
            Gen { cents, credit, booked, parts }
        },
    )
}

fn cents(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

fn signed_cents(c: i64) -> String {
    if c < 0 { format!("-{}", cents(-c)) } else { cents(c) }
}

proptest! {
    #[test]
    fn generated_statements_round_trip_and_balance_exactly_when_generated_balanced(
        version in 2u8..=8,
        opening in -1_000_000i64..1_000_000,
        entries in prop::collection::vec(gen_entry(), 0..30),
        skew in prop_oneof![3 => Just(0i64), 1 => -500i64..500],
    ) {
        let v = format!("{version:02}");
        let movements: i64 = entries.iter().filter(|e| e.booked).map(|e| if e.credit { e.cents } else { -e.cents }).sum();
        let closing = opening + movements + skew;
        let body: String = entries.iter().map(|e| e.xml(&v)).collect();
        let xml = doc(&v, &signed_cents(opening), &signed_cents(closing), &body);
        let result = camt::parse(xml.as_bytes());
        if skew == 0 {
            let stmts = result.unwrap();
            let t = &stmts[0].transactions;
            let expected: Vec<(i64, bool, bool)> = entries
                .iter()
                .flat_map(|e| e.transactions().into_iter().map(move |c| (c, e.credit, e.booked)))
                .collect();
            let got: Vec<(i64, bool, bool)> = t
                .iter()
                .map(|t| (t.amount.minor(), t.direction == Direction::Credit, t.status == Status::Booked))
                .collect();
            prop_assert_eq!(got, expected);
            prop_assert_eq!(stmts[0].opening.minor(), opening);
            prop_assert_eq!(stmts[0].closing.minor(), closing);
            let mut ids: Vec<&str> = t.iter().map(|t| t.bank_id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            prop_assert_eq!(ids.len(), t.len(), "every transaction has its own id");
        } else {
            prop_assert_eq!(result, Err(BankError::Unbalanced {
                statement: "S1".into(),
                opening: Money::from_minor(opening),
                movements: Money::from_minor(movements),
                closing: Money::from_minor(closing),
            }));
        }
    }
}

mod cfonb;
mod csv;
mod ofx;
mod read;
