//! The web pages served beside the sync API (issue 19): the owner's back office under `/app`,
//! its sign-in under `/login` and `/setup`, the customer's payment page under `/p` and the
//! reminders' payment links under `/r`. Pages are rendered on the server from askama templates
//! (`server/templates`, checked at compile time) and need no JavaScript; every number comes
//! from the shop's merged ledger through `ardoise-core`, caught up with the log
//! (`Dispatcher::read_merged`).

mod auth;
mod bank;
mod customer;
mod devices;
mod fmt;
mod i18n;
mod overview;
mod page;
mod paypage;
mod reminder_link;
mod reminder_settings;
mod reminders;
mod settings;
mod timeline;
mod today;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::state::AppState;

pub use auth::{new_pay_link, new_setup_link};
pub use page::Tls;
pub(crate) use page::session_cookie;

/// Forms are a few short fields: anything larger is refused before it is read.
pub const MAX_FORM_BYTES: usize = 8 * 1024;

/// The one form that carries a file: a bank statement, up to `bank::MAX_STATEMENT_BYTES`.
const BANK_IMPORT: &str = "/app/bank/import";

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
        .route("/app/today", get(today::page))
        .route("/app/customers/{customer}", get(customer::page))
        .route("/app/customers/{customer}/{action}", post(customer::act))
        .route("/app/reminders", get(reminders::page))
        .route("/app/reminders/release", post(reminders::release))
        .route("/app/reminders/{id}/letter.pdf", get(reminders::letter))
        .route("/app/reminders/{id}/{action}", post(reminders::act))
        .route("/app/bank", get(bank::page))
        .route(BANK_IMPORT, post(bank::import).layer(DefaultBodyLimit::max(bank::MAX_STATEMENT_BYTES)))
        .route("/app/bank/{action}", post(bank::act))
        .route("/app/devices", get(devices::page))
        .route("/app/devices/enrol", post(devices::enrol))
        .route("/app/devices/{id}/revoke", post(devices::revoke))
        .route("/app/settings", get(settings::page).post(settings::save))
        .route("/app/settings/rules", post(settings::save_rules))
        .route("/app/settings/ladder", post(reminder_settings::save_ladder))
        .route("/app/settings/template", post(reminder_settings::save_template))
        .route("/app/settings/rates", post(reminder_settings::save_rates))
        .route("/app/sessions", get(auth::sessions_page))
        .route("/app/sessions/{id}/revoke", post(auth::revoke))
        .route("/app/language", post(auth::language))
        .route("/p/{token}", get(paypage::page))
        .route("/p/{token}/pay", get(paypage::pay))
        .route("/p/{token}/{action}", post(paypage::act))
        .route("/r/{token}", get(reminder_link::open))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(middleware::from_fn(guard))
}

/// Headers on every page, and the size check before a form is read. The CSP allows no script
/// at all and styles only from `/static/app.css` (so no inline `style` attribute either).
async fn guard(request: Request, next: Next) -> Response {
    let tls = request.extensions().get::<Tls>().is_some_and(|t| t.0);
    let upload = request.uri().path() == BANK_IMPORT;
    let limit = if upload { bank::MAX_STATEMENT_BYTES } else { MAX_FORM_BYTES };
    let too_big = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .is_some_and(|n| n > limit);
    let mut response = if too_big && upload {
        drain(request.into_body()).await;
        page::page_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            i18n::FR,
            "Relevé trop gros (10 Mo au plus). / Statement too large (10 MB at most).",
        )
    } else if too_big {
        page::page_error(
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
    if tls {
        set(h, "strict-transport-security", "max-age=31536000");
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages show balances and names: no shared or back-button cache keeps them.
        set(h, "cache-control", "no-store");
    }
    response
}

/// Reads an oversized upload to its end (up to a bound) before the refusal is answered: a
/// browser still sending the file when the connection closes shows a network error instead of
/// the page that says what is wrong.
async fn drain(body: axum::body::Body) {
    use http_body_util::BodyExt;
    const BOUND: usize = 64 * 1024 * 1024;
    let mut body = body;
    let mut read = 0usize;
    while let Some(Ok(frame)) = body.frame().await {
        read += frame.data_ref().map_or(0, |d| d.len());
        if read > BOUND {
            break;
        }
    }
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("app.css"),
    )
        .into_response()
}
