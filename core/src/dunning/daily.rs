//! The daily run, decided: from one customer's facts (what is due, what was promised or planned,
//! what was sent) and the shop's configuration, what to write today (promises and plans
//! settled, a reminder queued with its fees, or why not), and how a queued reminder reads once
//! the account has moved. Pure: the store gathers the facts, then applies the plan in one unit
//! of work (decide, then apply).

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate};
use uuid::Uuid;

use super::court;
use super::ladder::{Channel, Ladder, Step, StepKind};
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
    /// The day the first formal notice was sent (by the back office, or posted as the owner
    /// recorded): a notice queued, held or failed starts nothing.
    pub notice_on: Option<NaiveDate>,
    /// The day insolvency proceedings opened against the customer, as the owner recorded it.
    pub insolvent_since: Option<NaiveDate>,
    /// The reminders sent, oldest first, each with the day it was sent.
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

/// A reminder due today that waits for the owner instead of going out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldReminder {
    pub level: usize,
    pub step: Step,
    pub channel: Channel,
    pub not_before: DateTime<FixedOffset>,
    pub invoices: Vec<Chased>,
    /// Why, in the customer's language (the reminder's).
    pub reason: String,
}

/// What today's run does for one customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Skip(Skip),
    Queue(Box<NewReminder>),
    /// Its penalties need a half-year the rate tables do not cover: it is recorded as held and
    /// goes once the owner updates the tables, never on a guessed rate.
    Hold(Box<HeldReminder>),
    /// The court file may not be prepared (limitation, insolvency, a public buyer): nothing is
    /// queued, the reason is reported.
    Refused(String),
    /// The reminder could not be written (a template problem); the others go on.
    Failed(String),
}

/// Why a reminder waits for the owner when the rate tables fall short, in `lang`.
/// Why a queued reminder was cancelled by a pause of the account.
fn paused_reason(skip: Skip, lang: Language) -> String {
    let fr = lang == Language::Fr;
    match skip {
        Skip::OnHold if fr => "Annulée : les relances de ce client sont suspendues.",
        Skip::OnHold => "Cancelled: this customer's reminders are on hold.",
        Skip::Promise if fr => "Annulée : le client a promis de payer à une date à venir.",
        Skip::Promise => "Cancelled: the customer promised to pay on a date still to come.",
        Skip::Plan if fr => "Annulée : un échéancier de paiement est en cours.",
        Skip::Plan => "Cancelled: a payment plan is running.",
        _ if fr => "Annulée : ce client ne reçoit plus de relances.",
        _ => "Cancelled: this customer no longer gets reminders.",
    }
    .to_owned()
}

pub fn stale_reason(e: &Error, lang: Language) -> String {
    let Error::StaleRates { table, year, half, checked_through } = e else { return e.to_string() };
    match lang {
        Language::Fr => {
            let table = if *table == "ECB" { "des taux de la BCE" } else { "des taux d'intérêt légal" };
            let half = if *half == 1 { "1er" } else { "2e" };
            format!(
                "En attente du commerçant : la table {table} ne couvre pas le {half} semestre {year} (vérifiée jusqu'au \
                 {checked_through}). Mettez les taux à jour (ardoise rates set) : la relance partira ensuite."
            )
        }
        Language::En => format!(
            "Waiting for the owner: the {table} table does not cover {year} H{half} (checked through \
             {checked_through}). Update the rates (ardoise rates set) and the reminder goes."
        ),
    }
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
        Outcome::Queue { level, channel, not_before } => {
            let (level, channel, not_before, bar) = match court_bar(f, ladder, level, today) {
                // A debt that reached the court-file step without a notice (imported late,
                // paused a long time) gets its notice first, or the file would wait forever.
                Some(court::Bar::NoNotice) => {
                    match notice_first(f, ladder, level, &config.shop.dunning, &contact, now) {
                        Some((level, channel, not_before)) => (level, channel, not_before, None),
                        None => (level, channel, not_before, Some(court::Bar::NoNotice)),
                    }
                }
                bar => (level, channel, not_before, bar),
            };
            queue_or_not(f, config, ladder, level, channel, not_before, bar, today)?
        }
    };
    Ok(Today { settled, action })
}

/// The formal notice to queue when the court-file step comes before any notice was sent: the
/// last formal-notice step below it, unless one is already queued, held or failed (it waits for
/// that one), decided as the ladder would up to that step.
fn notice_first(
    f: &Facts,
    ladder: &Ladder,
    level: usize,
    rules: &run::DunningRules,
    contact: &Contact,
    now: DateTime<FixedOffset>,
) -> Option<(usize, Channel, DateTime<FixedOffset>)> {
    let notice = ladder.steps[..level].iter().rposition(|s| s.kind == StepKind::FormalNotice)?;
    if f.invoices.iter().filter_map(|i| i.reached).any(|r| r >= notice) {
        return None;
    }
    let upto = Ladder { name: ladder.name.clone(), steps: ladder.steps[..=notice].to_vec() };
    match run::decide(&upto, rules, contact, &f.invoices, f.last_contact, None, now) {
        Outcome::Queue { level, channel, not_before } => Some((level, channel, not_before)),
        Outcome::Skip(_) => None,
    }
}

/// The reminder at `level`, unless the court file is barred: queued, held for the owner, or
/// why not.
#[allow(clippy::too_many_arguments)]
fn queue_or_not(
    f: &Facts,
    config: &Config,
    ladder: &Ladder,
    level: usize,
    channel: Channel,
    not_before: DateTime<FixedOffset>,
    bar: Option<court::Bar>,
    today: NaiveDate,
) -> Result<Action> {
    let c = &f.customer;
    Ok(match bar {
        Some(bar) if bar.is_wait() => Action::Skip(Skip::NoticePending),
        Some(bar) => Action::Refused(bar.text(c.language)),
        None => match write(f, config, ladder, level, channel, None, today) {
            Ok((rendered, invoices)) => {
                let step = ladder.steps[level].clone();
                let fees = wording::fees(&step, c.kind, &config.shop, &rendered);
                Action::Queue(Box::new(NewReminder { level, step, channel, not_before, rendered, fees, invoices }))
            }
            Err(e @ Error::StaleRates { .. }) => Action::Hold(Box::new(HeldReminder {
                level,
                step: ladder.steps[level].clone(),
                channel,
                not_before,
                invoices: chased(f, ladder, level, today),
                reason: stale_reason(&e, c.language),
            })),
            // One customer's template problem must not stop everyone else's reminders.
            Err(e @ (Error::Invalid { .. } | Error::NotPositive { .. })) => Action::Failed(e.to_string()),
            Err(e) => return Err(e),
        },
    })
}

/// A reminder still queued, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queued {
    pub id: i64,
    pub level: usize,
    pub channel: Channel,
}

/// How a queued (or held) reminder reads now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refresh {
    /// Nothing it chases is overdue any more (paid, credited, disputed or stopped).
    Cancel,
    /// A court file that may no longer be prepared (insolvency recorded, limitation reached).
    Stop(String),
    /// Its penalties now need a half-year the rate tables do not cover: it waits for the owner.
    Hold(String),
    Rewrite {
        rendered: Rendered,
        invoices: Vec<Chased>,
    },
}

/// What becomes of a queued or held reminder after the account moved (facts gathered as of
/// today).
pub fn refresh(f: &Facts, config: &Config, queued: &Queued, today: NaiveDate) -> Result<Refresh> {
    if f.invoices.is_empty() {
        return Ok(Refresh::Cancel);
    }
    // Put on hold, a promise or a plan since it was queued, or taken out of the reminders: the
    // account is paused, so this reminder does not go (the daily run queues one again if the
    // pause ends with the debt unpaid).
    if let (Some(skip), _) = pauses(f, today) {
        return Ok(Refresh::Stop(paused_reason(skip, f.customer.language)));
    }
    let ladder = config.ladder(f.ladder.as_deref());
    let level = queued.level.min(ladder.steps.len() - 1);
    if let Some(bar) = court_bar(f, ladder, level, today).filter(|b| !b.is_wait()) {
        return Ok(Refresh::Stop(bar.text(f.customer.language)));
    }
    match write(f, config, ladder, level, queued.channel, Some(queued.id), today) {
        Ok((rendered, invoices)) => Ok(Refresh::Rewrite { rendered, invoices }),
        Err(e @ Error::StaleRates { .. }) => Ok(Refresh::Hold(stale_reason(&e, f.customer.language))),
        Err(e) => Err(e),
    }
}

/// What stands in the way of the court file, when `level` is that step.
fn court_bar(f: &Facts, ladder: &Ladder, level: usize, today: NaiveDate) -> Option<court::Bar> {
    if ladder.steps[level].kind != StepKind::CourtFile {
        return None;
    }
    // A payment acknowledges the debt and starts its limitation period again (Code civil 2240).
    let invoices: Vec<(String, NaiveDate)> = f
        .invoices
        .iter()
        .map(|i| {
            let last_paid = f.payments.get(&i.entry).and_then(|p| p.iter().map(|(d, _)| *d).max());
            (i.reference.clone(), last_paid.map_or(i.due_on, |d| d.max(i.due_on)))
        })
        .collect();
    court::check(f.customer.kind, f.notice_on, &invoices, f.insolvent_since, today).err()
}

/// The level each invoice is chased at by a reminder at `level`.
fn chased(f: &Facts, ladder: &Ladder, level: usize, today: NaiveDate) -> Vec<Chased> {
    f.invoices
        .iter()
        .map(|i| Chased {
            invoice: i.entry,
            level: ladder.level_for((today - i.due_on).num_days()).unwrap_or(0).min(level),
            remaining: i.remaining,
        })
        .collect()
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
        insolvent_since: f.insolvent_since,
        history: &f.history,
        myself,
        today,
    };
    let rendered = wording::render(&letter)?;
    Ok((rendered, chased(f, ladder, level, today)))
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
