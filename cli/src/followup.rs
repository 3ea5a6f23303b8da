//! `ardoise note`, `call`, `hold` and `stop`: what the shop does about an account besides the
//! ledger, kept in the customer's timeline.

use ardoise_core::store::CallOutcome;
use ardoise_core::{Now, Store};
use clap::{ArgGroup, Args};
use serde_json::json;

use crate::output::{self, Failure, say};
use crate::till::{self, Ctx, Recorder, money};

#[derive(Debug, Args)]
pub struct NoteArgs {
    /// The customer's reference
    #[arg(long, value_name = "REF")]
    customer: String,
    /// The note, as the next person to call should read it
    #[arg(long)]
    text: String,
    #[command(flatten)]
    by: Recorder,
}

#[derive(Debug, Args)]
pub struct CallArgs {
    /// The customer's reference
    #[arg(long, value_name = "REF")]
    customer: String,
    /// reached, no-answer, or promise (with --amount and --by: reminders wait until then)
    #[arg(long)]
    outcome: String,
    /// What the customer promised to pay
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    amount: Option<String>,
    /// The day they promised to pay by
    #[arg(long = "by", value_name = "YYYY-MM-DD")]
    by_date: Option<String>,
    /// What was said
    #[arg(long)]
    note: Option<String>,
    #[command(flatten)]
    by: Recorder,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").required(true).args(["reason", "release"])))]
pub struct HoldArgs {
    /// The customer's reference
    #[arg(long, value_name = "REF")]
    customer: String,
    /// Last day of the hold [default: until released]
    #[arg(long, value_name = "YYYY-MM-DD", conflicts_with = "release")]
    until: Option<String>,
    /// Why reminders wait (kept in the timeline)
    #[arg(long)]
    reason: Option<String>,
    /// End the hold: reminders resume at the next run
    #[arg(long)]
    release: bool,
    #[command(flatten)]
    by: Recorder,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").required(true).args(["reason", "resume"])))]
pub struct StopArgs {
    /// The invoice's reference
    #[arg(long, value_name = "INVOICE")]
    invoice: String,
    /// Why this invoice is not to be chased (goodwill, a settlement...)
    #[arg(long)]
    reason: Option<String>,
    /// Chase the invoice again
    #[arg(long)]
    resume: bool,
    #[command(flatten)]
    by: Recorder,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").required(true).args(["since", "none"])))]
pub struct InsolvencyArgs {
    /// The customer's reference
    #[arg(long, value_name = "REF")]
    customer: String,
    /// The day insolvency proceedings (sauvegarde, redressement, liquidation judiciaire) opened:
    /// from then no recovery indemnity is claimed and no court file is prepared
    #[arg(long, value_name = "YYYY-MM-DD")]
    since: Option<String>,
    /// No proceedings are open (recorded by mistake, or closed)
    #[arg(long)]
    none: bool,
    #[command(flatten)]
    by: Recorder,
}

pub fn insolvency(ctx: &Ctx, a: InsolvencyArgs) -> Result<(), Failure> {
    let (_, now) = a.by.resolve(ctx)?;
    let since = a.since.as_deref().map(till::date).transpose()?;
    if since.is_some_and(|d| d > now.date_naive()) {
        return Err(Failure::new("invalid", "insolvency proceedings cannot open in the future"));
    }
    let store = ctx.store()?;
    store.set_insolvency(&a.customer, since, now)?;
    print_recorded(ctx, &store, &a.customer, now)
}

pub fn note(ctx: &Ctx, a: NoteArgs) -> Result<(), Failure> {
    let (author, now) = a.by.resolve(ctx)?;
    let store = ctx.store()?;
    store.add_note(&a.customer, &a.text, &author, now)?;
    print_recorded(ctx, &store, &a.customer, now)
}

pub fn call(ctx: &Ctx, a: CallArgs) -> Result<(), Failure> {
    let (author, now) = a.by.resolve(ctx)?;
    let promised = (a.amount.as_deref(), a.by_date.as_deref());
    let outcome = match (a.outcome.as_str(), promised) {
        ("promise", (Some(amount), Some(on))) => CallOutcome::Promise { on: till::date(on)?, amount: money(amount)? },
        ("promise", _) => return Err(Failure::new("invalid", "a promise needs --amount and --by")),
        (_, (Some(_), _) | (_, Some(_))) => {
            return Err(Failure::new("invalid", "--amount and --by go with --outcome promise"));
        }
        ("reached", _) => CallOutcome::Reached,
        ("no-answer", _) => CallOutcome::NoAnswer,
        (other, _) => {
            return Err(Failure::new("invalid", format!("outcome {other:?}: use reached, no-answer or promise")));
        }
    };
    let store = ctx.store()?;
    store.record_call(&a.customer, outcome, a.note.as_deref().unwrap_or(""), &author, now)?;
    print_recorded(ctx, &store, &a.customer, now)
}

pub fn hold(ctx: &Ctx, a: HoldArgs) -> Result<(), Failure> {
    let (author, now) = a.by.resolve(ctx)?;
    let until = a.until.as_deref().map(till::date).transpose()?;
    if until.is_some_and(|u| u < now.date_naive()) {
        return Err(Failure::new("invalid", "a hold cannot end before it starts"));
    }
    // The core reads "no reason" as the release; a blank reason must not lift a hold by accident.
    let reason = match (&a.reason, a.release) {
        (Some(r), _) if r.trim().is_empty() => return Err(Failure::new("invalid", "a hold needs a reason")),
        (r, _) => r.as_deref(),
    };
    let store = ctx.store()?;
    store.hold_reminders(&a.customer, until, reason, &author, now)?;
    print_recorded(ctx, &store, &a.customer, now)
}

pub fn stop(ctx: &Ctx, a: StopArgs) -> Result<(), Failure> {
    let (author, now) = a.by.resolve(ctx)?;
    if a.reason.as_deref().is_some_and(|r| r.trim().is_empty()) {
        return Err(Failure::new("invalid", "stopping reminders for an invoice needs a reason"));
    }
    let store = ctx.store()?;
    store.stop_invoice(&a.invoice, a.reason.as_deref(), &author, now)?;
    if ctx.json {
        return output::print_json(&json!({ "invoice": a.invoice, "stopped": a.reason.is_some(), "reason": a.reason }));
    }
    match &a.reason {
        Some(r) => say!("No more reminders for invoice {}: {r}.", a.invoice),
        None => say!("Invoice {} is chased again from the next run.", a.invoice),
    }
    Ok(())
}

/// Prints what a follow-up command just wrote, as the timeline shows it: the follow-ups of the
/// customer stamped with this very `now` (a call with a promise writes two).
pub fn print_recorded(ctx: &Ctx, store: &Store, customer: &str, now: Now) -> Result<(), Failure> {
    let items: Vec<_> = store
        .customer_timeline(customer, usize::MAX)?
        .into_iter()
        .filter(|i| i.at.timestamp_millis() == now.timestamp_millis() && !i.kind.starts_with("entry:"))
        .collect();
    if ctx.json {
        return output::print_json(&items);
    }
    for i in items.iter().rev() {
        say!("Recorded for {customer} on {}: {}", i.date, i.text);
    }
    Ok(())
}
