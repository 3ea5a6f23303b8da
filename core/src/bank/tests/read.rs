//! `bank::read` telling the formats apart by their content, and the account helpers.

use super::super::csv::CsvMapping;
use super::super::{BankError, Format, camt, cfonb, french_iban, is_iban, ofx, read};

const CAMT: &[u8] = include_bytes!("../../../tests/fixtures/bank/camt053_v02_two_statements.xml");
const CFONB: &[u8] = include_bytes!("../../../tests/fixtures/bank/cfonb120_three_statements_latin1.txt");
const OFX1: &[u8] = include_bytes!("../../../tests/fixtures/bank/ofx1_sgml_two_accounts_1252.ofx");
const OFX2: &[u8] = include_bytes!("../../../tests/fixtures/bank/ofx2_xml_statement.ofx");
const CSV: &[u8] = include_bytes!("../../../tests/fixtures/bank/csv_latin1_running_balance.csv");
const MAPPING: &str = include_str!("../../../tests/fixtures/bank/csv_mapping_example.json");

#[test]
fn each_format_is_recognised_by_its_content() {
    let mapping = CsvMapping::from_json(MAPPING).unwrap();
    assert_eq!(read(CAMT, None).unwrap(), (Format::Camt053, camt::parse(CAMT).unwrap()));
    assert_eq!(read(CFONB, Some(&mapping)).unwrap(), (Format::Cfonb120, cfonb::parse(CFONB).unwrap()));
    let stream: Vec<u8> = CFONB.iter().copied().filter(|&b| b != b'\r' && b != b'\n').collect();
    assert_eq!(read(&stream, None).unwrap().0, Format::Cfonb120);
    assert_eq!(read(OFX1, None).unwrap(), (Format::Ofx, ofx::parse(OFX1).unwrap()));
    assert_eq!(read(OFX2, None).unwrap(), (Format::Ofx, ofx::parse(OFX2).unwrap()));
    // An OFX 1.x body without its header lines is still OFX.
    let headerless = &OFX1[OFX1.windows(5).position(|w| w == b"<OFX>").unwrap()..];
    assert_eq!(read(headerless, None).unwrap().0, Format::Ofx);
    let (format, stmts) = read(CSV, Some(&mapping)).unwrap();
    assert_eq!((format, stmts.len(), stmts[0].transactions.len()), (Format::Csv, 1, 4));
}

#[test]
fn anything_else_is_an_unknown_format_naming_what_is_read() {
    let err = read(CSV, None).unwrap_err();
    assert!(
        matches!(&err, BankError::UnknownFormat { found } if found.starts_with("a file starting \"Relev")),
        "{err}"
    );
    let message = err.to_string();
    assert!(message.contains("camt.053") && message.contains("CFONB 120") && message.contains("OFX"), "{message}");
    assert!(message.contains("CSV export with its column mapping"), "{message}");
    assert_eq!(read(b"  \n", None), Err(BankError::UnknownFormat { found: "an empty file".into() }));
    let pain = b"<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\"/>";
    assert!(matches!(read(pain, None), Err(BankError::UnknownFormat { found }) if found.contains("pain.001")));
}

#[test]
fn ibans_are_checked_and_made_from_a_rib() {
    assert!(is_iban("FR7630006000011234567890189"));
    assert!(is_iban("BE68539007547034"));
    assert!(!is_iban("FR7630006000011234567890188"), "wrong check digits");
    assert!(!is_iban("fr7630006000011234567890189"));
    assert!(!is_iban("12345678901"));
    assert_eq!(french_iban("30006", "00001", "12345678901").as_deref(), Some("FR7630006000011234567890189"));
    let with_letters = french_iban("20041", "01005", "0500013M026").unwrap();
    assert_eq!(with_letters, "FR1420041010050500013M02606", "letters counted as the RIB counts them");
    assert_eq!(french_iban("3000", "00001", "12345678901"), None);
}
