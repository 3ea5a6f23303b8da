//! The web back office and the customer's payment page (issue 19), over HTTP against a real
//! server on loopback with a till synced to it: sign-in, its limit, CSRF, one shop's owner
//! shut out of another's, the overview equal to a synced till's report, and the forms'
//! writes reaching the till by sync.

mod backoffice;
#[path = "common/cookies.rs"]
mod cookies;

use std::io::Write;
use std::sync::{Arc, Mutex};

use ardoise_core::document::euros;
use ardoise_core::store::{Now, Store};
use backoffice::{BackOffice, customer_with_sale, dispatcher};
use chrono::Duration;
use cookies::Jar;
use reqwest::StatusCode;
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery";

/// A browser without JavaScript: cookies kept by name, redirects not followed.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: Jar,
}

struct Answer {
    status: StatusCode,
    body: String,
    location: Option<String>,
}

impl Browser {
    fn new(base: &str) -> Browser {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { http, base: base.to_owned(), cookies: Jar::default() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.header()
    }

    async fn answer(&mut self, r: reqwest::Response) -> Answer {
        self.cookies.keep(&r);
        let status = r.status();
        let location = r.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
        Answer { status, body: r.text().await.unwrap(), location }
    }

    async fn get(&mut self, path: &str) -> Answer {
        let r =
            self.http.get(format!("{}{path}", self.base)).header("cookie", self.cookie_header()).send().await.unwrap();
        self.answer(r).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.answer(r).await
    }

    /// Sets the password through the set-up link and signs in.
    async fn sign_up(&mut self, link: &str, email: &str) {
        let page = self.get(link).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let csrf = csrf(&page.body);
        let done = self.post(link, &[("csrf", &csrf), ("password", PASSWORD), ("again", PASSWORD)]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        assert_eq!(self.sign_in(email, PASSWORD).await.status, StatusCode::SEE_OTHER);
    }

    async fn sign_in(&mut self, email: &str, password: &str) -> Answer {
        let page = self.get("/login").await;
        let csrf = csrf(&page.body);
        self.post("/login", &[("csrf", &csrf), ("email", email), ("password", password)]).await
    }
}

/// The first form's CSRF token in a page.
fn csrf(body: &str) -> String {
    let at = body.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
    body[at..at + 64].to_owned()
}

/// The text of the element with `id`.
fn by_id(body: &str, id: &str) -> String {
    let at = body.find(&format!("id=\"{id}\">")).unwrap_or_else(|| panic!("no #{id}")) + id.len() + 6;
    body[at..].split('<').next().unwrap().to_owned()
}

fn now() -> Now {
    chrono::Local::now().fixed_offset()
}

/// A shop served with its merged copies, a till synced with customer C1 owing 1,234.56 on a
/// sale 50 days ago (overdue) and C2 owing 20.00 on one of today, and a signed-in owner.
struct Shop {
    _dir: tempfile::TempDir,
    bo: BackOffice,
    merged: Arc<ardoise_server::dispatch::Dispatcher>,
    till: Mutex<Store>,
    owner: Browser,
}

async fn shop() -> Shop {
    let dir = tempfile::tempdir().unwrap();
    let (db, shop) = BackOffice::open(dir.path()).await;
    let d = Arc::new(dispatcher(&db, dir.path(), "merged", false));
    let bo = BackOffice::serve(db, shop, Some(Arc::clone(&d))).await;
    let then = now() - Duration::days(50);
    let till = bo.till(dir.path(), "till", then).await;
    customer_with_sale(&till.lock().unwrap(), "C1", "Hélène Dupré", None, "1234.56", then);
    customer_with_sale(&till.lock().unwrap(), "C2", "Marc Petit", None, "20.00", now());
    bo.sync(&till, now()).await;
    let link =
        ardoise_server::web::new_setup_link(&bo.db, shop, "owner@example.fr", "fr", Duration::hours(1)).await.unwrap();
    let mut owner = Browser::new(&bo.serving.base_url());
    owner.sign_up(&link, "owner@example.fr").await;
    Shop { _dir: dir, bo, merged: d, till, owner }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_sign_out_and_a_wrong_password() {
    let Shop { bo, mut owner, _dir, .. } = shop().await;
    let home = owner.get("/app").await;
    assert_eq!(home.status, StatusCode::OK);
    let page_csrf = csrf(&home.body);

    // A session's cookie is HttpOnly and SameSite; not Secure on plain HTTP.
    let mut other = Browser::new(&bo.serving.base_url());
    let page = other.get("/login").await;
    let wrong =
        other.post("/login", &[("csrf", &csrf(&page.body)), ("email", "owner@example.fr"), ("password", "nope")]).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Adresse ou mot de passe incorrect."), "{}", wrong.body);
    assert_eq!(other.get("/app").await.location.as_deref(), Some("/login"));

    // The owner reads the pages in English from now on.
    let english = owner.post("/app/language", &[("csrf", &page_csrf), ("lang", "en")]).await;
    assert_eq!(english.status, StatusCode::SEE_OTHER);
    assert!(owner.get("/app").await.body.contains("Receivables"));
    assert!(owner.post("/app/language", &[("csrf", &page_csrf), ("lang", "fr")]).await.status.is_redirection());
    // The Sessions page lists this session; sign-out needs the form's token.
    let sessions = owner.get("/app/sessions").await;
    assert!(sessions.body.contains("cette session"), "{}", sessions.body);
    assert_eq!(owner.post("/logout", &[]).await.status, StatusCode::FORBIDDEN);
    let out = owner.post("/logout", &[("csrf", &page_csrf)]).await;
    assert_eq!((out.status, out.location.as_deref()), (StatusCode::SEE_OTHER, Some("/login")));
    assert!(!owner.cookies.contains_key("ardoise_session"));
    // The old cookie opens nothing any more.
    owner.cookies.insert("ardoise_session".into(), "0".repeat(64));
    assert_eq!(owner.get("/app").await.location.as_deref(), Some("/login"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_carries_the_security_headers_and_cookies_are_secure_behind_tls() {
    let Shop { bo, _dir, .. } = shop().await;
    let http = reqwest::Client::new();
    let plain = http.get(format!("{}/login", bo.serving.base_url())).send().await.unwrap();
    let h = plain.headers();
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'; script-src 'none'; style-src 'self'")
    );
    assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    assert_eq!(
        (h["referrer-policy"].to_str().unwrap(), h["x-content-type-options"].to_str().unwrap()),
        ("no-referrer", "nosniff")
    );
    assert!(!h["set-cookie"].to_str().unwrap().contains("Secure"), "plain HTTP on loopback");
    assert!(h["set-cookie"].to_str().unwrap().contains("HttpOnly; SameSite=Lax"));
    let proxied =
        http.get(format!("{}/login", bo.serving.base_url())).header("x-forwarded-proto", "https").send().await.unwrap();
    assert!(proxied.headers()["set-cookie"].to_str().unwrap().ends_with("; Secure"));
    let css = http.get(format!("{}/static/app.css", bo.serving.base_url())).send().await.unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert!(!css.text().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_are_limited_per_account() {
    let Shop { bo, _dir, .. } = shop().await;
    let mut thief = Browser::new(&bo.serving.base_url());
    for _ in 0..5 {
        assert_eq!(thief.sign_in("owner@example.fr", "guess").await.status, StatusCode::UNAUTHORIZED);
    }
    let limited = thief.sign_in("owner@example.fr", PASSWORD).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.body.contains("réessayez dans 15 minutes"), "{}", limited.body);
}

/// Two server processes on one database count the same failures: tries spread over both get
/// no more than five in all, and the database keeps no email or address in clear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_are_limited_across_server_processes() {
    let Shop { bo, _dir, .. } = shop().await;
    let second = BackOffice::serve(bo.db.clone(), bo.shop, None).await;
    let mut one = Browser::new(&bo.serving.base_url());
    let mut two = Browser::new(&second.serving.base_url());
    for i in 0..5 {
        let thief = if i % 2 == 0 { &mut one } else { &mut two };
        assert_eq!(thief.sign_in("owner@example.fr", "guess").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(two.sign_in("owner@example.fr", PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(one.sign_in("owner@example.fr", PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    let keys: Vec<String> =
        sqlx::query_scalar("SELECT key_hash FROM web_sign_in_failures").fetch_all(bo.db.pool()).await.unwrap();
    assert_eq!(keys.len(), 10, "five failures, each under its account and its address");
    assert!(keys.iter().all(|k| k.len() == 64 && !k.contains('@') && !k.contains("127.0.0.1")), "{keys:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_are_limited_per_address() {
    let Shop { bo, _dir, .. } = shop().await;
    let mut thief = Browser::new(&bo.serving.base_url());
    for i in 0..5 {
        let status = thief.sign_in(&format!("guess{i}@example.fr"), "guess").await.status;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // From the same address, even the right password of another account waits.
    assert_eq!(thief.sign_in("owner@example.fr", PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_without_its_token_is_refused() {
    let Shop { mut owner, till, _dir, .. } = shop().await;
    let before = till.lock().unwrap().customer_timeline("C1", 50).unwrap().len();
    let no = owner.post("/app/customers/C1/note", &[("note", "hello")]).await;
    assert_eq!(no.status, StatusCode::FORBIDDEN);
    let wrong = owner.post("/app/customers/C1/note", &[("note", "hello"), ("csrf", &"a".repeat(64))]).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.body.contains("rechargez la page"), "{}", wrong.body);
    // And a form too large is refused before it is read.
    let big = "x".repeat(20_000);
    let page = owner.get("/app/customers/C1").await;
    let huge = owner.post("/app/customers/C1/note", &[("note", &big), ("csrf", &csrf(&page.body))]).await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    let long = "x".repeat(3000);
    let too_long = owner.post("/app/customers/C1/note", &[("note", &long), ("csrf", &csrf(&page.body))]).await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(till.lock().unwrap().customer_timeline("C1", 50).unwrap().len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_of_one_shop_sees_nothing_of_another() {
    let Shop { bo, mut owner, _dir, .. } = shop().await;
    let other_shop = bo.db.create_shop("Boulangerie").await.unwrap();
    let link = ardoise_server::web::new_setup_link(&bo.db, other_shop, "baker@example.fr", "en", Duration::hours(1))
        .await
        .unwrap();
    let mut baker = Browser::new(&bo.serving.base_url());
    baker.sign_up(&link, "baker@example.fr").await;
    let home = baker.get("/app").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Receivables"), "English for this owner");
    assert_eq!(by_id(&home.body, "receivables"), euros(ardoise_core::Money::ZERO));
    let baker_csrf = csrf(&home.body);
    // The first shop's customer, typed into the URL: not found, for reading and for writing.
    assert_eq!(baker.get("/app/customers/C1").await.status, StatusCode::NOT_FOUND);
    let write = baker.post("/app/customers/C1/note", &[("csrf", &baker_csrf), ("note", "x")]).await;
    assert_eq!(write.status, StatusCode::NOT_FOUND);
    assert!(!baker.get("/app/overdue").await.body.contains("Hélène"));
    // Nor can they end the grocer's session.
    let sessions = owner.get("/app/sessions").await;
    let at = sessions.body.find("/app/sessions/").unwrap() + 14;
    let grocer_session = &sessions.body[at..at + 36];
    Uuid::parse_str(grocer_session).unwrap();
    let revoke = baker.post(&format!("/app/sessions/{grocer_session}/revoke"), &[("csrf", &baker_csrf)]).await;
    assert_eq!(revoke.status, StatusCode::NOT_FOUND);
    assert_eq!(owner.get("/app").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_agrees_with_a_synced_tills_report_to_the_cent() {
    let Shop { bo, mut owner, till, _dir, .. } = shop().await;
    let page = owner.get("/app").await;
    assert_eq!(page.status, StatusCode::OK);
    let today = now().date_naive();
    let (aging, kpis) = till.lock().unwrap().overview(today, 3).unwrap();
    assert_eq!(by_id(&page.body, "receivables"), euros(aging.total));
    assert_eq!(by_id(&page.body, "receivables"), "1\u{a0}254,56\u{a0}€");
    assert_eq!(by_id(&page.body, "overdue"), euros(aging.buckets.overdue()));
    assert_eq!(by_id(&page.body, "bucket-1_30"), euros(aging.buckets.d1_30));
    assert_eq!(by_id(&page.body, "bucket-current"), euros(aging.buckets.current));
    assert_eq!(by_id(&page.body, "bucket-1_30"), "1\u{a0}234,56\u{a0}€");
    assert!(owner.get("/app/overdue?bucket=31_60").await.body.contains("Aucun compte en retard"));
    let dso = kpis.dso_countback.map(|v| format!("{v:.1}").replace('.', ",")).unwrap();
    assert!(by_id(&page.body, "dso").starts_with(&dso), "{} vs {dso}", by_id(&page.body, "dso"));
    assert!(page.body.contains("href=\"/app/customers/C1\""), "among the main debtors");
    // The bucket opens the list filtered: only the overdue customer.
    let list = owner.get("/app/overdue?bucket=1_30&sort=age").await;
    assert!(list.body.contains("Hélène Dupré") && !list.body.contains("Marc Petit"), "{}", list.body);
    let found = owner.get("/app/overdue?q=helene").await;
    assert!(found.body.contains("Hélène Dupré"), "searched without accent");
    assert!(!owner.get("/app/overdue?q=zzz").await.body.contains("Hélène Dupré"));
    // The overview and the list are kept between visits only while the ledger is unchanged: a
    // payment taken at the till and synced shows at once.
    assert_eq!(by_id(&owner.get("/app").await.body, "receivables"), "1\u{a0}254,56\u{a0}€");
    let pay = ardoise_core::EntryRequest::Payment {
        amount: "1234.56".parse().unwrap(),
        method: ardoise_core::PaymentMethod::Cash,
        invoice: None,
    };
    till.lock().unwrap().record("C1", None, "Léa", pay, now()).unwrap();
    bo.sync(&till, now()).await;
    assert_eq!(by_id(&owner.get("/app").await.body, "receivables"), "20,00\u{a0}€");
    assert!(!owner.get("/app/overdue").await.body.contains("Hélène Dupré"), "paid: no longer overdue");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promise_recorded_on_the_customer_page_reaches_the_till() {
    let Shop { bo, mut owner, till, _dir, .. } = shop().await;
    let page = owner.get("/app/customers/C1").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("1\u{a0}234,56\u{a0}€"));
    let on = (now().date_naive() + Duration::days(7)).to_string();
    let done = owner
        .post("/app/customers/C1/promise", &[("csrf", &csrf(&page.body)), ("on", &on), ("amount", "100,50")])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    bo.sync(&till, now()).await;
    let timeline = till.lock().unwrap().customer_timeline("C1", 50).unwrap();
    let promise = timeline.iter().find(|t| t.kind == "promise").expect("the promise reached the till");
    assert!(promise.text.contains(&on) && promise.text.contains("100.50"), "{}", promise.text);
    assert_eq!(promise.author.as_deref(), Some("owner@example.fr"));

    // The timeline reads in the owner's language: the core's English sentence, in French.
    let day = (now().date_naive() + Duration::days(7)).format("%d/%m/%Y").to_string();
    let page = owner.get("/app/customers/C1").await;
    assert!(page.body.contains(&format!("promesse de payer 100,50\u{a0}€ d&#39;ici le {day}")), "{}", page.body);
    assert!(page.body.contains("vente à crédit, facture"), "{}", page.body);
    let english = owner.post("/app/language", &[("csrf", &csrf(&page.body)), ("lang", "en")]).await;
    assert_eq!(english.status, StatusCode::SEE_OTHER);
    let page = owner.get("/app/customers/C1").await;
    assert!(page.body.contains(&format!("promise to pay 100.50 EUR by {on}")), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_and_a_payment_plan_from_the_customer_page_reach_the_till() {
    let Shop { bo, mut owner, till, _dir, .. } = shop().await;
    let page = owner.get("/app/customers/C1").await;
    let token = csrf(&page.body);
    let on = (now().date_naive() + Duration::days(5)).to_string();
    let call =
        [("csrf", token.as_str()), ("outcome", "promise"), ("on", &on), ("amount", "200"), ("note", "rappelle lundi")];
    let done = owner.post("/app/customers/C1/call", &call).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    // A bad outcome or instalment count is refused with its reason and writes nothing.
    let bad = owner.post("/app/customers/C1/call", &[("csrf", &token), ("outcome", "shouted")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let first = (now().date_naive() + Duration::days(10)).to_string();
    let plan = |count: &'static str| {
        [("csrf", token.clone()), ("count", count.into()), ("on", first.clone()), ("every", "30".into())]
    };
    let bad = owner
        .post("/app/customers/C1/plan", &plan("1").iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>())
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let done = owner
        .post("/app/customers/C1/plan", &plan("3").iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>())
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    bo.sync(&till, now()).await;
    let till = till.lock().unwrap();
    let timeline = till.customer_timeline("C1", 50).unwrap();
    let call = timeline.iter().find(|t| t.kind == "call").expect("the call reached the till");
    assert!(call.text.contains("rappelle lundi"), "{}", call.text);
    assert!(timeline.iter().any(|t| t.kind == "promise" && t.text.contains("200.00")), "{timeline:?}");
    // Three instalments of the whole balance (1,234.56), the first on the day given.
    let plan = till.plan("C1", now().date_naive()).unwrap().expect("the plan reached the till");
    assert_eq!(plan.instalments.len(), 3);
    assert_eq!(plan.instalments.iter().map(|i| i.amount).sum::<ardoise_core::Money>(), "1234.56".parse().unwrap());
    assert_eq!(plan.instalments[0].due_on.to_string(), first);
}

/// Everything the server logs, in memory.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_payment_pages_dispute_reaches_the_till_and_its_token_is_never_logged() {
    let logs = Logs::default();
    let writer = logs.clone();
    tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).init();
    let Shop { bo, till, _dir, .. } = shop().await;
    let link = ardoise_server::web::new_pay_link(&bo.db, bo.shop, "C1", Duration::days(30)).await.unwrap();
    let token = link.trim_start_matches("/p/").to_owned();
    let mut customer = Browser::new(&bo.serving.base_url());
    let page = customer.get(&link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let rf = till.lock().unwrap().payment_reference("C1").unwrap().to_string();
    assert_eq!(by_id(&page.body, "reference"), rf);
    assert_eq!(by_id(&page.body, "total"), "1\u{a0}234,56\u{a0}€");
    assert!(!page.body.contains("Marc Petit"), "only this customer");
    assert!(page.body.contains("Épicerie du Marché"), "the shop's name");
    let invoice = till.lock().unwrap().account("C1", now().date_naive()).unwrap().open_invoices[0].reference.clone();
    // Another customer's invoice, or a form without its token, is refused.
    let c2_invoice = till.lock().unwrap().account("C2", now().date_naive()).unwrap().open_invoices[0].reference.clone();
    let token_field = csrf(&page.body);
    let theirs = customer
        .post(&format!("{link}/dispute"), &[("csrf", &token_field), ("invoice", &c2_invoice), ("reason", "x")])
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let forged = customer.post(&format!("{link}/dispute"), &[("invoice", &invoice), ("reason", "x")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let sent = customer
        .post(&format!("{link}/dispute"), &[("csrf", &token_field), ("invoice", &invoice), ("reason", "Jamais livré")])
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert!(customer.get(sent.location.as_deref().unwrap()).await.body.contains("Merci"));
    bo.sync(&till, now()).await;
    let disputes = till.lock().unwrap().disputes(Some("C1")).unwrap();
    assert_eq!((disputes.len(), disputes[0].reason.as_str(), disputes[0].state.as_str()), (1, "Jamais livré", "open"));
    // "I will pay on": a promise of what is owed, on the customer's date, at the till too.
    let on = (now().date_naive() + Duration::days(10)).to_string();
    let promised = customer.post(&format!("{link}/promise"), &[("csrf", &token_field), ("on", &on)]).await;
    assert_eq!(promised.status, StatusCode::SEE_OTHER, "{}", promised.body);
    let yesterday = (now().date_naive() - Duration::days(1)).to_string();
    let past = customer.post(&format!("{link}/promise"), &[("csrf", &token_field), ("on", &yesterday)]).await;
    assert_eq!(past.status, StatusCode::UNPROCESSABLE_ENTITY);
    bo.sync(&till, now()).await;
    let timeline = till.lock().unwrap().customer_timeline("C1", 50).unwrap();
    let promise = timeline.iter().find(|t| t.kind == "promise").expect("the promise reached the till");
    assert!(promise.text.contains(&on) && promise.text.contains("1234.56"), "{}", promise.text);

    // A wrong or revoked token opens nothing.
    assert_eq!(customer.get(&format!("/p/{}", "0".repeat(64))).await.status, StatusCode::NOT_FOUND);
    assert_eq!(bo.db.revoke_pay_pages(bo.shop, "C1").await.unwrap(), 1);
    assert_eq!(customer.get(&link).await.status, StatusCode::NOT_FOUND);

    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("/p/{token}"), "the route is logged: {logged}");
    assert!(!logged.contains(&token), "the token is not");
    assert!(!logged.contains("Hélène") && !logged.contains("Jamais livré"), "nor personal data");
}

/// The accounts' tables on PostgreSQL too: a set-up link works once, a session opens and ends,
/// a payment page resolves until revoked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_sessions_and_payment_pages_on_postgres() {
    let (url, _schema) = backoffice::pg::PgSchema::create("web").await;
    let db = ardoise_server::connect(&url).await.unwrap();
    let shop = db.create_shop("Épicerie").await.unwrap();
    let link =
        ardoise_server::web::new_setup_link(&db, shop, " Owner@Example.fr ", "en", Duration::hours(1)).await.unwrap();
    let hash = sha(link.trim_start_matches("/setup/"));
    let user = db.setup_user(&hash).await.unwrap().unwrap();
    assert_eq!((user.shop, user.email.as_str(), user.language.as_str()), (shop, "owner@example.fr", "en"));
    assert!(db.finish_setup(&hash, "$argon2id$fake").await.unwrap().is_some());
    assert!(db.finish_setup(&hash, "$argon2id$again").await.unwrap().is_none(), "a link works once");
    assert_eq!(
        db.user_by_email("OWNER@example.fr").await.unwrap().unwrap().password_hash.as_deref(),
        Some("$argon2id$fake")
    );
    let other = db.create_shop("Boulangerie").await.unwrap();
    assert!(
        ardoise_server::web::new_setup_link(&db, other, "owner@example.fr", "fr", Duration::hours(1)).await.is_err()
    );

    let expires = (chrono::Utc::now() + Duration::days(1)).timestamp_millis();
    let session = db.insert_session(user.id, "h1", "Firefox", expires).await.unwrap();
    assert_eq!(db.session("h1").await.unwrap().unwrap().0, session);
    assert_eq!(db.sessions(user.id).await.unwrap().len(), 1);
    assert!(db.revoke_session(user.id, session).await.unwrap());
    assert!(db.session("h1").await.unwrap().is_none());

    let pay = ardoise_server::web::new_pay_link(&db, shop, "C1", Duration::days(1)).await.unwrap();
    let pay_hash = sha(pay.trim_start_matches("/p/"));
    assert_eq!(db.pay_page(&pay_hash).await.unwrap(), Some((shop, "C1".to_owned())));
    assert_eq!(db.revoke_pay_pages(shop, "C1").await.unwrap(), 1);
    assert_eq!(db.pay_page(&pay_hash).await.unwrap(), None);
}

fn sha(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owners_limit_block_and_note_reach_the_till_and_a_lost_till_is_revoked() {
    let Shop { bo, mut owner, till, _dir, .. } = shop().await;
    let page = owner.get("/app/customers/C1").await;
    let token = csrf(&page.body);
    for (action, form) in [
        ("limit", vec![("amount", "300")]),
        ("block", vec![("reason", "chèque rejeté")]),
        ("note", vec![("note", "Appelée, rappelle lundi")]),
    ] {
        let mut form = form;
        form.push(("csrf", &token));
        let done = owner.post(&format!("/app/customers/C1/{action}"), &form).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{action}: {}", done.body);
    }
    assert_eq!(by_id(&owner.get("/app/customers/C1").await.body, "limit"), "300,00\u{a0}€");
    // A dispute opened here, then rejected: the invoice is chased again.
    let invoice = till.lock().unwrap().account("C1", now().date_naive()).unwrap().open_invoices[0].reference.clone();
    let opened = owner
        .post("/app/customers/C1/dispute", &[("csrf", &token), ("invoice", &invoice), ("reason", "prix contesté")])
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let page = owner.get("/app/customers/C1").await.body;
    let at = page.find("name=\"dispute\" value=\"").unwrap() + 22;
    let dispute = page[at..at + 36].to_owned();
    let hold = owner.post("/app/customers/C1/hold", &[("csrf", &token), ("reason", "vacances")]).await;
    assert_eq!(hold.status, StatusCode::SEE_OTHER);
    let rejected =
        owner.post("/app/customers/C1/rejected", &[("csrf", &token), ("dispute", &dispute), ("note", "livré")]).await;
    assert_eq!(rejected.status, StatusCode::SEE_OTHER, "{}", rejected.body);
    bo.sync(&till, now()).await;
    let c = till.lock().unwrap().customer("C1").unwrap();
    assert_eq!((c.credit_limit, c.blocked.as_deref()), (Some(backoffice::m("300")), Some("chèque rejeté")));
    let timeline = till.lock().unwrap().customer_timeline("C1", 50).unwrap();
    assert!(timeline.iter().any(|t| t.text.contains("Appelée, rappelle lundi")));
    assert!(timeline.iter().any(|t| t.text.contains("reminders on hold: vacances")), "{timeline:?}");
    let disputes = till.lock().unwrap().disputes(Some("C1")).unwrap();
    assert_eq!((disputes.len(), disputes[0].state.as_str()), (1, "rejected"));

    // The till is listed; another shop's owner cannot revoke it, this one can.
    let devices = owner.get("/app/devices").await;
    assert!(devices.body.contains("ce serveur"), "{}", devices.body);
    let device = till.lock().unwrap().device_id();
    let other = bo.db.create_shop("Boulangerie").await.unwrap();
    let link =
        ardoise_server::web::new_setup_link(&bo.db, other, "baker@example.fr", "fr", Duration::hours(1)).await.unwrap();
    let mut baker = Browser::new(&bo.serving.base_url());
    baker.sign_up(&link, "baker@example.fr").await;
    let baker_csrf = csrf(&baker.get("/app").await.body);
    let path = format!("/app/devices/{device}/revoke");
    assert_eq!(baker.post(&path, &[("csrf", &baker_csrf)]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(owner.post(&path, &[("csrf", &token)]).await.status, StatusCode::SEE_OTHER);
    assert!(bo.client.sync(&till, &|| now()).await.is_err(), "a revoked till syncs no more");
}

/// A CAMT.053 statement with one booked credit whose label names no one.
fn statement(id: &str, amount: &str) -> Vec<ardoise_core::bank::Statement> {
    ardoise_core::bank::camt::parse(camt(id, amount, "VIREMENT", amount).as_bytes()).unwrap()
}

/// A CAMT.053 statement of one credit of `amount` with `text` as its remittance information,
/// closing at `closing` (anything but `amount` makes it unbalanced).
fn camt(id: &str, amount: &str, text: &str, closing: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"><BkToCstmrStmt>
<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-04-21T06:00:00+02:00</CreDtTm></GrpHdr>
<Stmt><Id>S-1</Id><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-04-19</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-04-20</Dt></Dt></Bal>
<Ntry><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2026-04-20</Dt></BookgDt><ValDt><Dt>2026-04-20</Dt></ValDt><AcctSvcrRef>{id}</AcctSvcrRef>
<NtryDtls><TxDtls><Refs><AcctSvcrRef>{id}</AcctSvcrRef></Refs><Amt Ccy=\"EUR\">{amount}</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bank_line_confirmed_then_undone_on_the_bank_page_reaches_the_till() {
    let Shop { bo, merged, mut owner, till, _dir, .. } = shop().await;
    merged.import_statements(bo.shop, &statement("TX-9", "1234.56"), now()).await.unwrap();
    assert_eq!(by_id(&owner.get("/app").await.body, "bank-to-confirm"), "1", "the overview says it waits");
    let page = owner.get("/app/bank").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("TX-9") && page.body.contains("1\u{a0}234,56\u{a0}€"), "{}", page.body);
    let token = csrf(&page.body);
    let balance = |till: &Mutex<Store>| till.lock().unwrap().account("C1", now().date_naive()).unwrap().balance;

    let done = owner.post("/app/bank/confirm", &[("csrf", &token), ("transaction", "TX-9"), ("customer", "C1")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    bo.sync(&till, now()).await;
    assert_eq!(balance(&till), ardoise_core::Money::ZERO, "the payment reached the till");

    let undone = owner.post("/app/bank/undo", &[("csrf", &token), ("transaction", "TX-9")]).await;
    assert_eq!(undone.status, StatusCode::SEE_OTHER, "{}", undone.body);
    bo.sync(&till, now()).await;
    assert_eq!(balance(&till), backoffice::m("1234.56"), "and its reversal too");
    let unknown = owner.post("/app/bank/undo", &[("csrf", &token), ("transaction", "TX-NOPE")]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

/// `ardoise-server user add` and `pay-page`, as the operator runs them: each prints a link
/// the server then opens; a customer the shop's ledger does not know gets no page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_prints_set_up_and_payment_links() {
    let Shop { bo, _dir, .. } = shop().await;
    let url = format!("sqlite://{}?mode=rwc", _dir.path().join("server.db").display());
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ardoise-server"))
            .arg("--database-url")
            .arg(&url)
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let shop = bo.shop.to_string();
    let base = bo.serving.base_url();
    let out = run(&["user", "add", "--shop", &shop, "--email", "second@example.fr", "--base-url", &base]);
    assert!(out.status.success(), "{out:?}");
    let link = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(link.starts_with(&format!("{base}/setup/")), "{link}");
    let mut second = Browser::new(&base);
    second.sign_up(link.trim_start_matches(&base), "second@example.fr").await;
    assert_eq!(second.get("/app").await.status, StatusCode::OK);

    let data = _dir.path().join("cli-data");
    let data = data.to_str().unwrap();
    let out = run(&["pay-page", "--shop", &shop, "--customer", "C1", "--base-url", &base, "--data-dir", data]);
    assert!(out.status.success(), "{out:?}");
    let link = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(Browser::new(&base).get(link.trim_start_matches(&base)).await.status, StatusCode::OK);
    let nobody = run(&["pay-page", "--shop", &shop, "--customer", "C9", "--base-url", &base, "--data-dir", data]);
    assert!(!nobody.status.success() && String::from_utf8_lossy(&nobody.stderr).contains("C9"), "{nobody:?}");
    let out = run(&["pay-page", "--shop", &shop, "--customer", "C1", "--revoke"]);
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "1 payment page(s) ended");
    assert_eq!(Browser::new(&base).get(link.trim_start_matches(&base)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shops_iban_set_in_settings_shows_on_the_payment_page_and_reaches_the_till() {
    let Shop { bo, mut owner, till, _dir, .. } = shop().await;
    let page = owner.get("/app/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    let token = csrf(&page.body);
    let form = |iban: &'static str| vec![("name", "Épicerie Léa"), ("phone", ""), ("email", ""), ("iban", iban)];
    let mut bad = form("FR76 3000 6000 0112 3456 7890 188");
    bad.push(("csrf", &token));
    assert_eq!(owner.post("/app/settings", &bad).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut good = form("fr76 3000 6000 0112 3456 7890 189");
    good.push(("csrf", &token));
    assert_eq!(owner.post("/app/settings", &good).await.status, StatusCode::SEE_OTHER);
    bo.sync(&till, now()).await;
    let settings = till.lock().unwrap().settings();
    assert_eq!(
        (settings.shop_name.as_str(), settings.identity.iban.as_str()),
        ("Épicerie Léa", "FR7630006000011234567890189")
    );
    let link = ardoise_server::web::new_pay_link(&bo.db, bo.shop, "C1", Duration::days(1)).await.unwrap();
    let pay = Browser::new(&bo.serving.base_url()).get(&link).await;
    assert!(
        pay.body.contains("FR76 3000 6000 0112 3456 7890 189") && pay.body.contains("Épicerie Léa"),
        "{}",
        pay.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_day_page_lists_what_waits_for_the_owner() {
    let Shop { bo, merged, mut owner, _dir, .. } = shop().await;
    let page = owner.get("/app/today").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("Virements à rapprocher"), "{}", page.body);
    merged.import_statements(bo.shop, &statement("TX-7", "20.00"), now()).await.unwrap();
    let page = owner.get("/app/today").await;
    assert!(page.body.contains("Virements à rapprocher (1)"), "{}", page.body);
    assert!(page.body.contains("20,00\u{a0}€") && page.body.contains("href=\"/app/bank\""), "{}", page.body);
    assert!(
        page.body.contains("aria-current=\"page\">Aujourd&#39;hui")
            || page.body.contains("aria-current=\"page\">Aujourd'hui")
    );
}

/// With the shop's Stripe account, the payment page offers to pay online: the link makes a
/// session for what the customer owes when they click (a reminder's session would have
/// expired) and sends them to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_payment_page_sends_the_customer_to_a_fresh_payment_session() {
    let dir = tempfile::tempdir().unwrap();
    let provider = backoffice::provider::StandIn::start().await;
    let (db, shop) = BackOffice::open(dir.path()).await;
    let d = Arc::new(dispatcher(&db, dir.path(), "merged", false).with_pay_apis(provider.apis()));
    let bo = BackOffice::serve(db, shop, Some(Arc::clone(&d))).await;
    let then = now() - Duration::days(50);
    let till = bo.till(dir.path(), "till", then).await;
    customer_with_sale(&till.lock().unwrap(), "C1", "Hélène Dupré", None, "1234.56", then);
    bo.sync(&till, now()).await;
    let link = ardoise_server::web::new_pay_link(&bo.db, shop, "C1", Duration::days(30)).await.unwrap();
    let mut customer = Browser::new(&bo.serving.base_url());

    // No provider yet: no button.
    assert!(!customer.get(&link).await.body.contains("id=\"pay\""));
    bo.db.set_payment_provider(shop, "stripe", "sk_test_x", &["whsec_a".into()]).await.unwrap();
    let page = customer.get(&link).await;
    assert!(page.body.contains(&format!("href=\"{link}/pay\"")), "{}", page.body);
    let go = customer.get(&format!("{link}/pay")).await;
    assert_eq!(go.status, StatusCode::SEE_OTHER, "{}", go.body);
    let created = provider.created();
    assert_eq!(created.len(), 1);
    assert_eq!(go.location.as_deref(), Some(created[0].url.as_str()));
    assert_eq!(created[0].form.get("line_items[0][price_data][unit_amount]").map(String::as_str), Some("123456"));
    assert_eq!(created[0].form.get("metadata[customer]").map(String::as_str), Some("C1"));
    // Another token gets nothing.
    assert_eq!(customer.get(&format!("/p/{}/pay", "0".repeat(64))).await.status, StatusCode::NOT_FOUND);
}

/// The reminders page: the queue with the words the email will carry, a reminder cancelled,
/// a customer held from it (their queued reminder given up with it) then resumed from the list
/// of customers on hold (all reaching the till), and a bounce among the delivery results.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reminders_page_shows_the_queue_and_its_actions_reach_the_till() {
    use ardoise_core::store::ReminderState;
    let Shop { bo, mut owner, till, _dir, .. } = shop().await;
    let then = now() - Duration::days(50);
    customer_with_sale(&till.lock().unwrap(), "C3", "Anne Roy", Some("anne@example.fr"), "80.00", then);
    customer_with_sale(&till.lock().unwrap(), "C4", "Paul Blanc", Some("paul@example.fr"), "40.00", then);
    let run = till.lock().unwrap().run_dunning(now()).unwrap();
    assert!(run.queued.len() >= 3, "{run:?}");
    bo.sync(&till, now()).await;
    let queued = till.lock().unwrap().reminders(Some(ReminderState::Queued), None, 10).unwrap();
    let of =
        |c: &str| queued.iter().find(|r| r.customer_ref == c).unwrap_or_else(|| panic!("a reminder for {c}")).clone();
    let (anne, helene, paul) = (of("C3"), of("C1"), of("C4"));

    let page = owner.get("/app/reminders").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Anne Roy") && page.body.contains("anne@example.fr"), "{}", page.body);
    // The email's own text: the core's words, then the amount lines the mail transport adds.
    let first_line = anne.body.lines().find(|l| !l.trim().is_empty()).unwrap();
    assert!(page.body.contains(&askama_escape(first_line)), "{first_line} in {}", page.body);
    assert!(page.body.contains("Montant dû : 80,00\u{a0}€"), "{}", page.body);
    let token = csrf(&page.body);

    let cancel = format!("/app/reminders/{}/cancel", anne.id);
    assert_eq!(owner.post(&cancel, &[]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        owner.post(&format!("/app/reminders/{}/cancel", Uuid::new_v4()), &[("csrf", &token)]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(owner.post(&cancel, &[("csrf", &token)]).await.status, StatusCode::SEE_OTHER);
    let hold = format!("/app/reminders/{}/hold", helene.id);
    let held = owner.post(&hold, &[("csrf", &token), ("reason", "parle au gérant")]).await;
    assert_eq!(held.status, StatusCode::SEE_OTHER, "{}", held.body);
    let page = owner.get("/app/reminders").await;
    let paused = &page.body[page.body.find("id=\"paused\"").unwrap()..page.body.find("id=\"results\"").unwrap()];
    assert!(paused.contains("Hélène Dupré") && paused.contains("parle au gérant"), "{paused}");
    bo.sync(&till, now()).await;
    assert_eq!(till.lock().unwrap().reminder(anne.id).unwrap().state, ReminderState::Cancelled);
    assert_eq!(till.lock().unwrap().reminder(helene.id).unwrap().state, ReminderState::Cancelled, "held, not sent");
    let holds = till.lock().unwrap().reminder_holds(now().date_naive()).unwrap();
    assert_eq!(holds.iter().map(|h| h.customer_ref.as_str()).collect::<Vec<_>>(), ["C1"]);
    // A cancelled reminder cannot be cancelled again: the core's refusal, said back.
    assert_eq!(owner.post(&cancel, &[("csrf", &token)]).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Resumed from the list; another shop's or an unknown customer is not found.
    assert_eq!(
        owner.post("/app/reminders/release", &[("csrf", &token), ("customer", "C99")]).await.status,
        StatusCode::NOT_FOUND
    );
    let resumed = owner.post("/app/reminders/release", &[("csrf", &token), ("customer", "C1")]).await;
    assert_eq!(resumed.status, StatusCode::SEE_OTHER, "{}", resumed.body);
    bo.sync(&till, now()).await;
    assert!(till.lock().unwrap().reminder_holds(now().date_naive()).unwrap().is_empty());

    // A bounce recorded by the sender shows among the results, with its reason.
    till.lock()
        .unwrap()
        .set_reminder_state(paul.id, ReminderState::Failed, Some("not delivered: mailbox unknown"), now())
        .unwrap();
    bo.sync(&till, now()).await;
    let page = owner.get("/app/reminders").await;
    let results = &page.body[page.body.find("id=\"results\"").unwrap()..];
    assert!(
        results.contains("Non remise") && results.contains("mailbox unknown") && results.contains("Paul Blanc"),
        "{results}"
    );
    assert!(!results.contains("Anne Roy"), "a cancelled reminder is no delivery result");
}

/// Text as askama writes it into HTML.
fn askama_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The devices page issues a one-time enrolment code, shown once with its QR code; a new till
/// enrols with the address and the code the page shows, and then appears in the list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrolment_code_from_the_devices_page_enrols_a_till_once() {
    let Shop { bo, mut owner, _dir, .. } = shop().await;
    let page = owner.get("/app/devices").await;
    let token = csrf(&page.body);
    assert_eq!(owner.post("/app/devices/enrol", &[]).await.status, StatusCode::FORBIDDEN);
    let issued = owner.post("/app/devices/enrol", &[("csrf", &token)]).await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.body);
    let (server, code) = (by_id(&issued.body, "enrol-server"), by_id(&issued.body, "enrol-code"));
    assert_eq!(server, bo.serving.base_url().trim_end_matches('/'));
    // The QR code is the one of the address and the code, drawn by the qrcode crate.
    let uri = format!("ardoise:enrol?server={}&code={code}", server.replace(':', "%3A").replace('/', "%2F"));
    let drawn = qrcode::QrCode::new(uri.as_bytes())
        .unwrap()
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    let drawn = &drawn[drawn.find("<svg").unwrap() + 4..];
    assert!(issued.body.contains("<svg role=\"img\""), "{}", issued.body);
    assert!(issued.body.contains(drawn), "{}", issued.body);
    // A reload of the page shows no code any more: only its hash is kept.
    assert!(!owner.get("/app/devices").await.body.contains(&code));

    let store = Mutex::new(Store::open(_dir.path().join("new-till.db")).unwrap());
    bo.client.enrol(&store, &server, &code, "Caisse 2", now()).await.unwrap();
    assert!(owner.get("/app/devices").await.body.contains("Caisse 2"));
    let again = Mutex::new(Store::open(_dir.path().join("third.db")).unwrap());
    assert!(bo.client.enrol(&again, &server, &code, "Caisse 3", now()).await.is_err(), "the code works once");
}

impl Browser {
    /// A multipart form as a browser sends it: the CSRF token, then the file.
    async fn upload(&mut self, path: &str, csrf: Option<&str>, file: &[u8]) -> Answer {
        let boundary = "----ardoise-test-boundary";
        let mut body = Vec::new();
        if let Some(t) = csrf {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{t}\r\n").as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"statement\"; filename=\"releve.xml\"\r\n\
                 Content-Type: application/xml\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .await
            .unwrap();
        self.answer(r).await
    }
}

/// A statement uploaded on the bank page: refused whole when unbalanced or malformed (the
/// core's words, nothing written), refused when too large, and applied when it names a
/// customer's payment reference, the payment reaching the till.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_uploaded_on_the_bank_page_is_checked_then_applied_and_reaches_the_till() {
    let Shop { bo, mut owner, till, _dir, .. } = shop().await;
    let reference = till.lock().unwrap().account("C1", now().date_naive()).unwrap().payment_reference.to_string();
    let page = owner.get("/app/bank").await;
    assert!(page.body.contains("enctype=\"multipart/form-data\""), "{}", page.body);
    let token = csrf(&page.body);
    let good = camt("TX-UP", "100.00", &format!("VIR {reference}"), "100.00");

    assert_eq!(owner.upload("/app/bank/import", None, good.as_bytes()).await.status, StatusCode::FORBIDDEN);
    let unbalanced =
        owner.upload("/app/bank/import", Some(&token), camt("TX-UP", "100.00", "x", "90.00").as_bytes()).await;
    assert_eq!(unbalanced.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unbalanced.body);
    assert!(
        unbalanced.body.contains("opening 0.00 + movements 100.00 is not the closing 90.00"),
        "{}",
        unbalanced.body
    );
    let broken = good.replace(
        "<Amt Ccy=\"EUR\">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>",
        "<Amt Ccy=\"EUR\">cent</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>",
    );
    let malformed = owner.upload("/app/bank/import", Some(&token), broken.as_bytes()).await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", malformed.body);
    assert!(malformed.body.contains("Stmt[1]/Ntry[1]/Amt (line 7)"), "{}", malformed.body);
    assert!(!owner.get("/app/bank").await.body.contains("TX-UP"), "a refused file writes nothing");
    let huge = vec![b' '; 11 * 1024 * 1024];
    let refused = owner.upload("/app/bank/import", Some(&token), &huge).await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(refused.body.contains("Relevé trop gros"), "{}", refused.body);

    let done = owner.upload("/app/bank/import", Some(&token), good.as_bytes()).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let shown = &done.body[done.body.find("id=\"imported\"").unwrap()..];
    assert!(shown.contains("1 opérations lues") && shown.contains("Appliqués (1)"), "{shown}");
    assert!(shown.contains("100,00\u{a0}€") && shown.contains("C1"), "{shown}");
    bo.sync(&till, now()).await;
    assert_eq!(
        till.lock().unwrap().account("C1", now().date_naive()).unwrap().balance,
        ardoise_core::Money::parse("1134.56").unwrap()
    );
    // The same file again records nothing twice.
    let again = owner.upload("/app/bank/import", Some(&token), good.as_bytes()).await;
    assert!(again.body.contains("1 déjà importées"), "{}", again.body);
}

/// The settings page's checkout thresholds, ladder, templates and rate tables: each refused
/// whole when the core finds a value wrong (nothing reaches the till), and saved otherwise,
/// reaching the till by sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_rules_ladder_templates_and_rates_are_checked_and_reach_the_till() {
    let Shop { bo, mut owner, till, _dir, .. } = shop().await;
    let page = owner.get("/app/settings").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Rappel courtois") && page.body.contains("Taux directeur de la BCE"), "{}", page.body);
    let token = csrf(&page.body);
    let t = token.as_str();
    let rules = |warn: &'static str, refuse: &'static str, limit: &'static str| {
        vec![
            ("csrf", t),
            ("warn_overdue_days", warn),
            ("refuse_overdue_days", refuse),
            ("warn_limit_pct", "75"),
            ("default_credit_limit", limit),
            ("offline_after_hours", "12"),
            ("offline_allowance", "30,00"),
            ("min_gap_days", "7"),
            ("sms_from_hour", "9"),
            ("sms_until_hour", "19"),
            ("plan_grace_days", "5"),
            ("contract_rate_pct", ""),
            ("fees_business", "1"),
        ]
    };
    let bad = owner.post("/app/settings/rules", &rules("40", "30", "500,00")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("refusing from 30 days overdue but warning only from 40"), "{}", bad.body);
    let typo = owner.post("/app/settings/rules", &rules("1", "3O", "500,00")).await;
    assert!(typo.body.contains("pas un nombre entier"), "{}", typo.body);
    assert_eq!(owner.post("/app/settings/rules", &rules("1", "30", "500,00")).await.status, StatusCode::SEE_OTHER);

    // The ladder: a step moved before the one it follows is refused; moved earlier, kept.
    let bad = owner.post("/app/settings/ladder", &[("csrf", t), ("offset-1", "4")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("does not come after"), "{}", bad.body);
    let ok = owner.post("/app/settings/ladder", &[("csrf", t), ("offset-0", "3"), ("fee-1", "5,00")]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);

    // A template with a placeholder the core does not know is refused.
    let template = |body: &'static str| {
        vec![
            ("csrf", t),
            ("name", "courteous"),
            ("language", "fr"),
            ("subject", "Petit rappel"),
            ("body", body),
            ("sms", "Rappel {shop_name}"),
        ]
    };
    let bad = owner.post("/app/settings/template", &template("Bonjour {prenom}")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("prenom"), "{}", bad.body);
    let ok =
        owner.post("/app/settings/template", &template("Bonjour {customer_name}, {amount_due} EUR restent dus.")).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);

    // Rate tables: without the day they were checked through they are refused; with a later
    // one and a new ECB rate, kept.
    let current = till.lock().unwrap().rate_tables().unwrap();
    let mut ecb = String::from("effective_date,rate\n");
    for r in &current.ecb {
        ecb.push_str(&format!("{},{}\n", r.effective_on, r.rate_pct));
    }
    let mut legal = format!("# checked_through: {}\nyear,half,individual,other\n", current.legal_checked_through);
    for r in &current.legal {
        legal.push_str(&format!("{},{},,{}\n", r.year, r.half, r.rate_pct));
    }
    let bad = owner.post("/app/settings/rates", &[("csrf", t), ("ecb", &ecb), ("legal", &legal)]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("checked_through"), "{}", bad.body);
    let later = current.ecb_checked_through + Duration::days(30);
    let ecb = format!("# checked_through: {later}\n{}{},1.75\n", ecb, later - Duration::days(1));
    let ok = owner.post("/app/settings/rates", &[("csrf", t), ("ecb", &ecb), ("legal", &legal)]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);

    bo.sync(&till, now()).await;
    let till = till.lock().unwrap();
    let s = till.settings();
    assert_eq!(s.checkout.default_credit_limit, Some(ardoise_core::Money::parse("500").unwrap()));
    assert_eq!((s.checkout.warn_limit_pct, s.checkout.offline_after_hours, s.dunning.sms_until_hour), (75, 12, 19));
    assert!(s.dunning.penalty_fees_business && !s.dunning.penalty_fees_consumer);
    let ladder = till.ladder("default").unwrap();
    assert_eq!(ladder.steps[0].offset_days, 3);
    assert_eq!(ladder.steps[1].fee, Some(ardoise_core::Money::parse("5").unwrap()));
    let courteous =
        till.templates().unwrap().into_iter().find(|t| t.name == "courteous" && t.language.as_str() == "fr");
    assert_eq!(courteous.unwrap().subject, "Petit rappel");
    let rates = till.rate_tables().unwrap();
    assert_eq!(rates.ecb_checked_through, later);
    assert_eq!(rates.ecb.last().unwrap().rate_pct.to_string(), "1.75");
}

/// A reminder that goes on paper: its letter, as the letter transport lays it out, opens from
/// the reminders page and from the day's letters to post; an email's has none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_letters_pdf_opens_from_the_reminders_and_day_pages() {
    use ardoise_core::store::ReminderState;
    let Shop { bo, mut owner, till, _dir, .. } = shop().await;
    let then = now() - Duration::days(50);
    customer_with_sale(&till.lock().unwrap(), "C3", "Anne Roy", Some("anne@example.fr"), "80.00", then);
    // The second step (15 days late) goes by post from now on.
    let token = csrf(&owner.get("/app/settings").await.body);
    let ladder = owner.post("/app/settings/ladder", &[("csrf", &token), ("channel-1", "letter")]).await;
    assert_eq!(ladder.status, StatusCode::SEE_OTHER, "{}", ladder.body);
    bo.sync(&till, now()).await;
    let address = ardoise_core::CustomerPatch {
        address: Some(Some("3 rue des Lilas\n75011 Paris".into())),
        ..Default::default()
    };
    till.lock().unwrap().update_customer("C1", address, now()).unwrap();
    till.lock().unwrap().run_dunning(now()).unwrap();
    bo.sync(&till, now()).await;
    let queued = till.lock().unwrap().reminders(Some(ReminderState::Queued), None, 10).unwrap();
    let letter = queued.iter().find(|r| r.customer_ref == "C1").expect("a letter for C1");
    assert_eq!(letter.channel.as_str(), "letter", "{letter:?}");
    let href = format!("/app/reminders/{}/letter.pdf", letter.id);
    assert!(owner.get("/app/reminders").await.body.contains(&href));
    assert!(owner.get("/app/today").await.body.contains(&href), "the day's letters to post link to it");

    let r =
        owner.http.get(format!("{}{href}", owner.base)).header("cookie", owner.cookie_header()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let bytes = r.bytes().await.unwrap();
    let text = ardoise_server::send::pdf_text(&bytes).unwrap();
    assert!(text.contains("Hélène Dupré") && text.contains("75011 Paris"), "{text}");
    // An email has no letter; a reminder of no one's is not found.
    let email = queued.iter().find(|r| r.customer_ref == "C3").unwrap();
    assert_eq!(owner.get(&format!("/app/reminders/{}/letter.pdf", email.id)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(owner.get(&format!("/app/reminders/{}/letter.pdf", Uuid::new_v4())).await.status, StatusCode::NOT_FOUND);
}

/// The shop's legal identity from the settings page: a SIRET whose key is wrong is refused (the
/// core's check); the whole identity then reaches the till, and a form without these fields
/// (the shop's name only) leaves them as they are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shops_legal_identity_is_checked_and_reaches_the_till() {
    let Shop { bo, mut owner, till, _dir, .. } = shop().await;
    let token = csrf(&owner.get("/app/settings").await.body);
    let form = |siret: &'static str| {
        vec![
            ("name", "Épicerie Léa"),
            ("phone", ""),
            ("email", ""),
            ("iban", ""),
            ("shop_address", "3 rue des Lilas\r\n75011 Paris"),
            ("legal_name", "Léa Martin SARL"),
            ("legal_form", "SARL"),
            ("siret", siret),
            ("vat_number", ""),
            ("rcs_city", "Paris"),
            ("registered_address", "3 rue des Lilas\r\n75011 Paris"),
            ("representative", "Léa Martin"),
            ("representative_role", "gérante"),
        ]
    };
    let mut bad = form("732 829 320 00075");
    bad.push(("csrf", &token));
    let refused = owner.post("/app/settings", &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    let mut good = form("732 829 320 00074");
    good.push(("csrf", &token));
    assert_eq!(owner.post("/app/settings", &good).await.status, StatusCode::SEE_OTHER);
    let short =
        [("csrf", token.as_str()), ("name", "Épicerie Léa et fils"), ("phone", ""), ("email", ""), ("iban", "")];
    assert_eq!(owner.post("/app/settings", &short).await.status, StatusCode::SEE_OTHER);
    bo.sync(&till, now()).await;
    let s = till.lock().unwrap().settings();
    assert_eq!(s.shop_name, "Épicerie Léa et fils");
    assert_eq!((s.identity.siret.as_str(), s.identity.legal_name.as_str()), ("73282932000074", "Léa Martin SARL"));
    assert_eq!(
        (s.identity.address.as_str(), s.shop_address.as_str()),
        ("3 rue des Lilas\n75011 Paris", "3 rue des Lilas\n75011 Paris")
    );
    let page = owner.get("/app/settings").await;
    assert!(page.body.contains("value=\"73282932000074\"") && page.body.contains("value=\"gérante\""), "{}", page.body);
}
