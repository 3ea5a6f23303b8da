//! `ardoise bank import` on a till's own database: a credit quoting a customer's payment
//! reference pays them once, however often the file is imported; a bad file writes nothing.

mod common;

use common::Till;

fn statement(rf: &str, closing: &str, amount: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.04"><BkToCstmrStmt>
<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-03-21T06:00:00</CreDtTm></GrpHdr>
<Stmt><Id>S1</Id><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-19</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-20</Dt></Dt></Bal>
<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-03-20</Dt></BookgDt>
<AcctSvcrRef>TX-1</AcctSvcrRef><NtryDtls><TxDtls><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<RmtInf><Ustrd>VIREMENT {rf}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>"#
    )
}

#[test]
fn a_statement_pays_the_customer_it_names_once() {
    let t = Till::new();
    t.add("C1", "Hélène Dupré", &["--terms", "30"]);
    t.json(&["sale", "--customer", "C1", "--amount", "30.00", "--date", "2026-03-02"]);
    let rf = t.show("C1", "2026-03-20")["payment_reference"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("releve.xml");
    std::fs::write(&file, statement(&rf, "30.00", "30.00")).unwrap();
    let first = t.json(&["bank", "import", file.to_str().unwrap()]);
    assert_eq!(first["applied"].as_array().unwrap().len(), 1, "{first}");
    assert_eq!(first["applied"][0]["customer"], "C1");
    let again = t.json(&["bank", "import", file.to_str().unwrap()]);
    assert_eq!((again["applied"].as_array().unwrap().len(), again["duplicates"].as_u64()), (0, Some(1)), "{again}");
    assert_eq!(t.show("C1", "2026-03-21")["balance"], "0.00");

    // Unbalanced: refused whole, nothing changes.
    let before = t.snapshot("C1");
    std::fs::write(&file, statement(&rf, "31.00", "30.00")).unwrap();
    t.fails(&["bank", "import", file.to_str().unwrap()], "is not the closing");
    assert_eq!(t.snapshot("C1"), before);
}
