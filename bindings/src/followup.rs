//! Following up on an account across the FFI: disputes, promises to pay, payment plans, notes
//! and calls, holds, per-customer ladders, stopped invoices and the whole timeline. Everything
//! crosses as the core has it; the rules live in `ardoise_core::store` and `dunning::plan`.

use ardoise_core as core;
use core::dunning::plan::{self, Instalment};
use core::store::{CallOutcome, Dispute, DisputeResolution, PlanView, Promise, TimelineItem};
use core::{Money, Recorded, Uuid};

use crate::{ArdoiseError, IsoDate, MAX_PAGE, Result, Till, Timestamp};

/// A resolved dispute, and the credit note that settled it when it was upheld.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct DisputeResolved {
    pub dispute: Dispute,
    pub credit_note: Option<Recorded>,
}

/// Splits `total` into `count` instalments every `every_days` from `first`; the cents that do
/// not divide go to the first instalment. Pass the result to `create_plan`.
#[uniffi::export]
pub fn split_plan(total: Money, count: u32, first: IsoDate, every_days: u32) -> Result<Vec<Instalment>> {
    Ok(plan::split_evenly(total, count, first, every_days)?)
}

#[uniffi::export]
impl Till {
    /// Opens a dispute on an invoice (by reference): it leaves the reminders at once and the
    /// checkout shows it (`Reason.Disputed`) without counting it as overdue.
    pub fn open_dispute(&self, invoice: String, reason: String, author: String, now: Timestamp) -> Result<Dispute> {
        self.with(|s| s.open_dispute(&invoice, &reason, &author, now))
    }

    pub fn note_dispute(&self, id: Uuid, note: String, author: String, now: Timestamp) -> Result<()> {
        self.with(|s| s.note_dispute(id, &note, &author, now))
    }

    /// Upheld: a credit note of `credit` (default: what is left on the invoice) settles it in
    /// the same transaction. Rejected (`upheld` false, no `credit`): the ladder takes it up again.
    pub fn resolve_dispute(
        &self,
        id: Uuid,
        upheld: bool,
        credit: Option<Money>,
        note: String,
        author: String,
        now: Timestamp,
    ) -> Result<DisputeResolved> {
        let resolution = match (upheld, credit) {
            (true, credit) => DisputeResolution::Upheld { credit },
            (false, None) => DisputeResolution::Rejected,
            (false, Some(_)) => {
                return Err(ArdoiseError::invalid("credit: only an upheld dispute gives a credit note"));
            }
        };
        let (dispute, credit_note) = self.with(|s| s.resolve_dispute(id, resolution, &note, &author, now))?;
        Ok(DisputeResolved { dispute, credit_note })
    }

    /// One dispute by id.
    pub fn dispute(&self, id: Uuid) -> Result<Dispute> {
        self.with(|s| s.dispute(id))
    }

    /// Disputes of a customer (a reference), or of the whole shop; open ones first.
    pub fn disputes(&self, customer: Option<String>) -> Result<Vec<Dispute>> {
        self.with(|s| s.disputes(customer.as_deref()))
    }

    /// A promise to pay `amount` by `on`: reminders wait until then; kept or broken by the money
    /// received since.
    pub fn promise_to_pay(
        &self,
        customer: String,
        on: IsoDate,
        amount: Money,
        author: String,
        now: Timestamp,
    ) -> Result<Promise> {
        self.with(|s| s.promise_to_pay(&customer, on, amount, &author, now))
    }

    /// A payment plan (see `split_plan`): reminders wait while it is kept; a missed instalment
    /// past the grace days breaks it and the ladder resumes where it was.
    pub fn create_plan(
        &self,
        customer: String,
        instalments: Vec<Instalment>,
        author: String,
        now: Timestamp,
    ) -> Result<PlanView> {
        self.with(|s| s.create_plan(&customer, instalments, &author, now))
    }

    /// The customer's latest plan and where it stands on `today`; `None` if never any.
    pub fn plan(&self, customer: String, today: IsoDate) -> Result<Option<PlanView>> {
        self.with(|s| s.plan(&customer, today))
    }

    pub fn add_note(&self, customer: String, note: String, author: String, now: Timestamp) -> Result<()> {
        self.with(|s| s.add_note(&customer, &note, &author, now))
    }

    /// The outcome of a call; `CallOutcome.Promise` also records the promise.
    pub fn record_call(
        &self,
        customer: String,
        outcome: CallOutcome,
        note: String,
        author: String,
        now: Timestamp,
    ) -> Result<()> {
        self.with(|s| s.record_call(&customer, outcome, &note, &author, now))
    }

    /// Holds the customer's reminders until `until` (`None`: until released) for `reason`; a
    /// `None` reason releases the hold.
    pub fn hold_reminders(
        &self,
        customer: String,
        until: Option<IsoDate>,
        reason: Option<String>,
        author: String,
        now: Timestamp,
    ) -> Result<()> {
        self.with(|s| s.hold_reminders(&customer, until, reason.as_deref(), &author, now))
    }

    /// Records that insolvency proceedings opened against the customer on `since` (`None`:
    /// none are open): from that day no recovery indemnity is claimed and no court file is
    /// prepared.
    pub fn set_insolvency(&self, customer: String, since: Option<IsoDate>, now: Timestamp) -> Result<()> {
        self.with(|s| s.set_insolvency(&customer, since, now))
    }

    /// Puts the customer on another ladder (`None`: the default one), or out of reminders.
    pub fn set_customer_ladder(
        &self,
        customer: String,
        ladder: Option<String>,
        excluded: bool,
        author: String,
        now: Timestamp,
    ) -> Result<()> {
        self.with(|s| s.set_customer_ladder(&customer, ladder.as_deref(), excluded, &author, now))
    }

    /// Stops reminders for one invoice (by reference) for `reason`; `None` resumes them.
    pub fn stop_invoice(&self, invoice: String, reason: Option<String>, author: String, now: Timestamp) -> Result<()> {
        self.with(|s| s.stop_invoice(&invoice, reason.as_deref(), &author, now))
    }

    /// Everything that happened on the account, newest first (at most 1,000 lines): ledger
    /// entries, reminders and follow-ups.
    pub fn customer_timeline(&self, customer: String, limit: u32) -> Result<Vec<TimelineItem>> {
        self.with(|s| s.customer_timeline(&customer, limit.min(MAX_PAGE) as usize))
    }
}
