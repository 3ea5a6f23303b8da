//! The demo's evening: a back office started in-process, a second till at the market stall,
//! both selling offline, syncing and agreeing; then the back office sends the day's reminders
//! into a local mail folder and every till sees them sent.

use std::path::Path;
use std::sync::Mutex;

use ardoise_core::store::{ReminderState, SaleRequest, Store};
use ardoise_core::sync::client::{Client, RetryPolicy};
use ardoise_core::{EntryRequest, Money, PaymentMethod};
use ardoise_server::dispatch::{DispatchConfig, Dispatcher};
use ardoise_server::send::TransportConfig;
use ardoise_server::{RateLimit, ServeConfig};
use chrono::NaiveDate;
use serde_json::{Value, json};

use super::{Teller, at, money};
use crate::output::Failure;

fn fail(e: impl std::fmt::Display) -> Failure {
    Failure::new("sync", e.to_string())
}

pub(super) fn evening(store: Store, db: &Path, today: NaiveDate, t: &Teller) -> Result<Value, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| fail(format!("could not start the back office: {e}")))?;
    runtime.block_on(run(store, db, today, t))
}

async fn run(store: Store, db: &Path, today: NaiveDate, t: &Teller) -> Result<Value, Failure> {
    let dir = db.parent().unwrap_or(Path::new(".")).join("back-office");
    std::fs::create_dir_all(&dir).map_err(fail)?;
    let url = format!("sqlite://{}?mode=rwc", dir.join("server.db").display());
    let server = ardoise_server::connect(&url).await.map_err(fail)?;
    let shop = server.create_shop("Épicerie du Marché").await.map_err(fail)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(fail)?;
    let config = ServeConfig { rate: RateLimit { per_second: 0, burst: 0 }, ..Default::default() };
    let serving = ardoise_server::serve(listener, server.clone(), config).await.map_err(fail)?;
    t.say(format!(
        "\n== The evening: a back office and a second till ==\n\nBack office started at {} (SQLite in {}).",
        serving.base_url(),
        dir.display()
    ));

    let client = Client::new(RetryPolicy::default())?;
    let counter = Mutex::new(store);
    let stall = Mutex::new(Store::open(dir.join("market-stall.db"))?);
    let evening = at(today, 18, 0);
    for (till, name) in [(&counter, "counter"), (&stall, "market stall")] {
        let code = server.enrol_code(shop, chrono::Duration::hours(1)).await.map_err(fail)?;
        client.enrol(till, &serving.base_url(), &code, name, evening).await?;
    }
    let at_counter = |m: u32| move || at(today, 18, m);
    let first = client.sync(&counter, &at_counter(1)).await?;
    let second = client.sync(&stall, &at_counter(2)).await?;
    t.say(format!(
        "Both tills enrolled with one-time codes. The counter pushed its {} events; the market stall pulled {} and now holds the same {} customers.",
        first.pushed,
        second.pulled,
        stall.lock().map_err(fail)?.customer_count()?
    ));

    // Offline, each till sells to the same regular, and the stall takes a payment.
    let (regular, before) = {
        let s = counter.lock().map_err(fail)?;
        let c = s
            .customers(200, 0)?
            .into_iter()
            .find(|c| s.check(&c.reference, money("30.00"), evening).is_ok_and(|v| v.reasons.is_empty()));
        let c = c.ok_or_else(|| fail("no customer in good standing for the evening"))?;
        let balance = s.account(&c.reference, today)?.balance;
        (c, balance)
    };
    let sale = |amount: &str, cashier: &str| SaleRequest {
        customer: regular.reference.clone(),
        amount: money(amount),
        date: None,
        invoice_ref: None,
        cashier: cashier.into(),
        deposit: None,
    };
    counter.lock().map_err(fail)?.sell_on_account(sale("12.80", "Léa"), at(today, 18, 10))?;
    stall.lock().map_err(fail)?.sell_on_account(sale("7.50", "Tom"), at(today, 18, 12))?;
    let pay = EntryRequest::Payment { amount: money("5.00"), method: PaymentMethod::Cash, invoice: None };
    stall.lock().map_err(fail)?.record(&regular.reference, None, "Tom", pay, at(today, 18, 14))?;
    let balances = |when: &str| -> Result<(Money, Money), Failure> {
        let a = counter.lock().map_err(fail)?.account(&regular.reference, today)?.balance;
        let b = stall.lock().map_err(fail)?.account(&regular.reference, today)?.balance;
        t.say(format!("  {when}: counter says {a} EUR, market stall says {b} EUR"));
        Ok((a, b))
    };
    t.say(format!(
        "\nOffline, {} (balance {before} EUR) buys 12.80 EUR on account at the counter, then 7.50 EUR at the market stall, and pays 5.00 EUR cash there.",
        regular.name
    ));
    let (a0, b0) = balances("before syncing")?;
    for m in [20, 21, 22] {
        client.sync(&counter, &at_counter(m)).await?;
        client.sync(&stall, &at_counter(m)).await?;
    }
    let (a1, b1) = balances("after syncing")?;
    let expected = before + money("12.80") + money("7.50") - money("5.00");
    if a1 != b1 || a1 != expected {
        return Err(fail(format!("the tills disagree after syncing: {a1} and {b1}, expected {expected}")));
    }
    t.say("Both tills agree, to the cent.");

    // The back office sends what the day's run queued, after re-checking each reminder against
    // both tills' ledgers.
    let mail = dir.join("mail");
    let letters = dir.join("letters");
    let cfg = DispatchConfig {
        data_dir: dir.join("merged"),
        grace_minutes: 10,
        run_ladder: true,
        transports: TransportConfig {
            smtp: None,
            mail_dir: Some(mail.clone()),
            sms: None,
            letters_dir: letters.clone(),
        },
    };
    let dispatcher = Dispatcher::new(server.clone(), cfg).map_err(fail)?;
    let round1 = dispatcher.run_once(at(today, 18, 30)).await.map_err(fail)?;
    let round2 = dispatcher.run_once(at(today, 18, 45)).await.map_err(fail)?;
    let sent = round1.sent + round2.sent;
    let mut files: Vec<_> =
        std::fs::read_dir(&mail).map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    files.sort();
    t.say(format!(
        "\nThe back office's reminder round: {sent} sent ({} by email into {}, letters as PDF in {}), {} cancelled, {} waiting (calls to make, or SMS at night).",
        files.len(),
        mail.display(),
        letters.display(),
        round1.cancelled + round2.cancelled,
        round2.waiting
    ));
    for m in [50, 51] {
        client.sync(&stall, &at_counter(m)).await?;
    }
    let delivered: Vec<_> = stall
        .lock()
        .map_err(fail)?
        .reminders(Some(ReminderState::Sent), None, 10_000)?
        .into_iter()
        .filter(|r| r.state_note.as_deref().is_some_and(|n| n.starts_with("sent ")))
        .collect();
    let seen_sent = delivered.len();
    t.say(format!("The market stall now shows {seen_sent} reminders as delivered by the back office:"));
    for r in &delivered {
        t.say(format!(
            "  {} ({}) by {}: \"{}\", {} EUR due",
            r.customer_name,
            r.customer_ref,
            r.channel.as_str(),
            r.subject,
            r.amount_due
        ));
    }
    serving.shutdown(std::time::Duration::from_secs(1)).await.map_err(fail)?;
    Ok(json!({
        "server": dir.display().to_string(),
        "pushed": first.pushed,
        "pulled_by_stall": second.pulled,
        "customer": regular.reference,
        "before": [a0.to_string(), b0.to_string()],
        "after": [a1.to_string(), b1.to_string()],
        "reminders_sent": sent,
        "emails": files.len(),
        "mail_dir": mail.display().to_string(),
        "delivered_seen_at_stall": seen_sent,
    }))
}
