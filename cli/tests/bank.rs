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

#[test]
fn a_csv_export_with_its_mapping_is_suggested_then_confirmed_and_undone() {
    let t = Till::new();
    t.add("C1", "Hélène Dupré", &["--terms", "30"]);
    t.add("C2", "Marc Petit", &["--terms", "30"]);
    t.json(&["sale", "--customer", "C1", "--amount", "30.00", "--date", "2026-03-02"]);
    t.json(&["sale", "--customer", "C2", "--amount", "12.00", "--date", "2026-03-02"]);
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("banque.json");
    std::fs::write(
        &mapping,
        r#"{"delimiter": ";", "date": "Date", "amount": "Montant", "label": "Libellé",
            "counterparty_name": "Tiers", "bank_id": "Réf", "balance": "Solde"}"#,
    )
    .unwrap();
    let file = dir.path().join("export.csv");
    std::fs::write(
        &file,
        "Date;Réf;Tiers;Libellé;Montant;Solde\n\
         19/03/2026;B-1;MME HELENE DUPRE;VIREMENT;25,00;125,00\n\
         20/03/2026;B-2;BANQUE;FRAIS;-2,50;122,50\n",
    )
    .unwrap();
    // Without the mapping, a CSV is no format Ardoise knows: nothing written.
    t.fails(&["bank", "import", file.to_str().unwrap()], "not a bank statement");
    let r = t.json(&["bank", "import", file.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()]);
    assert_eq!((r["imported"].as_u64(), r["duplicates"].as_u64()), (Some(2), Some(0)), "{r}");
    assert_eq!(r["applied"].as_array().unwrap().len(), 0, "a name alone is never certain: {r}");
    let s = &r["suggested"][0];
    assert_eq!((s["transaction"].as_str(), s["amount"].as_str()), (Some("B-1"), Some("25.00")), "{r}");
    assert_eq!(s["suggestions"][0]["customer"], "C1");
    assert_eq!(s["suggestions"][0]["reasons"][0]["kind"], "name");
    assert_eq!(r["unmatched"][0]["transaction"], "B-2");

    // A debit cannot be confirmed; the suggestion can, by whoever confirms it.
    t.fails(&["bank", "confirm", "B-2", "--customer", "C2"], "money out");
    let l = t.json(&["--cashier", "Marc", "bank", "confirm", "B-1", "--customer", "C1"]);
    assert_eq!(
        (l["state"].as_str(), l["rule"].as_str(), l["by"].as_str()),
        (Some("applied"), Some("confirmed"), Some("Marc"))
    );
    assert_eq!(t.show("C1", "2026-03-21")["balance"], "5.00");
    let listed = t.json(&["bank", "list", "--state", "applied"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);

    // Undone: owed again, and importing the file again applies nothing.
    let l = t.json(&["bank", "undo", "B-1"]);
    assert_eq!(l["state"], "suggested");
    // The owner's day lists it again among the credits to confirm.
    let today = t.json(&["report", "today"]);
    assert_eq!(today["bank_to_confirm"][0]["transaction"], "B-1", "{today}");
    assert_eq!(t.show("C1", "2026-03-21")["balance"], "30.00");
    let again = t.json(&["bank", "import", file.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()]);
    assert_eq!((again["imported"].as_u64(), again["duplicates"].as_u64()), (Some(0), Some(2)));
    assert_eq!(t.show("C1", "2026-03-21")["balance"], "30.00");
}
