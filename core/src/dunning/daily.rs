//! The daily run, decided: from one customer's facts (what is due, what was promised or planned,
//! what was sent) and the shop's configuration, what to write today (promises and plans
//! settled, a reminder queued with its fees, or why not), and how a queued reminder reads once
//! the account has moved. Pure: the store gathers the facts, then applies the plan in one unit
//! of work (decide, then apply).

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate};
use uuid::Uuid;

use super::ladder::{Channel, Ladder, Step};
use super::penalty::RateTables;
use super::plan::{self, Instalment, PlanStatus};
use super::run::{self, Contact, DueInvoice, Outcome, Skip};
use super::template::{Language, Template};
use super::wording::{self, Contacted, Letter, Rendered};
use crate::customer::Customer;
use crate::error::{Error, Result};
use crate::money::Money;
use crate::shop::ShopSettings;

/// Ladders, templates and rates as the shop set them (or as shipped).
#[derive(Clone, Debug)]
pub struct Config {
    pub shop: ShopSettings,
    pub ladders: HashMap<String, Ladder>,
    pub templates: HashMap<(String, Language), Template>,
    pub rates: RateTables,
}

impl Config {
    /// The customer's ladder, or the shop's default one.
    pub fn ladder(&self, name: Option<&str>) -> &Ladder {
        name.and_then(|n| self.ladders.get(n)).or_else(|| self.ladders.get("default")).unwrap_or_else(|| {
            // "default" is always present (the store puts the shipped one first); this branch
            // only satisfies the type.
            self.ladders.values().next().expect("a default ladder")
        })
    }

    /// A template in the customer's language, or in French.
    pub fn template(&self, name: &str, lang: Language) -> Result<&Template> {
        self.templates
            .get(&(name.to_owned(), lang))
            .or_else(|| self.templates.get(&(name.to_owned(), Language::Fr)))
            .ok_or_else(|| Error::Invalid { field: "template", reason: format!("no template {name:?}") })
    }

    /// How many days before a due date the earliest ladder step comes (0 if none does).
    pub fn lookahead(&self) -> u64 {
        self.ladders.values().flat_map(|l| l.steps.first()).map(|s| (-s.offset_days).max(0) as u64).max().unwrap_or(0)
    }
}

/// A promise to pay still open, with what was paid since it was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenPromise {
    pub id: i64,
    pub on: NaiveDate,
    pub amount: Money,
    pub paid_since: Money,
}

/// A payment plan in force, with what was paid since it was agreed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivePlan {
    pub id: i64,
    pub instalments: Vec<Instalment>,
    pub grace_days: u32,
    pub paid_since: Money,
}

/// What the daily run and the queue read about one customer.
#[derive(Clone, Debug)]
pub struct Facts {
    pub customer: Customer,
    /// Unpaid invoices due before the run's horizon, without disputed, stopped or fee ones.
    pub invoices: Vec<DueInvoice>,
    /// What was paid on each of them, by business date.
    pub payments: HashMap<Uuid, Vec<(NaiveDate, Money)>>,
    pub last_contact: Option<NaiveDate>,
    pub ladder: Option<String>,
    pub excluded: bool,
    /// Reminders held, until a date or for good, and why.
    pub hold: Option<(Option<NaiveDate>, String)>,
    pub promises: Vec<OpenPromise>,
    pub plans: Vec<ActivePlan>,
    /// The first formal notice queued or sent.
    pub notice_on: Option<NaiveDate>,
    /// The reminders not cancelled, oldest first.
    pub history: Vec<Contacted>,
}

/// A promise or a plan whose date came: its new state, and the note the timeline shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settled {
    pub what: Agreement,
    pub id: i64,
    /// The row's new state ("kept", "broken", "completed").
    pub state: &'static str,
    /// The follow-up written with it ("promise_kept", "plan_broken"...).
    pub note_kind: &'static str,
    pub note: String,
    pub amount: Option<Money>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agreement {
    Promise,
    Plan,
}

/// An invoice a reminder names: chased at its own level (a younger invoice named in a formal
/// notice has still only had its first reminder), with what it still owes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Chased {
    pub invoice: Uuid,
    pub level: usize,
    pub remaining: Money,
}

/// A reminder to queue today.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewReminder {
    pub level: usize,
    pub step: Step,
    pub channel: Channel,
    pub not_before: DateTime<FixedOffset>,
    pub rendered: Rendered,
    /// Fees added to the account with it (amount, reason).
    pub fees: Vec<(Money, String)>,
    pub invoices: Vec<Chased>,
}

/// What today's run does for one customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Skip(Skip),
    Queue(Box<NewReminder>),
    /// The reminder could not be written (a template or rate problem); the others go on.
    Failed(String),
}

/// The plan for one customer today.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Today {
    pub settled: Vec<Settled>,
    pub action: Action,
}

/// Decides today's run for one customer.
pub fn plan(f: &Facts, config: &Config, now: DateTime<FixedOffset>) -> Result<Today> {
    let today = now.date_naive();
    let (pause, settled) = pauses(f, today);
    let ladder = config.ladder(f.ladder.as_deref());
    let c = &f.customer;
    let contact = Contact {
        email: c.email.clone(),
        phone: c.phone.clone(),
        address: c.address.clone(),
        consent_email: c.consent_email,
        consent_sms: c.consent_sms,
        kind: c.kind,
    };
    let action = match run::decide(ladder, &config.shop.dunning, &contact, &f.invoices, f.last_contact, pause, now) {
        Outcome::Skip(why) => Action::Skip(why),
        Outcome::Queue { level, channel, not_before } => match write(f, config, ladder, level, channel, None, today) {
            Ok((rendered, invoices)) => {
                let step = ladder.steps[level].clone();
                let fees = wording::fees(&step, c.kind, &config.shop, &rendered);
                Action::Queue(Box::new(NewReminder { level, step, channel, not_before, rendered, fees, invoices }))
            }
            // One customer's template problem must not stop everyone else's reminders.
            Err(e @ (Error::Invalid { .. } | Error::NotPositive { .. })) => Action::Failed(e.to_string()),
            Err(e) => return Err(e),
        },
    };
    Ok(Today { settled, action })
}

/// A reminder still queued, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queued {
    pub id: i64,
    pub level: usize,
    pub channel: Channel,
}

/// How a queued reminder reads now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refresh {
    /// Nothing it chases is overdue any more (paid, credited, disputed or stopped).
    Cancel,
    Rewrite {
        rendered: Rendered,
        invoices: Vec<Chased>,
    },
}

/// What becomes of a queued reminder after the account moved (facts gathered as of today).
pub fn refresh(f: &Facts, config: &Config, queued: &Queued, today: NaiveDate) -> Result<Refresh> {
    if f.invoices.is_empty() {
        return Ok(Refresh::Cancel);
    }
    let ladder = config.ladder(f.ladder.as_deref());
    let level = queued.level.min(ladder.steps.len() - 1);
    let (rendered, invoices) = write(f, config, ladder, level, queued.channel, Some(queued.id), today)?;
    Ok(Refresh::Rewrite { rendered, invoices })
}

/// The words of the reminder at `level`, and the level each invoice is chased at in it.
fn write(
    f: &Facts,
    config: &Config,
    ladder: &Ladder,
    level: usize,
    channel: Channel,
    myself: Option<i64>,
    today: NaiveDate,
) -> Result<(Rendered, Vec<Chased>)> {
    let step = &ladder.steps[level];
    let letter = Letter {
        shop: &config.shop,
        rates: &config.rates,
        template: config.template(&step.template, f.customer.language)?,
        step,
        channel,
        customer: &f.customer,
        invoices: &f.invoices,
        payments: &f.payments,
        notice_on: f.notice_on,
        history: &f.history,
        myself,
        today,
    };
    let rendered = wording::render(&letter)?;
    let invoices = f
        .invoices
        .iter()
        .map(|i| Chased {
            invoice: i.entry,
            level: ladder.level_for((today - i.due_on).num_days()).unwrap_or(0).min(level),
            remaining: i.remaining,
        })
        .collect();
    Ok((rendered, invoices))
}

/// Settles promises and plans whose dates have come, and says whether one pauses the ladder.
fn pauses(f: &Facts, today: NaiveDate) -> (Option<Skip>, Vec<Settled>) {
    if f.excluded {
        return (Some(Skip::Excluded), Vec::new());
    }
    if let Some((until, _)) = &f.hold {
        if until.is_none_or(|u| u >= today) {
            return (Some(Skip::OnHold), Vec::new());
        }
    }
    let mut pause = None;
    let mut settled = Vec::new();
    for p in &f.promises {
        let (on, amount, paid) = (p.on, p.amount, p.paid_since);
        if paid >= amount {
            settled.push(Settled {
                what: Agreement::Promise,
                id: p.id,
                state: "kept",
                note_kind: "promise_kept",
                note: format!("promise of {amount} EUR for {on} kept"),
                amount: None,
            });
        } else if on < today {
            settled.push(Settled {
                what: Agreement::Promise,
                id: p.id,
                state: "broken",
                note_kind: "promise_broken",
                note: format!("promise of {amount} EUR for {on} not kept ({paid} EUR paid)"),
                amount: None,
            });
        } else {
            pause = Some(Skip::Promise);
        }
    }
    for p in &f.plans {
        match plan::status(&p.instalments, p.paid_since, p.grace_days, today) {
            PlanStatus::Active { .. } => pause = pause.or(Some(Skip::Plan)),
            PlanStatus::Completed => settled.push(Settled {
                what: Agreement::Plan,
                id: p.id,
                state: "completed",
                note_kind: "plan_completed",
                note: "payment plan completed".to_owned(),
                amount: None,
            }),
            PlanStatus::Broken { missed_due, missing } => settled.push(Settled {
                what: Agreement::Plan,
                id: p.id,
                state: "broken",
                note_kind: "plan_broken",
                note: format!("payment plan broken: instalment of {missed_due} missed, {missing} EUR behind"),
                amount: Some(missing),
            }),
        }
    }
    (pause, settled)
}
