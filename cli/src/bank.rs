//! `ardoise bank import`: a bank statement taken into this till's ledger, as on the back office.

use std::path::PathBuf;

use ardoise_core::bank;
use clap::{Args, Subcommand};

use crate::output::{self, Failure, say};
use crate::till::Ctx;

#[derive(Debug, Subcommand)]
pub enum BankCmd {
    /// Import an ISO 20022 CAMT.053 statement (.001.02 to .08): each booked credit quoting a
    /// customer's payment reference becomes their payment, once however often the file is
    /// imported; the rest is listed. A malformed or unbalanced file changes nothing.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    file: PathBuf,
}

pub fn run(ctx: &Ctx, cmd: BankCmd) -> Result<(), Failure> {
    let BankCmd::Import(a) = cmd;
    let bytes =
        std::fs::read(&a.file).map_err(|e| Failure::new("unreadable_file", format!("{}: {e}", a.file.display())))?;
    // Read and checked whole before the database is opened: a bad file writes nothing.
    let statements =
        bank::camt::parse(&bytes).map_err(|e| Failure::new("bad_statement", format!("{}: {e}", a.file.display())))?;
    let store = ctx.store()?;
    let report = store.import_statements(&statements, &ctx.cashier, crate::till::now_for(None)?)?;
    if ctx.json {
        return output::print_json(&report);
    }
    for x in &report.applied {
        say!("applied  {}  {} EUR  {}", x.bank_id, x.amount, x.customer);
    }
    for x in &report.left {
        say!("left     {}  {} EUR  {}", x.bank_id, x.amount, x.why);
    }
    say!("{} applied, {} already imported, {} left", report.applied.len(), report.already, report.left.len());
    Ok(())
}
