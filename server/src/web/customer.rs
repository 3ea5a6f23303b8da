//! One customer for the owner: balance, open invoices, history, risk with its reasons, and
//! the follow-up actions as POST forms. Each action is a core `Store` write on the shop's
//! merged copy, which then goes into the log (`Dispatcher::write_merged`): every till gets it
//! by sync, as if it had been typed at one.

use ardoise_core::dunning::plan::split_evenly;
use ardoise_core::store::{CallOutcome, DisputeResolution};
use ardoise_core::{CustomerPatch, Money, parse_date};
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::auth::Owner;
use super::fmt::{self, euros};
use super::i18n::Words;
use super::page::{WebError, dispatcher, field, now, render, seg};
use crate::state::AppState;

pub(crate) struct Invoice {
    pub reference: String,
    pub issued: String,
    pub due: String,
    pub amount: String,
    pub remaining: String,
    pub days_overdue: u32,
}

pub(crate) struct Event {
    pub date: String,
    pub kind: String,
    pub text: String,
    pub amount: String,
}

pub(crate) struct DisputeRow {
    pub id: Uuid,
    pub invoice: String,
    pub reason: String,
    pub state: String,
    pub open: bool,
}

#[derive(askama::Template)]
#[template(path = "customer.html")]
struct CustomerPage<'a> {
    w: &'static Words,
    csrf: &'a str,
    active: &'a str,
    base: String,
    name: String,
    reference: String,
    payment_reference: String,
    balance: String,
    overdue: String,
    blocked: Option<String>,
    credit_limit: String,
    risk: String,
    risk_reasons: Vec<String>,
    invoices: Vec<Invoice>,
    disputes: Vec<DisputeRow>,
    events: Vec<Event>,
    today: String,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    owner: Owner,
    Path(customer): Path<String>,
) -> Result<Response, WebError> {
    let w = owner.w;
    let d = dispatcher(&state, w)?;
    let now = now();
    let today = now.date_naive();
    let who = customer.clone();
    let (account, timeline, disputes, risk) = d
        .read_merged(owner.shop(), now, move |s| {
            let account = s.account(&who, today)?;
            let timeline = s.customer_timeline(&who, 50)?;
            let disputes = s.disputes(Some(&who))?;
            let risk = s.customer_risk(&who)?.map(|(score, reasons)| (Some(score), reasons));
            Ok((account, timeline, disputes, risk))
        })
        .await
        .map_err(|e| WebError::of(w, e))?;
    let (risk, risk_reasons) = risk.unwrap_or((None, Vec::new()));
    let c = &account.customer;
    Ok(render(&CustomerPage {
        w,
        csrf: &owner.csrf,
        active: "overdue",
        base: format!("/app/customers/{}", seg(&c.reference)),
        name: c.name.clone(),
        reference: c.reference.clone(),
        payment_reference: account.payment_reference.to_string(),
        balance: euros(account.balance),
        overdue: euros(account.overdue),
        blocked: c.blocked.clone(),
        credit_limit: account.credit_limit.map(euros).unwrap_or_else(|| "—".to_owned()),
        risk: fmt::pct(risk),
        risk_reasons,
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
        disputes: disputes
            .into_iter()
            .map(|d| DisputeRow {
                open: d.state == "open",
                id: d.id,
                invoice: d.invoice,
                reason: d.reason,
                state: d.state,
            })
            .collect(),
        events: timeline
            .into_iter()
            .map(|t| Event {
                date: fmt::date(w, t.date),
                kind: fmt::kind(w, &t.kind).to_owned(),
                text: super::timeline::text(w, &t.kind, &t.text),
                amount: t.amount.map(euros).unwrap_or_default(),
            })
            .collect(),
        today: today.to_string(),
    }))
}

/// Every action's fields; each action reads those it needs.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ActionForm {
    csrf: String,
    note: String,
    on: String,
    amount: String,
    reason: String,
    invoice: String,
    dispute: String,
    outcome: String,
    count: String,
    every: String,
}

/// An amount typed the French way or not ("12,50", "12.50"); empty is none.
fn amount_of(w: &'static Words, s: &str) -> Result<Option<Money>, WebError> {
    match s.trim() {
        "" => Ok(None),
        a => Money::parse(&a.replace(',', ".")).map(Some).map_err(|e| WebError::Invalid(w, e.to_string())),
    }
}

/// A whole number of a form, within `range`.
fn count_of(
    w: &'static Words,
    field: &'static str,
    s: &str,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, WebError> {
    s.trim().parse::<u32>().ok().filter(|n| range.contains(n)).ok_or_else(|| {
        WebError::Invalid(
            w,
            format!("{field}: {:?} is not a number from {} to {}", s.trim(), range.start(), range.end()),
        )
    })
}

fn date_of(w: &'static Words, s: &str) -> Result<chrono::NaiveDate, WebError> {
    parse_date(s.trim()).map_err(|e| WebError::Invalid(w, e.to_string()))
}

pub(crate) async fn act(
    State(state): State<AppState>,
    owner: Owner,
    Path((customer, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, WebError> {
    let w = owner.w;
    owner.check(&form.csrf)?;
    let d = dispatcher(&state, w)?;
    let now = now();
    let author = owner.user.email.clone();
    let who = customer.clone();
    let note = field(w, &form.note, 2000)?;
    let reason = field(w, &form.reason, 500)?;
    let invoice = field(w, &form.invoice, 100)?;
    let run = match action.as_str() {
        "note" => d.write_merged(owner.shop(), now, move |s| s.add_note(&who, &note, &author, now)).await,
        "call" => {
            let outcome = match form.outcome.as_str() {
                "reached" => CallOutcome::Reached,
                "no_answer" => CallOutcome::NoAnswer,
                "promise" => {
                    let on = date_of(w, &form.on)?;
                    let amount = amount_of(w, &form.amount)?;
                    CallOutcome::Promise { on, amount: amount.unwrap_or(Money::ZERO) }
                }
                other => return Err(WebError::Invalid(w, format!("call outcome: {other:?}"))),
            };
            d.write_merged(owner.shop(), now, move |s| {
                // A promise without an amount is for the whole balance, as on the promise form.
                let outcome = match outcome {
                    CallOutcome::Promise { on, amount } if amount == Money::ZERO => {
                        CallOutcome::Promise { on, amount: s.account(&who, now.date_naive())?.balance }
                    }
                    other => other,
                };
                s.record_call(&who, outcome, &note, &author, now)
            })
            .await
        }
        "plan" => {
            let first = date_of(w, &form.on)?;
            let count = count_of(w, "instalments", &form.count, 2..=36)?;
            let every = count_of(w, "days between instalments", &form.every, 7..=92)?;
            let total = amount_of(w, &form.amount)?;
            d.write_merged(owner.shop(), now, move |s| {
                let total = match total {
                    Some(t) => t,
                    None => s.account(&who, now.date_naive())?.balance,
                };
                let instalments = split_evenly(total, count, first, every)?;
                s.create_plan(&who, instalments, &author, now).map(|_| ())
            })
            .await
        }
        "promise" => {
            let on = date_of(w, &form.on)?;
            let amount = match form.amount.trim() {
                "" => None,
                a => Some(Money::parse(&a.replace(',', ".")).map_err(|e| WebError::Invalid(w, e.to_string()))?),
            };
            d.write_merged(owner.shop(), now, move |s| {
                let amount = match amount {
                    Some(a) => a,
                    None => s.account(&who, now.date_naive())?.balance,
                };
                s.promise_to_pay(&who, on, amount, &author, now).map(|_| ())
            })
            .await
        }
        "hold" => {
            let until = match form.on.trim() {
                "" => None,
                d => Some(date_of(w, d)?),
            };
            let reason = if reason.is_empty() { w.hold.to_owned() } else { reason };
            d.write_merged(owner.shop(), now, move |s| s.hold_reminders(&who, until, Some(&reason), &author, now)).await
        }
        "release" => d.write_merged(owner.shop(), now, move |s| s.hold_reminders(&who, None, None, &author, now)).await,
        "dispute" => {
            d.write_merged(owner.shop(), now, move |s| {
                // Only an open invoice of this customer: a reference typed by hand names no one else's.
                let account = s.account(&who, now.date_naive())?;
                if !account.open_invoices.iter().any(|i| i.reference == invoice) {
                    return Err(ardoise_core::Error::UnknownInvoice(invoice));
                }
                s.open_dispute(&invoice, &reason, &author, now).map(|_| ())
            })
            .await
        }
        "upheld" | "rejected" => {
            let id = Uuid::try_parse(form.dispute.trim()).map_err(|_| WebError::NotFound(w))?;
            let resolution = if action == "upheld" {
                DisputeResolution::Upheld { credit: None }
            } else {
                DisputeResolution::Rejected
            };
            d.write_merged(owner.shop(), now, move |s| {
                if s.dispute(id)?.customer_ref != who {
                    return Err(ardoise_core::Error::UnknownCustomer(who));
                }
                s.resolve_dispute(id, resolution, &note, &author, now).map(|_| ())
            })
            .await
        }
        "limit" => {
            // Empty: the customer follows the shop's default limit again.
            let limit = match form.amount.trim() {
                "" => None,
                a => Some(Money::parse(&a.replace(',', ".")).map_err(|e| WebError::Invalid(w, e.to_string()))?),
            };
            let patch = CustomerPatch { credit_limit: Some(limit), ..Default::default() };
            d.write_merged(owner.shop(), now, move |s| s.update_customer(&who, patch, now).map(|_| ())).await
        }
        "block" | "unblock" => {
            let blocked = if action == "block" {
                Some(if reason.is_empty() { w.blocked.to_owned() } else { reason })
            } else {
                None
            };
            let patch = CustomerPatch { blocked: Some(blocked), ..Default::default() };
            d.write_merged(owner.shop(), now, move |s| s.update_customer(&who, patch, now).map(|_| ())).await
        }
        _ => return Err(WebError::NotFound(w)),
    };
    run.map_err(|e| WebError::of(w, e))?;
    Ok(Redirect::to(&format!("/app/customers/{}", seg(&customer))).into_response())
}
