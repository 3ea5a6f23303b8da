//! `ardoise penalty` and `ardoise rates ...`: the late-payment penalties the law allows on one
//! invoice, and the rate tables they are computed from.

use ardoise_core::dunning::penalty::{self, Penalty, PenaltyRequest, RateTables, parse_rate_pct};
use ardoise_core::{CustomerKind, Money};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::output::{self, Failure, say};
use crate::till::{self, Ctx, When, money};

#[derive(Debug, Args)]
pub struct PenaltyArgs {
    /// The invoice's amount, e.g. 1000 or 249.90
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    amount: String,
    /// Its due date
    #[arg(long, value_name = "YYYY-MM-DD")]
    due: String,
    /// The last day that earns interest (included): today, or the day before it was paid in
    /// full (a payment on day D stops interest from D)
    #[arg(long, value_name = "YYYY-MM-DD")]
    until: String,
    /// business (ECB rate of each half-year + 10 points from the day after the due date, plus
    /// 40 EUR), consumer (the legal interest rate, from the formal notice only) or public (a
    /// public buyer: ECB rate of the half-year the delay began in + 8 points, once, plus 40 EUR)
    #[arg(long, value_name = "business|consumer|public")]
    debtor: String,
    /// A business's contract penalty rate in percent, e.g. 15 (floored at 3 x the legal rate)
    #[arg(long, value_name = "PCT")]
    contract_rate: Option<String>,
    /// The day the formal notice (mise en demeure) was sent: a consumer owes interest from the
    /// day after, on an invoice already due that day
    #[arg(long, value_name = "YYYY-MM-DD")]
    notice: Option<String>,
    /// A partial payment, which lowers the base from its own date; repeat for several
    #[arg(long, value_name = "YYYY-MM-DD:AMOUNT")]
    paid: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum RatesCmd {
    /// The ECB main refinancing rates and the French legal interest rates in use, how far
    /// they were checked, and whether they cover today's half-year
    Show(ShowRatesArgs),
    /// Replace both tables from CSV files (the format of the shipped ones); the database's
    /// tables then serve its reminders and `ardoise penalty`
    Set(SetRatesArgs),
}

#[derive(Debug, Args)]
pub struct ShowRatesArgs {
    /// The day whose half-year the tables must cover [default: today]
    #[arg(long, value_name = "YYYY-MM-DD")]
    on: Option<String>,
}

#[derive(Debug, Args)]
pub struct SetRatesArgs {
    /// CSV: effective_date,rate_pct[,...]
    #[arg(long, value_name = "FILE")]
    ecb: std::path::PathBuf,
    /// CSV: year,half,creditor_individual_pct,all_other_cases_pct[,...]
    #[arg(long, value_name = "FILE")]
    legal: std::path::PathBuf,
    /// The day both tables were checked against their sources, for files without a
    /// `# checked_through: YYYY-MM-DD` line (or to replace it)
    #[arg(long, value_name = "YYYY-MM-DD")]
    checked_through: Option<String>,
    #[command(flatten)]
    when: When,
}

/// What `penalty --json` prints: amounts and rates as decimal strings.
#[derive(Debug, Serialize)]
struct PenaltyJson {
    debtor: CustomerKind,
    interest: Money,
    indemnity: Money,
    total: Money,
    periods: Vec<PeriodJson>,
}

#[derive(Debug, Serialize)]
struct PeriodJson {
    from: NaiveDate,
    to: NaiveDate,
    days: i64,
    base: Money,
    rate_pct: String,
    interest: Money,
}

pub fn penalty(ctx: &Ctx, a: PenaltyArgs) -> Result<(), Failure> {
    let debtor: CustomerKind = a.debtor.parse()?;
    let due_on = till::date(&a.due)?;
    let until = till::date(&a.until)?;
    let notice_on = a.notice.as_deref().map(till::date).transpose()?;
    if notice_on.is_some_and(|n| n < due_on) {
        // A notice cannot claim what was not due yet: it would start nothing.
        return Err(Failure::new("invalid", "a formal notice cannot come before the due date"));
    }
    let contract_rate_pct = a.contract_rate.as_deref().map(parse_rate_pct).transpose()?;
    if contract_rate_pct.is_some() && debtor != CustomerKind::Business {
        return Err(Failure::new(
            "invalid",
            format!("--contract-rate applies to a business only: a {} debtor's rate is set by law", debtor.as_str()),
        ));
    }
    let payments = a.paid.iter().map(|p| payment(p)).collect::<Result<Vec<_>, _>>()?;
    let req = PenaltyRequest {
        amount: money(&a.amount)?,
        due_on,
        until,
        debtor,
        notice_on,
        payments,
        contract_rate_pct,
        insolvent: false,
    };
    // The shop's own tables when a database is there (they may be newer than this release).
    let (rates, source) = if ctx.db_path().exists() {
        (ctx.store()?.rate_tables()?, format!("the rate tables of {}", ctx.db_path().display()))
    } else {
        (RateTables::default(), "the rate tables shipped with Ardoise".to_owned())
    };
    let p = penalty::compute(&req, &rates)?;
    let why = explain(&req, &p);
    if ctx.json {
        if let Some(w) = &why {
            // Not an error: stdout stays the bare JSON object.
            eprintln!("note: {w}");
        }
        return output::print_json(&to_json(debtor, &p));
    }
    say!(
        "Penalties on {} EUR due {}, until {} ({} debtor; {source}):",
        req.amount,
        req.due_on,
        req.until,
        debtor.as_str()
    );
    if !p.periods.is_empty() {
        let mut t = output::table(&["from", "to", "days", "base", "rate %", "interest"], &[2, 3, 4, 5]);
        for x in &p.periods {
            t.add_row(vec![
                x.from.to_string(),
                x.to.to_string(),
                x.days.to_string(),
                x.base.to_string(),
                x.rate_pct.to_string(),
                x.interest.to_string(),
            ]);
        }
        say!("{t}");
    }
    say!(
        "{}",
        output::numbers(&[
            ("interest", p.interest.to_string()),
            ("recovery indemnity", p.indemnity.to_string()),
            ("total", p.total.to_string()),
        ])
    );
    if let Some(w) = why {
        say!("{w}");
    }
    Ok(())
}

fn to_json(debtor: CustomerKind, p: &Penalty) -> PenaltyJson {
    PenaltyJson {
        debtor,
        interest: p.interest,
        indemnity: p.indemnity,
        total: p.total,
        periods: p
            .periods
            .iter()
            .map(|x| PeriodJson {
                from: x.from,
                to: x.to,
                days: x.days,
                base: x.base,
                rate_pct: x.rate_pct.to_string(),
                interest: x.interest,
            })
            .collect(),
    }
}

/// Why the answer may surprise: no interest, or a flag that changed nothing.
fn explain(req: &PenaltyRequest, p: &Penalty) -> Option<String> {
    match req.debtor {
        CustomerKind::Consumer if req.notice_on.is_none() => Some(
            "a consumer owes no interest until a formal notice (mise en demeure) is given, and never the \
             40 EUR indemnity: give --notice DATE"
                .into(),
        ),
        CustomerKind::Business | CustomerKind::Public if req.notice_on.is_some() => Some(format!(
            "--notice changes nothing for a {} debtor: interest runs from the day after the due date",
            req.debtor.as_str()
        )),
        _ if req.until <= req.due_on => Some("nothing is late on or before the due date".into()),
        _ if p.total.is_zero() => Some("nothing was late: the invoice was paid by its due date".into()),
        _ => None,
    }
}

/// `2024-07-01:250.00`.
fn payment(s: &str) -> Result<(NaiveDate, Money), Failure> {
    let Some((d, m)) = s.split_once(':') else {
        return Err(Failure::new("invalid", format!("--paid {s:?}: expected YYYY-MM-DD:AMOUNT")));
    };
    let amount = money(m)?;
    if !amount.is_positive() {
        return Err(ardoise_core::Error::NotPositive { field: "payment", amount }.into());
    }
    Ok((till::date(d)?, amount))
}

pub fn rates(ctx: &Ctx, cmd: RatesCmd) -> Result<(), Failure> {
    match cmd {
        RatesCmd::Show(a) => {
            let on = match a.on.as_deref() {
                Some(d) => till::date(d)?,
                None => chrono::Local::now().date_naive(),
            };
            let rates = if ctx.db_path().exists() { ctx.store()?.rate_tables()? } else { RateTables::default() };
            print_rates(ctx, &rates, on)
        }
        RatesCmd::Set(a) => {
            let (_, now) = a.when.resolve()?;
            let read = |p: &std::path::Path| {
                std::fs::read_to_string(p)
                    .map_err(|e| Failure::new("io", format!("could not read {}: {e}", p.display())))
            };
            let (ecb, legal) = (read(&a.ecb)?, read(&a.legal)?);
            let checked_through = a.checked_through.as_deref().map(till::date).transpose()?;
            // Parsed before the database is opened: a bad file changes nothing.
            let rates = RateTables::parse_checked(&ecb, &legal, checked_through)?;
            ctx.store()?.set_rates(&rates, now)?;
            if !ctx.json {
                say!("Rate tables replaced.");
            }
            print_rates(ctx, &rates, now.date_naive())
        }
    }
}

/// The tables, how far they were checked, and a warning when they do not cover `on`'s
/// half-year (on stderr with `--json`, whose stdout stays the tables).
fn print_rates(ctx: &Ctx, rates: &RateTables, on: NaiveDate) -> Result<(), Failure> {
    let stale = rates
        .covers(on)
        .err()
        .map(|e| format!("STALE: {e}; reminders whose penalties need it wait for the owner (`ardoise rates set`)"));
    if ctx.json {
        if let Some(w) = &stale {
            eprintln!("warning: {w}");
        }
        return output::print_json(rates);
    }
    let mut ecb = output::table(&["from", "ECB main rate %"], &[1]);
    for r in &rates.ecb {
        ecb.add_row(vec![r.effective_on.to_string(), r.rate_pct.to_string()]);
    }
    let mut legal = output::table(&["half-year", "legal interest rate %"], &[1]);
    for r in &rates.legal {
        legal.add_row(vec![format!("{} H{}", r.year, r.half), r.rate_pct.to_string()]);
    }
    say!(
        "ECB main refinancing rate (a business's penalty rate is the one in force on 1 January or 1 July, plus 10 points; a public buyer's, the one of the half-year its delay began in, plus 8)\n{ecb}"
    );
    say!("French legal interest rate, all other cases (consumers, after a formal notice)\n{legal}");
    say!(
        "Checked against their sources through {} (ECB) and {} (legal rate).",
        rates.ecb_checked_through,
        rates.legal_checked_through
    );
    match stale {
        Some(w) => say!("{w}"),
        None => say!("They cover {on}'s half-year."),
    }
    Ok(())
}
