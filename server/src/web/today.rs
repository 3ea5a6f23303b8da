//! The owner's day on the phone: calls to make, letters to post (with what stops one), reminders
//! held for approval, promises broken lately and transfers to confirm (`Store::today`), each a
//! link to the customer's page or the bank page where it is done.

use ardoise_core::store::Task;
use axum::extract::State;
use axum::response::Response;

use super::auth::Owner;
use super::fmt::{self, euros};
use super::i18n::Words;
use super::page::{WebError, dispatcher, now, render, seg};
use crate::state::AppState;

pub(crate) struct Row {
    pub href: String,
    pub name: String,
    pub reference: String,
    pub phone: String,
    pub what: String,
    pub amount: String,
    pub when: String,
    pub note: String,
    /// A letter's PDF, to print and post.
    pub pdf: String,
}

#[derive(askama::Template)]
#[template(path = "today.html")]
struct TodayPage<'a> {
    w: &'static Words,
    csrf: &'a str,
    active: &'a str,
    calls: Vec<Row>,
    letters: Vec<Row>,
    held: Vec<Row>,
    broken: Vec<Row>,
    bank: Vec<Row>,
}

impl TodayPage<'_> {
    fn nothing(&self) -> bool {
        [&self.calls, &self.letters, &self.held, &self.broken, &self.bank].iter().all(|v| v.is_empty())
    }
}

fn task(w: &Words, t: Task) -> Row {
    Row {
        pdf: if t.channel == "letter" || t.channel == "document" {
            super::reminders::pdf_href(t.reminder)
        } else {
            String::new()
        },
        href: format!("/app/customers/{}", seg(&t.customer_ref)),
        name: t.customer_name,
        reference: t.customer_ref,
        phone: t.phone.unwrap_or_default(),
        what: t.step,
        amount: euros(t.amount_due),
        when: fmt::date(w, t.since),
        note: t.note.unwrap_or_default(),
    }
}

pub(crate) async fn page(State(state): State<AppState>, owner: Owner) -> Result<Response, WebError> {
    let w = owner.w;
    let d = dispatcher(&state, w)?;
    let at = now();
    let t = d.read_merged(owner.shop(), at, move |s| s.today(at)).await.map_err(|e| WebError::of(w, e))?;
    let broken = t
        .broken_promises
        .into_iter()
        .map(|p| Row {
            href: format!("/app/customers/{}", seg(&p.customer_ref)),
            name: p.customer_name,
            reference: p.customer_ref,
            phone: p.phone.unwrap_or_default(),
            what: w.promised_for.to_owned(),
            amount: euros(p.amount),
            when: fmt::date(w, p.promised_on),
            note: String::new(),
            pdf: String::new(),
        })
        .collect();
    let bank = t
        .bank_to_confirm
        .into_iter()
        .map(|l| Row {
            href: "/app/bank".into(),
            name: l.counterparty.unwrap_or_default(),
            reference: l.suggestions.first().map(|s| s.customer.clone()).unwrap_or_default(),
            phone: String::new(),
            what: l.label,
            amount: euros(l.amount),
            when: l.date.map(|d| fmt::date(w, d)).unwrap_or_default(),
            note: String::new(),
            pdf: String::new(),
        })
        .collect();
    let page = TodayPage {
        w,
        csrf: &owner.csrf,
        active: "today",
        calls: t.calls.into_iter().map(|x| task(w, x)).collect(),
        letters: t.letters.into_iter().map(|x| task(w, x)).collect(),
        held: t.held.into_iter().map(|x| task(w, x)).collect(),
        broken,
        bank,
    };
    Ok(render(&page))
}
