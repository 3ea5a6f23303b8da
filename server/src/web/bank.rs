//! The shop's bank transactions as the back office imported them: applied, to confirm (with
//! the suggestions and their reasons) and unmatched, with the confirm and undo forms
//! (`Store::confirm_bank_match`, `Store::undo_bank_match`) whose payments reach every till.

use ardoise_core::bank::LineState;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::auth::Owner;
use super::fmt::{self, euros};
use super::i18n::Words;
use super::page::{WebError, dispatcher, field, now, render};
use crate::state::AppState;

pub(crate) struct BankRow {
    pub transaction: String,
    pub date: String,
    pub amount: String,
    pub label: String,
    pub customer: String,
    pub invoices: String,
    pub why: String,
    /// The suggested customers, best first.
    pub suggestions: Vec<String>,
}

#[derive(askama::Template)]
#[template(path = "bank.html")]
struct BankPage<'a> {
    w: &'static Words,
    csrf: &'a str,
    active: &'a str,
    applied: Vec<BankRow>,
    suggested: Vec<BankRow>,
    unmatched: Vec<BankRow>,
}

pub(crate) async fn page(State(state): State<AppState>, owner: Owner) -> Result<Response, WebError> {
    let w = owner.w;
    let d = dispatcher(&state, w)?;
    let lines =
        d.read_merged(owner.shop(), now(), |s| s.bank_lines(None, 300, 0)).await.map_err(|e| WebError::of(w, e))?;
    let (mut applied, mut suggested, mut unmatched) = (Vec::new(), Vec::new(), Vec::new());
    for l in lines {
        let row = BankRow {
            transaction: l.transaction,
            date: l.date.map(|d| fmt::date(w, d)).unwrap_or_default(),
            amount: euros(l.amount),
            label: l.label,
            customer: l.customer.unwrap_or_default(),
            invoices: l.invoices.join(", "),
            why: l.why.unwrap_or_default(),
            suggestions: l.suggestions.into_iter().map(|s| s.customer).collect(),
        };
        match l.state {
            LineState::Applied => applied.push(row),
            LineState::Suggested => suggested.push(row),
            LineState::Unmatched => unmatched.push(row),
        }
    }
    Ok(render(&BankPage { w, csrf: &owner.csrf, active: "bank", applied, suggested, unmatched }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct BankForm {
    csrf: String,
    transaction: String,
    customer: String,
}

pub(crate) async fn act(
    State(state): State<AppState>,
    owner: Owner,
    Path(action): Path<String>,
    Form(form): Form<BankForm>,
) -> Result<Response, WebError> {
    let w = owner.w;
    owner.check(&form.csrf)?;
    let d = dispatcher(&state, w)?;
    let transaction = field(w, &form.transaction, 200)?;
    let customer = field(w, &form.customer, 100)?;
    let by = owner.user.email.clone();
    let now = now();
    let done = match action.as_str() {
        "confirm" => {
            d.write_merged(owner.shop(), now, move |s| s.confirm_bank_match(&transaction, &customer, None, &by, now))
                .await
        }
        "undo" => d.write_merged(owner.shop(), now, move |s| s.undo_bank_match(&transaction, &by, now)).await,
        _ => return Err(WebError::NotFound(w)),
    };
    done.map_err(|e| WebError::of(w, e))?;
    Ok(Redirect::to("/app/bank").into_response())
}
