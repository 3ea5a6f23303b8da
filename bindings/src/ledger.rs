//! The ledger across the FFI: sales, payments, deposits, credit notes, adjustments, write-offs
//! and reversals, and the account they add up to. What a write returns and the account cross as
//! the core has them; an entry crosses flattened (`ardoise_core::ffi::LedgerEntry`). A timeline
//! line carries its effect as two amounts of its own.

use ardoise_core as core;
use core::store::AccountSummary;
use core::{Entry, EntryRequest, Money, PaymentMethod, Recorded, SaleRequest, Uuid};

use crate::{IsoDate, MAX_PAGE, Result, Till, Timestamp};

/// Who records a write, and when. `business_date` backdates it (imported history); `None`
/// means the date of `now`.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct WriteContext {
    pub cashier: String,
    pub now: Timestamp,
    #[uniffi(default = None)]
    pub business_date: Option<IsoDate>,
}

#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct TimelineEntry {
    pub entry: Entry,
    /// How the entry moved what the customer owes, and the deposits held.
    pub balance_effect: Money,
    pub deposit_effect: Money,
}

impl Till {
    fn record(&self, customer: String, req: EntryRequest, ctx: WriteContext) -> Result<Recorded> {
        self.with(|s| s.record(&customer, ctx.business_date, &ctx.cashier, req, ctx.now))
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
        self.with(|s| s.sell_on_account(req, ctx.now))
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
            entry: t.entry,
            balance_effect: t.effect.balance,
            deposit_effect: t.effect.deposits,
        };
        Ok(events.into_iter().map(line).collect())
    }
}
