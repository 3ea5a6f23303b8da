//! A bank statement comes back by itself (issue 18, item 4): a CAMT.053 file is read, each
//! booked credit quoting a customer's payment reference becomes their payment on the back
//! office, the same file imported again records nothing twice, and what cannot be matched
//! (a mistyped reference, a debit) is left for the owner. Both tills receive each payment once.

mod backoffice;

use ardoise_core::{Money, bank};
use backoffice::{BackOffice, at, customer_with_sale, dispatcher, m};
use chrono::Duration;

/// A booked entry of `amount`, credit or debit, with its remittance information.
fn entry(id: &str, amount: &str, credit: bool, remittance: &str) -> String {
    let ind = if credit { "CRDT" } else { "DBIT" };
    format!(
        "<Ntry><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
         <BookgDt><Dt>2026-04-20</Dt></BookgDt><ValDt><Dt>2026-04-20</Dt></ValDt><AcctSvcrRef>{id}</AcctSvcrRef>
         <NtryDtls><TxDtls><Refs><AcctSvcrRef>{id}</AcctSvcrRef></Refs><Amt Ccy=\"EUR\">{amount}</Amt>
         <CdtDbtInd>{ind}</CdtDbtInd>{remittance}</TxDtls></NtryDtls></Ntry>"
    )
}

fn statement(entries: &[String], closing: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"><BkToCstmrStmt>
<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-04-21T06:00:00+02:00</CreDtTm></GrpHdr>
<Stmt><Id>S-2026-04-20</Id><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-04-19</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-04-20</Dt></Dt></Bal>
{}
</Stmt></BkToCstmrStmt></Document>",
        entries.join("\n")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_pays_the_customers_it_names_once_and_leaves_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let bo = BackOffice::start(dir.path()).await;
    let (db, shop) = (&bo.db, bo.shop);
    let start = at("2026-03-02T09:00:00+01:00");
    let a = bo.till(dir.path(), "a", start).await;
    let b = bo.till(dir.path(), "b", start).await;
    let (rf1, rf2) = {
        let s = a.lock().unwrap();
        customer_with_sale(&s, "C1", "Hélène Dupré", None, "84.20", start);
        customer_with_sale(&s, "C2", "Marc Petit", None, "40.00", start);
        (s.payment_reference("C1").unwrap(), s.payment_reference("C2").unwrap())
    };
    bo.sync(&a, start).await;

    // C1 quotes the reference in the structured field, C2 in the free text, printed in groups
    // of four; a third transfer has a reference with one digit wrong; the bank takes a fee.
    let compact = |rf: &ardoise_core::PaymentReference| rf.to_string().replace(' ', "");
    let mut typo = compact(&rf1);
    let last = typo.pop().unwrap();
    typo.push(if last == '9' { '8' } else { '9' });
    let xml = statement(
        &[
            entry(
                "TX-1",
                "84.20",
                true,
                &format!(
                    "<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{}</Ref></CdtrRefInf></Strd></RmtInf>",
                    compact(&rf1)
                ),
            ),
            entry("TX-2", "40.00", true, &format!("<RmtInf><Ustrd>VIR SEPA M PETIT {rf2}</Ustrd></RmtInf>")),
            entry("TX-3", "10.00", true, &format!("<RmtInf><Ustrd>ardoise {typo}</Ustrd></RmtInf>")),
            entry("FEE-1", "2.50", false, "<RmtInf><Ustrd>FRAIS TENUE DE COMPTE</Ustrd></RmtInf>"),
        ],
        "131.70",
    );
    let statements = bank::camt::parse(xml.as_bytes()).unwrap();

    let dispatcher = dispatcher(db, dir.path(), "merged", false);
    let now = at("2026-04-21T08:00:00+02:00");
    let first = dispatcher.import_statements(shop, &statements, now).await.unwrap();
    let applied: Vec<(&str, &str, Money)> =
        first.applied.iter().map(|x| (x.transaction.as_str(), x.customer.as_deref().unwrap(), x.amount)).collect();
    assert_eq!(applied, [("TX-1", "C1", m("84.20")), ("TX-2", "C2", m("40.00"))]);
    let left: Vec<(&str, Money)> = first.unmatched.iter().map(|x| (x.transaction.as_str(), x.amount)).collect();
    assert_eq!(left, [("TX-3", m("10.00")), ("FEE-1", m("-2.50"))], "{:?}", first.unmatched);
    assert!(first.unmatched[0].why.as_deref().unwrap().contains("wrong check digits"), "{:?}", first.unmatched[0]);
    let head = db.shop(shop).await.unwrap().head;

    // Another server process (its own copy, fed from the log) lists every line as the first
    // one left it: the lines and their matches travel in the shop's log.
    let again = backoffice::dispatcher(db, dir.path(), "merged-2", false);
    let listed = |lines: Vec<bank::Line>| -> Vec<(String, bank::LineState, Option<String>)> {
        let mut l: Vec<_> = lines.into_iter().map(|l| (l.transaction, l.state, l.customer)).collect();
        l.sort_by(|x, y| x.0.cmp(&y.0));
        l
    };
    let here = listed(dispatcher.bank_lines(shop, None, 50, now).await.unwrap());
    assert_eq!(here.len(), 4);
    assert_eq!(listed(again.bank_lines(shop, None, 50, now).await.unwrap()), here);
    // The same file again, later, on either process: nothing twice.
    for d in [&dispatcher, &again] {
        let r = d.import_statements(shop, &statements, now + Duration::hours(1)).await.unwrap();
        assert_eq!((r.imported, r.applied.len(), r.duplicates, r.unmatched.len()), (0, 0, 4, 0), "{r:?}");
    }
    assert_eq!(db.shop(shop).await.unwrap().head, head, "nothing more in the log");

    // Both tills hold each payment once, and both accounts are settled.
    for till in [&a, &b] {
        bo.sync(till, now + Duration::hours(2)).await;
        let s = till.lock().unwrap();
        let payments: Vec<_> = s.entries().unwrap().into_iter().filter(|e| e.body.kind() == "payment").collect();
        assert_eq!(payments.len(), 2, "{payments:?}");
        for c in ["C1", "C2"] {
            assert_eq!(s.account(c, now.date_naive()).unwrap().balance, Money::ZERO, "{c}");
        }
        // And the lines, as the back office left them, for the owner's phone to confirm.
        assert_eq!(listed(s.bank_lines(None, 50, 0).unwrap()), here);
        s.audit().unwrap();
    }
    bo.serving.shutdown(std::time::Duration::from_secs(1)).await.unwrap();
}
