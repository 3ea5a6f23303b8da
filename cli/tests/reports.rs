//! `ardoise import`, `report`, `statement`, `export` and `gdpr` end to end, on hand-made files
//! and on the IBM accounts-receivable sample, with fixed `--as-of` dates.

mod common;

use common::Till;

const INVOICES: &str = "customer_ref,invoice_ref,issued_on,due_on,amount,paid_on,disputed\n\
C1,D1,2023-12-10,2024-01-09,700,2024-02-10,\n\
C1,J1,2024-01-10,2024-02-09,300,2024-02-05,\n\
C1,F1,2024-02-15,2024-03-16,290,,\n\
C1,M1,2024-03-20,2024-04-19,310,,\n\
C2,B1,2023-10-01,2023-10-31,80,,yes\n";

fn write(t: &Till, name: &str, text: &str) -> String {
    let p = t.db.with_file_name(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn import_then_report_as_of_past_dates() {
    let t = Till::new();
    let customers = write(
        &t,
        "c.csv",
        "ref,name,email,phone,kind,credit_limit,terms\nC1,Hélène Dupré,h@example.fr,+33 6 12 34 56 78,consumer,500,30\n",
    );
    let r = t.json(&["import", "customers", &customers]);
    assert_eq!(r["customers_created"], 1);
    let invoices = write(&t, "i.csv", INVOICES);
    let r = t.json(&["import", "invoices", &invoices]);
    assert_eq!(
        (r["invoices_created"].as_u64(), r["payments_recorded"].as_u64(), r["customers_created"].as_u64()),
        (Some(5), Some(2), Some(1))
    );
    // The same file again changes nothing.
    let r = t.json(&["import", "invoices", &invoices]);
    assert_eq!((r["invoices_created"].as_u64(), r["unchanged"].as_u64()), (Some(0), Some(5)));

    let a = t.json(&["report", "aging", "--as-of", "2024-03-31"]);
    assert_eq!(a["as_of"], "2024-03-31");
    assert_eq!(a["total"], "680.00");
    assert_eq!(a["buckets"]["current"], "310.00");
    assert_eq!(a["buckets"]["1_30"], "290.00");
    assert_eq!(a["buckets"]["31_60"], "0.00");
    assert_eq!(a["buckets"]["91_plus"], "80.00");
    assert_eq!(a["customers"][0]["customer_ref"], "C1");
    assert_eq!(a["customers"][0]["total"], "600.00");
    assert_eq!(a["customers"][1]["buckets"]["91_plus"], "80.00");

    let k = t.json(&["report", "kpis", "--as-of", "2024-03-31", "--months", "3"]);
    assert_eq!(
        (k["receivables"].as_str(), k["current"].as_str(), k["credit_sales"].as_str()),
        (Some("680.00"), Some("310.00"), Some("900.00"))
    );
    let dso = k["dso_simple"].as_f64().unwrap();
    assert!((dso - 680.0 / 900.0 * 91.0).abs() < 1e-4, "{dso}");
    for field in ["dso_countback", "best_possible_dso", "average_days_delinquent", "cei_pct"] {
        assert!(k[field].is_number(), "{field}: {k}");
    }

    let o = t.json(&["report", "overdue", "--as-of", "2024-03-31", "--sort", "age"]);
    assert_eq!(o[0]["customer_ref"], "C2");
    assert_eq!(o[1]["overdue"], "290.00");

    let st = t.json(&["statement", "--customer", "C1", "--from", "2024-02-01", "--to", "2024-02-29"]);
    assert_eq!((st["opening_balance"].as_str(), st["closing_balance"].as_str()), (Some("1000.00"), Some("290.00")));
    assert_eq!(st["lines"].as_array().unwrap().len(), 3);
    let text = t.ok(&["statement", "--customer", "C1", "--from", "2024-03-01", "--to", "2024-03-31"]);
    assert!(text.contains("Overdue on 2024-03-31: 290.00 EUR") && text.contains("F1"), "{text}");
    let reference = t.json(&["customer", "show", "C1"])["payment_reference"].as_str().unwrap().to_owned();
    let reference = ardoise_core::PaymentReference::parse(&reference).unwrap();
    assert!(text.contains(&format!("Payment reference: {reference}")), "{text}");

    let risk = t.json(&["report", "risk", "--as-of", "2024-03-31"]);
    let first = &risk[0];
    assert!(first["customer_ref"].is_string() && first["score"].is_number() && first["reasons"].is_array(), "{risk}");
}

#[test]
fn bad_files_are_refused_with_line_numbers_and_nothing_written() {
    let t = Till::new();
    let bad = write(
        &t,
        "bad.csv",
        "customer_ref,invoice_ref,issued_on,due_on,amount,paid_on\nC1,F1,2024-01-01,2024-01-31,10,,\nC1,F2,2024-13-01,2024-01-31,10,,\nC1,F3,2024-01-01,2024-01-31,-4,,\n",
    );
    let out = t.run(&["--json", "import", "invoices", &bad]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("line 3") && out.stderr.contains("line 4"), "{}", out.stderr);
    let err: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(err["code"], "import");
    assert_eq!(t.json(&["report", "aging", "--as-of", "2024-06-30"])["total"], "0.00");
    let out = t.run(&["report", "kpis", "--months", "0"]);
    assert_eq!(out.code, 1);
    let out = t.run(&["report", "aging", "--as-of", "2024-02-30"]);
    assert_eq!(out.code, 1);
}

#[test]
fn exports_and_gdpr() {
    let t = Till::new();
    let customers = write(
        &t,
        "c.csv",
        "ref,name,email,phone,kind,credit_limit,terms\nC1,=SUM(A1:A9),h@example.fr,+33 6 12 34 56 78,consumer,,30\n",
    );
    t.ok(&["import", "customers", &customers]);
    t.ok(&["import", "invoices", &write(&t, "i.csv", INVOICES)]);
    let csv = t.ok(&["export", "accounts"]);
    assert!(csv.contains("C1,'=SUM(A1:A9),h@example.fr,'+33 6 12 34 56 78,"), "{csv}");
    let ledger: serde_json::Value = serde_json::from_str(&t.ok(&["export", "ledger", "--format", "json"])).unwrap();
    assert_eq!(ledger.as_array().unwrap().len(), 7);
    let data = t.ok(&["gdpr", "export", "--customer", "C1"]);
    assert!(data.contains("h@example.fr"));
    let e = t.json(&["gdpr", "erase", "--customer", "C1"]);
    assert_eq!(e["entries_kept"], 6);
    let data = t.ok(&["gdpr", "export", "--customer", "C1"]);
    assert!(!data.contains("h@example.fr") && !data.contains("SUM(A1"), "{data}");
    assert_eq!(t.json(&["report", "aging", "--as-of", "2024-03-31"])["total"], "680.00");
}

#[test]
fn the_ibm_sample_imports_and_reports() {
    let t = Till::new();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/datasets/ibm-ar/WA_Fn-UseC_-Accounts-Receivable.csv");
    let r = t.json(&["import", "ibm-ar", path]);
    assert_eq!((r["invoices_created"].as_u64(), r["customers_created"].as_u64()), (Some(2466), Some(100)));
    let a = t.json(&["report", "aging", "--as-of", "2013-06-30"]);
    assert!(a["customers"].as_array().unwrap().len() > 10);
    let k = t.json(&["report", "kpis", "--as-of", "2013-06-30", "--months", "3"]);
    assert_eq!(k["receivables"], a["total"]);
    assert!(k["dso_simple"].as_f64().unwrap() > 0.0);
    let risk = t.json(&["report", "risk", "--as-of", "2013-06-30"]);
    assert_eq!(risk.as_array().unwrap().len(), 100);
}

#[test]
fn the_checkout_shows_the_late_payment_risk_once_scored() {
    let t = Till::new();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/datasets/ibm-ar/WA_Fn-UseC_-Accounts-Receivable.csv");
    t.ok(&["import", "ibm-ar", path]);
    let before = t.json(&["checkout", "--customer", "0379-NEVHP", "--amount", "10", "--date", "2013-12-03"]);
    assert!(before["late_risk_pct"].is_null(), "{before}");
    // Today's scores (the CLI's risk report as of today keeps them).
    let risk = t.json(&["report", "risk"]);
    let top = risk[0]["customer_ref"].as_str().unwrap().to_owned();
    let v = t.json(&["checkout", "--customer", &top, "--amount", "10"]);
    assert!(v["late_risk_pct"].is_number() && !v["late_risk_reasons"].as_array().unwrap().is_empty(), "{v}");
    let text = t.ok(&["checkout", "--customer", &top, "--amount", "10"]);
    assert!(text.contains("late-payment risk"), "{text}");
}
