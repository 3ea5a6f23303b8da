//! The operator's payment commands, run as the operator runs them: `ardoise-server stripe` and
//! `mollie` keep a shop's keys (never printed), `pay-link` prints a payment page for what a
//! customer owes now, made at the provider (a stand-in of its API, `ARDOISE_STRIPE_API`).

mod backoffice;

use std::process::{Command, Output};

use backoffice::provider::StandIn;
use backoffice::{BackOffice, at, customer_with_sale};

fn run(url: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ardoise-server"))
        .arg("--database-url")
        .arg(url)
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_LOG", "info")
        .output()
        .expect("ardoise-server runs")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pay_link_prints_a_session_for_the_amount_due_and_keys_are_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let provider = StandIn::start().await;
    let bo = BackOffice::start(dir.path()).await;
    let start = at("2026-11-02T09:00:00+01:00");
    let till = bo.till(dir.path(), "a", start).await;
    customer_with_sale(&till.lock().unwrap(), "C1", "Hélène Dupré", None, "94.20", start);
    customer_with_sale(&till.lock().unwrap(), "C2", "Marc Petit", None, "10.00", start);
    till.lock()
        .unwrap()
        .record(
            "C2",
            None,
            "Léa",
            ardoise_core::EntryRequest::Payment {
                amount: backoffice::m("10.00"),
                method: ardoise_core::PaymentMethod::Cash,
                invoice: None,
            },
            start,
        )
        .unwrap();
    bo.sync(&till, start).await;
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("server.db").display());
    let shop = bo.shop.to_string();
    let data = dir.path().join("data").display().to_string();
    let api = [("ARDOISE_STRIPE_API", provider.base.as_str())];

    // No provider yet: pay-link says so.
    let o = run(&url, &["pay-link", "--shop", &shop, "--customer", "C1", "--data-dir", &data], &api);
    assert!(!o.status.success(), "{o:?}");

    let keys = [("ARDOISE_STRIPE_SECRET_KEY", "sk_test_secret"), ("ARDOISE_STRIPE_WEBHOOK_SECRETS", "whsec_secret")];
    let o = run(&url, &["stripe", "--shop", &shop], &keys);
    assert!(o.status.success(), "{o:?}");
    let o = run(&url, &["mollie", "--shop", &shop], &[("ARDOISE_MOLLIE_API_KEY", "sk_not_mollie")]);
    assert!(!o.status.success(), "a key that is not Mollie's: {o:?}");

    let o = run(&url, &["pay-link", "--shop", &shop, "--customer", "C1", "--data-dir", &data], &api);
    assert!(o.status.success(), "{o:?}");
    let created = provider.created();
    assert_eq!(created.len(), 1);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), created[0].url, "only the URL on stdout");
    assert_eq!(created[0].form["line_items[0][price_data][unit_amount]"], "9420");
    assert_eq!(created[0].form["metadata[customer]"], "C1");
    assert_eq!(created[0].bearer, "sk_test_secret");
    assert!(!text(&o).contains("sk_test_secret"), "{o:?}");
    // Asked again the same day: the same session (same idempotency key).
    let again = run(&url, &["pay-link", "--shop", &shop, "--customer", "C1", "--data-dir", &data], &api);
    assert_eq!(String::from_utf8_lossy(&again.stdout).trim(), created[0].url);
    assert_eq!(provider.created().len(), 1);

    // Nothing owed, or nobody: refused, no session.
    for who in ["C2", "C9"] {
        let o = run(&url, &["pay-link", "--shop", &shop, "--customer", who, "--data-dir", &data], &api);
        assert!(!o.status.success(), "{who}: {o:?}");
        assert!(o.stdout.is_empty(), "{o:?}");
    }
    assert_eq!(provider.created().len(), 1);
    bo.serving.shutdown(std::time::Duration::from_secs(1)).await.unwrap();
}
