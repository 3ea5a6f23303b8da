//! What every page shares: the failure answered as a page in the reader's language, rendering,
//! the dispatcher and the clock, the request's cookies, and the checks on form fields.

use std::sync::Arc;

use ardoise_core::Money;
use ardoise_core::store::Now;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::i18n::Words;
use crate::dispatch::Dispatcher;
use crate::error::Error;
use crate::state::AppState;

/// Whether the pages are served over TLS (their cookies are then `Secure`); set by `serve`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tls(pub bool);

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

pub(crate) fn page_error(status: StatusCode, w: &'static Words, message: &str) -> Response {
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

/// The cookie that carries an owner's session.
pub(crate) const SESSION_COOKIE: &str = "ardoise_session";

fn cookie_pairs(headers: &axum::http::HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
}

/// The session cookie a request carries, if any (not checked): what the rate limit keys a
/// browser's requests by, as it keys a till's by its token, so that owners behind one address
/// (a shop's or an accountant's office) do not slow each other down.
pub(crate) fn session_cookie(headers: &axum::http::HeaderMap) -> Option<&str> {
    cookie_pairs(headers).find(|(k, _)| *k == SESSION_COOKIE).map(|(_, v)| v)
}

impl<S: Send + Sync> FromRequestParts<S> for Cookies {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let pairs = cookie_pairs(&parts.headers).map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        // Behind a proxy that ends TLS, the proxy says so: cookies are then Secure too (a false
        // claim only keeps the cookie off plain HTTP, which harms no one but the claimant).
        let forwarded = parts
            .headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"));
        let tls = parts.extensions.get::<Tls>().is_some_and(|t| t.0) || forwarded;
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

/// A whole number typed in a field, or what is wrong with it in the reader's words.
pub(crate) fn number(w: &'static Words, label: &str, v: &str) -> Result<u32, WebError> {
    v.trim().parse().map_err(|_| WebError::Invalid(w, format!("{label} : {v:?} — {}", w.not_a_number)))
}

/// An amount typed in a field ("12,50" or "12.50"); empty gives `None`.
pub(crate) fn money(w: &'static Words, v: &str) -> Result<Option<Money>, WebError> {
    match v.trim() {
        "" => Ok(None),
        a => Money::parse(&a.replace(',', ".")).map(Some).map_err(|e| WebError::Invalid(w, e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_and_secure_over_tls() {
        let plain = cookie("s", "v", 60, false);
        assert_eq!(plain.to_str().unwrap(), "s=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax");
        assert!(cookie("s", "v", 60, true).to_str().unwrap().ends_with("; Secure"));
    }

    #[test]
    fn a_reference_is_one_path_segment() {
        assert_eq!(seg("C 1/é?"), "C%201%2F%C3%A9%3F");
    }
}
