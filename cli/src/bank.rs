//! `ardoise bank`: bank statements taken into this till's ledger, as on the back office, and
//! the matches a person confirms or undoes.

use std::path::PathBuf;

use ardoise_core::bank::{self, Line, LineState};
use clap::{Args, Subcommand};

use crate::output::{self, Failure, say};
use crate::till::Ctx;

#[derive(Debug, Subcommand)]
pub enum BankCmd {
    /// Import a bank statement (ISO 20022 CAMT.053 .001.02 to .08, CFONB 120, OFX 1.x/2.x, or
    /// a CSV export with `--mapping`; see docs/bank-formats.md): a credit quoting a
    /// customer's payment reference, or naming open invoices that add up to it, becomes their
    /// payment, once however often the file is imported; other credits are suggested with
    /// their reasons or left. A malformed or unbalanced file changes nothing.
    Import(ImportArgs),
    /// The bank transactions imported here, newest first.
    List(ListArgs),
    /// Record a suggested (or unmatched) credit as a customer's payment.
    Confirm(ConfirmArgs),
    /// Undo a match: its payment is reversed, and it is never applied again by itself.
    Undo(UndoArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    file: PathBuf,
    /// For a CSV export: the JSON file mapping its columns (docs/bank-formats.md).
    #[arg(long)]
    mapping: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// applied, suggested or unmatched
    #[arg(long)]
    state: Option<String>,
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

#[derive(Debug, Args)]
pub struct ConfirmArgs {
    /// The bank's id of the transaction (or its last characters, when unique).
    transaction: String,
    /// The customer's reference.
    #[arg(long)]
    customer: String,
    /// The invoice it pays first (the rest goes to the oldest open ones).
    #[arg(long)]
    invoice: Option<String>,
}

#[derive(Debug, Args)]
pub struct UndoArgs {
    transaction: String,
}

pub fn run(ctx: &Ctx, cmd: BankCmd) -> Result<(), Failure> {
    let now = crate::till::now_for(None)?;
    match cmd {
        BankCmd::Import(a) => {
            let bytes = std::fs::read(&a.file)
                .map_err(|e| Failure::new("unreadable_file", format!("{}: {e}", a.file.display())))?;
            let mapping = a
                .mapping
                .as_ref()
                .map(|p| {
                    std::fs::read_to_string(p)
                        .map_err(|e| Failure::new("unreadable_file", format!("{}: {e}", p.display())))
                })
                .transpose()?;
            // Read and checked whole before the database is opened: a bad file writes nothing.
            let (_, statements) = bank::read_with_mapping(&bytes, mapping.as_deref())
                .map_err(|e| Failure::new("bad_statement", format!("{}: {e}", a.file.display())))?;
            let store = ctx.store()?;
            let report = store.import_statements(&statements, &ctx.cashier, now)?;
            if ctx.json {
                return output::print_json(&report);
            }
            for l in report.applied.iter().chain(&report.suggested).chain(&report.unmatched) {
                print_line(l);
            }
            say!(
                "{} imported ({} applied, {} suggested, {} unmatched), {} already imported",
                report.imported,
                report.applied.len(),
                report.suggested.len(),
                report.unmatched.len(),
                report.duplicates
            );
            Ok(())
        }
        BankCmd::List(a) => {
            let state = a
                .state
                .as_deref()
                .map(|s| {
                    LineState::parse(s).ok_or_else(|| {
                        Failure::new("bad_argument", format!("state {s:?}: use applied, suggested or unmatched"))
                    })
                })
                .transpose()?;
            let lines = ctx.store()?.bank_lines(state, a.limit, 0)?;
            if ctx.json {
                return output::print_json(&lines);
            }
            lines.iter().for_each(print_line);
            Ok(())
        }
        BankCmd::Confirm(a) => {
            let l = ctx.store()?.confirm_bank_match(
                &a.transaction,
                &a.customer,
                a.invoice.as_deref(),
                &ctx.cashier,
                now,
            )?;
            if ctx.json {
                return output::print_json(&l);
            }
            print_line(&l);
            Ok(())
        }
        BankCmd::Undo(a) => {
            let l = ctx.store()?.undo_bank_match(&a.transaction, &ctx.cashier, now)?;
            if ctx.json {
                return output::print_json(&l);
            }
            print_line(&l);
            Ok(())
        }
    }
}

fn print_line(l: &Line) {
    let date = l.date.map(|d| d.to_string()).unwrap_or_default();
    let head = format!("{:<9} {}  {} EUR  {date}  {}", l.state.as_str(), l.transaction, l.amount, l.label);
    match l.state {
        LineState::Applied => say!(
            "{head}\n          -> {} by {} ({}) {}",
            l.customer.as_deref().unwrap_or("?"),
            l.rule.map(|r| r.as_str()).unwrap_or("?"),
            l.by.as_deref().unwrap_or("?"),
            l.invoices.join(", ")
        ),
        _ => {
            say!("{head}");
            if let Some(why) = &l.why {
                say!("          {why}");
            }
            for s in &l.suggestions {
                let reasons: Vec<String> = s.reasons.iter().map(ToString::to_string).collect();
                say!("          ? {} {}: {}", s.customer, s.invoices.join(", "), reasons.join("; "));
            }
        }
    }
}
