//! The ledger across the FFI: sales, payments, deposits, credit notes, adjustments, write-offs
//! and reversals, and the account they add up to. The account crosses as the core has it; an
//! entry crosses flattened (`LedgerEntry`: one record, the fields that do not apply to its kind
//! `None`), because Kotlin and Swift read a record more easily than an enum of nine shapes.

use ardoise_core as core;
use core::store::AccountSummary;
use core::{EntryBody, EntryRequest, Money, PaymentMethod, SaleRequest, Uuid};

use crate::checkout::Verdict;
use crate::{IsoDate, MAX_PAGE, Result, Till, Timestamp, UtcTimestamp};

/// Who records a write, and when. `business_date` backdates it (imported history); `None`
/// means the date of `now`.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct WriteContext {
    pub cashier: String,
    pub now: Timestamp,
    #[uniffi(default = None)]
    pub business_date: Option<IsoDate>,
}

/// A ledger entry, flattened: the fields that do not apply to its kind are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq, uniffi::Record)]
pub struct LedgerEntry {
    pub id: Uuid,
    pub device_id: Uuid,
    pub device_seq: u64,
    pub customer_id: Uuid,
    /// sale, payment, deposit_received, deposit_applied, deposit_refunded, credit_note,
    /// adjustment, write_off, reversal.
    pub kind: String,
    pub amount: Option<Money>,
    pub business_date: IsoDate,
    pub recorded_at: UtcTimestamp,
    pub cashier: String,
    pub method: Option<PaymentMethod>,
    /// The invoice a sale created, or the reference of a charge.
    pub reference: Option<String>,
    pub due_on: Option<IsoDate>,
    /// The sale entry a payment, credit or deposit was aimed at.
    pub aimed_at: Option<Uuid>,
    pub order_ref: Option<String>,
    pub reason: Option<String>,
    pub reverses: Option<Uuid>,
    pub override_id: Option<Uuid>,
}

impl From<core::Entry> for LedgerEntry {
    fn from(e: core::Entry) -> Self {
        let mut out = LedgerEntry {
            id: e.id,
            device_id: e.device_id,
            device_seq: e.device_seq,
            customer_id: e.customer,
            kind: e.body.kind().to_owned(),
            amount: e.body.amount(),
            business_date: e.business_date,
            recorded_at: e.recorded_at,
            cashier: e.cashier,
            ..Default::default()
        };
        match e.body {
            EntryBody::Sale { invoice_ref, due_on, override_id, .. } => {
                (out.reference, out.due_on, out.override_id) = (Some(invoice_ref), Some(due_on), override_id);
            }
            EntryBody::Payment { method, invoice, .. } => (out.method, out.aimed_at) = (Some(method), invoice),
            EntryBody::DepositReceived { method, order_ref, .. } => {
                (out.method, out.order_ref) = (Some(method), order_ref);
            }
            EntryBody::DepositApplied { invoice, .. } => out.aimed_at = invoice,
            EntryBody::DepositRefunded { method, .. } => out.method = Some(method),
            EntryBody::CreditNote { reason, invoice, .. } | EntryBody::WriteOff { reason, invoice, .. } => {
                (out.reason, out.aimed_at) = (Some(reason), invoice);
            }
            EntryBody::Adjustment { reason, reference, .. } => {
                (out.reason, out.reference) = (Some(reason), Some(reference));
            }
            EntryBody::Reversal { of, reason } => (out.reverses, out.reason) = (Some(of), Some(reason)),
        }
        out
    }
}

/// What a write returns: the entry and the account right after it.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Recorded {
    pub entry: LedgerEntry,
    pub balance: Money,
    pub deposits: Money,
    pub verdict: Option<Verdict>,
    /// The deposit applied to a sale with it, in the same transaction.
    pub deposit_applied: Option<LedgerEntry>,
}

impl From<core::Recorded> for Recorded {
    fn from(r: core::Recorded) -> Self {
        Recorded {
            entry: r.entry.into(),
            balance: r.balance,
            deposits: r.deposits,
            verdict: r.verdict.map(Into::into),
            deposit_applied: r.deposit_applied.map(Into::into),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct TimelineEntry {
    pub entry: LedgerEntry,
    /// How the entry moved what the customer owes, and the deposits held.
    pub balance_effect: Money,
    pub deposit_effect: Money,
}

impl Till {
    fn record(&self, customer: String, req: EntryRequest, ctx: WriteContext) -> Result<Recorded> {
        Ok(self.with(|s| s.record(&customer, ctx.business_date, &ctx.cashier, req, ctx.now))?.into())
    }
}

#[uniffi::export]
impl Till {
    /// A sale on account; refused with `Refused` unless the checkout allows it or an override
    /// covers it. `deposit` pays part or all of it at once from deposits held (an order picked
    /// up); only the rest is on account.
    pub fn sell_on_account(
        &self,
        customer: String,
        amount: Money,
        invoice_ref: Option<String>,
        deposit: Option<Money>,
        ctx: WriteContext,
    ) -> Result<Recorded> {
        let date = ctx.business_date;
        let req = SaleRequest { customer, amount, date, invoice_ref, cashier: ctx.cashier, deposit };
        Ok(self.with(|s| s.sell_on_account(req, ctx.now))?.into())
    }

    /// A payment, to the oldest due invoice unless aimed at one (by reference).
    pub fn pay(
        &self,
        customer: String,
        amount: Money,
        method: PaymentMethod,
        invoice: Option<String>,
        ctx: WriteContext,
    ) -> Result<Recorded> {
        self.record(customer, EntryRequest::Payment { amount, method, invoice }, ctx)
    }

    pub fn take_deposit(
        &self,
        customer: String,
        amount: Money,
        method: PaymentMethod,
        order_ref: Option<String>,
        ctx: WriteContext,
    ) -> Result<Recorded> {
        self.record(customer, EntryRequest::DepositTake { amount, method, order_ref }, ctx)
    }

    pub fn apply_deposit(
        &self,
        customer: String,
        amount: Money,
        invoice: Option<String>,
        ctx: WriteContext,
    ) -> Result<Recorded> {
        self.record(customer, EntryRequest::DepositApply { amount, invoice }, ctx)
    }

    pub fn refund_deposit(
        &self,
        customer: String,
        amount: Money,
        method: PaymentMethod,
        ctx: WriteContext,
    ) -> Result<Recorded> {
        self.record(customer, EntryRequest::DepositRefund { amount, method }, ctx)
    }

    pub fn credit_note(
        &self,
        customer: String,
        amount: Money,
        reason: String,
        invoice: Option<String>,
        ctx: WriteContext,
    ) -> Result<Recorded> {
        self.record(customer, EntryRequest::CreditNote { amount, reason, invoice }, ctx)
    }

    /// Signed: "5.00" charges the customer, "-5.00" reduces what they owe.
    pub fn adjust(&self, customer: String, amount: Money, reason: String, ctx: WriteContext) -> Result<Recorded> {
        self.record(customer, EntryRequest::Adjustment { amount, reason }, ctx)
    }

    pub fn write_off(
        &self,
        customer: String,
        amount: Money,
        reason: String,
        invoice: Option<String>,
        ctx: WriteContext,
    ) -> Result<Recorded> {
        self.record(customer, EntryRequest::WriteOff { amount, reason, invoice }, ctx)
    }

    /// Corrects an entry by recording its opposite; entries are never edited.
    pub fn reverse(&self, customer: String, entry_id: Uuid, reason: String, ctx: WriteContext) -> Result<Recorded> {
        self.record(customer, EntryRequest::Reversal { entry: entry_id, reason }, ctx)
    }

    /// The account as of `today`: balance, overdue, limit, open invoices, deposits.
    pub fn account(&self, customer: String, today: IsoDate) -> Result<AccountSummary> {
        self.with(|s| s.account(&customer, today))
    }

    /// The customer's entries, newest first.
    pub fn timeline(&self, customer: String, limit: u32) -> Result<Vec<TimelineEntry>> {
        let events = self.with(|s| s.timeline(&customer, limit.min(MAX_PAGE) as usize))?;
        let line = |t: core::TimelineEvent| TimelineEntry {
            entry: t.entry.into(),
            balance_effect: t.effect.balance,
            deposit_effect: t.effect.deposits,
        };
        Ok(events.into_iter().map(line).collect())
    }
}
