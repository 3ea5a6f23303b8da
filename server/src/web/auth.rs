//! Owners' accounts on the web: the one-time set-up link, sign-in with argon2id and a limit on
//! attempts (counted in the database, `db/sign_in.rs`, shared by every server process), sessions kept server-side as hashes (listed and revocable), and CSRF tokens: per
//! session for the owner's forms, double-submit cookie for the forms of visitors not signed in.

use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Form;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::{HeaderMap, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::i18n::{self, Words};
use super::page::{Cookies, SESSION_COOKIE, WebError, cookie, field, render};
use crate::db::Db;
use crate::db::web::User;
use crate::secret::{new_token, sha256_hex};
use crate::state::AppState;

const CSRF_COOKIE: &str = "ardoise_csrf";
const SESSION_DAYS: i64 = 30;
/// Failed sign-ins allowed per account and per address in `WINDOW`.
const MAX_FAILURES: i64 = 5;
const WINDOW: Duration = Duration::from_secs(15 * 60);

/// A set-up link's path for a new owner (or a password reset): `/setup/{token}`.
pub async fn new_setup_link(
    db: &Db,
    shop: Uuid,
    email: &str,
    language: &str,
    ttl: chrono::Duration,
) -> crate::error::Result<String> {
    let token = new_token();
    let expires = (chrono::Utc::now() + ttl).timestamp_millis();
    db.add_user(shop, email, language, &sha256_hex(&token), expires).await?;
    Ok(format!("/setup/{token}"))
}

/// A customer's payment page path: `/p/{token}`. The caller checked the customer exists.
pub async fn new_pay_link(db: &Db, shop: Uuid, customer: &str, ttl: chrono::Duration) -> crate::error::Result<String> {
    let token = new_token();
    let expires = (chrono::Utc::now() + ttl).timestamp_millis();
    db.add_pay_page(shop, customer, &sha256_hex(&token), expires).await?;
    Ok(format!("/p/{token}"))
}

/// Equal secrets, compared in a time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The double-submit token of a visitor not signed in: the cookie's, or a new one to set.
pub(crate) fn visitor_csrf(cookies: &Cookies) -> (String, Option<axum::http::HeaderValue>) {
    match cookies.get(CSRF_COOKIE) {
        Some(t) if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) => (t.to_owned(), None),
        _ => {
            let t = new_token();
            let c = cookie(CSRF_COOKIE, &t, 24 * 3600, cookies.tls);
            (t, Some(c))
        }
    }
}

/// A visitor's form must carry the token its cookie holds.
pub(crate) fn check_visitor(cookies: &Cookies, w: &'static Words, sent: &str) -> Result<(), WebError> {
    match cookies.get(CSRF_COOKIE) {
        Some(c) if !sent.is_empty() && same(c, sent) => Ok(()),
        _ => Err(WebError::Forbidden(w)),
    }
}

/// A page response with the visitor's CSRF cookie set when it is new.
pub(crate) fn with_cookie(mut r: Response, c: Option<axum::http::HeaderValue>) -> Response {
    if let Some(c) = c {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

/// The signed-in owner of a request: their account, the session and its CSRF token.
#[derive(Debug)]
pub(crate) struct Owner {
    pub user: User,
    pub session: Uuid,
    pub csrf: String,
    pub w: &'static Words,
}

impl Owner {
    /// A form of this session must carry its token (403 otherwise).
    pub fn check(&self, sent: &str) -> Result<(), WebError> {
        if !sent.is_empty() && same(&self.csrf, sent) { Ok(()) } else { Err(WebError::Forbidden(self.w)) }
    }

    pub fn shop(&self) -> Uuid {
        self.user.shop
    }
}

impl FromRequestParts<AppState> for Owner {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let cookies = Cookies::from_request_parts(parts, state).await.unwrap_or_else(|e| match e {});
        let Some(token) = cookies.get(SESSION_COOKIE) else { return Err(WebError::SignIn) };
        let w = i18n::FR;
        let Some((session, user)) = state.db.session(&sha256_hex(token)).await.map_err(|e| WebError::of(w, e))? else {
            return Err(WebError::SignIn);
        };
        let w = i18n::words(&user.language);
        Ok(Owner { csrf: sha256_hex(&format!("csrf:{token}")), user, session, w })
    }
}

#[derive(askama::Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    w: &'static Words,
    csrf: &'a str,
    email: &'a str,
    message: Option<&'a str>,
}

pub(crate) async fn login_page(cookies: Cookies, headers: HeaderMap) -> Response {
    let w = i18n::of_visitor(&headers);
    let (csrf, set) = visitor_csrf(&cookies);
    with_cookie(render(&LoginPage { w, csrf: &csrf, email: "", message: None }), set)
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub(crate) async fn login(
    State(state): State<AppState>,
    cookies: Cookies,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let w = i18n::of_visitor(&headers);
    check_visitor(&cookies, w, &form.csrf)?;
    let email = field(w, &form.email, 254)?;
    let password = field(w, &form.password, 128)?;
    let address = cookies.peer.map_or_else(|| "unknown".to_owned(), |p| p.to_string());
    let keys = [format!("account:{}", crate::db::web::normal_email(&email)), format!("address:{address}")];
    // In the database, not in this process: every process behind a load balancer counts the
    // same failures.
    let window = i64::try_from(WINDOW.as_millis()).unwrap_or(i64::MAX);
    if state.db.sign_in_blocked(&keys, MAX_FAILURES, window).await.map_err(|e| WebError::of(w, e))? {
        return Err(WebError::TooMany(w));
    }
    let user = state.db.user_by_email(&email).await.map_err(|e| WebError::of(w, e))?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let ok = verify(password, stored).await;
    let Some(user) = user.filter(|_| ok) else {
        state.db.sign_in_failed(&keys, window).await.map_err(|e| WebError::of(w, e))?;
        let csrf = form.csrf;
        let page = render(&LoginPage { w, csrf: &csrf, email: &email, message: Some(w.wrong_login) });
        return Ok((StatusCode::UNAUTHORIZED, page).into_response());
    };
    let token = new_token();
    let agent: String =
        headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").chars().take(120).collect();
    let expires = (chrono::Utc::now() + chrono::Duration::days(SESSION_DAYS)).timestamp_millis();
    state.db.insert_session(user.id, &sha256_hex(&token), &agent, expires).await.map_err(|e| WebError::of(w, e))?;
    let mut r = Redirect::to("/app").into_response();
    r.headers_mut().append(header::SET_COOKIE, cookie(SESSION_COOKIE, &token, SESSION_DAYS * 86400, cookies.tls));
    Ok(r)
}

/// Checks off the async threads: argon2id is made to be slow. Without an account, a hash is
/// still computed, so the answer's time does not tell which emails exist.
async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match stored {
        Some(stored) => {
            PasswordHash::new(&stored).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        }
        None => {
            let _ = hash(&password);
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// An argon2id hash in PHC form (the crate's defaults: 19 MiB, 2 passes).
pub(crate) fn hash(password: &str) -> Option<String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).ok()?;
    Argon2::default().hash_password(password.as_bytes(), &salt).ok().map(|h| h.to_string())
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    owner: Owner,
    cookies: Cookies,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    owner.check(&form.csrf)?;
    state.db.revoke_session(owner.user.id, owner.session).await.map_err(|e| WebError::of(owner.w, e))?;
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().append(header::SET_COOKIE, cookie(SESSION_COOKIE, "", 0, cookies.tls));
    Ok(r)
}

#[derive(askama::Template)]
#[template(path = "setup.html")]
struct SetupPage<'a> {
    w: &'static Words,
    csrf: &'a str,
    email: &'a str,
    message: Option<&'a str>,
}

pub(crate) async fn setup_page(
    State(state): State<AppState>,
    cookies: Cookies,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    let w = i18n::of_visitor(&headers);
    let user =
        state.db.setup_user(&sha256_hex(&token)).await.map_err(|e| WebError::of(w, e))?.ok_or(WebError::NotFound(w))?;
    let w = i18n::words(&user.language);
    let (csrf, set) = visitor_csrf(&cookies);
    Ok(with_cookie(render(&SetupPage { w, csrf: &csrf, email: &user.email, message: None }), set))
}

#[derive(Debug, Deserialize)]
pub(crate) struct SetupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    again: String,
}

pub(crate) async fn setup(
    State(state): State<AppState>,
    cookies: Cookies,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<SetupForm>,
) -> Result<Response, WebError> {
    let w = i18n::of_visitor(&headers);
    check_visitor(&cookies, w, &form.csrf)?;
    let hashed = sha256_hex(&token);
    let user = state.db.setup_user(&hashed).await.map_err(|e| WebError::of(w, e))?.ok_or(WebError::NotFound(w))?;
    let w = i18n::words(&user.language);
    let refuse = |message: &'static str| {
        let page = render(&SetupPage { w, csrf: &form.csrf, email: &user.email, message: Some(message) });
        Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    let n = form.password.chars().count();
    if !(12..=128).contains(&n) {
        return refuse(w.password_rules);
    }
    if form.password != form.again {
        return refuse(w.passwords_differ);
    }
    let password = form.password.clone();
    let phc = tokio::task::spawn_blocking(move || hash(&password)).await.ok().flatten().ok_or(WebError::Internal(w))?;
    state.db.finish_setup(&hashed, &phc).await.map_err(|e| WebError::of(w, e))?.ok_or(WebError::NotFound(w))?;
    Ok(Redirect::to("/login").into_response())
}

struct SessionRow {
    id: Uuid,
    agent: String,
    started: String,
    seen: String,
    current: bool,
}

#[derive(askama::Template)]
#[template(path = "sessions.html")]
struct SessionsPage<'a> {
    w: &'static Words,
    csrf: &'a str,
    active: &'a str,
    email: &'a str,
    rows: Vec<SessionRow>,
}

pub(crate) async fn sessions_page(State(state): State<AppState>, owner: Owner) -> Result<Response, WebError> {
    let w = owner.w;
    let list = state.db.sessions(owner.user.id).await.map_err(|e| WebError::of(w, e))?;
    let rows = list
        .into_iter()
        .map(|s| SessionRow {
            id: s.id,
            agent: s.agent,
            started: super::fmt::instant(s.created_at),
            seen: super::fmt::instant(s.seen_at),
            current: s.id == owner.session,
        })
        .collect();
    Ok(render(&SessionsPage { w, csrf: &owner.csrf, active: "sessions", email: &owner.user.email, rows }))
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    owner.check(&form.csrf)?;
    let id = Uuid::try_parse(&id).map_err(|_| WebError::NotFound(owner.w))?;
    if !state.db.revoke_session(owner.user.id, id).await.map_err(|e| WebError::of(owner.w, e))? {
        return Err(WebError::NotFound(owner.w));
    }
    Ok(Redirect::to(if id == owner.session { "/login" } else { "/app/sessions" }).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct LanguageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    lang: String,
}

pub(crate) async fn language(
    State(state): State<AppState>,
    owner: Owner,
    Form(form): Form<LanguageForm>,
) -> Result<Response, WebError> {
    owner.check(&form.csrf)?;
    let lang = i18n::words(&form.lang).lang;
    state.db.set_user_language(owner.user.id, lang).await.map_err(|e| WebError::of(owner.w, e))?;
    Ok(Redirect::to("/app").into_response())
}
