//! Reminders across the FFI: the shop's settings for them, the daily run and its queue, the
//! ladder, templates, rate tables and the penalty calculator. The rules live in
//! `ardoise_core::dunning` and `Store`; the ladder, templates and penalties cross as the core
//! has them. Written by hand: the settings (one flat record over the shop's identity and its
//! reminder rules, as the app edits them), and a reminder, the run's skip counts and the rate
//! tables, whose shapes in the core (a `usize` level, a map, tuples) uniffi does not carry.

use ardoise_core as core;
use core::dunning::ladder::{Channel, Ladder, StepKind};
use core::dunning::penalty::{self, Penalty};
use core::dunning::template::{Language, Template};
use core::store::{ReminderRecord, ReminderState};
use core::{CustomerKind, Money, Uuid};

use crate::{IsoDate, MAX_PAGE, Percent, Result, Till, Timestamp};

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
    pub contract_rate_pct: Option<Percent>,
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
            contract_rate_pct: d.contract_rate_pct,
        }
    }
}

impl ShopSettings {
    /// These settings over the current ones (the checkout rules are kept).
    fn apply_to(self, current: &core::ShopSettings) -> core::ShopSettings {
        core::ShopSettings {
            shop_name: self.shop_name,
            shop_phone: self.shop_phone,
            shop_email: self.shop_email,
            shop_address: self.shop_address,
            payment_url: self.payment_url,
            // Set from the back office or the CLI; the till app shows the shop, it does not edit its legal identity.
            identity: current.identity.clone(),
            checkout: current.checkout.clone(),
            dunning: core::dunning::run::DunningRules {
                min_gap_days: self.min_gap_days,
                sms_from_hour: self.sms_from_hour,
                sms_until_hour: self.sms_until_hour,
                plan_grace_days: self.plan_grace_days,
                penalty_fees_business: self.penalty_fees_business,
                penalty_fees_consumer: self.penalty_fees_consumer,
                contract_rate_pct: self.contract_rate_pct,
            },
        }
    }
}

/// A reminder as queued for the back office, with its rendered content.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Reminder {
    pub id: Uuid,
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
    pub created_on: IsoDate,
    /// Not to be sent before (SMS wait for daytime, and for Monday on Sundays).
    pub not_before: Timestamp,
    pub subject: String,
    pub body: String,
    pub amount_due: Money,
    pub penalties: Money,
    pub indemnity: Money,
    /// References of the invoices it names.
    pub invoices: Vec<String>,
}

impl From<ReminderRecord> for Reminder {
    fn from(r: ReminderRecord) -> Self {
        Reminder {
            id: r.id,
            customer_ref: r.customer_ref,
            customer_name: r.customer_name,
            level: u32::try_from(r.level).unwrap_or(u32::MAX),
            step: r.step,
            kind: r.kind,
            channel: r.channel,
            recipient: r.recipient,
            language: r.language,
            state: r.state,
            state_note: r.state_note,
            created_on: r.created_on,
            not_before: r.not_before,
            subject: r.subject,
            body: r.body,
            amount_due: r.amount_due,
            penalties: r.penalties,
            indemnity: r.indemnity,
            invoices: r.invoices,
        }
    }
}

/// How many customers a run left alone, and why (`nothing_due`, `already_at_level`,
/// `too_soon`, `excluded`, `on_hold`, `promise`, `plan`, `notice_pending`).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SkipCount {
    pub reason: String,
    pub count: u32,
}

/// What a daily run did.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct RunReport {
    pub as_of: Option<IsoDate>,
    pub customers_checked: u32,
    pub queued: Vec<Reminder>,
    pub skipped: Vec<SkipCount>,
    pub plans_broken: u32,
    pub promises_broken: u32,
    /// Customers whose reminder could not be written (a template or ladder problem).
    pub errors: Vec<String>,
    /// Reminders due but waiting for the owner (rate tables to update), each with why.
    pub held: Vec<Reminder>,
    /// Court files the law does not allow (limitation, insolvency, a public buyer), with why.
    pub refused: Vec<String>,
}

impl From<core::store::RunReport> for RunReport {
    fn from(r: core::store::RunReport) -> Self {
        let skip = |(why, count): (core::dunning::run::Skip, u32)| SkipCount { reason: why.as_str().to_owned(), count };
        RunReport {
            as_of: r.as_of,
            customers_checked: r.customers_checked,
            queued: r.queued.into_iter().map(Into::into).collect(),
            skipped: r.skipped.into_iter().map(skip).collect(),
            plans_broken: r.plans_broken,
            promises_broken: r.promises_broken,
            errors: r.errors,
            held: r.held.into_iter().map(Into::into).collect(),
            refused: r.refused,
        }
    }
}

/// A change of the ECB main refinancing rate.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct EcbRate {
    pub effective_on: IsoDate,
    pub rate_pct: Percent,
}

/// The French legal interest rate ("all other cases") for a half-year (1 or 2).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct LegalRate {
    pub year: i32,
    pub half: u8,
    pub rate_pct: Percent,
}

/// The rates penalties are computed with, and the day each table was checked up to: a
/// half-year after that is not covered, and a penalty needing it is refused.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct RateTables {
    pub ecb: Vec<EcbRate>,
    pub legal: Vec<LegalRate>,
    pub ecb_checked_through: IsoDate,
    pub legal_checked_through: IsoDate,
}

impl From<penalty::RateTables> for RateTables {
    fn from(r: penalty::RateTables) -> Self {
        let ecb = |(effective_on, rate_pct)| EcbRate { effective_on, rate_pct };
        let legal = |((year, half), rate_pct)| LegalRate { year, half, rate_pct };
        RateTables {
            ecb: r.ecb.into_iter().map(ecb).collect(),
            legal: r.legal.into_iter().map(legal).collect(),
            ecb_checked_through: r.ecb_checked_through,
            legal_checked_through: r.legal_checked_through,
        }
    }
}

#[uniffi::export]
impl Till {
    /// The shop's name and contacts as reminders print them, and the rules for reminders.
    pub fn shop_settings(&self) -> Result<ShopSettings> {
        self.with(|s| Ok(s.settings().as_ref().into()))
    }

    /// Replaces them (the checkout rules stay as they are).
    pub fn set_shop_settings(&self, settings: ShopSettings, now: Timestamp) -> Result<()> {
        self.with(|s| {
            let settings = settings.apply_to(&s.settings());
            s.set_settings(settings, now)
        })
    }

    /// The daily run: for every customer with something due, queues at most one reminder at
    /// the level of their most overdue invoice, unless paused. Running it twice the same day
    /// queues nothing.
    pub fn run_dunning(&self, now: Timestamp) -> Result<RunReport> {
        Ok(self.with(|s| s.run_dunning(now))?.into())
    }

    /// Reminders, newest first (at most 1,000); `state` and `customer` (a reference) narrow the list.
    pub fn reminders(
        &self,
        state: Option<ReminderState>,
        customer: Option<String>,
        limit: u32,
    ) -> Result<Vec<Reminder>> {
        let list = self.with(|s| s.reminders(state, customer.as_deref(), limit.min(MAX_PAGE) as usize))?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// Records what became of a queued reminder (sent, failed, or cancelled by hand).
    pub fn set_reminder_state(
        &self,
        id: Uuid,
        state: ReminderState,
        note: Option<String>,
        now: Timestamp,
    ) -> Result<Reminder> {
        Ok(self.with(|s| s.set_reminder_state(id, state, note.as_deref(), now))?.into())
    }

    /// One reminder by id.
    pub fn reminder(&self, id: Uuid) -> Result<Reminder> {
        Ok(self.with(|s| s.reminder(id))?.into())
    }

    /// The shop's ladder names, "default" first.
    pub fn ladder_names(&self) -> Result<Vec<String>> {
        self.with(|s| s.ladder_names())
    }

    /// The ladder by name ("default" unless the shop made others).
    pub fn ladder(&self, name: String) -> Result<Ladder> {
        self.with(|s| s.ladder(&name))
    }

    /// Saves a ladder (a new name makes a new one); refused unless its steps move forward in
    /// time and name known templates.
    pub fn set_ladder(&self, ladder: Ladder, now: Timestamp) -> Result<()> {
        self.with(|s| s.set_ladder(ladder, now))
    }

    /// Every template in both languages, as shipped or as the shop changed them.
    pub fn templates(&self) -> Result<Vec<Template>> {
        self.with(|s| s.templates())
    }

    /// Saves a template; an unknown placeholder is refused here, not when a reminder is sent.
    pub fn set_template(&self, template: Template, now: Timestamp) -> Result<()> {
        self.with(|s| s.set_template(template, now))
    }

    pub fn rate_tables(&self) -> Result<RateTables> {
        Ok(self.with(|s| s.rate_tables())?.into())
    }

    /// Why the rate tables are stale on `day` (they do not cover its half-year, so reminders
    /// needing it wait for the owner), or `None` when they cover it.
    pub fn rates_stale_on(&self, day: IsoDate) -> Result<Option<String>> {
        let rates = self.with(|s| s.rate_tables())?;
        Ok(rates.covers(day).err().map(|e| e.to_string()))
    }

    /// Replaces the penalty rate tables with two CSV files (ECB main refinancing rate:
    /// `effective_date,rate_pct,...`; legal interest rate: `year,half,creditor_individual_pct,
    /// all_other_cases_pct,...`; each with a header line).
    pub fn set_rate_tables(&self, ecb_csv: String, legal_csv: String, now: Timestamp) -> Result<RateTables> {
        Ok(self.with(|s| s.set_rate_tables(&ecb_csv, &legal_csv, now))?.into())
    }

    /// The penalties the law allows on `amount` due on `due_on`, until `until` (inclusive),
    /// with this till's rate tables (and its contract rate, for a business). A consumer owes
    /// interest only from the formal notice (`notice_on`).
    pub fn penalty(
        &self,
        amount: Money,
        due_on: IsoDate,
        until: IsoDate,
        debtor: CustomerKind,
        notice_on: Option<IsoDate>,
    ) -> Result<Penalty> {
        self.with(|s| {
            let contract_rate_pct = s.settings().dunning.contract_rate_pct;
            let req = penalty::PenaltyRequest {
                amount,
                due_on,
                until,
                debtor,
                notice_on,
                payments: Vec::new(),
                contract_rate_pct,
                insolvent: false,
            };
            penalty::compute(&req, &s.rate_tables()?)
        })
    }
}
