//! `ardoise report`, `statement`, `import`, `export` and `gdpr`: the owner's view of the books,
//! history brought from another system, and the customer's data rights.

use std::path::PathBuf;

use ardoise_core::import::DateStyle;
use ardoise_core::report::export::Format;
use ardoise_core::store::{ExportKind, OverdueSort};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use crate::output::{self, Failure, say};
use crate::till::{Ctx, date, now_for};

#[derive(Debug, Subcommand)]
pub enum ReportCmd {
    /// What is owed at the end of a date, by days past due, for the shop and each customer
    Aging(AsOf),
    /// DSO (simple, countback, best possible), average days delinquent and CEI
    Kpis(KpisArgs),
    /// Accounts with something overdue, for the owner to chase
    Overdue(OverdueArgs),
    /// Each customer's probability of paying their next invoice late, with the reasons (as of
    /// today, the scores are also kept for the checkout and the overdue list)
    Risk(AsOf),
    /// What needs a person today: calls to make, letters to post, reminders held for approval,
    /// promises broken lately, bank credits to confirm
    Today(AsOf),
}

#[derive(Debug, Args)]
pub struct AsOf {
    /// The report's date, YYYY-MM-DD [default: today]: only what was recorded with dates up to it counts
    #[arg(long, value_name = "YYYY-MM-DD")]
    as_of: Option<String>,
}

impl AsOf {
    fn date(&self) -> Result<chrono::NaiveDate, Failure> {
        match &self.as_of {
            Some(d) => date(d),
            None => Ok(now_for(None)?.date_naive()),
        }
    }
}

#[derive(Debug, Args)]
pub struct KpisArgs {
    #[command(flatten)]
    as_of: AsOf,
    /// Calendar months ending with the as-of date's month
    #[arg(long, default_value_t = 3)]
    months: u32,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Sort {
    Amount,
    Age,
    Risk,
}

#[derive(Debug, Args)]
pub struct OverdueArgs {
    #[command(flatten)]
    as_of: AsOf,
    /// Largest overdue amount first, oldest first, or riskiest first
    #[arg(long, value_enum, default_value = "amount")]
    sort: Sort,
    /// Show at most this many accounts (the top debtors)
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

#[derive(Debug, Args)]
pub struct StatementArgs {
    /// The customer's reference
    #[arg(long, value_name = "REF")]
    customer: String,
    /// First day of the period, YYYY-MM-DD
    #[arg(long, value_name = "YYYY-MM-DD")]
    from: String,
    /// Last day of the period, YYYY-MM-DD [default: today]
    #[arg(long, value_name = "YYYY-MM-DD")]
    to: Option<String>,
    /// Also write the statement as a PDF to send to the customer
    #[arg(long, value_name = "FILE")]
    pdf: Option<std::path::PathBuf>,
    /// The date the PDF bears, YYYY-MM-DD [default: today]
    #[arg(long, value_name = "YYYY-MM-DD", requires = "pdf")]
    date: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ImportKind {
    /// ref,name,email,phone,kind,credit_limit,terms
    Customers,
    /// customer_ref,invoice_ref,issued_on,due_on,amount,paid_on[,disputed]
    Invoices,
    /// IBM's accounts-receivable sample (M/D/YYYY dates), imported as customers (with the day
    /// each went paperless) and invoices
    IbmAr,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[arg(value_enum)]
    kind: ImportKind,
    /// The CSV file
    file: PathBuf,
    /// The invoices file writes dates as M/D/YYYY instead of YYYY-MM-DD
    #[arg(long)]
    us_dates: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ExportWhat {
    Accounts,
    Ledger,
    Reminders,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ExportFormat {
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(value_enum)]
    what: ExportWhat,
    #[arg(long, value_enum, default_value = "csv")]
    format: ExportFormat,
    /// Write to this file instead of the standard output
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum GdprCmd {
    /// Everything this till holds about a customer, as JSON
    Export {
        #[arg(long, value_name = "REF")]
        customer: String,
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Anonymise a customer's personal data, keeping the accounting entries the law requires
    Erase {
        #[arg(long, value_name = "REF")]
        customer: String,
    },
}

pub fn report(ctx: &Ctx, cmd: ReportCmd) -> Result<(), Failure> {
    let store = ctx.store()?;
    match cmd {
        ReportCmd::Aging(a) => {
            let r = store.aging(a.date()?)?;
            if ctx.json {
                return output::print_json(&r);
            }
            say!(
                "Aging as of {}: {} EUR owed by {}",
                r.as_of,
                r.total,
                output::count(r.customers.len(), "customer", "customers")
            );
            let mut t = output::table(&["", "current", "1-30", "31-60", "61-90", "91+", "total"], &[1, 2, 3, 4, 5, 6]);
            let row = |label: String, b: &ardoise_core::report::Buckets| {
                vec![
                    label,
                    b.current.to_string(),
                    b.d1_30.to_string(),
                    b.d31_60.to_string(),
                    b.d61_90.to_string(),
                    b.d91_plus.to_string(),
                    b.total().to_string(),
                ]
            };
            t.add_row(row("shop".into(), &r.buckets));
            for c in r.customers.iter().take(30) {
                t.add_row(row(format!("{} {}", c.customer_ref, c.name), &c.buckets));
            }
            say!("{t}");
            if r.customers.len() > 30 {
                say!("... and {} more (--json lists them all)", r.customers.len() - 30);
            }
        }
        ReportCmd::Kpis(a) => {
            let k = store.kpis(a.as_of.date()?, a.months)?;
            if ctx.json {
                return output::print_json(&k);
            }
            let num = |v: Option<f64>, unit: &str| {
                v.map_or_else(|| "n/a (no credit sales)".into(), |v| format!("{v:.1}{unit}"))
            };
            say!("Over the {} months ending {} ({} days):", k.months, k.as_of, k.days);
            say!(
                "{}",
                output::numbers(&[
                    ("receivables", k.receivables.to_string()),
                    ("  of which not yet due", k.current.to_string()),
                    ("receivables at the start", k.receivables_start.to_string()),
                    ("credit sales", k.credit_sales.to_string()),
                    ("DSO", num(k.dso_simple, " days")),
                    ("countback DSO", num(k.dso_countback, " days")),
                    ("best possible DSO", num(k.best_possible_dso, " days")),
                    ("average days delinquent", num(k.average_days_delinquent, " days")),
                    ("collection effectiveness", num(k.cei_pct, " %")),
                ])
            );
        }
        ReportCmd::Today(a) => {
            let t = store.today(crate::till::now_for(Some(a.date()?))?)?;
            if ctx.json {
                return output::print_json(&t);
            }
            let tasks = |title: &str, v: &[ardoise_core::store::Task]| {
                say!("{title} ({})", v.len());
                for x in v {
                    let phone = x.phone.as_deref().unwrap_or("");
                    let note = x.note.as_deref().map(|n| format!("  ({n})")).unwrap_or_default();
                    say!("  {}  {}  {phone}  {} EUR  {}{note}", x.customer_ref, x.customer_name, x.amount_due, x.step);
                }
            };
            tasks("Calls to make", &t.calls);
            tasks("Letters to post", &t.letters);
            tasks("Held for approval", &t.held);
            say!("Broken promises ({})", t.broken_promises.len());
            for p in &t.broken_promises {
                say!("  {}  {}  {} EUR promised for {}", p.customer_ref, p.customer_name, p.amount, p.promised_on);
            }
            say!("Bank credits to confirm ({}): ardoise bank list --state suggested", t.bank_to_confirm.len());
        }
        ReportCmd::Overdue(a) => {
            let sort = match a.sort {
                Sort::Amount => OverdueSort::Amount,
                Sort::Age => OverdueSort::Age,
                Sort::Risk => OverdueSort::Risk,
            };
            let list = store.overdue_accounts(a.as_of.date()?, sort, a.limit)?;
            if ctx.json {
                return output::print_json(&list);
            }
            if list.is_empty() {
                say!("Nothing overdue.");
                return Ok(());
            }
            let mut t = output::table(&["customer", "phone", "overdue", "owed", "oldest", "risk"], &[2, 3, 4, 5]);
            for o in &list {
                t.add_row(vec![
                    format!("{} {}", o.customer_ref, o.name),
                    o.phone.clone().unwrap_or_default(),
                    o.overdue.to_string(),
                    o.owed.to_string(),
                    format!("{} d", o.oldest_days),
                    o.risk.map_or_else(String::new, |r| format!("{:.0} %", r * 100.0)),
                ]);
            }
            say!("{t}");
        }
        ReportCmd::Risk(a) => {
            let as_of = a.date()?;
            let now = now_for(None)?;
            // Today's scores are also kept for the checkout verdict and the overdue list.
            if as_of == now.date_naive() {
                store.refresh_risk(now)?;
            }
            let scores = store.risk_report(as_of)?;
            if ctx.json {
                let body: Vec<_> = scores
                    .iter()
                    .map(|s| json!({"customer_ref": s.customer_ref, "score": s.score, "reasons": s.reasons}))
                    .collect();
                return output::print_json(&body);
            }
            let mut t = output::table(&["customer", "late next time", "why"], &[1]);
            for s in scores.iter().take(30) {
                t.add_row(vec![s.customer_ref.clone(), format!("{:.0} %", s.score * 100.0), s.reasons.join("; ")]);
            }
            say!("{t}");
        }
    }
    Ok(())
}

pub fn statement(ctx: &Ctx, a: StatementArgs) -> Result<(), Failure> {
    let store = ctx.store()?;
    let to = match &a.to {
        Some(d) => date(d)?,
        None => now_for(None)?.date_naive(),
    };
    let st = store.statement(&a.customer, date(&a.from)?, to)?;
    if let Some(path) = &a.pdf {
        let today = match &a.date {
            Some(d) => date(d)?,
            None => now_for(None)?.date_naive(),
        };
        let doc = store.statement_document(&a.customer, date(&a.from)?, to, today)?;
        let bytes = ardoise_server::send::statement_pdf(&doc)
            .map_err(|e| Failure::new("pdf", format!("cannot build the PDF: {e}")))?;
        write_file(path, &bytes)?;
    }
    if ctx.json {
        return output::print_json(&st);
    }
    say!("Statement for {} {}, {} to {}", st.customer_ref, st.name, st.from, st.to);
    say!("Payment reference: {}", store.payment_reference(&a.customer)?);
    let mut t = output::table(&["date", "what", "reference", "debit", "credit", "balance"], &[3, 4, 5]);
    t.add_row(vec![
        String::new(),
        "opening balance".into(),
        String::new(),
        String::new(),
        String::new(),
        st.opening_balance.to_string(),
    ]);
    for l in &st.lines {
        let blank = |m: ardoise_core::Money| if m.is_zero() { String::new() } else { m.to_string() };
        t.add_row(vec![
            l.date.to_string(),
            l.description.clone(),
            l.reference.clone(),
            blank(l.debit),
            blank(l.credit),
            l.balance.to_string(),
        ]);
    }
    t.add_row(vec![
        String::new(),
        "closing balance".into(),
        String::new(),
        st.total_debit.to_string(),
        st.total_credit.to_string(),
        st.closing_balance.to_string(),
    ]);
    say!("{t}");
    if st.overdue.is_positive() {
        say!("Overdue on {}: {} EUR", st.to, st.overdue);
        for o in &st.overdue_invoices {
            say!("  {} due {} ({} days): {} EUR", o.reference, o.due_on, o.days_past_due, o.remaining);
        }
    }
    Ok(())
}

pub fn import(ctx: &Ctx, a: ImportArgs) -> Result<(), Failure> {
    let data =
        std::fs::read(&a.file).map_err(|e| Failure::new("io", format!("cannot read {}: {e}", a.file.display())))?;
    let store = ctx.create_store()?;
    let now = now_for(None)?;
    let dates = if a.us_dates { DateStyle::MonthDayYear } else { DateStyle::Iso };
    let r = match a.kind {
        ImportKind::Customers => store.import_customers(&data, now)?,
        ImportKind::Invoices => store.import_invoices(&data, dates, now)?,
        ImportKind::IbmAr => {
            // Both files are converted and the invoices checked before anything is written.
            let customers = ardoise_core::import::ibm_ar_to_customers(&data)?;
            let invoices = ardoise_core::import::ibm_ar_to_invoices(&data)?;
            ardoise_core::import::parse_invoices(invoices.as_bytes(), DateStyle::Iso, now.date_naive())?;
            let c = store.import_customers(customers.as_bytes(), now)?;
            let mut r = store.import_invoices(invoices.as_bytes(), DateStyle::Iso, now)?;
            r.customers_created += c.customers_created;
            r.customers_updated += c.customers_updated;
            r
        }
    };
    if ctx.json {
        return output::print_json(&r);
    }
    say!(
        "Imported {} rows: {} customers created, {} updated, {} invoices, {} payments, {} disputes; {} unchanged.",
        r.rows,
        r.customers_created,
        r.customers_updated,
        r.invoices_created,
        r.payments_recorded,
        r.disputes_recorded,
        r.unchanged
    );
    Ok(())
}

fn write_out(out: Option<&PathBuf>, text: &str) -> Result<(), Failure> {
    match out {
        Some(p) => {
            std::fs::write(p, text).map_err(|e| Failure::new("io", format!("cannot write {}: {e}", p.display())))
        }
        None => {
            output::emit(text.trim_end());
            Ok(())
        }
    }
}

pub fn export(ctx: &Ctx, a: ExportArgs) -> Result<(), Failure> {
    let store = ctx.store()?;
    let kind = match a.what {
        ExportWhat::Accounts => ExportKind::Accounts,
        ExportWhat::Ledger => ExportKind::Ledger,
        ExportWhat::Reminders => ExportKind::Reminders,
    };
    let format = match a.format {
        ExportFormat::Csv => Format::Csv,
        ExportFormat::Json => Format::Json,
    };
    write_out(a.out.as_ref(), &store.export(kind, format)?)
}

pub fn gdpr(ctx: &Ctx, cmd: GdprCmd) -> Result<(), Failure> {
    let now = now_for(None)?;
    match cmd {
        GdprCmd::Export { customer, out } => {
            let store = ctx.store()?;
            let data = store.customer_data(&customer, now)?;
            let text = serde_json::to_string_pretty(&data).map_err(|e| Failure::new("json", e.to_string()))?;
            write_out(out.as_ref(), &text)
        }
        GdprCmd::Erase { customer } => {
            let store = ctx.store()?;
            let e = store.erase_customer(&customer, &ctx.cashier, now)?;
            if ctx.json {
                return output::print_json(&e);
            }
            say!(
                "Erased the personal data of {}: {} reminders scrubbed ({} cancelled), {} notes, {} disputes; {} ledger entries kept for the accounts.",
                e.customer_ref,
                e.reminders_scrubbed,
                e.reminders_cancelled,
                e.notes_scrubbed,
                e.disputes_scrubbed,
                e.entries_kept
            );
            Ok(())
        }
    }
}

/// Writes a whole file or nothing: a half-written PDF must not be mistaken for one.
pub fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), Failure> {
    let tmp = path.with_extension("part");
    std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path)).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Failure::new("io", format!("cannot write {}: {e}", path.display()))
    })
}
