//! Commands that write to the ledger (sales, payments, deposits, corrections) and the timeline.

use ardoise_core::{EntryRequest, PaymentMethod, Recorded, SaleRequest, Store};
use clap::{Args, Subcommand};

use crate::output::{self, Failure, say};
use crate::till::{self, Ctx, IdOf, When, money};

/// The customer and amount every write names.
#[derive(Debug, Args)]
pub struct Target {
    /// The customer's reference
    #[arg(long, value_name = "REF")]
    customer: String,
    /// Amount in euros, e.g. 12.50 (at most two decimals, a dot, no thousands separator)
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    amount: String,
    #[command(flatten)]
    when: When,
}

#[derive(Debug, Args)]
pub struct SaleArgs {
    #[command(flatten)]
    target: Target,
    /// Invoice number [default: the till numbers it]
    #[arg(long, value_name = "REF")]
    invoice_ref: Option<String>,
    /// Pay this much of the sale at once from deposits held (an order picked up); only the
    /// rest goes on account
    #[arg(long, value_name = "X")]
    deposit: Option<String>,
}

#[derive(Debug, Args)]
pub struct PayArgs {
    #[command(flatten)]
    target: Target,
    /// cash, card, transfer or cheque
    #[arg(long, default_value = "cash")]
    method: String,
    /// Pay this invoice first [default: the oldest due]
    #[arg(long, value_name = "INVOICE")]
    invoice: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum DepositCmd {
    /// Take a deposit (acompte), e.g. on a cake order
    Take {
        #[command(flatten)]
        target: Target,
        /// The order it is for
        #[arg(long, value_name = "REF")]
        order: Option<String>,
        /// cash, card, transfer or cheque
        #[arg(long, default_value = "cash")]
        method: String,
    },
    /// Use deposits held to settle what the customer owes
    Apply {
        #[command(flatten)]
        target: Target,
        /// Settle this invoice first [default: the oldest due]
        #[arg(long, value_name = "INVOICE")]
        invoice: Option<String>,
    },
    /// Give a deposit back
    Refund {
        #[command(flatten)]
        target: Target,
        /// cash, card, transfer or cheque
        #[arg(long, default_value = "cash")]
        method: String,
    },
}

#[derive(Debug, Args)]
pub struct ReasonedArgs {
    #[command(flatten)]
    target: Target,
    /// Why, in words kept with the entry
    #[arg(long)]
    reason: String,
    /// The invoice it is for [default: the oldest due]
    #[arg(long, value_name = "INVOICE")]
    invoice: Option<String>,
}

#[derive(Debug, Args)]
pub struct AdjustArgs {
    #[command(flatten)]
    target: Target,
    /// Why, in words kept with the entry
    #[arg(long)]
    reason: String,
}

#[derive(Debug, Args)]
pub struct ReverseArgs {
    /// The customer's reference
    #[arg(long, value_name = "REF")]
    customer: String,
    /// The entry to undo: its id from `timeline`, or a unique start or end of it (the short id
    /// `timeline --full` shows)
    #[arg(long, value_name = "ID")]
    entry: String,
    /// Why, in words kept with the reversal
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    when: When,
}

#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// The customer's reference
    #[arg(long, value_name = "REF")]
    customer: String,
    /// Show the latest N lines
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// The whole story: ledger entries, reminders (with channel and state) and follow-ups
    /// (notes, calls, promises, plans, disputes, holds). Without it, the ledger entries with
    /// their effect on the balance and deposits; `--json` keeps that shape, `[{entry, effect}]`
    #[arg(long)]
    full: bool,
}

pub fn sale(ctx: &Ctx, a: SaleArgs) -> Result<(), Failure> {
    let amount = money(&a.target.amount)?;
    let deposit = a.deposit.as_deref().map(money).transpose()?;
    let (date, now) = a.target.when.resolve()?;
    let store = ctx.store()?;
    let rec = store.sell_on_account(
        SaleRequest {
            customer: a.target.customer,
            amount,
            date,
            invoice_ref: a.invoice_ref,
            cashier: ctx.cashier.clone(),
            deposit,
        },
        now,
    )?;
    print_recorded(ctx, &rec)
}

pub fn pay(ctx: &Ctx, a: PayArgs) -> Result<(), Failure> {
    let amount = money(&a.target.amount)?;
    let req = EntryRequest::Payment { amount, method: method(&a.method)?, invoice: a.invoice };
    record(ctx, &a.target, req)
}

pub fn deposit(ctx: &Ctx, cmd: DepositCmd) -> Result<(), Failure> {
    match cmd {
        DepositCmd::Take { target, order, method: m } => {
            let req =
                EntryRequest::DepositTake { amount: money(&target.amount)?, method: method(&m)?, order_ref: order };
            record(ctx, &target, req)
        }
        DepositCmd::Apply { target, invoice } => {
            let req = EntryRequest::DepositApply { amount: money(&target.amount)?, invoice };
            record(ctx, &target, req)
        }
        DepositCmd::Refund { target, method: m } => {
            let req = EntryRequest::DepositRefund { amount: money(&target.amount)?, method: method(&m)? };
            record(ctx, &target, req)
        }
    }
}

pub fn credit_note(ctx: &Ctx, a: ReasonedArgs) -> Result<(), Failure> {
    let req = EntryRequest::CreditNote { amount: money(&a.target.amount)?, reason: a.reason, invoice: a.invoice };
    record(ctx, &a.target, req)
}

pub fn adjust(ctx: &Ctx, a: AdjustArgs) -> Result<(), Failure> {
    let req = EntryRequest::Adjustment { amount: money(&a.target.amount)?, reason: a.reason };
    record(ctx, &a.target, req)
}

pub fn write_off(ctx: &Ctx, a: ReasonedArgs) -> Result<(), Failure> {
    let req = EntryRequest::WriteOff { amount: money(&a.target.amount)?, reason: a.reason, invoice: a.invoice };
    record(ctx, &a.target, req)
}

pub fn reverse(ctx: &Ctx, a: ReverseArgs) -> Result<(), Failure> {
    let (date, now) = a.when.resolve()?;
    let store = ctx.store()?;
    let req = reversal_of(&store, &a.customer, &a.entry, a.reason)?;
    let rec = store.record(&a.customer, date, &ctx.cashier, req, now)?;
    print_recorded(ctx, &rec)
}

/// The reversal of the entry named on the command line, by its full id or a unique part of
/// it, looked up in the customer's timeline.
fn reversal_of(store: &Store, customer: &str, wanted: &str, reason: String) -> Result<EntryRequest, Failure> {
    let ids = store.timeline(customer, usize::MAX)?.into_iter().map(|ev| ev.entry.id);
    Ok(EntryRequest::Reversal { entry: till::find_id(wanted, ids, IdOf::Entry)?, reason })
}

pub fn timeline(ctx: &Ctx, a: TimelineArgs) -> Result<(), Failure> {
    let store = ctx.store()?;
    if a.full {
        return full_timeline(ctx, &store, &a);
    }
    let events = store.timeline(&a.customer, a.limit)?;
    if ctx.json {
        return output::print_json(&events);
    }
    if events.is_empty() {
        say!("No entries yet for {}.", a.customer);
        return Ok(());
    }
    let mut t =
        output::table(&["date", "what", "amount", "balance +/-", "deposits +/-", "cashier", "entry"], &[2, 3, 4]);
    for ev in &events {
        let e = &ev.entry;
        t.add_row(vec![
            e.business_date.to_string(),
            output::describe(&e.body),
            e.body.amount().map(|m| m.to_string()).unwrap_or_default(),
            signed(ev.effect.balance),
            signed(ev.effect.deposits),
            e.cashier.clone(),
            e.id.to_string(),
        ]);
    }
    say!("{t}");
    Ok(())
}

/// Entries, reminders and follow-ups merged, newest first: what a person reads before calling.
fn full_timeline(ctx: &Ctx, store: &Store, a: &TimelineArgs) -> Result<(), Failure> {
    let items = store.customer_timeline(&a.customer, a.limit)?;
    if ctx.json {
        return output::print_json(&items);
    }
    if items.is_empty() {
        say!("Nothing yet for {}.", a.customer);
        return Ok(());
    }
    say!("{}", output::timeline_table(&items));
    Ok(())
}

fn signed(m: ardoise_core::Money) -> String {
    if m.is_zero() {
        String::new()
    } else if m.is_positive() {
        format!("+{m}")
    } else {
        m.to_string()
    }
}

fn method(s: &str) -> Result<PaymentMethod, Failure> {
    Ok(s.parse()?)
}

fn record(ctx: &Ctx, target: &Target, req: EntryRequest) -> Result<(), Failure> {
    let (date, now) = target.when.resolve()?;
    let store = ctx.store()?;
    let rec = store.record(&target.customer, date, &ctx.cashier, req, now)?;
    print_recorded(ctx, &rec)
}

fn print_recorded(ctx: &Ctx, rec: &Recorded) -> Result<(), Failure> {
    if ctx.json {
        return output::print_json(&output::RecordedJson::new(rec));
    }
    let e = &rec.entry;
    let amount = e.body.amount().map(|m| format!(" {m} EUR")).unwrap_or_default();
    say!("Recorded on {}:{amount} — {}", e.business_date, output::describe(&e.body));
    if let Some(v) = rec.verdict.as_ref().filter(|v| !v.reasons.is_empty()) {
        say!("Checkout said {}:", v.decision.as_str());
        for r in &v.reasons {
            say!("  - {}", r.message());
        }
    }
    if let Some(d) = &rec.deposit_applied {
        let amount = d.body.amount().unwrap_or_default();
        say!("Paid from the deposit: {amount} EUR (entry {})", d.id);
    }
    say!("{}", output::balance_line(rec.balance, rec.deposits));
    say!("Entry id: {}", e.id);
    Ok(())
}
