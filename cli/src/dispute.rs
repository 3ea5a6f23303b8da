//! `ardoise dispute ...`: an invoice the customer contests leaves the reminders (and the overdue
//! amount at the till) until it is resolved, upheld with a credit note or rejected.

use ardoise_core::store::{Dispute, DisputeResolution};
use ardoise_core::{Store, Uuid};
use clap::{ArgGroup, Args, Subcommand};
use serde_json::json;

use crate::output::{self, Failure, RecordedJson, say};
use crate::till::{self, Ctx, IdOf, Recorder, money};

#[derive(Debug, Subcommand)]
pub enum DisputeCmd {
    /// Open a dispute on an invoice: no reminders for it until it is resolved
    Open(OpenArgs),
    /// Add a note to an open dispute (what the customer sent, what was checked)
    Note(NoteArgs),
    /// Close a dispute: --upheld credits the customer, --rejected puts the invoice back in the reminders
    Resolve(ResolveArgs),
    /// Disputes, open ones first
    List {
        /// Only this customer's disputes
        #[arg(long, value_name = "REF")]
        customer: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct OpenArgs {
    /// The invoice's reference
    #[arg(long, value_name = "INVOICE")]
    invoice: String,
    /// What the customer contests
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    by: Recorder,
}

#[derive(Debug, Args)]
pub struct NoteArgs {
    /// The dispute's id, or the short id `dispute list` shows (any unique start or end)
    #[arg(long)]
    id: String,
    #[arg(long)]
    note: String,
    #[command(flatten)]
    by: Recorder,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("outcome").required(true).args(["upheld", "rejected"])))]
pub struct ResolveArgs {
    /// The dispute's id, or a unique start or end of it
    #[arg(long)]
    id: String,
    /// The customer is right: a credit note settles the invoice
    #[arg(long)]
    upheld: bool,
    /// How much to credit [default: what is left to pay on the invoice]
    #[arg(long, value_name = "AMOUNT", conflicts_with = "rejected", allow_hyphen_values = true)]
    credit: Option<String>,
    /// The invoice stands: reminders take it up again
    #[arg(long)]
    rejected: bool,
    /// Why, kept with the dispute
    #[arg(long)]
    note: String,
    #[command(flatten)]
    by: Recorder,
}

pub fn run(ctx: &Ctx, cmd: DisputeCmd) -> Result<(), Failure> {
    match cmd {
        DisputeCmd::Open(a) => {
            let (author, now) = a.by.resolve(ctx)?;
            let store = ctx.store()?;
            let d = store.open_dispute(&a.invoice, &a.reason, &author, now)?;
            if ctx.json {
                return output::print_json(&d);
            }
            say!(
                "Dispute {} opened on invoice {} ({}): {}.\nThe invoice leaves the reminders and the overdue amount until it is resolved.",
                till::short_id(d.id),
                d.invoice,
                d.customer_ref,
                d.reason
            );
            Ok(())
        }
        DisputeCmd::Note(a) => {
            let (author, now) = a.by.resolve(ctx)?;
            let store = ctx.store()?;
            let d = find(&store, &a.id)?;
            store.note_dispute(d.id, &a.note, &author, now)?;
            if ctx.json {
                return output::print_json(&d);
            }
            say!("Noted on dispute {} ({}): {}", till::short_id(d.id), d.invoice, a.note.trim());
            Ok(())
        }
        DisputeCmd::Resolve(a) => resolve(ctx, a),
        DisputeCmd::List { customer } => {
            let store = ctx.store()?;
            if let Some(c) = &customer {
                store.customer(c)?;
            }
            let rows = store.disputes(customer.as_deref())?;
            if ctx.json {
                return output::print_json(&rows);
            }
            if rows.is_empty() {
                say!("No disputes.");
                return Ok(());
            }
            let mut t = output::table(&["id", "customer", "invoice", "opened", "state", "reason", "resolution"], &[]);
            for d in &rows {
                t.add_row(vec![
                    till::short_id(d.id),
                    d.customer_ref.clone(),
                    d.invoice.clone(),
                    d.opened_on.to_string(),
                    d.state.clone(),
                    d.reason.clone(),
                    d.resolution.clone().unwrap_or_default(),
                ]);
            }
            say!("{t}");
            Ok(())
        }
    }
}

fn resolve(ctx: &Ctx, a: ResolveArgs) -> Result<(), Failure> {
    let credit = a.credit.as_deref().map(money).transpose()?;
    if let Some(amount) = credit.filter(|c| !c.is_positive()) {
        return Err(ardoise_core::Error::NotPositive { field: "credit", amount }.into());
    }
    let resolution = if a.upheld { DisputeResolution::Upheld { credit } } else { DisputeResolution::Rejected };
    let (author, now) = a.by.resolve(ctx)?;
    let store = ctx.store()?;
    let id = find(&store, &a.id)?.id;
    let (d, credit) = store.resolve_dispute(id, resolution, &a.note, &author, now)?;
    if ctx.json {
        return output::print_json(&json!({ "dispute": d, "credit_note": credit.as_ref().map(RecordedJson::new) }));
    }
    say!("Dispute {} on invoice {} {}: {}", till::short_id(d.id), d.invoice, d.state, a.note.trim());
    match credit {
        Some(rec) => {
            let amount = rec.entry.body.amount().unwrap_or_default();
            say!("Credit note of {amount} EUR recorded. {}", output::balance_line(rec.balance, rec.deposits));
        }
        None if d.state == "rejected" => say!("The invoice is chased again from the next reminder run."),
        None => say!("Nothing was left to credit on the invoice."),
    }
    Ok(())
}

/// A dispute by its id or a unique start or end of it.
fn find(store: &Store, wanted: &str) -> Result<Dispute, Failure> {
    let all = store.disputes(None)?;
    let id: Uuid = till::find_id(wanted, all.iter().map(|d| d.id), IdOf::Dispute)?;
    all.into_iter().find(|d| d.id == id).ok_or_else(|| Failure::new("unknown_dispute", "dispute vanished"))
}
