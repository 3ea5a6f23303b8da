//! The shop's bank transactions as the back office imported them: applied, to confirm (with
//! the suggestions and their reasons) and unmatched, with the confirm and undo forms
//! (`Store::confirm_bank_match`, `Store::undo_bank_match`) whose payments reach every till,
//! and the statement upload: the file is read and checked whole by the core
//! (`bank::read_with_mapping`, as `ardoise-server bank import` does) before the shop's merged
//! copy takes it (`Dispatcher::import_statements`); a file the core refuses writes nothing.

use ardoise_core::bank::{Import, Line, LineState};
use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::auth::Owner;
use super::fmt::{self, euros};
use super::i18n::Words;
use super::page::{WebError, dispatcher, field, now, page_error, render};
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

/// What an upload did: counted, and its lines by what became of them.
pub(crate) struct Imported {
    pub imported: u32,
    pub duplicates: u32,
    pub applied: Vec<BankRow>,
    pub suggested: Vec<BankRow>,
    pub unmatched: Vec<BankRow>,
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
    imported: Option<Imported>,
    /// Why the uploaded file was refused (the core's words: the line and element at fault).
    refused: Option<String>,
    max_mb: usize,
}

/// A statement of a small shop is a few hundred kilobytes; a year of a busy one a few
/// megabytes.
pub const MAX_STATEMENT_BYTES: usize = 10 * 1024 * 1024;

fn row(w: &Words, l: Line) -> BankRow {
    BankRow {
        transaction: l.transaction,
        date: l.date.map(|d| fmt::date(w, d)).unwrap_or_default(),
        amount: euros(l.amount),
        label: l.label,
        customer: l.customer.unwrap_or_default(),
        invoices: l.invoices.join(", "),
        why: l.why.unwrap_or_default(),
        suggestions: l.suggestions.into_iter().map(|s| s.customer).collect(),
    }
}

pub(crate) async fn page(State(state): State<AppState>, owner: Owner) -> Result<Response, WebError> {
    show(&state, &owner, None, None).await.map(|p| render(&p))
}

async fn show<'a>(
    state: &AppState,
    owner: &'a Owner,
    imported: Option<Imported>,
    refused: Option<String>,
) -> Result<BankPage<'a>, WebError> {
    let w = owner.w;
    let d = dispatcher(state, w)?;
    let lines =
        d.read_merged(owner.shop(), now(), |s| s.bank_lines(None, 300, 0)).await.map_err(|e| WebError::of(w, e))?;
    let (mut applied, mut suggested, mut unmatched) = (Vec::new(), Vec::new(), Vec::new());
    for l in lines {
        let state = l.state;
        let row = row(w, l);
        match state {
            LineState::Applied => applied.push(row),
            LineState::Suggested => suggested.push(row),
            LineState::Unmatched => unmatched.push(row),
        }
    }
    let max_mb = MAX_STATEMENT_BYTES / (1024 * 1024);
    Ok(BankPage { w, csrf: &owner.csrf, active: "bank", applied, suggested, unmatched, imported, refused, max_mb })
}

/// The upload: the CSRF token comes as a field of the multipart form (the file's field after
/// it); the file is refused past `MAX_STATEMENT_BYTES` with a page that says so.
pub(crate) async fn import(
    State(state): State<AppState>,
    owner: Owner,
    mut form: Multipart,
) -> Result<Response, WebError> {
    let w = owner.w;
    let too_big = || {
        page_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            w,
            &format!("{} ({} Mo)", w.statement_too_big, MAX_STATEMENT_BYTES >> 20),
        )
    };
    let (mut csrf, mut file) = (String::new(), None);
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Ok(too_big()),
            Err(_) => return Err(WebError::Invalid(w, w.statement_missing.to_owned())),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Ok(too_big()),
            Err(_) => return Err(WebError::Invalid(w, w.statement_missing.to_owned())),
        };
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "statement" => file = Some(bytes),
            _ => {}
        }
    }
    owner.check(&csrf)?;
    let file = file.filter(|f| !f.is_empty()).ok_or(WebError::Invalid(w, w.statement_missing.to_owned()))?;
    // Read and checked whole before the shop is touched: a refused file writes nothing.
    let statements = match ardoise_core::bank::read_with_mapping(&file, None) {
        Ok((_, statements)) => statements,
        Err(e) => {
            let page = show(&state, &owner, None, Some(e.to_string())).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
        }
    };
    let d = dispatcher(&state, w)?;
    let done: Import = d.import_statements(owner.shop(), &statements, now()).await.map_err(|e| WebError::of(w, e))?;
    let rows = |v: Vec<Line>| v.into_iter().map(|l| row(w, l)).collect();
    let imported = Imported {
        imported: done.imported,
        duplicates: done.duplicates,
        applied: rows(done.applied),
        suggested: rows(done.suggested),
        unmatched: rows(done.unmatched),
    };
    Ok(render(&show(&state, &owner, Some(imported), None).await?))
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
