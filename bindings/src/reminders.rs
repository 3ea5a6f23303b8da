//! Reminders across the FFI: the shop's settings for them, the daily run and its queue, the
//! ladder, templates, rate tables and the penalty calculator. The rules live in
//! `ardoise_core::dunning` and `Store`; the settings a till edits (`ReminderSettings`, one flat
//! record), the run, reminders, ladder, templates, rate tables and penalties cross as the core
//! has them.

use ardoise_core as core;
use core::dunning::ladder::Ladder;
use core::dunning::penalty::{self, Penalty, RateTables};
use core::dunning::template::Template;
use core::store::{ReminderRecord, ReminderState, RunReport};
use core::{CustomerKind, Money, ReminderSettings, Uuid};

use crate::{IsoDate, MAX_PAGE, Result, Till, Timestamp};

#[uniffi::export]
impl Till {
    /// The shop's name and contacts as reminders print them, and the rules for reminders.
    pub fn shop_settings(&self) -> Result<ReminderSettings> {
        self.with(|s| Ok(s.settings().reminder_settings()))
    }

    /// Replaces them (the checkout rules stay as they are).
    pub fn set_shop_settings(&self, settings: ReminderSettings, now: Timestamp) -> Result<()> {
        self.with(|s| s.set_settings(s.settings().with_reminder_settings(settings), now))
    }

    /// The daily run: for every customer with something due, queues at most one reminder at
    /// the level of their most overdue invoice, unless paused. Running it twice the same day
    /// queues nothing.
    pub fn run_dunning(&self, now: Timestamp) -> Result<RunReport> {
        self.with(|s| s.run_dunning(now))
    }

    /// Reminders, newest first (at most 1,000); `state` and `customer` (a reference) narrow the list.
    pub fn reminders(
        &self,
        state: Option<ReminderState>,
        customer: Option<String>,
        limit: u32,
    ) -> Result<Vec<ReminderRecord>> {
        self.with(|s| s.reminders(state, customer.as_deref(), limit.min(MAX_PAGE) as usize))
    }

    /// Records what became of a queued reminder (sent, failed, or cancelled by hand).
    pub fn set_reminder_state(
        &self,
        id: Uuid,
        state: ReminderState,
        note: Option<String>,
        now: Timestamp,
    ) -> Result<ReminderRecord> {
        self.with(|s| s.set_reminder_state(id, state, note.as_deref(), now))
    }

    /// One reminder by id.
    pub fn reminder(&self, id: Uuid) -> Result<ReminderRecord> {
        self.with(|s| s.reminder(id))
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
        self.with(|s| s.rate_tables())
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
        self.with(|s| s.set_rate_tables(&ecb_csv, &legal_csv, now))
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
