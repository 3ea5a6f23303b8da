//! `ardoise`: the till and back office on the command line, over one SQLite file per till.

mod bank;
mod check;
mod checkout;
mod customer;
mod demo;
mod dispute;
mod dunning;
mod followup;
mod ladder;
mod ledger;
mod output;
mod penalty;
mod plan;
mod report;
mod shop;
mod sync;
mod till;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Customers' credit accounts at the till: sales on account, payments, deposits, and whether a
/// customer may buy on account now. Amounts are decimal strings ("12.50"), dates YYYY-MM-DD.
#[derive(Debug, Parser)]
#[command(name = "ardoise", version)]
struct Cli {
    /// The till's database file [default: ./ardoise.db; for `demo`, a new temporary one]
    #[arg(long, global = true, value_name = "PATH", help_heading = "Global options")]
    db: Option<PathBuf>,
    /// Print JSON for scripts instead of tables
    #[arg(long, global = true, help_heading = "Global options")]
    json: bool,
    /// Who is at the till, recorded with every entry [default: $USER, or "till"]
    #[arg(long, global = true, value_name = "NAME", help_heading = "Global options")]
    cashier: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build a realistic shop with weeks of history, then walk through a day at the till
    Demo(demo::DemoArgs),
    /// Add, change, list, search and show customers
    #[command(subcommand)]
    Customer(customer::CustomerCmd),
    /// Sell on account (refused when the checkout refuses, unless a manager override covers it)
    Sale(ledger::SaleArgs),
    /// Record a payment of what the customer owes
    Pay(ledger::PayArgs),
    /// Deposits (acomptes): take, apply to what is owed, refund
    #[command(subcommand)]
    Deposit(ledger::DepositCmd),
    /// May the customer buy this amount on account now? allow, warn or refuse, with reasons
    Checkout(checkout::CheckoutArgs),
    /// Credit the customer (returned goods, a mistake in their disfavour)
    CreditNote(ledger::ReasonedArgs),
    /// Correct a balance: a positive amount charges the customer, a negative one reduces what they owe
    Adjust(ledger::AdjustArgs),
    /// Give up on an amount the customer will not pay
    WriteOff(ledger::ReasonedArgs),
    /// Undo an entry with a new one (entries are never edited or deleted)
    Reverse(ledger::ReverseArgs),
    /// The customer's entries, newest first, with their ids; --full adds reminders and follow-ups
    Timeline(ledger::TimelineArgs),
    /// The shop's name and contact details (quoted by every reminder) and its reminder rules
    #[command(subcommand)]
    Shop(shop::ShopCmd),
    /// The daily reminder run
    #[command(subcommand)]
    Dunning(dunning::DunningCmd),
    /// The reminders queued by the runs: list, read, and record whether they were sent
    #[command(subcommand)]
    Reminders(dunning::RemindersCmd),
    /// The ladder of reminder steps, and which ladder a customer follows
    #[command(subcommand)]
    Ladder(ladder::LadderCmd),
    /// Invoices the customer contests: open, note, resolve, list
    #[command(subcommand)]
    Dispute(dispute::DisputeCmd),
    /// Payment plans (échéanciers): reminders wait while one is kept
    #[command(subcommand)]
    Plan(plan::PlanCmd),
    /// Record a promise to pay an amount by a date: reminders wait until then
    Promise(plan::PromiseArgs),
    /// Add a note to the customer's timeline
    Note(followup::NoteArgs),
    /// Record a call to the customer and its outcome
    Call(followup::CallArgs),
    /// Hold a customer's reminders (until a date, or until released)
    Hold(followup::HoldArgs),
    /// Record that insolvency proceedings opened against a customer (no indemnity, no court
    /// file from that day), or that none are open
    Insolvency(followup::InsolvencyArgs),
    /// Stop (or resume) reminders for one invoice
    Stop(followup::StopArgs),
    /// The late-payment interest and indemnity the law allows on an invoice, from the database's
    /// rate tables when there is one, else those shipped (no database needed)
    Penalty(penalty::PenaltyArgs),
    /// The rate tables penalties are computed from
    #[command(subcommand)]
    Rates(penalty::RatesCmd),
    /// Join the shop's back office with a one-time code from its admin (creates the database)
    Enrol(sync::EnrolArgs),
    /// Push what this till recorded and pull the shop's changes; `sync status` only shows the state
    Sync(sync::SyncArgs),
    /// The owner's reports as of any date: aging, KPIs, overdue accounts, risk
    #[command(subcommand)]
    Report(report::ReportCmd),
    /// A customer statement (relevé de compte) over a period
    Statement(report::StatementArgs),
    /// Bring customers or invoice history from another system (CSV)
    Import(report::ImportArgs),
    /// Accounts, ledger or reminders as CSV or JSON
    Export(report::ExportArgs),
    /// A customer's data rights: everything held about them, or erasure
    #[command(subcommand)]
    Gdpr(report::GdprCmd),
    /// Check the database without changing it: SQLite's integrity and foreign key checks, then
    /// every account against its ledger; fails when anything is wrong
    #[command(visible_alias = "doctor")]
    Check(check::CheckArgs),
    /// Bank statements: payments quoting a customer's reference taken in by themselves
    #[command(subcommand)]
    Bank(bank::BankCmd),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = till::Ctx { db: cli.db, json: cli.json, cashier: cli.cashier.unwrap_or_else(till::default_cashier) };
    let done = match cli.command {
        Command::Demo(a) => demo::run(&ctx, a),
        Command::Customer(c) => customer::run(&ctx, c),
        Command::Sale(a) => ledger::sale(&ctx, a),
        Command::Pay(a) => ledger::pay(&ctx, a),
        Command::Deposit(c) => ledger::deposit(&ctx, c),
        Command::Checkout(a) => checkout::run(&ctx, a),
        Command::CreditNote(a) => ledger::credit_note(&ctx, a),
        Command::Adjust(a) => ledger::adjust(&ctx, a),
        Command::WriteOff(a) => ledger::write_off(&ctx, a),
        Command::Reverse(a) => ledger::reverse(&ctx, a),
        Command::Timeline(a) => ledger::timeline(&ctx, a),
        Command::Shop(c) => shop::run(&ctx, c),
        Command::Dunning(c) => dunning::run(&ctx, c),
        Command::Reminders(c) => dunning::reminders(&ctx, c),
        Command::Ladder(c) => ladder::run(&ctx, c),
        Command::Dispute(c) => dispute::run(&ctx, c),
        Command::Plan(c) => plan::run(&ctx, c),
        Command::Promise(a) => plan::promise(&ctx, a),
        Command::Note(a) => followup::note(&ctx, a),
        Command::Call(a) => followup::call(&ctx, a),
        Command::Hold(a) => followup::hold(&ctx, a),
        Command::Insolvency(a) => followup::insolvency(&ctx, a),
        Command::Stop(a) => followup::stop(&ctx, a),
        Command::Penalty(a) => penalty::penalty(&ctx, a),
        Command::Rates(c) => penalty::rates(&ctx, c),
        Command::Enrol(a) => sync::enrol(&ctx, a),
        Command::Sync(a) => sync::run(&ctx, a),
        Command::Report(c) => report::report(&ctx, c),
        Command::Statement(a) => report::statement(&ctx, a),
        Command::Import(a) => report::import(&ctx, a),
        Command::Export(a) => report::export(&ctx, a),
        Command::Gdpr(c) => report::gdpr(&ctx, c),
        Command::Check(a) => check::run(&ctx, a),
        Command::Bank(c) => bank::run(&ctx, c),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            output::report(&f, ctx.json);
            ExitCode::FAILURE
        }
    }
}
