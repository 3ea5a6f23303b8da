//! The link a reminder carries (`/r/{token}`, made by the dispatcher when it sends the
//! reminder): opened, it makes a payment session of the shop's provider for what the reminder
//! asked, or what is still owed when that is less, and sends the customer to it; when nothing
//! is owed any more it says so and makes no session. The link itself never expires, as a
//! provider's session does, and opens nothing else; the request log records the route, never
//! the token.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};

use super::i18n::{self, Words};
use super::page::{WebError, dispatcher, now, render};
use crate::dispatch::ReminderPay;
use crate::state::AppState;

#[derive(askama::Template)]
#[template(path = "nothing_owed.html")]
struct NothingOwed {
    w: &'static Words,
    shop: String,
}

/// `GET /r/{token}`: a redirection (303) to the session, the "nothing to pay" page, or 404 for
/// a token no reminder was sent with.
pub(crate) async fn open(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    let w = i18n::of_visitor(&headers);
    let d = dispatcher(&state, w)?;
    match d.reminder_link(&token, now()).await.map_err(|e| WebError::of(w, e))? {
        None => Err(WebError::NotFound(w)),
        // A link, not a form: the CSP's `form-action 'self'` does not apply to it.
        Some(ReminderPay::Pay { session, .. }) => Ok(Redirect::to(&session.url).into_response()),
        Some(ReminderPay::NothingOwed { shop_name, language }) => {
            // In the language the shop keeps for the customer, as the reminder was.
            let w = i18n::of_customer(language);
            let shop = if shop_name.trim().is_empty() { "Ardoise".to_owned() } else { shop_name };
            Ok(render(&NothingOwed { w, shop }))
        }
    }
}
