//! Following up on an account across the FFI: disputes, promises to pay, payment plans, notes
//! and calls, holds, per-customer ladders, stopped invoices and the whole timeline.
//! Conversion only: the rules live in `ardoise_core::store` and `dunning::plan`.

use ardoise_core as core;
use core::dunning::plan;
use core::store as st;

use crate::error::{Result, invalid};
use crate::types::{self, Recorded, s};
use crate::{MAX_PAGE, Till};

#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Dispute {
    pub id: String,
    pub customer_ref: String,
    pub invoice: String,
    pub reason: String,
    /// open, upheld or rejected.
    pub state: String,
    pub opened_on: String,
    pub resolution: Option<String>,
}

impl From<st::Dispute> for Dispute {
    fn from(d: st::Dispute) -> Self {
        Dispute {
            id: d.id.to_string(),
            customer_ref: d.customer_ref,
            invoice: d.invoice,
            reason: d.reason,
            state: d.state,
            opened_on: d.opened_on.to_string(),
            resolution: d.resolution,
        }
    }
}

/// A resolved dispute, and the credit note that settled it when it was upheld.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct DisputeResolved {
    pub dispute: Dispute,
    pub credit_note: Option<Recorded>,
}

#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Promise {
    pub id: String,
    pub customer_ref: String,
    pub promised_on: String,
    pub amount: String,
    /// open, kept or broken.
    pub state: String,
}

impl From<st::Promise> for Promise {
    fn from(p: st::Promise) -> Self {
        Promise {
            id: p.id.to_string(),
            customer_ref: p.customer_ref,
            promised_on: p.promised_on.to_string(),
            amount: s(p.amount),
            state: p.state,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Instalment {
    pub due_on: String,
    pub amount: String,
}

impl From<plan::Instalment> for Instalment {
    fn from(i: plan::Instalment) -> Self {
        Instalment { due_on: i.due_on.to_string(), amount: s(i.amount) }
    }
}

impl Instalment {
    fn into_core(self) -> Result<plan::Instalment> {
        Ok(plan::Instalment { due_on: types::date(&self.due_on)?, amount: types::money("instalment", &self.amount)? })
    }
}

/// Where a plan stands on a date, given what was paid since it was agreed.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum PlanStatus {
    /// In good standing: reminders stay paused.
    Active {
        paid: String,
        next_due: Option<String>,
        next_amount: String,
    },
    Completed,
    /// An instalment was missed past the grace days: the ladder resumes.
    Broken {
        missed_due: String,
        missing: String,
    },
}

impl From<plan::PlanStatus> for PlanStatus {
    fn from(p: plan::PlanStatus) -> Self {
        match p {
            plan::PlanStatus::Active { paid, next_due, next_amount } => PlanStatus::Active {
                paid: s(paid),
                next_due: next_due.map(|d| d.to_string()),
                next_amount: s(next_amount),
            },
            plan::PlanStatus::Completed => PlanStatus::Completed,
            plan::PlanStatus::Broken { missed_due, missing } => {
                PlanStatus::Broken { missed_due: missed_due.to_string(), missing: s(missing) }
            }
        }
    }
}

/// A payment plan ("échéancier") and where it stands.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct PaymentPlan {
    pub id: String,
    pub customer_ref: String,
    pub created_on: String,
    pub instalments: Vec<Instalment>,
    pub grace_days: u32,
    /// Stored state: active, completed, broken or cancelled.
    pub state: String,
    /// Where it stands on the day asked.
    pub status: PlanStatus,
    /// Paid since the plan was agreed.
    pub paid: String,
}

impl From<st::PlanView> for PaymentPlan {
    fn from(p: st::PlanView) -> Self {
        PaymentPlan {
            id: p.id.to_string(),
            customer_ref: p.customer_ref,
            created_on: p.created_on.to_string(),
            instalments: p.instalments.into_iter().map(Into::into).collect(),
            grace_days: p.grace_days,
            state: p.state,
            status: p.status.into(),
            paid: s(p.paid),
        }
    }
}

/// The outcome of a call to a customer; a promise pauses reminders until its date.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum CallOutcome {
    Reached,
    NoAnswer,
    Promise { on: String, amount: String },
}

impl CallOutcome {
    fn into_core(self) -> Result<st::CallOutcome> {
        Ok(match self {
            CallOutcome::Reached => st::CallOutcome::Reached,
            CallOutcome::NoAnswer => st::CallOutcome::NoAnswer,
            CallOutcome::Promise { on, amount } => {
                st::CallOutcome::Promise { on: types::date(&on)?, amount: types::money("amount", &amount)? }
            }
        })
    }
}

/// One line of the customer's story: a ledger entry, a reminder or a follow-up.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct TimelineItem {
    pub date: String,
    pub at: String,
    /// `entry:<kind>` (entry:sale, entry:payment...), `reminder`, or a follow-up: note, call,
    /// promise, promise_kept, promise_broken, plan, plan_completed, plan_broken, hold, ladder,
    /// invoice_stop, dispute_opened, dispute_note, dispute_upheld, dispute_rejected.
    pub kind: String,
    pub text: String,
    pub amount: Option<String>,
    /// A reminder's state: queued, sent, failed or cancelled.
    pub state: Option<String>,
    pub id: String,
    /// The cashier of an entry, the author of a note or call.
    pub author: Option<String>,
}

impl From<st::TimelineItem> for TimelineItem {
    fn from(t: st::TimelineItem) -> Self {
        TimelineItem {
            date: t.date.to_string(),
            at: t.at.to_rfc3339(),
            kind: t.kind,
            text: t.text,
            amount: t.amount.map(s),
            state: t.state,
            id: t.id.to_string(),
            author: t.author,
        }
    }
}

/// Splits `total` into `count` instalments every `every_days` from `first` (a date); the cents
/// that do not divide go to the first instalment. Pass the result to `create_plan`.
#[uniffi::export]
pub fn split_plan(total: String, count: u32, first: String, every_days: u32) -> Result<Vec<Instalment>> {
    let (total, first) = (types::money("plan total", &total)?, types::date(&first)?);
    Ok(plan::split_evenly(total, count, first, every_days)?.into_iter().map(Into::into).collect())
}

#[uniffi::export]
impl Till {
    /// Opens a dispute on an invoice (by reference): it leaves the reminders at once and the
    /// checkout shows it (`Reason.Disputed`) without counting it as overdue.
    pub fn open_dispute(&self, invoice: String, reason: String, author: String, now: String) -> Result<Dispute> {
        let now = types::instant(&now)?;
        self.with(|s| Ok(s.open_dispute(&invoice, &reason, &author, now)?.into()))
    }

    pub fn note_dispute(&self, id: String, note: String, author: String, now: String) -> Result<()> {
        let (id, now) = (types::uuid("dispute id", &id)?, types::instant(&now)?);
        self.with(|s| Ok(s.note_dispute(id, &note, &author, now)?))
    }

    /// Upheld: a credit note of `credit` (default: what is left on the invoice) settles it in
    /// the same transaction. Rejected (`upheld` false, no `credit`): the ladder takes it up again.
    pub fn resolve_dispute(
        &self,
        id: String,
        upheld: bool,
        credit: Option<String>,
        note: String,
        author: String,
        now: String,
    ) -> Result<DisputeResolved> {
        let (id, now) = (types::uuid("dispute id", &id)?, types::instant(&now)?);
        let credit = types::opt_money("credit", credit)?;
        let resolution = match (upheld, credit) {
            (true, credit) => st::DisputeResolution::Upheld { credit },
            (false, None) => st::DisputeResolution::Rejected,
            (false, Some(_)) => return Err(invalid("credit: only an upheld dispute gives a credit note")),
        };
        self.with(|s| {
            let (dispute, credit_note) = s.resolve_dispute(id, resolution, &note, &author, now)?;
            Ok(DisputeResolved { dispute: dispute.into(), credit_note: credit_note.map(Into::into) })
        })
    }

    /// One dispute by id.
    pub fn dispute(&self, id: String) -> Result<Dispute> {
        let id = types::uuid("dispute id", &id)?;
        self.with(|s| Ok(s.dispute(id)?.into()))
    }

    /// Disputes of a customer (a reference), or of the whole shop; open ones first.
    pub fn disputes(&self, customer: Option<String>) -> Result<Vec<Dispute>> {
        self.with(|s| Ok(s.disputes(customer.as_deref())?.into_iter().map(Into::into).collect()))
    }

    /// A promise to pay `amount` by `on` (a date): reminders wait until then; kept or broken
    /// by the money received since.
    pub fn promise_to_pay(
        &self,
        customer: String,
        on: String,
        amount: String,
        author: String,
        now: String,
    ) -> Result<Promise> {
        let (on, amount, now) = (types::date(&on)?, types::money("amount", &amount)?, types::instant(&now)?);
        self.with(|s| Ok(s.promise_to_pay(&customer, on, amount, &author, now)?.into()))
    }

    /// A payment plan (see `split_plan`): reminders wait while it is kept; a missed instalment
    /// past the grace days breaks it and the ladder resumes where it was.
    pub fn create_plan(
        &self,
        customer: String,
        instalments: Vec<Instalment>,
        author: String,
        now: String,
    ) -> Result<PaymentPlan> {
        let instalments = instalments.into_iter().map(Instalment::into_core).collect::<Result<_>>()?;
        let now = types::instant(&now)?;
        self.with(|s| Ok(s.create_plan(&customer, instalments, &author, now)?.into()))
    }

    /// The customer's latest plan and where it stands on `today` (a date); `None` if never any.
    pub fn plan(&self, customer: String, today: String) -> Result<Option<PaymentPlan>> {
        let today = types::date(&today)?;
        self.with(|s| Ok(s.plan(&customer, today)?.map(Into::into)))
    }

    pub fn add_note(&self, customer: String, note: String, author: String, now: String) -> Result<()> {
        let now = types::instant(&now)?;
        self.with(|s| Ok(s.add_note(&customer, &note, &author, now)?))
    }

    /// The outcome of a call; `CallOutcome.Promise` also records the promise.
    pub fn record_call(
        &self,
        customer: String,
        outcome: CallOutcome,
        note: String,
        author: String,
        now: String,
    ) -> Result<()> {
        let (outcome, now) = (outcome.into_core()?, types::instant(&now)?);
        self.with(|s| Ok(s.record_call(&customer, outcome, &note, &author, now)?))
    }

    /// Holds the customer's reminders until `until` (a date; `None`: until released) for
    /// `reason`; a `None` reason releases the hold.
    pub fn hold_reminders(
        &self,
        customer: String,
        until: Option<String>,
        reason: Option<String>,
        author: String,
        now: String,
    ) -> Result<()> {
        let (until, now) = (until.as_deref().map(types::date).transpose()?, types::instant(&now)?);
        self.with(|s| Ok(s.hold_reminders(&customer, until, reason.as_deref(), &author, now)?))
    }

    /// Puts the customer on another ladder (`None`: the default one), or out of reminders.
    pub fn set_customer_ladder(
        &self,
        customer: String,
        ladder: Option<String>,
        excluded: bool,
        author: String,
        now: String,
    ) -> Result<()> {
        let now = types::instant(&now)?;
        self.with(|s| Ok(s.set_customer_ladder(&customer, ladder.as_deref(), excluded, &author, now)?))
    }

    /// Stops reminders for one invoice (by reference) for `reason`; `None` resumes them.
    pub fn stop_invoice(&self, invoice: String, reason: Option<String>, author: String, now: String) -> Result<()> {
        let now = types::instant(&now)?;
        self.with(|s| Ok(s.stop_invoice(&invoice, reason.as_deref(), &author, now)?))
    }

    /// Everything that happened on the account, newest first (at most 1,000 lines): ledger
    /// entries, reminders and follow-ups.
    pub fn customer_timeline(&self, customer: String, limit: u32) -> Result<Vec<TimelineItem>> {
        let limit = limit.min(MAX_PAGE) as usize;
        self.with(|s| Ok(s.customer_timeline(&customer, limit)?.into_iter().map(Into::into).collect()))
    }
}
