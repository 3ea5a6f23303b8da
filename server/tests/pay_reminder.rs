//! The proof of issue 18, end to end: a customer is overdue; the back office's dispatcher sends
//! the reminder with a payment page made for it at the shop's provider (a stand-in of Stripe's
//! API on loopback, which records what it was asked: the amount due, the customer, the
//! invoice); the customer pays, Stripe's signed `checkout.session.completed` arrives; two
//! tills sync and both show the account settled; the next reminder runs send nothing more.
//! And when the provider is down, the reminder still goes, with the shop's own link. With a
//! public address, the reminder carries the back office's own link (`/r/{token}`) instead of
//! the session's page, which expires: opened days later it makes a session for what is still
//! owed, or says that nothing is; a provider down when the reminder leaves then costs nothing.

mod backoffice;

use std::path::Path;
use std::sync::{Arc, Mutex};

use ardoise_core::customer::{CustomerKind, NewCustomer};
use ardoise_core::store::{Now, SaleRequest, Store};
use ardoise_core::{EntryRequest, Money, PaymentMethod};
use backoffice::provider::{StandIn, stripe_event, stripe_signature};
use backoffice::{BackOffice, customer_with_sale, dispatcher};
use chrono::Duration;
use serde_json::{Value, json};

/// Every text part of each email in `dir`, decoded.
fn mails(dir: &Path) -> Vec<String> {
    fn texts(p: &mailparse::ParsedMail<'_>, out: &mut String) {
        if p.subparts.is_empty() {
            out.push_str(&p.get_body().unwrap());
            out.push('\n');
        }
        for s in &p.subparts {
            texts(s, out);
        }
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .map(|e| {
            let raw = std::fs::read(e.unwrap().path()).unwrap();
            let mut out = String::new();
            texts(&mailparse::parse_mail(&raw).unwrap(), &mut out);
            out
        })
        .collect()
}

struct Shop {
    bo: BackOffice,
    provider: StandIn,
    dispatcher: Arc<ardoise_server::dispatch::Dispatcher>,
    tills: [Mutex<Store>; 2],
    now: Now,
}

/// A shop with Stripe, two tills, and Hélène who bought 94.20 EUR on 30 days 45 days ago.
async fn overdue(dir: &Path) -> Shop {
    overdue_at(dir, None).await
}

/// The same, the back office reached at `public_url` when there is one.
async fn overdue_at(dir: &Path, public_url: Option<&str>) -> Shop {
    let provider = StandIn::start().await;
    let (db, shop) = BackOffice::open(dir).await;
    let apis = public_url.map_or_else(|| provider.apis(), |u| provider.apis_at(u));
    let d = Arc::new(dispatcher(&db, dir, "merged", true).with_pay_apis(apis));
    let bo = BackOffice::serve(db.clone(), shop, Some(Arc::clone(&d))).await;
    let now = chrono::Local::now().fixed_offset();
    let start = now - Duration::days(45);
    let tills = [bo.till(dir, "a", start).await, bo.till(dir, "b", start).await];
    {
        let s = tills[0].lock().unwrap();
        let mut settings = (*s.settings()).clone();
        settings.shop_name = "Épicerie du Marché".into();
        settings.shop_email = "bonjour@epicerie.fr".into();
        settings.payment_url = Some("https://pay.example.fr/{payment_reference}?amount={amount}".into());
        s.set_settings(settings, start).unwrap();
        customer_with_sale(&s, "C1", "Hélène Dupré", Some("helene@example.fr"), "94.20", start);
    }
    for t in &tills {
        bo.sync(t, start).await;
    }
    db.set_payment_provider(shop, "stripe", "sk_test_shop", &["whsec_a".into()]).await.unwrap();
    Shop { bo, provider, dispatcher: d, tills, now }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_links_a_session_for_the_amount_due_and_its_payment_settles_every_till() {
    let dir = tempfile::tempdir().unwrap();
    let Shop { bo, provider, dispatcher, tills, now } = overdue(dir.path()).await;
    let (invoice, reference) = {
        let s = tills[1].lock().unwrap();
        let a = s.account("C1", now.date_naive()).unwrap();
        (a.open_invoices[0].reference.clone(), a.payment_reference.as_str().to_owned())
    };

    // The ladder queues the reminder; after the grace period it is sent.
    let first = dispatcher.run_once(now).await.unwrap();
    assert_eq!((first.queued_by_ladder, first.sent), (1, 0), "{first:?}");
    let second = dispatcher.run_once(now + Duration::minutes(11)).await.unwrap();
    assert_eq!(second.sent, 1, "{second:?}");

    // The stand-in made one session, for exactly what the reminder asks, with whose it is.
    let created = provider.created();
    assert_eq!(created.len(), 1, "{created:?}");
    let c = &created[0];
    let f = |k: &str| c.form.get(k).map(String::as_str);
    assert_eq!(c.bearer, "sk_test_shop");
    assert_eq!(f("mode"), Some("payment"));
    assert_eq!(f("line_items[0][price_data][currency]"), Some("eur"));
    assert_eq!(f("line_items[0][price_data][unit_amount]"), Some("9420"));
    assert_eq!(f("line_items[0][quantity]"), Some("1"));
    for prefix in ["metadata", "payment_intent_data[metadata]"] {
        assert_eq!(f(&format!("{prefix}[customer]")), Some("C1"));
        assert_eq!(f(&format!("{prefix}[invoices]")), Some(invoice.as_str()));
        assert_eq!(f(&format!("{prefix}[payment_reference]")), Some(reference.as_str()));
        assert_eq!(f(&format!("{prefix}[shop]")), Some(bo.shop.to_string().as_str()));
    }
    assert!(c.idempotency_key.as_deref().is_some_and(|k| k.starts_with("reminder-")), "{c:?}");

    // The email carries the session's page, not the shop's template link.
    let sent = mails(&dir.path().join("mail"));
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains(&c.url), "{}", sent[0]);
    assert!(!sent[0].contains("pay.example.fr"), "{}", sent[0]);
    assert!(sent[0].contains("94,20"), "{}", sent[0]);

    // Hélène pays on that page: Stripe signs and sends the completed session.
    let mut session = c.json.clone();
    session["payment_status"] = "paid".into();
    session["payment_intent"] = "pi_e2e".into();
    let body = stripe_event("evt_e2e", "checkout.session.completed", session);
    let r = reqwest::Client::new()
        .post(format!("{}/v1/pay/stripe/{}", bo.serving.base_url(), bo.shop))
        .header("Stripe-Signature", stripe_signature("whsec_a", chrono::Utc::now().timestamp(), &body))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["recorded"], json!(true));

    // Both tills show it once: the account is settled.
    for t in &tills {
        bo.sync(t, now + Duration::minutes(20)).await;
        let s = t.lock().unwrap();
        assert_eq!(s.account("C1", now.date_naive()).unwrap().balance, Money::ZERO);
        let payments = s.entries().unwrap().into_iter().filter(|e| e.body.kind() == "payment").count();
        assert_eq!(payments, 1);
        s.audit().unwrap();
    }

    // The next runs have nothing to send her.
    for later in [Duration::days(1), Duration::days(8), Duration::days(20)] {
        let r = dispatcher.run_once(now + later).await.unwrap();
        assert_eq!((r.queued_by_ladder, r.sent), (0, 0), "{r:?}");
    }
    assert_eq!(mails(&dir.path().join("mail")).len(), 1);
    assert_eq!(provider.created().len(), 1, "no other session");
    bo.serving.shutdown(std::time::Duration::from_secs(1)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_provider_down_the_reminder_goes_with_the_shops_own_link() {
    let dir = tempfile::tempdir().unwrap();
    let Shop { bo, provider, dispatcher, now, .. } = overdue(dir.path()).await;
    provider.set_down(true);
    dispatcher.run_once(now).await.unwrap();
    let r = dispatcher.run_once(now + Duration::minutes(11)).await.unwrap();
    assert_eq!((r.sent, r.failed, r.waiting), (1, 0, 0), "{r:?}");
    let sent = mails(&dir.path().join("mail"));
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("https://pay.example.fr/RF"), "{}", sent[0]);
    assert!(provider.created().is_empty());
    bo.serving.shutdown(std::time::Duration::from_secs(1)).await.unwrap();
}

const PUBLIC: &str = "https://ardoise.example.fr";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_public_address_a_provider_down_at_sending_still_gives_a_link_that_pays_later() {
    let dir = tempfile::tempdir().unwrap();
    let Shop { bo, provider, dispatcher, now, .. } = overdue_at(dir.path(), Some(PUBLIC)).await;
    provider.set_down(true);
    dispatcher.run_once(now).await.unwrap();
    let r = dispatcher.run_once(now + Duration::minutes(11)).await.unwrap();
    assert_eq!((r.sent, r.failed, r.waiting), (1, 0, 0), "{r:?}");
    assert!(provider.created().is_empty());
    let mails = mails(&dir.path().join("mail"));
    let token = reminder_token(&mails[0]).unwrap_or_else(|| panic!("no /r/ link in {}", mails[0]));
    assert!(!mails[0].contains("pay.example.fr"), "not the shop's template: {}", mails[0]);

    // The provider is back: opening the link makes the session for what the reminder asked.
    provider.set_down(false);
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let opened = http.get(format!("{}/r/{token}", bo.serving.base_url())).send().await.unwrap();
    assert_eq!(opened.status(), reqwest::StatusCode::SEE_OTHER);
    let created = provider.created();
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0].form["line_items[0][price_data][unit_amount]"], "9420");
    assert_eq!(opened.headers()["location"].to_str().unwrap(), created[0].url);
    bo.serving.shutdown(std::time::Duration::from_secs(1)).await.unwrap();
}

/// The token of the first `{PUBLIC}/r/...` link in `text`.
fn reminder_token(text: &str) -> Option<String> {
    let at = text.find(&format!("{PUBLIC}/r/"))? + PUBLIC.len() + 3;
    Some(text[at..].chars().take_while(char::is_ascii_hexdigit).collect())
}

/// What a scanner reads in `pdf` printed: each page rendered at 150 dpi by poppler's
/// `pdftoppm`, the QR codes on it decoded by ZBar's `zbarimg`, in page order.
fn scanned_codes(pdf: &[u8]) -> Vec<(u32, String)> {
    use std::process::Command;
    fn run(cmd: &mut Command, package: &str) -> std::process::Output {
        match cmd.output() {
            Ok(out) => out,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                panic!("{:?} is missing: apt-get install -y {package}", cmd.get_program())
            }
            Err(e) => panic!("{:?}: {e}", cmd.get_program()),
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("letter.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = run(
        Command::new("pdftoppm").args(["-r", "150", "-png"]).arg(&file).arg(dir.path().join("page")),
        "poppler-utils",
    );
    assert!(out.status.success(), "pdftoppm: {}", String::from_utf8_lossy(&out.stderr));
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    pages.sort();
    assert!(!pages.is_empty(), "pdftoppm rendered no page");
    let mut codes = Vec::new();
    // pdftoppm numbers the pages with as many digits as the last needs: sorted, they are in order.
    for (page, file) in (1..).zip(pages) {
        let out = run(Command::new("zbarimg").args(["--raw", "-q"]).arg(&file), "zbar-tools");
        // 4: no code on this page.
        assert!(matches!(out.status.code(), Some(0 | 4)), "zbarimg: {}", String::from_utf8_lossy(&out.stderr));
        codes.extend(String::from_utf8(out.stdout).unwrap().lines().map(|code| (page, code.to_owned())));
    }
    codes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_carries_a_link_that_asks_what_is_still_owed_whenever_it_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let Shop { bo, provider, dispatcher, tills, now } = overdue_at(dir.path(), Some(PUBLIC)).await;
    dispatcher.run_once(now).await.unwrap();
    let sent = dispatcher.run_once(now + Duration::minutes(11)).await.unwrap();
    assert_eq!(sent.sent, 1, "{sent:?}");

    // The session is still made as the reminder leaves, but the email carries the back
    // office's link to it, in the text and on the button, never the session's page.
    let created = provider.created();
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0].form["line_items[0][price_data][unit_amount]"], "9420");
    let mails = mails(&dir.path().join("mail"));
    assert_eq!(mails.len(), 1);
    let token = reminder_token(&mails[0]).unwrap_or_else(|| panic!("no /r/ link in {}", mails[0]));
    assert_eq!(token.len(), 32, "{token}");
    assert!(mails[0].contains(&format!("href=\"{PUBLIC}/r/{token}\"")), "the button: {}", mails[0]);
    assert!(!mails[0].contains(&created[0].url), "{}", mails[0]);
    assert!(!mails[0].contains("/c/pay/"), "{}", mails[0]);
    assert!(!mails[0].contains("pay.example.fr"), "{}", mails[0]);
    // Only the token's hash is kept.
    let kept: Vec<(String, i64)> =
        sqlx::query_as("SELECT token_hash, amount_cents FROM reminder_links").fetch_all(bo.db.pool()).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_ne!(kept[0].0, token);
    assert_eq!(kept[0].1, 9420);

    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let link = format!("{}/r/{token}", bo.serving.base_url());
    let open = || async {
        let r = http.get(&link).send().await.unwrap();
        let status = r.status().as_u16();
        let location = r.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
        (status, location, r.text().await.unwrap())
    };

    // Opened: to a session for what the reminder asked; opened again the same day, the same.
    let (status, location, _) = open().await;
    assert!(matches!(status, 302 | 303), "{status}");
    let created = provider.created();
    assert_eq!(created.len(), 2, "{created:?}");
    let first = &created[1];
    assert_eq!(location.as_deref(), Some(first.url.as_str()));
    assert_eq!(first.form["line_items[0][price_data][unit_amount]"], "9420");
    assert_eq!(first.form["metadata[customer]"], "C1");
    let today = chrono::Local::now().date_naive();
    let key = first.idempotency_key.clone().unwrap();
    assert!(key.starts_with("reminder-link-") && key.ends_with(&format!("-9420-{today}")), "{key}");
    assert_eq!(open().await.1.as_deref(), Some(first.url.as_str()));
    assert_eq!(provider.created().len(), 2, "the same session");

    // The next day, a fresh session (the provider's has expired by then).
    let tomorrow = chrono::Local::now().fixed_offset() + Duration::days(1);
    let next = match dispatcher.reminder_link(&token, tomorrow).await.unwrap() {
        Some(ardoise_server::dispatch::ReminderPay::Pay { session, amount }) => (session, amount),
        other => panic!("{other:?}"),
    };
    assert_eq!(next.1, Money::from_minor(9420));
    let created = provider.created();
    assert_eq!(created.len(), 3, "{created:?}");
    assert_eq!(next.0.url, created[2].url);
    assert_ne!(next.0.url, first.url);
    assert!(created[2].idempotency_key.as_deref().unwrap().ends_with(&format!("-9420-{}", tomorrow.date_naive())));

    // A part payment at the till: the link asks only what is still owed.
    let paid_at = chrono::Local::now().fixed_offset();
    {
        let s = tills[0].lock().unwrap();
        let pay = EntryRequest::Payment { amount: Money::from_minor(4000), method: PaymentMethod::Cash, invoice: None };
        s.record("C1", None, "Léa", pay, paid_at).unwrap();
    }
    bo.sync(&tills[0], paid_at).await;
    let (status, location, _) = open().await;
    assert!(matches!(status, 302 | 303), "{status}");
    let created = provider.created();
    assert_eq!(created.len(), 4, "{created:?}");
    assert_eq!(location.as_deref(), Some(created[3].url.as_str()));
    assert_eq!(created[3].form["line_items[0][price_data][unit_amount]"], "5420");

    // Paid in full: no session, a page that says nothing is owed.
    {
        let s = tills[0].lock().unwrap();
        let pay = EntryRequest::Payment { amount: Money::from_minor(5420), method: PaymentMethod::Cash, invoice: None };
        s.record("C1", None, "Léa", pay, paid_at).unwrap();
    }
    bo.sync(&tills[0], paid_at).await;
    let (status, location, page) = open().await;
    assert_eq!((status, location), (200, None));
    assert!(page.contains("Rien à payer pour le moment."), "{page}");
    assert_eq!(provider.created().len(), 4, "no session when nothing is owed");

    // A token no reminder carried: 404, nothing written, nothing asked of the provider.
    let head = bo.db.shop(bo.shop).await.unwrap().head;
    let r = http.get(format!("{}/r/{}", bo.serving.base_url(), "0".repeat(32))).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(http.get(format!("{}/r/nothing", bo.serving.base_url())).send().await.unwrap().status(), 404);
    assert_eq!(bo.db.shop(bo.shop).await.unwrap().head, head);
    assert_eq!(provider.created().len(), 4);
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reminder_links").fetch_one(bo.db.pool()).await.unwrap();
    assert_eq!(rows, 1);
    bo.serving.shutdown(std::time::Duration::from_secs(1)).await.unwrap();
}

/// A posted letter is read days later still: with a provider and a public URL, the formal
/// notice prints the stable link, as text and as a QR code that a scanner reads back from the
/// page rendered at 150 dpi (poppler-utils and zbar-tools), and no session is made for it;
/// opened, the link asks what the notice claimed, or what is owed now when that is less.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_formal_notice_by_post_prints_the_stable_link_and_its_qr_code() {
    let dir = tempfile::tempdir().unwrap();
    let provider = StandIn::start().await;
    let (db, shop) = BackOffice::open(dir.path()).await;
    let d = Arc::new(dispatcher(&db, dir.path(), "merged", true).with_pay_apis(provider.apis_at(PUBLIC)));
    let bo = BackOffice::serve(db.clone(), shop, Some(Arc::clone(&d))).await;
    let start = backoffice::at("2026-01-05T09:00:00+01:00");
    let till = bo.till(dir.path(), "a", start).await;
    {
        let s = till.lock().unwrap();
        let mut settings = (*s.settings()).clone();
        settings.shop_name = "Épicerie du Marché".into();
        settings.shop_email = "bonjour@epicerie.fr".into();
        settings.identity = ardoise_core::identity::sample();
        s.set_settings(settings, start).unwrap();
        let b1 = NewCustomer {
            reference: "B1".into(),
            name: "Client B1".into(),
            kind: CustomerKind::Business,
            terms: "30".parse().unwrap(),
            address: Some("5 rue des Lilas\n13210 Saint-Rémy-de-Provence".into()),
            ..Default::default()
        };
        s.add_customer(b1, start).unwrap();
        let sale = SaleRequest {
            customer: "B1".into(),
            amount: backoffice::m("250.00"),
            cashier: "Léa".into(),
            ..Default::default()
        };
        s.sell_on_account(sale, start).unwrap();
    }
    bo.sync(&till, start).await;
    db.set_payment_provider(shop, "stripe", "sk_test_shop", &["whsec_a".into()]).await.unwrap();
    for day in 15..=84 {
        d.run_once(start + Duration::days(day)).await.unwrap();
    }

    let letters: Vec<_> = std::fs::read_dir(dir.path().join("letters"))
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    let notice = letters
        .iter()
        .find(|pdf| ardoise_server::send::pdf_text(pdf).unwrap().contains("Mise en demeure de payer"))
        .expect("the formal notice, posted");
    let text = ardoise_server::send::pdf_text(notice).unwrap();
    let token = reminder_token(&text).unwrap_or_else(|| panic!("no /r/ link in {text}"));
    assert_eq!(token.len(), 32, "{text}");
    // The QR code, printed and read by a scanner, is the link the letter prints, and on the
    // same page as that link's text.
    let scanned = scanned_codes(notice);
    let codes: Vec<&str> = scanned.iter().map(|(_, code)| code.as_str()).collect();
    assert_eq!(codes, [format!("{PUBLIC}/r/{token}")], "{text}");
    let page_text = lopdf::Document::load_mem(notice).unwrap().extract_text(&[scanned[0].0]).unwrap();
    assert_eq!(reminder_token(&page_text).as_deref(), Some(token.as_str()), "page {}: {page_text}", scanned[0].0);
    assert!(provider.created().is_empty(), "no session for a letter: {:?}", provider.created());
    let asked: Vec<i64> =
        sqlx::query_scalar("SELECT amount_cents FROM reminder_links").fetch_all(db.pool()).await.unwrap();
    assert_eq!(asked.len(), letters.len(), "one link per letter posted");
    let notice_asked: i64 = sqlx::query_scalar("SELECT amount_cents FROM reminder_links WHERE token_hash = $1")
        .bind(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(token.as_bytes())))
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert!(notice_asked > 25_000, "the notice claims interest and the indemnity: {notice_asked}");

    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = http.get(format!("{}/r/{token}", bo.serving.base_url())).send().await.unwrap();
    assert!(matches!(r.status().as_u16(), 302 | 303), "{}", r.status());
    let created = provider.created();
    assert_eq!(created.len(), 1);
    assert_eq!(r.headers()["location"].to_str().unwrap(), created[0].url);
    bo.sync(&till, start + Duration::days(85)).await;
    let owed = till.lock().unwrap().account("B1", chrono::Local::now().date_naive()).unwrap().balance;
    assert!(owed.minor() > 25_000, "{owed}");
    let expected = owed.minor().min(notice_asked).to_string();
    assert_eq!(created[0].form["line_items[0][price_data][unit_amount]"], expected);
    bo.serving.shutdown(std::time::Duration::from_secs(1)).await.unwrap();
}
