//! The `ardoise-server` command's device administration, run as the operator runs it, on the
//! database a server on loopback is serving.

use std::process::Command;

use ardoise_core::sync::protocol::{EnrolRequest, EnrolResponse};
use ardoise_server::{RateLimit, ServeConfig};
use reqwest::StatusCode;
use uuid::Uuid;

fn admin(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ardoise-server"))
        .arg("--database-url")
        .arg(url)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("ardoise-server runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replace_device_revokes_the_till_and_prints_a_code_for_it_only() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("server.db").display());
    let db = ardoise_server::connect(&url).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = ServeConfig { rate: RateLimit { per_second: 0, burst: 0 }, ..Default::default() };
    let serving = ardoise_server::serve(listener, db.clone(), config).await.unwrap();
    let http = reqwest::Client::new();
    let enrol = |code: String, device: Uuid| {
        let body = EnrolRequest { code, device_id: device, device_name: "Caisse 1".into() };
        http.post(format!("{}/v1/enrol", serving.base_url())).json(&body).send()
    };
    let status = |token: String| http.get(format!("{}/v1/status", serving.base_url())).bearer_auth(token).send();

    let out = admin(&url, &["shop", "create", "--name", "Bazar"]);
    assert!(out.status.success(), "{out:?}");
    let shop = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let out = admin(&url, &["enrol-code", "--shop", &shop]);
    let code = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let till = Uuid::new_v4();
    let first: EnrolResponse = enrol(code, till).await.unwrap().json().await.unwrap();
    assert_eq!(status(first.token.clone()).await.unwrap().status(), StatusCode::OK);

    let out = admin(&url, &["replace-device", "--shop", &shop, "--device", &till.to_string()]);
    assert!(out.status.success(), "{out:?}");
    let code = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(code.len(), 10, "only the code on stdout: {code:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("revoked {till}")), "{out:?}");
    assert_eq!(status(first.token.clone()).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(enrol(code.clone(), Uuid::new_v4()).await.unwrap().status(), StatusCode::CONFLICT);
    let again: EnrolResponse = enrol(code, till).await.unwrap().json().await.unwrap();
    assert_eq!(status(again.token).await.unwrap().status(), StatusCode::OK);
    assert_eq!(status(first.token).await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // A device the shop does not have: refused, nothing issued.
    let out = admin(&url, &["replace-device", "--shop", &shop, "--device", &Uuid::new_v4().to_string()]);
    assert!(!out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no device "), "{out:?}");
    serving.shutdown(std::time::Duration::from_secs(1)).await.unwrap();
}

/// `payment` refuses what it cannot record, saying why, and writes nothing to the log;
/// `rejections` lists a shop's refused events (none here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_refuses_a_bad_amount_or_customer_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("server.db").display());
    let db = ardoise_server::connect(&url).await.unwrap();
    let shop = db.create_shop("Épicerie").await.unwrap().to_string();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    for (amount, customer, says) in
        [("12,50x", "C1", "amount"), ("12.50", "C1", "no customer"), ("12.50", "RF00", "no customer")]
    {
        let out =
            admin(&url, &["payment", "--shop", &shop, "--customer", customer, "--amount", amount, "--data-dir", data]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{amount} {customer}");
        assert!(err.contains(says), "{amount} {customer}: {err}");
    }
    assert_eq!(db.shop(shop.parse().unwrap()).await.unwrap().head, 0);
    let out = admin(&url, &["rejections", "--shop", &shop]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
}

/// `bank import` reads the whole file first: an unbalanced statement or a file that is not
/// one is refused with what is wrong, and nothing reaches the shop's log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bank_import_refuses_an_unbalanced_or_foreign_file_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("server.db").display());
    let db = ardoise_server::connect(&url).await.unwrap();
    let shop = db.create_shop("Épicerie").await.unwrap();
    let unbalanced = r#"<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>M</MsgId><CreDtTm>2026-04-21T06:00:00</CreDtTm></GrpHdr>
<Stmt><Id>S1</Id><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-04-19</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">99.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-04-20</Dt></Dt></Bal>
<Ntry><Amt Ccy="EUR">5.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-04-20</Dt></BookgDt><AcctSvcrRef>T1</AcctSvcrRef></Ntry>
</Stmt></BkToCstmrStmt></Document>"#;
    for (name, content, says) in [
        ("unbalanced.xml", unbalanced, "is not the closing"),
        ("pain.xml", "<Document xmlns=\"urn:x\"/>", "not a bank statement"),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, content).unwrap();
        let out = admin(
            &url,
            &[
                "bank",
                "import",
                "--shop",
                &shop.to_string(),
                file.to_str().unwrap(),
                "--data-dir",
                dir.path().join("d").to_str().unwrap(),
            ],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}");
        assert!(err.contains(says), "{name}: {err}");
    }
    assert_eq!(db.shop(shop).await.unwrap().head, 0);
}
