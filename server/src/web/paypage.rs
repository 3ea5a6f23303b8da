//! The customer's payment page, reached without a login by an unguessable link
//! (`ardoise-server pay-page`): the shop, the open invoices and the total, the payment
//! reference and the shop's IBAN, and two forms that reach the tills by sync, "I dispute this
//! invoice" and "I will pay on". The token names one customer of one shop and opens nothing
//! else; the request log records the route (`/p/{token}`), never the token.

use ardoise_core::identity::iban_grouped;
use ardoise_core::parse_date;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::auth::{check_visitor, visitor_csrf, with_cookie};
use super::customer::Invoice;
use super::fmt::{self, euros};
use super::i18n::{self, Words};
use super::page::{Cookies, WebError, dispatcher, field, now, render};
use crate::secret::sha256_hex;
use crate::state::AppState;

#[derive(askama::Template)]
#[template(path = "pay.html")]
struct PayPage<'a> {
    w: &'static Words,
    csrf: &'a str,
    base: &'a str,
    shop: String,
    name: String,
    invoices: Vec<Invoice>,
    total: String,
    payment_reference: String,
    iban: String,
    today: String,
    done: bool,
    /// The shop takes online payments and something is owed: the page offers to pay.
    can_pay: bool,
}

/// The shop and customer of a live token; 404 for anything else, the same for every reason.
async fn resolve(state: &AppState, token: &str, w: &'static Words) -> Result<(uuid::Uuid, String), WebError> {
    state.db.pay_page(&sha256_hex(token)).await.map_err(|e| WebError::of(w, e))?.ok_or(WebError::NotFound(w))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Shown {
    done: String,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    cookies: Cookies,
    headers: HeaderMap,
    Path(token): Path<String>,
    axum::extract::Query(shown): axum::extract::Query<Shown>,
) -> Result<Response, WebError> {
    let w = i18n::of_visitor(&headers);
    let (shop, customer) = resolve(&state, &token, w).await?;
    let d = dispatcher(&state, w)?;
    let now = now();
    let today = now.date_naive();
    let (account, settings) = d
        .read_merged(shop, now, move |s| Ok((s.account(&customer, today)?, s.settings())))
        .await
        .map_err(|e| WebError::of(w, e))?;
    // The customer reads the page in the language the shop keeps for them.
    let w = i18n::of_customer(account.customer.language);
    let (csrf, set) = visitor_csrf(&cookies);
    let base = format!("/p/{token}");
    // The name the till gave the shop, else the one it was created with here.
    let shop_name = match settings.shop_name.as_str() {
        "" => state.db.shop(shop).await.map_err(|e| WebError::of(w, e))?.name,
        name => name.to_owned(),
    };
    let page = PayPage {
        w,
        csrf: &csrf,
        base: &base,
        shop: shop_name,
        name: account.customer.name.clone(),
        total: euros(account.balance.max(ardoise_core::Money::ZERO)),
        invoices: account
            .open_invoices
            .iter()
            .map(|i| Invoice {
                reference: i.reference.clone(),
                issued: fmt::date(w, i.issued_on),
                due: fmt::date(w, i.due_on),
                amount: euros(i.amount),
                remaining: euros(i.remaining),
                days_overdue: i.days_overdue,
            })
            .collect(),
        payment_reference: account.payment_reference.to_string(),
        iban: iban_grouped(&settings.identity.iban),
        today: today.to_string(),
        done: !shown.done.is_empty(),
        can_pay: account.balance.is_positive()
            && d.takes_online_payments(shop).await.map_err(|e| WebError::of(w, e))?,
    };
    Ok(with_cookie(render(&page), set))
}

/// `GET /p/{token}/pay`: a payment session of the shop's provider for what the customer owes
/// now, made when they ask (a session expires; the page's link does not), and the customer
/// sent to it. A link, not a form: the CSP's `form-action 'self'` would stop a form's
/// redirection to the provider, and asking twice the same day gives the same session.
pub(crate) async fn pay(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    let w = i18n::of_visitor(&headers);
    let (shop, customer) = resolve(&state, &token, w).await?;
    let d = dispatcher(&state, w)?;
    let (session, _) = d.payment_session(shop, &customer, now()).await.map_err(|e| WebError::of(w, e))?;
    Ok(Redirect::to(&session.url).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PayForm {
    csrf: String,
    invoice: String,
    reason: String,
    on: String,
}

pub(crate) async fn act(
    State(state): State<AppState>,
    cookies: Cookies,
    headers: HeaderMap,
    Path((token, action)): Path<(String, String)>,
    Form(form): Form<PayForm>,
) -> Result<Response, WebError> {
    let w = i18n::of_visitor(&headers);
    let (shop, customer) = resolve(&state, &token, w).await?;
    check_visitor(&cookies, w, &form.csrf)?;
    let d = dispatcher(&state, w)?;
    let now = now();
    let reason = field(w, &form.reason, 500)?;
    let invoice = field(w, &form.invoice, 100)?;
    // Recorded in the shop's words, so the owner and the till read who wrote it.
    let author = "customer (payment page)".to_owned();
    let done = match action.as_str() {
        "dispute" => {
            if reason.is_empty() {
                return Err(WebError::Invalid(w, format!("{}?", w.reason)));
            }
            d.write_merged(shop, now, move |s| {
                let account = s.account(&customer, now.date_naive())?;
                if !account.open_invoices.iter().any(|i| i.reference == invoice) {
                    return Err(ardoise_core::Error::UnknownInvoice(invoice));
                }
                s.open_dispute(&invoice, &reason, &author, now).map(|_| ())
            })
            .await
        }
        "promise" => {
            let on = parse_date(form.on.trim()).map_err(|e| WebError::Invalid(w, e.to_string()))?;
            if on < now.date_naive() {
                return Err(WebError::Invalid(w, format!("{}: {}", w.i_will_pay_on, form.on.trim())));
            }
            d.write_merged(shop, now, move |s| {
                let balance = s.account(&customer, now.date_naive())?.balance;
                s.promise_to_pay(&customer, on, balance, &author, now).map(|_| ())
            })
            .await
        }
        _ => return Err(WebError::NotFound(w)),
    };
    done.map_err(|e| WebError::of(w, e))?;
    Ok(Redirect::to(&format!("/p/{token}?done=1")).into_response())
}
