//! Matching a bank statement against the shop (issue 18): a CAMT.053 file of 10,000
//! transactions (references, invoice numbers, payers' names, debits, noise) read and taken into
//! a copy of the generated 50,000-customer, 5,000,000-entry shop, parsing included. Against it,
//! on another copy of the same shop, the write pattern the import had before: each payment its
//! own unit of work (its own commit and fsync). The two run alternately, each on a fresh copy.
//!
//! `cargo bench -p ardoise-core --bench bank`; `ARDOISE_BENCH_CUSTOMERS`/`_ENTRIES` scale the
//! shop as for the `shop` bench, `ARDOISE_BENCH_TRANSACTIONS` the statement, `ARDOISE_BENCH_BASELINE=0` skips the
//! one-unit-per-payment baseline. Prints one line
//! per run and writes `target/bench-data/bank.json`.

#[path = "shop/dataset.rs"]
#[allow(dead_code)]
mod dataset;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use ardoise_core::bank::{self, Statement};
use ardoise_core::{EntryRequest, Money, PaymentMethod, PaymentReference, Store};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rusqlite::{Connection, OpenFlags};
use uuid::Uuid;

use dataset::Size;

const ACCOUNT: &str = "FR7630006000011234567890189";

/// An open invoice of the generated shop, with its customer.
struct Open {
    customer: Uuid,
    reference: String,
    name: String,
    invoice: String,
    cents: i64,
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let size = Size::from_env(if measuring { Size::FULL } else { Size::SMOKE });
    let count: usize = std::env::var("ARDOISE_BENCH_TRANSACTIONS")
        .ok()
        .map(|v| v.replace('_', "").parse().expect("ARDOISE_BENCH_TRANSACTIONS"))
        .unwrap_or(if measuring { 10_000 } else { 200 });
    // `ARDOISE_BENCH_ROUNDS` (default 3): after / before pairs.
    let rounds: usize =
        std::env::var("ARDOISE_BENCH_ROUNDS").ok().map(|v| v.parse().expect("ARDOISE_BENCH_ROUNDS")).unwrap_or(3);
    // `ARDOISE_BENCH_BASELINE=0`: the import alone (to profile it).
    let baseline = std::env::var("ARDOISE_BENCH_BASELINE").map_or(true, |v| v != "0");
    let shop = dataset::ensure(size);
    let open = open_invoices(&shop.path);
    let (xml, payments) = statement(&open, count);
    eprintln!("statement: {count} transactions, {} KB; {} open invoices in the shop", xml.len() / 1024, open.len());

    let mut after = Vec::new();
    let mut before = Vec::new();
    let mut last = None;
    for round in 0..rounds {
        let (total, (parsed, report)) = with_copy(&shop.path, |store| {
            let started = Instant::now();
            let statements = bank::camt::parse(xml.as_bytes()).expect("the statement reads");
            let parsed = started.elapsed();
            let report = store.import_statements(&statements, "bank", dataset::now()).expect("import");
            (started.elapsed(), (parsed, report))
        });
        eprintln!(
            "round {round}: matched in {} (parsing {}): {} applied, {} suggested, {} unmatched",
            ms(total),
            ms(parsed),
            report.applied.len(),
            report.suggested.len(),
            report.unmatched.len()
        );
        after.push(total);
        last = Some(report);

        if !baseline {
            continue;
        }
        let (t, ()) = with_copy(&shop.path, |store| {
            let started = Instant::now();
            for (bank_id, customer, cents) in &payments {
                let req = EntryRequest::Payment {
                    amount: Money::from_minor(*cents),
                    method: PaymentMethod::Transfer,
                    invoice: None,
                };
                let id = bank::entry_id(ACCOUNT, bank_id);
                store.record_once(id, customer, None, "bank", req, dataset::now()).expect("payment");
            }
            (started.elapsed(), ())
        });
        eprintln!("round {round}: one unit of work per payment ({} payments): {}", payments.len(), ms(t));
        before.push(t);
    }
    let last = last.expect("a round");
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    if before.is_empty() {
        before.push(Duration::ZERO);
    }
    let (a, b) = (median(&mut after), median(&mut before));
    println!(
        "bank statement of {count} transactions on {}: {} in all (median of {rounds}); \
         the {} payments one unit of work each: {} ({:.1}x)",
        size.label(),
        ms(a),
        payments.len(),
        ms(b),
        b.as_secs_f64() / a.as_secs_f64()
    );
    let json = serde_json::json!({
        "shop": size.label(),
        "transactions": count,
        "applied": last.applied.len(),
        "suggested": last.suggested.len(),
        "unmatched": last.unmatched.len(),
        "import_ms": after.iter().map(|d| d.as_secs_f64() * 1e3).collect::<Vec<_>>(),
        "one_unit_per_payment_ms": before.iter().map(|d| d.as_secs_f64() * 1e3).collect::<Vec<_>>(),
    });
    std::fs::write(dataset::data_dir().join("bank.json"), serde_json::to_string_pretty(&json).expect("json"))
        .expect("write bank.json");
    assert!(!last.applied.is_empty(), "the statement applies payments");
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

/// Runs `f` on a fresh copy of the shop (so every run starts from the same ledger).
fn with_copy<T>(path: &std::path::Path, f: impl FnOnce(&Store) -> (Duration, T)) -> (Duration, T) {
    let dir = tempfile::tempdir_in(dataset::data_dir()).expect("temp dir");
    let copy = dir.path().join("shop.db");
    std::fs::copy(path, &copy).expect("copy the shop");
    // On disk before the clock starts: the import's first fsync would otherwise write out the
    // gigabytes of the copy still in the page cache, and time that.
    // Opened once and closed first: a schema upgrade the copy needs is written and
    // checkpointed here, not during the import.
    drop(Store::open(&copy).expect("open the copy"));
    std::fs::File::open(&copy).and_then(|f| f.sync_all()).expect("sync the copy");
    let store = Store::open(&copy).expect("open the copy");
    let out = f(&store);
    // What the commit wrote: the WAL keeps its size until it is written over.
    let wal = std::fs::metadata(dir.path().join("shop.db-wal")).map_or(0, |m| m.len());
    eprintln!("  WAL after the write: {} frames ({} MB)", wal / 4120, wal / 1_000_000);
    out
}

fn open_invoices(path: &std::path::Path) -> Vec<Open> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open the shop");
    let mut stmt = conn
        .prepare(
            "SELECT c.uuid, c.reference, c.name, i.reference, i.amount - i.settled
             FROM items i JOIN customers c ON c.id = i.customer_id WHERE i.open = 1 AND i.charge = 0",
        )
        .expect("query");
    stmt.query_map([], |r| {
        Ok(Open { customer: r.get(0)?, reference: r.get(1)?, name: r.get(2)?, invoice: r.get(3)?, cents: r.get(4)? })
    })
    .expect("rows")
    .collect::<Result<_, _>>()
    .expect("open invoices")
}

/// A one-statement CAMT.053 file of `count` transactions, and the payments the old import
/// would have recorded (those quoting a reference): (bank id, customer, cents). Who pays: by
/// default a customer drawn at random among those with something open, then one of their open
/// invoices (`ARDOISE_BENCH_PICK=customer`); with `invoice`, an open invoice drawn at random,
/// which makes the few customers with hundreds of open invoices (the generator's long tail)
/// pay most of the transfers, each payment then folding all of their open invoices.
fn statement(open: &[Open], count: usize) -> (String, Vec<(String, String, i64)>) {
    let mut rng = StdRng::seed_from_u64(0xBA4C);
    let by_invoice = std::env::var("ARDOISE_BENCH_PICK").is_ok_and(|v| v == "invoice");
    let mut picks: Vec<&Open> = if by_invoice {
        open.iter().collect()
    } else {
        let mut by_customer: std::collections::BTreeMap<Uuid, Vec<&Open>> = std::collections::BTreeMap::new();
        for o in open {
            by_customer.entry(o.customer).or_default().push(o);
        }
        let mut customers: Vec<Vec<&Open>> = by_customer.into_values().collect();
        customers.shuffle(&mut rng);
        customers.iter().map(|invoices| invoices[rng.random_range(0..invoices.len())]).collect()
    };
    picks.shuffle(&mut rng);
    let mut picks = picks.into_iter().cycle();
    let mut entries = String::new();
    let mut payments = Vec::new();
    let mut movements = 0i64;
    for k in 0..count {
        let o = picks.next().expect("an open invoice");
        let id = format!("TX{k:06}");
        let roll = rng.random_range(0..100);
        let (cents, credit, text, name) = match roll {
            // Quotes the customer's reference: certain.
            0..55 => {
                payments.push((id.clone(), o.reference.clone(), o.cents));
                (o.cents, true, format!("VIR SEPA {}", PaymentReference::for_customer(o.customer)), None)
            }
            // Names the invoice, for its open amount: certain.
            55..75 => (o.cents, true, format!("Facture {} merci", o.invoice), None),
            // Only the payer's name, a round amount: a suggestion at best.
            75..85 => (rng.random_range(1..200) * 100, true, "VIREMENT".to_owned(), Some(o.name.clone())),
            // The bank's fees and the shop's own payments.
            85..95 => (rng.random_range(100..50_000), false, "PRLV SEPA FOURNISSEUR".to_owned(), None),
            // Nothing to go by.
            _ => (rng.random_range(100..10_000), true, format!("VIR {}", rng.random_range(0..1_000_000)), None),
        };
        let cents = cents.max(1);
        movements += if credit { cents } else { -cents };
        let party = name
            .map(|n| format!("<RltdPties><Dbtr><Nm>{}</Nm></Dbtr></RltdPties>", xml_escape(&n)))
            .unwrap_or_default();
        let _ = writeln!(
            entries,
            "<Ntry><Amt Ccy=\"EUR\">{}</Amt><CdtDbtInd>{}</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-11-19</Dt></BookgDt>\
             <AcctSvcrRef>{id}</AcctSvcrRef><NtryDtls><TxDtls>{party}<RmtInf><Ustrd>{}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>",
            Money::from_minor(cents),
            if credit { "CRDT" } else { "DBIT" },
            xml_escape(&text)
        );
    }
    let (closing, indicator) =
        if movements >= 0 { (Money::from_minor(movements), "CRDT") } else { (Money::from_minor(-movements), "DBIT") };
    let xml = format!(
        "<?xml version=\"1.0\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.04\"><BkToCstmrStmt>\
         <GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2026-11-20T06:00:00</CreDtTm></GrpHdr>\
         <Stmt><Id>S1</Id><Acct><Id><IBAN>{ACCOUNT}</IBAN></Id></Acct>\
         <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-18</Dt></Dt></Bal>\
         <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{closing}</Amt><CdtDbtInd>{indicator}</CdtDbtInd><Dt><Dt>2026-11-19</Dt></Dt></Bal>\n\
         {entries}</Stmt></BkToCstmrStmt></Document>\n"
    );
    let _: Vec<Statement> = bank::camt::parse(xml.as_bytes()).expect("the generated statement reads");
    (xml, payments)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
