//! The reminder queue for the owner: what will go out (queued), what waits for the owner
//! (held, with why), each with the words its transport will send (`send::text_of`, the same
//! text the email, SMS or letter carries), and how the sent ones fared (sent, or not delivered
//! with the transport's reason: a bounce, a refused number). A reminder can be cancelled, and
//! its customer's reminders held (which cancels those queued, this one included) or, from the
//! list of customers on hold, resumed; each a
//! core write on the merged copy, so every till and the sender see it.

use ardoise_core::dunning::ladder::{Channel as StepChannel, StepKind};
use ardoise_core::store::{ReminderHold, ReminderRecord, ReminderState};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::auth::Owner;
use super::fmt::{self, euros};
use super::i18n::Words;
use super::page::{WebError, dispatcher, field, now, render, seg};
use crate::send::{self, Channel, Outgoing};
use crate::state::AppState;

/// How many reminders of each state the page lists, newest first.
const LIMIT: usize = 100;

pub(crate) struct Row {
    pub id: Uuid,
    pub href: String,
    pub name: String,
    pub reference: String,
    pub step: String,
    pub channel: &'static str,
    pub recipient: String,
    pub amount: String,
    pub created: String,
    pub not_before: String,
    pub subject: String,
    pub text: String,
    pub note: String,
    pub sent: bool,
    /// The letter's PDF, for a reminder that goes on paper.
    pub pdf: Option<String>,
}

pub(crate) struct Paused {
    pub href: String,
    pub name: String,
    pub reference: String,
    pub until: String,
    pub reason: String,
}

#[derive(askama::Template)]
#[template(path = "reminders.html")]
struct RemindersPage<'a> {
    w: &'static Words,
    csrf: &'a str,
    active: &'a str,
    queued: Vec<Row>,
    held: Vec<Row>,
    results: Vec<Row>,
    paused: Vec<Paused>,
}

fn paused(w: &Words, h: ReminderHold) -> Paused {
    Paused {
        href: format!("/app/customers/{}", seg(&h.customer_ref)),
        until: h.until.map(|d| fmt::date(w, d)).unwrap_or_default(),
        name: h.customer_name,
        reference: h.customer_ref,
        reason: h.reason,
    }
}

fn channel_name(w: &Words, c: StepChannel) -> &'static str {
    match c {
        StepChannel::Email => w.ch_email,
        StepChannel::Sms => w.ch_sms,
        StepChannel::Letter => w.ch_letter,
        StepChannel::PhoneCall => w.ch_call,
        StepChannel::Till => w.ch_till,
        StepChannel::Document => w.ch_document,
    }
}

/// The words as the transport will send them; a step for a person (a call, a word at the
/// till, the court file) shows the core's text as it is.
fn text(r: &ReminderRecord, shop_name: &str, shop_email: &str) -> String {
    let channel = match r.channel {
        StepChannel::Email => Channel::Email,
        StepChannel::Sms => Channel::Sms,
        StepChannel::Letter => Channel::Letter,
        _ => return r.body.clone(),
    };
    send::text_of(&outgoing(r, channel, shop_name, shop_email, None))
}

pub(crate) fn pdf_href(id: Uuid) -> String {
    format!("/app/reminders/{id}/letter.pdf")
}

/// The reminder as the transports take it.
fn outgoing(
    r: &ReminderRecord,
    channel: Channel,
    shop_name: &str,
    shop_email: &str,
    document: Option<ardoise_core::document::Document>,
) -> Outgoing {
    Outgoing {
        reminder_id: r.id,
        channel,
        recipient: r.recipient.clone().unwrap_or_default(),
        customer_name: r.customer_name.clone(),
        shop_name: shop_name.to_owned(),
        shop_email: shop_email.to_owned(),
        subject: r.subject.clone(),
        body: r.body.clone(),
        amount_due: r.amount_due.to_string(),
        penalties: r.penalties.to_string(),
        indemnity: r.indemnity.to_string(),
        formal_notice: r.kind == StepKind::FormalNotice,
        date: r.created_on,
        document,
    }
}

/// Whether the reminder goes on paper (a letter, or the court file prepared for the owner).
fn on_paper(c: StepChannel) -> bool {
    matches!(c, StepChannel::Letter | StepChannel::Document)
}

fn row(w: &Words, r: ReminderRecord, shop_name: &str, shop_email: &str) -> Row {
    Row {
        text: text(&r, shop_name, shop_email),
        pdf: on_paper(r.channel).then(|| pdf_href(r.id)),
        href: format!("/app/customers/{}", seg(&r.customer_ref)),
        channel: channel_name(w, r.channel),
        amount: euros(r.amount_due + r.penalties + r.indemnity),
        created: fmt::date(w, r.created_on),
        not_before: fmt::date(w, r.not_before.date_naive()),
        sent: r.state == ReminderState::Sent,
        note: r.state_note.unwrap_or_default(),
        recipient: r.recipient.unwrap_or_default(),
        id: r.id,
        name: r.customer_name,
        reference: r.customer_ref,
        step: r.step,
        subject: r.subject,
    }
}

pub(crate) async fn page(State(state): State<AppState>, owner: Owner) -> Result<Response, WebError> {
    let w = owner.w;
    let d = dispatcher(&state, w)?;
    let at = now();
    let (queued, held, sent, failed, shop_name, shop_email, holds) = d
        .read_merged(owner.shop(), at, move |s| {
            let settings = s.settings();
            Ok((
                s.reminders(Some(ReminderState::Queued), None, LIMIT)?,
                s.reminders(Some(ReminderState::Held), None, LIMIT)?,
                s.reminders(Some(ReminderState::Sent), None, LIMIT)?,
                s.reminders(Some(ReminderState::Failed), None, LIMIT)?,
                settings.shop_name.clone(),
                settings.shop_email.clone(),
                s.reminder_holds(at.date_naive())?,
            ))
        })
        .await
        .map_err(|e| WebError::of(w, e))?;
    let mut results: Vec<ReminderRecord> = sent.into_iter().chain(failed).collect();
    results.sort_by_key(|r| std::cmp::Reverse(r.created_on));
    results.truncate(LIMIT);
    let rows = |v: Vec<ReminderRecord>| v.into_iter().map(|r| row(w, r, &shop_name, &shop_email)).collect();
    Ok(render(&RemindersPage {
        w,
        csrf: &owner.csrf,
        active: "reminders",
        queued: rows(queued),
        held: rows(held),
        results: rows(results),
        paused: holds.into_iter().map(|h| paused(w, h)).collect(),
    }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ReminderForm {
    csrf: String,
    reason: String,
}

/// `cancel` gives one reminder up; `hold` pauses its customer's reminders (the core holds per
/// customer, and cancels what was queued for them).
pub(crate) async fn act(
    State(state): State<AppState>,
    owner: Owner,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ReminderForm>,
) -> Result<Response, WebError> {
    let w = owner.w;
    owner.check(&form.csrf)?;
    let id = Uuid::try_parse(&id).map_err(|_| WebError::NotFound(w))?;
    let d = dispatcher(&state, w)?;
    let reason = field(w, &form.reason, 500)?;
    let author = owner.user.email.clone();
    let now = now();
    let done = match action.as_str() {
        "cancel" => {
            let note = format!("{} ({author})", w.cancelled_by_owner);
            d.write_merged(owner.shop(), now, move |s| {
                s.set_reminder_state(id, ReminderState::Cancelled, Some(&note), now).map(|_| ())
            })
            .await
        }
        "hold" => {
            let reason = if reason.is_empty() { w.hold.to_owned() } else { reason };
            // The core cancels the customer's queued reminders with the hold.
            d.write_merged(owner.shop(), now, move |s| {
                let r = s.reminder(id)?;
                s.hold_reminders(&r.customer_ref, None, Some(&reason), &author, now)
            })
            .await
        }
        _ => return Err(WebError::NotFound(w)),
    };
    done.map_err(|e| WebError::of(w, e))?;
    Ok(Redirect::to("/app/reminders").into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ReleaseForm {
    csrf: String,
    customer: String,
}

/// Resumes a customer's reminders: the ladder takes them up at its next run.
pub(crate) async fn release(
    State(state): State<AppState>,
    owner: Owner,
    Form(form): Form<ReleaseForm>,
) -> Result<Response, WebError> {
    let w = owner.w;
    owner.check(&form.csrf)?;
    let d = dispatcher(&state, w)?;
    let who = field(w, &form.customer, 100)?;
    let author = owner.user.email.clone();
    let now = now();
    d.write_merged(owner.shop(), now, move |s| s.hold_reminders(&who, None, None, &author, now))
        .await
        .map_err(|e| WebError::of(w, e))?;
    Ok(Redirect::to("/app/reminders#paused").into_response())
}

/// The letter of a reminder that goes on paper, as the letter transport lays it out (dated
/// today, with today's figures for a formal notice): to read before it goes, or to print and
/// post. A formal notice whose document cannot be written (the shop's identity incomplete)
/// shows the core's reason.
pub(crate) async fn letter(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let w = owner.w;
    let id = Uuid::try_parse(&id).map_err(|_| WebError::NotFound(w))?;
    let d = dispatcher(&state, w)?;
    let today = now().date_naive();
    let (r, document, shop_name, shop_email) = d
        .read_merged(owner.shop(), now(), move |s| {
            let r = s.reminder(id)?;
            let document = if r.kind == StepKind::Reminder {
                s.reminder_document(id, today).ok()
            } else {
                Some(s.reminder_document(id, today)?)
            };
            let settings = s.settings();
            Ok((r, document, settings.shop_name.clone(), settings.shop_email.clone()))
        })
        .await
        .map_err(|e| WebError::of(w, e))?;
    if !on_paper(r.channel) {
        return Err(WebError::NotFound(w));
    }
    let o = outgoing(&r, Channel::Letter, &shop_name, &shop_email, document);
    let bytes = tokio::task::spawn_blocking(move || send::letter_pdf(&o, today))
        .await
        .map_err(|_| WebError::Internal(w))?
        .map_err(|e| WebError::Invalid(w, e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}-{}.pdf\"", r.step.replace(['"', '\\'], ""), r.created_on),
            ),
        ],
        bytes,
    )
        .into_response())
}
