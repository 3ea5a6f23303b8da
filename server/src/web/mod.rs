//! The web pages served beside the sync API (issue 19): the owner's back office under `/app`,
//! its sign-in under `/login` and `/setup`, and the customer's payment page under `/p`. Pages
//! are rendered on the server from askama templates (`server/templates`, checked at compile
//! time) and need no JavaScript; every number comes from the shop's merged ledger through
//! `ardoise-core`, caught up with the log (`Dispatcher::read_merged`).

mod auth;
mod bank;
mod customer;
mod fmt;
mod i18n;
mod overview;
mod paypage;

use std::sync::Arc;

use ardoise_core::store::Now;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, extract::FromRequestParts, http::request::Parts};

use crate::dispatch::Dispatcher;
use crate::error::Error;
use crate::state::AppState;

pub use auth::{new_pay_link, new_setup_link};
use i18n::Words;

/// Forms are a few short fields: anything larger is refused before it is read.
pub const MAX_FORM_BYTES: usize = 8 * 1024;

/// Whether the pages are served over TLS (their cookies are then `Secure`); set by `serve`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tls(pub bool);

/// The pages' own routes, merged into the application's router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/app") }))
        .route("/static/app.css", get(css))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/setup/{token}", get(auth::setup_page).post(auth::setup))
        .route("/app", get(overview::overview))
        .route("/app/overdue", get(overview::overdue))
        .route("/app/customers/{customer}", get(customer::page))
        .route("/app/customers/{customer}/{action}", post(customer::act))
        .route("/app/bank", get(bank::page))
        .route("/app/bank/{action}", post(bank::act))
        .route("/app/sessions", get(auth::sessions_page))
        .route("/app/sessions/{id}/revoke", post(auth::revoke))
        .route("/app/language", post(auth::language))
        .route("/p/{token}", get(paypage::page))
        .route("/p/{token}/{action}", post(paypage::act))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(middleware::from_fn(guard))
        .layer(Extension(Arc::new(auth::Attempts::default())))
}

/// Headers on every page, and the size check before a form is read. The CSP allows no script
/// at all and styles only from `/static/app.css` (so no inline `style` attribute either).
async fn guard(request: Request, next: Next) -> Response {
    let too_big = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .is_some_and(|n| n > MAX_FORM_BYTES);
    let mut response = if too_big {
        page_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            i18n::FR,
            "Formulaire trop long (8 Ko au plus). / Form too long (8 KB at most).",
        )
    } else {
        next.run(request).await
    };
    let h = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    );
    set(h, "referrer-policy", "no-referrer");
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages show balances and names: no shared or back-button cache keeps them.
        set(h, "cache-control", "no-store");
    }
    response
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("app.css"),
    )
        .into_response()
}

/// A page's failure, answered as a small page in the reader's language.
#[derive(Debug)]
pub(crate) enum WebError {
    NotFound(&'static Words),
    Forbidden(&'static Words),
    /// A form the core refused: said back to the reader as it is.
    Invalid(&'static Words, String),
    TooMany(&'static Words),
    /// Not signed in: to the sign-in page.
    SignIn,
    Unavailable(&'static Words),
    Internal(&'static Words),
}

impl WebError {
    pub(crate) fn of(w: &'static Words, e: Error) -> WebError {
        match e {
            Error::NotFound { .. } => WebError::NotFound(w),
            Error::Refused(api) => WebError::Invalid(w, api.body.message),
            other => {
                // The kind only: a message may name a customer.
                tracing::error!(error = other_kind(&other), "web page failed");
                WebError::Internal(w)
            }
        }
    }
}

fn other_kind(e: &Error) -> &'static str {
    match e {
        Error::Database(_) => "database",
        Error::Corrupt(_) => "corrupt",
        Error::Internal(_) => "dispatcher",
        Error::NotFound { .. } => "not_found",
        Error::Refused(_) => "refused",
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::NotFound(w) => page_error(StatusCode::NOT_FOUND, w, w.not_found),
            WebError::Forbidden(w) => page_error(StatusCode::FORBIDDEN, w, w.forbidden),
            WebError::Invalid(w, m) => page_error(StatusCode::UNPROCESSABLE_ENTITY, w, &m),
            WebError::TooMany(w) => page_error(StatusCode::TOO_MANY_REQUESTS, w, w.too_many),
            WebError::SignIn => Redirect::to("/login").into_response(),
            WebError::Unavailable(w) => page_error(StatusCode::SERVICE_UNAVAILABLE, w, w.unavailable),
            WebError::Internal(w) => page_error(StatusCode::INTERNAL_SERVER_ERROR, w, w.internal),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    w: &'static Words,
    status: u16,
    message: &'a str,
}

fn page_error(status: StatusCode, w: &'static Words, message: &str) -> Response {
    (status, render(&ErrorPage { w, status: status.as_u16(), message })).into_response()
}

/// A template rendered, or a plain 500 if it cannot be (it always can: checked at compile time).
pub(crate) fn render(t: &impl askama::Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The process's dispatcher: pages read the merged ledgers through it.
pub(crate) fn dispatcher(state: &AppState, w: &'static Words) -> Result<Arc<Dispatcher>, WebError> {
    state.dispatcher.clone().ok_or(WebError::Unavailable(w))
}

pub(crate) fn now() -> Now {
    chrono::Local::now().fixed_offset()
}

/// The cookies of a request, and whether the server speaks TLS.
#[derive(Debug)]
pub(crate) struct Cookies {
    pairs: Vec<(String, String)>,
    pub tls: bool,
    /// The peer's address, for the sign-in limit.
    pub peer: Option<std::net::IpAddr>,
}

impl Cookies {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Cookies {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let pairs = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect();
        let tls = parts.extensions.get::<Tls>().is_some_and(|t| t.0);
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
        Ok(Cookies { pairs, tls, peer })
    }
}

/// A `Set-Cookie` value: HttpOnly and SameSite=Lax always, Secure over TLS.
pub(crate) fn cookie(name: &str, value: &str, max_age_secs: i64, tls: bool) -> HeaderValue {
    let secure = if tls { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static("x=; Max-Age=0"))
}

/// A path segment with everything but unreserved characters percent-encoded, so a customer
/// reference with `/` or `?` still names one page.
pub(crate) fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A form's text field, trimmed, refused past `max` characters (422, said in words).
pub(crate) fn field(w: &'static Words, value: &str, max: usize) -> Result<String, WebError> {
    let v = value.trim();
    if v.chars().count() > max {
        return Err(WebError::Invalid(w, format!("{} ({max})", w.too_long)));
    }
    Ok(v.to_owned())
}
