//! `ardoise customer ...`: adding and changing customers, finding them, showing an account.

use ardoise_core::dunning::template::Language;
use ardoise_core::{AccountSummary, CustomerKind, CustomerPatch, NewCustomer, Store, Terms};
use chrono::NaiveDate;
use clap::{Args, Subcommand};

use crate::output::{self, Failure, say};
use crate::till::{Ctx, When, money};

#[derive(Debug, Subcommand)]
pub enum CustomerCmd {
    /// Add a customer (creates the database if it does not exist yet)
    Add(AddArgs),
    /// Change a customer's details, limit, terms or block
    Update(UpdateArgs),
    /// Every customer with their balance and overdue amount, by name
    List(ListArgs),
    /// One account: details, balance, overdue, open invoices, deposits
    Show(ShowArgs),
    /// Find customers by name, reference or phone (prefixes, any case, accents optional)
    Search(SearchArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The shop's reference for the customer (no spaces), e.g. C042
    #[arg(long = "ref", value_name = "REF")]
    reference: String,
    /// Full name, or the business's name, as the cashier will search it
    #[arg(long)]
    name: String,
    /// business, consumer or public (a public buyer: town hall, school, hospital)
    #[arg(long, default_value = "consumer")]
    kind: String,
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    phone: Option<String>,
    /// The most the customer may owe, e.g. 200 or 150.50; 0 means deposits and cash only
    /// [default: none of their own, the shop's default applies]
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    credit_limit: Option<String>,
    /// Payment terms: receipt, 30 (net days), 45eom (+45 days then end of month), eom45
    /// [default: 30 for a business or a public buyer, receipt for a consumer]
    #[arg(long)]
    terms: Option<String>,
    /// Postal address, where a formal notice (mise en demeure) is sent by registered letter
    #[arg(long)]
    address: Option<String>,
    /// The language of the customer's reminders: fr or en
    #[arg(long, default_value = "fr")]
    language: String,
    /// Bills go by email, not on paper, for invoices issued from this day [default: on paper]
    #[arg(long, value_name = "YYYY-MM-DD")]
    paperless_from: Option<String>,
    /// Whether reminders may be sent by email [default: false]
    #[arg(long, value_name = "true|false")]
    consent_email: Option<bool>,
    /// Whether reminders may be sent by SMS [default: false]
    #[arg(long, value_name = "true|false")]
    consent_sms: Option<bool>,
    #[command(flatten)]
    when: When,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The customer's reference
    reference: String,
    /// New name
    #[arg(long)]
    name: Option<String>,
    /// business, consumer or public
    #[arg(long)]
    kind: Option<String>,
    /// New email ("" removes it)
    #[arg(long)]
    email: Option<String>,
    /// New phone ("" removes it)
    #[arg(long)]
    phone: Option<String>,
    /// New limit, or "none" to fall back to the shop's default
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    credit_limit: Option<String>,
    /// receipt, 30, 45eom, eom45
    #[arg(long)]
    terms: Option<String>,
    /// Block sales on account, with the reason the cashier will read
    #[arg(long, value_name = "REASON", conflicts_with = "unblock")]
    block: Option<String>,
    /// Lift the block
    #[arg(long)]
    unblock: bool,
    /// Whether reminders may be sent by email
    #[arg(long, value_name = "true|false")]
    consent_email: Option<bool>,
    /// Whether reminders may be sent by SMS
    #[arg(long, value_name = "true|false")]
    consent_sms: Option<bool>,
    /// New postal address for formal notices ("" removes it)
    #[arg(long)]
    address: Option<String>,
    /// The language of the customer's reminders: fr or en
    #[arg(long)]
    language: Option<String>,
    /// Bills go by email from this day ("" puts them back on paper)
    #[arg(long, value_name = "YYYY-MM-DD")]
    paperless_from: Option<String>,
    #[command(flatten)]
    when: When,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Show at most this many customers
    #[arg(long)]
    limit: Option<usize>,
    /// Overdue amounts as of this date [default: today]
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<String>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The customer's reference
    reference: String,
    /// Overdue amounts as of this date [default: today]
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<String>,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words of the name, the reference, or digits of the phone ("hel dup", "C04", "06 12")
    query: String,
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Overdue amounts as of this date [default: today]
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<String>,
}

pub fn run(ctx: &Ctx, cmd: CustomerCmd) -> Result<(), Failure> {
    match cmd {
        CustomerCmd::Add(a) => add(ctx, a),
        CustomerCmd::Update(a) => update(ctx, a),
        CustomerCmd::List(a) => list(ctx, a),
        CustomerCmd::Show(a) => show(ctx, a),
        CustomerCmd::Search(a) => search(ctx, a),
    }
}

fn add(ctx: &Ctx, a: AddArgs) -> Result<(), Failure> {
    // Everything is parsed before the database is opened: bad input creates no file.
    let (_, now) = a.when.resolve()?;
    let kind: CustomerKind = a.kind.parse()?;
    let new = NewCustomer {
        reference: a.reference,
        name: a.name,
        email: a.email,
        phone: a.phone,
        kind,
        credit_limit: a.credit_limit.as_deref().map(money).transpose()?,
        terms: match a.terms.as_deref() {
            Some(t) => t.parse()?,
            None => Terms::default_for(kind),
        },
        consent_email: a.consent_email.unwrap_or(false),
        consent_sms: a.consent_sms.unwrap_or(false),
        address: a.address,
        language: Language::parse(&a.language)?,
        paperless_from: a.paperless_from.as_deref().map(ardoise_core::parse_date).transpose()?,
        ..Default::default()
    };
    if !ctx.db_path().exists() {
        // The core validates a customer only when adding it; a dry run in memory keeps bad
        // input from leaving a new, empty database file behind.
        Store::open_in_memory()?.add_customer(new.clone(), now)?;
    }
    let store = ctx.create_store()?;
    let customer = store.add_customer(new, now)?;
    let summary = store.account(&customer.reference, now.date_naive())?;
    if ctx.json {
        return output::print_json(&summary);
    }
    say!("Added {} ({}).", customer.name, customer.reference);
    say!("{}", output::account_block(&summary, now.date_naive()));
    Ok(())
}

fn update(ctx: &Ctx, a: UpdateArgs) -> Result<(), Failure> {
    let (_, now) = a.when.resolve()?;
    let credit_limit = match a.credit_limit.as_deref() {
        None => None,
        Some("none") => Some(None),
        Some(x) => Some(Some(money(x)?)),
    };
    let blocked = match (a.block, a.unblock) {
        // The core reads a blank reason as "no block": refuse it rather than lift a block.
        (Some(reason), _) if reason.trim().is_empty() => {
            let reason = "a block needs a reason".to_owned();
            return Err(ardoise_core::Error::Invalid { field: "block", reason }.into());
        }
        (Some(reason), _) => Some(Some(reason)),
        (None, true) => Some(None),
        (None, false) => None,
    };
    let patch = CustomerPatch {
        name: a.name,
        email: a.email.map(Some),
        phone: a.phone.map(Some),
        kind: a.kind.as_deref().map(str::parse).transpose()?,
        credit_limit,
        terms: a.terms.as_deref().map(str::parse).transpose()?,
        blocked,
        consent_email: a.consent_email,
        consent_sms: a.consent_sms,
        notes: None,
        address: a.address.map(Some),
        language: a.language.as_deref().map(Language::parse).transpose()?,
        paperless_from: match a.paperless_from.as_deref() {
            None => None,
            Some("") => Some(None),
            Some(d) => Some(Some(ardoise_core::parse_date(d)?)),
        },
    };
    let store = ctx.store()?;
    let customer = store.update_customer(&a.reference, patch, now)?;
    let summary = store.account(&customer.reference, now.date_naive())?;
    if ctx.json {
        return output::print_json(&summary);
    }
    say!("Updated {} ({}).", customer.name, customer.reference);
    say!("{}", output::account_block(&summary, now.date_naive()));
    Ok(())
}

fn as_of(date: Option<&str>) -> Result<NaiveDate, Failure> {
    When { date: date.map(str::to_owned) }.today()
}

/// Every customer's account, a page at a time so a big shop is not loaded at once.
fn all_accounts(store: &Store, today: NaiveDate, limit: Option<usize>) -> Result<Vec<AccountSummary>, Failure> {
    const PAGE: usize = 500;
    let limit = limit.unwrap_or(usize::MAX);
    let mut out = Vec::new();
    while out.len() < limit {
        let page = store.customers(PAGE.min(limit - out.len()), out.len())?;
        if page.is_empty() {
            break;
        }
        for c in page {
            out.push(store.account(&c.reference, today)?);
        }
    }
    Ok(out)
}

fn list(ctx: &Ctx, a: ListArgs) -> Result<(), Failure> {
    let today = as_of(a.date.as_deref())?;
    let store = ctx.store()?;
    let rows = all_accounts(&store, today, a.limit)?;
    print_accounts(ctx, &rows, "No customers yet.")
}

fn search(ctx: &Ctx, a: SearchArgs) -> Result<(), Failure> {
    let today = as_of(a.date.as_deref())?;
    let store = ctx.store()?;
    let rows = store
        .search_customers(&a.query, a.limit)?
        .iter()
        .map(|c| store.account(&c.reference, today))
        .collect::<Result<Vec<_>, _>>()?;
    print_accounts(ctx, &rows, &format!("No customer matches {:?}.", a.query))
}

/// `list` and `search` print the same shape: in JSON, the account summaries without their
/// invoice and deposit lists, which only `show` needs.
fn print_accounts(ctx: &Ctx, rows: &[AccountSummary], empty: &str) -> Result<(), Failure> {
    if ctx.json {
        let brief: Vec<serde_json::Value> = rows
            .iter()
            .map(|a| {
                serde_json::json!({
                    "customer": a.customer,
                    "balance": a.balance,
                    "overdue": a.overdue,
                    "oldest_overdue_days": a.oldest_overdue_days,
                    "credit_limit": a.credit_limit,
                    "available_credit": a.available_credit,
                    "deposits_available": a.deposits_available,
                })
            })
            .collect();
        return output::print_json(&brief);
    }
    if rows.is_empty() {
        say!("{empty}");
    } else {
        say!("{}", output::accounts_table(rows));
    }
    Ok(())
}

fn show(ctx: &Ctx, a: ShowArgs) -> Result<(), Failure> {
    let today = as_of(a.date.as_deref())?;
    let store = ctx.store()?;
    let summary = store.account(&a.reference, today)?;
    if ctx.json {
        return output::print_json(&summary);
    }
    say!("{}", output::account_block(&summary, today));
    Ok(())
}
