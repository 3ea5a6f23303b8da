//! Reminders across the FFI: the shop's settings for them, the daily run and its queue, the
//! ladder, templates, rate tables and the penalty calculator. Conversion only: the rules live
//! in `ardoise_core::dunning` and `Store`.

use ardoise_core as core;
use core::dunning::{ladder, penalty, run, template};
use core::store as st;

use crate::error::{Result, invalid};
use crate::types::{self, CustomerKind, Language, opt, s};
use crate::{MAX_PAGE, Till};

/// A percentage as the shop types it ("9.5", "12.25"): digits, at most one point, at most four
/// decimals. The target type is the core's decimal.
fn pct<T: std::str::FromStr>(field: &str, v: &str) -> Result<T> {
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let ok = match v.split_once('.') {
        Some((int, frac)) => {
            (1..=3).contains(&int.len()) && digits(int) && (1..=4).contains(&frac.len()) && digits(frac)
        }
        None => (1..=3).contains(&v.len()) && digits(v),
    };
    if !ok {
        return Err(invalid(format!("{field}: {v:?} is not a percentage like 9.5")));
    }
    v.parse().map_err(|_| invalid(format!("{field}: {v:?} is not a percentage like 9.5")))
}

// ---------------------------------------------------------------------------------------------
// Enums

/// How a reminder reaches the customer (or the shop, for a call or a file).
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Channel {
    Email,
    Sms,
    /// A letter on paper (registered for a formal notice).
    Letter,
    /// A task for a person at the shop: call the customer.
    PhoneCall,
    /// A word from the cashier the next time the customer is at the till.
    Till,
    /// A document prepared for the owner (the "injonction de payer" file), not sent.
    Document,
}

impl From<Channel> for ladder::Channel {
    fn from(c: Channel) -> Self {
        match c {
            Channel::Email => ladder::Channel::Email,
            Channel::Sms => ladder::Channel::Sms,
            Channel::Letter => ladder::Channel::Letter,
            Channel::PhoneCall => ladder::Channel::PhoneCall,
            Channel::Till => ladder::Channel::Till,
            Channel::Document => ladder::Channel::Document,
        }
    }
}

impl From<ladder::Channel> for Channel {
    fn from(c: ladder::Channel) -> Self {
        match c {
            ladder::Channel::Email => Channel::Email,
            ladder::Channel::Sms => Channel::Sms,
            ladder::Channel::Letter => Channel::Letter,
            ladder::Channel::PhoneCall => Channel::PhoneCall,
            ladder::Channel::Till => Channel::Till,
            ladder::Channel::Document => Channel::Document,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Tone {
    Courteous,
    Firm,
    Formal,
    Legal,
}

impl From<Tone> for ladder::Tone {
    fn from(t: Tone) -> Self {
        match t {
            Tone::Courteous => ladder::Tone::Courteous,
            Tone::Firm => ladder::Tone::Firm,
            Tone::Formal => ladder::Tone::Formal,
            Tone::Legal => ladder::Tone::Legal,
        }
    }
}

impl From<ladder::Tone> for Tone {
    fn from(t: ladder::Tone) -> Self {
        match t {
            ladder::Tone::Courteous => Tone::Courteous,
            ladder::Tone::Firm => Tone::Firm,
            ladder::Tone::Formal => Tone::Formal,
            ladder::Tone::Legal => Tone::Legal,
        }
    }
}

/// What a step is: a reminder, the formal notice ("mise en demeure") or the court file
/// ("injonction de payer").
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum StepKind {
    Reminder,
    FormalNotice,
    CourtFile,
}

impl From<StepKind> for ladder::StepKind {
    fn from(k: StepKind) -> Self {
        match k {
            StepKind::Reminder => ladder::StepKind::Reminder,
            StepKind::FormalNotice => ladder::StepKind::FormalNotice,
            StepKind::CourtFile => ladder::StepKind::CourtFile,
        }
    }
}

impl From<ladder::StepKind> for StepKind {
    fn from(k: ladder::StepKind) -> Self {
        match k {
            ladder::StepKind::Reminder => StepKind::Reminder,
            ladder::StepKind::FormalNotice => StepKind::FormalNotice,
            ladder::StepKind::CourtFile => StepKind::CourtFile,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum ReminderState {
    Queued,
    Sent,
    Failed,
    Cancelled,
}

impl From<ReminderState> for st::ReminderState {
    fn from(s: ReminderState) -> Self {
        match s {
            ReminderState::Queued => st::ReminderState::Queued,
            ReminderState::Sent => st::ReminderState::Sent,
            ReminderState::Failed => st::ReminderState::Failed,
            ReminderState::Cancelled => st::ReminderState::Cancelled,
        }
    }
}

impl From<st::ReminderState> for ReminderState {
    fn from(s: st::ReminderState) -> Self {
        match s {
            st::ReminderState::Queued => ReminderState::Queued,
            st::ReminderState::Sent => ReminderState::Sent,
            st::ReminderState::Failed => ReminderState::Failed,
            st::ReminderState::Cancelled => ReminderState::Cancelled,
        }
    }
}

fn skip_name(skip: run::Skip) -> &'static str {
    match skip {
        run::Skip::NothingDue => "nothing_due",
        run::Skip::AlreadyAtLevel => "already_at_level",
        run::Skip::TooSoon => "too_soon",
        run::Skip::Excluded => "excluded",
        run::Skip::OnHold => "on_hold",
        run::Skip::Promise => "promise",
        run::Skip::Plan => "plan",
    }
}

// ---------------------------------------------------------------------------------------------
// Records

/// The shop's identity as reminders print it, and its rules for reminders. (The checkout
/// thresholds are `checkout_rules()`.)
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ShopSettings {
    pub shop_name: String,
    pub shop_phone: String,
    pub shop_email: String,
    pub shop_address: String,
    /// An https:// address to pay online, which may use `{customer_ref}` and `{amount}`;
    /// `None`: reminders say to pay at the shop.
    pub payment_url: Option<String>,
    /// Fewest days between two contacts with the same customer.
    pub min_gap_days: u32,
    /// SMS only between these hours (the till's local time), never on Sunday.
    pub sms_from_hour: u32,
    pub sms_until_hour: u32,
    /// Days an instalment may be late before a payment plan counts as broken.
    pub plan_grace_days: u32,
    /// Add the penalties and the indemnity to the account when the formal notice goes.
    pub penalty_fees_business: bool,
    pub penalty_fees_consumer: bool,
    /// A contract penalty rate for business customers, in percent ("12.5").
    pub contract_rate_pct: Option<String>,
}

impl From<&core::ShopSettings> for ShopSettings {
    fn from(x: &core::ShopSettings) -> Self {
        let d = &x.dunning;
        ShopSettings {
            shop_name: x.shop_name.clone(),
            shop_phone: x.shop_phone.clone(),
            shop_email: x.shop_email.clone(),
            shop_address: x.shop_address.clone(),
            payment_url: x.payment_url.clone(),
            min_gap_days: d.min_gap_days,
            sms_from_hour: d.sms_from_hour,
            sms_until_hour: d.sms_until_hour,
            plan_grace_days: d.plan_grace_days,
            penalty_fees_business: d.penalty_fees_business,
            penalty_fees_consumer: d.penalty_fees_consumer,
            contract_rate_pct: d.contract_rate_pct.map(|r| r.to_string()),
        }
    }
}

impl ShopSettings {
    /// These settings over the current ones (the checkout rules are kept).
    fn apply_to(self, current: &core::ShopSettings) -> Result<core::ShopSettings> {
        let mut out = current.clone();
        out.shop_name = self.shop_name;
        out.shop_phone = self.shop_phone;
        out.shop_email = self.shop_email;
        out.shop_address = self.shop_address;
        out.payment_url = self.payment_url;
        out.dunning = run::DunningRules {
            min_gap_days: self.min_gap_days,
            sms_from_hour: self.sms_from_hour,
            sms_until_hour: self.sms_until_hour,
            plan_grace_days: self.plan_grace_days,
            penalty_fees_business: self.penalty_fees_business,
            penalty_fees_consumer: self.penalty_fees_consumer,
            contract_rate_pct: self.contract_rate_pct.map(|r| pct("contract rate", &r)).transpose()?,
        };
        Ok(out)
    }
}

/// A reminder as queued for the back office, with its rendered content.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Reminder {
    pub id: String,
    pub customer_ref: String,
    pub customer_name: String,
    /// Index of the ladder step (0 = first).
    pub level: u32,
    pub step: String,
    pub kind: StepKind,
    pub channel: Channel,
    /// Email address, phone number or postal address, as the channel needs.
    pub recipient: Option<String>,
    pub language: Language,
    pub state: ReminderState,
    pub state_note: Option<String>,
    pub created_on: String,
    /// Not to be sent before (SMS wait for daytime, and for Monday on Sundays).
    pub not_before: String,
    pub subject: String,
    pub body: String,
    pub amount_due: String,
    pub penalties: String,
    pub indemnity: String,
    /// References of the invoices it names.
    pub invoices: Vec<String>,
}

impl From<st::ReminderRecord> for Reminder {
    fn from(r: st::ReminderRecord) -> Self {
        Reminder {
            id: r.id.to_string(),
            customer_ref: r.customer_ref,
            customer_name: r.customer_name,
            level: u32::try_from(r.level).unwrap_or(u32::MAX),
            step: r.step,
            kind: r.kind.into(),
            channel: r.channel.into(),
            recipient: r.recipient,
            language: r.language.into(),
            state: r.state.into(),
            state_note: r.state_note,
            created_on: r.created_on.to_string(),
            not_before: r.not_before.to_rfc3339(),
            subject: r.subject,
            body: r.body,
            amount_due: s(r.amount_due),
            penalties: s(r.penalties),
            indemnity: s(r.indemnity),
            invoices: r.invoices,
        }
    }
}

/// How many customers a run left alone, and why (`nothing_due`, `already_at_level`,
/// `too_soon`, `excluded`, `on_hold`, `promise`, `plan`).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SkipCount {
    pub reason: String,
    pub count: u32,
}

/// What a daily run did.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct RunReport {
    pub as_of: Option<String>,
    pub customers_checked: u32,
    pub queued: Vec<Reminder>,
    pub skipped: Vec<SkipCount>,
    pub plans_broken: u32,
    pub promises_broken: u32,
    /// Customers whose reminder could not be written (a template or ladder problem).
    pub errors: Vec<String>,
}

impl From<st::RunReport> for RunReport {
    fn from(r: st::RunReport) -> Self {
        RunReport {
            as_of: r.as_of.map(|d| d.to_string()),
            customers_checked: r.customers_checked,
            queued: r.queued.into_iter().map(Into::into).collect(),
            skipped: r
                .skipped
                .into_iter()
                .map(|(why, count)| SkipCount { reason: skip_name(why).to_owned(), count })
                .collect(),
            plans_broken: r.plans_broken,
            promises_broken: r.promises_broken,
            errors: r.errors,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct LadderStep {
    pub name: String,
    /// Days after the due date of the customer's most overdue invoice; negative: before it.
    pub offset_days: i32,
    pub channel: Channel,
    /// Template name; the customer's language picks the variant.
    pub template: String,
    pub tone: Tone,
    pub kind: StepKind,
    /// A fixed fee charged to the account when the step is queued.
    #[uniffi(default = None)]
    pub fee: Option<String>,
}

/// The dunning ladder: ordered steps from the due date.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Ladder {
    pub name: String,
    pub steps: Vec<LadderStep>,
}

impl From<ladder::Ladder> for Ladder {
    fn from(l: ladder::Ladder) -> Self {
        Ladder {
            name: l.name,
            steps: l
                .steps
                .into_iter()
                .map(|x| LadderStep {
                    name: x.name,
                    offset_days: x.offset_days,
                    channel: x.channel.into(),
                    template: x.template,
                    tone: x.tone.into(),
                    kind: x.kind.into(),
                    fee: opt(x.fee),
                })
                .collect(),
        }
    }
}

impl Ladder {
    fn into_core(self) -> Result<ladder::Ladder> {
        let steps = self
            .steps
            .into_iter()
            .map(|x| {
                Ok(ladder::Step {
                    fee: types::opt_money("fee", x.fee)?,
                    name: x.name,
                    offset_days: x.offset_days,
                    channel: x.channel.into(),
                    template: x.template,
                    tone: x.tone.into(),
                    kind: x.kind.into(),
                })
            })
            .collect::<Result<_>>()?;
        Ok(ladder::Ladder { name: self.name, steps })
    }
}

/// One template in one language, with `{placeholder}`s: a subject and body (email, letter,
/// call sheet, file) and a short text for SMS.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ReminderTemplate {
    pub name: String,
    pub language: Language,
    pub subject: String,
    pub body: String,
    pub sms: String,
}

impl From<template::Template> for ReminderTemplate {
    fn from(t: template::Template) -> Self {
        ReminderTemplate { name: t.name, language: t.language.into(), subject: t.subject, body: t.body, sms: t.sms }
    }
}

impl From<ReminderTemplate> for template::Template {
    fn from(t: ReminderTemplate) -> Self {
        template::Template { name: t.name, language: t.language.into(), subject: t.subject, body: t.body, sms: t.sms }
    }
}

/// A change of the ECB main refinancing rate.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct EcbRate {
    pub effective_on: String,
    pub rate_pct: String,
}

/// The French legal interest rate ("all other cases") for a half-year (1 or 2).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct LegalRate {
    pub year: i32,
    pub half: u8,
    pub rate_pct: String,
}

/// The rates penalties are computed with.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct RateTables {
    pub ecb: Vec<EcbRate>,
    pub legal: Vec<LegalRate>,
}

impl From<penalty::RateTables> for RateTables {
    fn from(r: penalty::RateTables) -> Self {
        RateTables {
            ecb: r
                .ecb
                .into_iter()
                .map(|(on, rate)| EcbRate { effective_on: on.to_string(), rate_pct: rate.to_string() })
                .collect(),
            legal: r
                .legal
                .into_iter()
                .map(|((year, half), rate)| LegalRate { year, half, rate_pct: rate.to_string() })
                .collect(),
        }
    }
}

/// One stretch of days at one rate on one base.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct PenaltyPeriod {
    pub from: String,
    pub to: String,
    pub days: i64,
    pub base: String,
    pub rate_pct: String,
    pub interest: String,
}

/// Late-payment interest and the recovery indemnity on one invoice.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Penalty {
    pub interest: String,
    pub indemnity: String,
    pub total: String,
    pub periods: Vec<PenaltyPeriod>,
    /// Rates assumed because the table lacks a half-year.
    pub notes: Vec<String>,
}

impl From<penalty::Penalty> for Penalty {
    fn from(p: penalty::Penalty) -> Self {
        Penalty {
            interest: s(p.interest),
            indemnity: s(p.indemnity),
            total: s(p.total),
            periods: p
                .periods
                .into_iter()
                .map(|x| PenaltyPeriod {
                    from: x.from.to_string(),
                    to: x.to.to_string(),
                    days: x.days,
                    base: s(x.base),
                    rate_pct: x.rate_pct.to_string(),
                    interest: s(x.interest),
                })
                .collect(),
            notes: p.notes,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Calls

#[uniffi::export]
impl Till {
    /// The shop's name and contacts as reminders print them, and the rules for reminders.
    pub fn shop_settings(&self) -> Result<ShopSettings> {
        self.with(|s| Ok(s.settings().as_ref().into()))
    }

    /// Replaces them (the checkout rules stay as they are).
    pub fn set_shop_settings(&self, settings: ShopSettings, now: String) -> Result<()> {
        let now = types::instant(&now)?;
        self.with(|s| {
            let settings = settings.apply_to(&s.settings())?;
            Ok(s.set_settings(settings, now)?)
        })
    }

    /// The daily run: for every customer with something due, queues at most one reminder at
    /// the level of their most overdue invoice, unless paused. Running it twice the same day
    /// queues nothing.
    pub fn run_dunning(&self, now: String) -> Result<RunReport> {
        let now = types::instant(&now)?;
        self.with(|s| Ok(s.run_dunning(now)?.into()))
    }

    /// Reminders, newest first (at most 1,000); `state` and `customer` (a reference) narrow the list.
    pub fn reminders(
        &self,
        state: Option<ReminderState>,
        customer: Option<String>,
        limit: u32,
    ) -> Result<Vec<Reminder>> {
        let limit = limit.min(MAX_PAGE) as usize;
        self.with(|s| {
            Ok(s.reminders(state.map(Into::into), customer.as_deref(), limit)?.into_iter().map(Into::into).collect())
        })
    }

    /// Records what became of a queued reminder (sent, failed, or cancelled by hand).
    pub fn set_reminder_state(
        &self,
        id: String,
        state: ReminderState,
        note: Option<String>,
        now: String,
    ) -> Result<Reminder> {
        let (id, now) = (types::uuid("reminder id", &id)?, types::instant(&now)?);
        self.with(|s| Ok(s.set_reminder_state(id, state.into(), note.as_deref(), now)?.into()))
    }

    /// One reminder by id.
    pub fn reminder(&self, id: String) -> Result<Reminder> {
        let id = types::uuid("reminder id", &id)?;
        self.with(|s| Ok(s.reminder(id)?.into()))
    }

    /// The shop's ladder names, "default" first.
    pub fn ladder_names(&self) -> Result<Vec<String>> {
        self.with(|s| Ok(s.ladder_names()?))
    }

    /// The ladder by name ("default" unless the shop made others).
    pub fn ladder(&self, name: String) -> Result<Ladder> {
        self.with(|s| Ok(s.ladder(&name)?.into()))
    }

    /// Saves a ladder (a new name makes a new one); refused unless its steps move forward in
    /// time and name known templates.
    pub fn set_ladder(&self, ladder: Ladder, now: String) -> Result<()> {
        let (ladder, now) = (ladder.into_core()?, types::instant(&now)?);
        self.with(|s| Ok(s.set_ladder(ladder, now)?))
    }

    /// Every template in both languages, as shipped or as the shop changed them.
    pub fn templates(&self) -> Result<Vec<ReminderTemplate>> {
        self.with(|s| Ok(s.templates()?.into_iter().map(Into::into).collect()))
    }

    /// Saves a template; an unknown placeholder is refused here, not when a reminder is sent.
    pub fn set_template(&self, template: ReminderTemplate, now: String) -> Result<()> {
        let now = types::instant(&now)?;
        self.with(|s| Ok(s.set_template(template.into(), now)?))
    }

    pub fn rate_tables(&self) -> Result<RateTables> {
        self.with(|s| Ok(s.rate_tables()?.into()))
    }

    /// Replaces the penalty rate tables with two CSV files (ECB main refinancing rate:
    /// `effective_date,rate_pct,...`; legal interest rate: `year,half,creditor_individual_pct,
    /// all_other_cases_pct,...`; each with a header line).
    pub fn set_rate_tables(&self, ecb_csv: String, legal_csv: String, now: String) -> Result<RateTables> {
        let now = types::instant(&now)?;
        self.with(|s| Ok(s.set_rate_tables(&ecb_csv, &legal_csv, now)?.into()))
    }

    /// The penalties the law allows on `amount` due on `due_on`, until `until` (inclusive),
    /// with this till's rate tables (and its contract rate, for a business). A consumer owes
    /// interest only from the formal notice (`notice_on`).
    pub fn penalty(
        &self,
        amount: String,
        due_on: String,
        until: String,
        debtor: CustomerKind,
        notice_on: Option<String>,
    ) -> Result<Penalty> {
        let req = penalty::PenaltyRequest {
            amount: types::money("amount", &amount)?,
            due_on: types::date(&due_on)?,
            until: types::date(&until)?,
            debtor: debtor.into(),
            notice_on: notice_on.as_deref().map(types::date).transpose()?,
            payments: Vec::new(),
            contract_rate_pct: None,
        };
        self.with(|s| {
            let req = penalty::PenaltyRequest { contract_rate_pct: s.settings().dunning.contract_rate_pct, ..req };
            Ok(penalty::compute(&req, &s.rate_tables()?)?.into())
        })
    }
}
