//! `ardoise plan ...` and `ardoise promise`: what a customer agreed to pay and when. Reminders
//! wait while the agreement holds and resume when it is broken.

use ardoise_core::Money;
use ardoise_core::dunning::plan::{Instalment, PlanStatus, split_evenly};
use ardoise_core::store::PlanView;
use chrono::NaiveDate;
use clap::{ArgGroup, Args, Subcommand};

use crate::output::{self, Failure, say};
use crate::till::{self, Ctx, Recorder, When, money};

#[derive(Debug, Subcommand)]
pub enum PlanCmd {
    /// Agree a payment plan (échéancier): N equal instalments, or an explicit schedule
    Create(CreateArgs),
    /// The customer's latest plan, and where it stands
    Show {
        /// The customer's reference
        #[arg(long, value_name = "REF")]
        customer: String,
        /// Where it stands on this day, YYYY-MM-DD [default: today]
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<String>,
    },
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("how").required(true).args(["instalments", "schedule"])))]
pub struct CreateArgs {
    /// The customer's reference
    #[arg(long, value_name = "REF")]
    customer: String,
    /// How many equal instalments (the odd cents go on the first)
    #[arg(long, value_name = "N", requires = "every")]
    instalments: Option<u32>,
    /// Days between instalments
    #[arg(long, value_name = "DAYS", requires = "instalments")]
    every: Option<u32>,
    /// The first instalment's date [default: the day of the plan]
    #[arg(long, value_name = "YYYY-MM-DD", requires = "instalments")]
    first: Option<String>,
    /// The total to spread [default: what the customer has overdue]
    #[arg(long, value_name = "AMOUNT", requires = "instalments", allow_hyphen_values = true)]
    total: Option<String>,
    /// Explicit instalments: 2026-12-01:50,2027-01-01:50.50
    #[arg(long, value_name = "DATE:AMOUNT,...")]
    schedule: Option<String>,
    #[command(flatten)]
    by: Recorder,
}

#[derive(Debug, Args)]
pub struct PromiseArgs {
    /// The customer's reference
    #[arg(long, value_name = "REF")]
    customer: String,
    /// What the customer promises to pay
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    amount: String,
    /// The day they promise to pay by; reminders wait until then
    #[arg(long = "by", value_name = "YYYY-MM-DD")]
    by_date: String,
    #[command(flatten)]
    by: Recorder,
}

pub fn run(ctx: &Ctx, cmd: PlanCmd) -> Result<(), Failure> {
    match cmd {
        PlanCmd::Create(a) => create(ctx, a),
        PlanCmd::Show { customer, as_of } => {
            let today = When { date: as_of }.today()?;
            let store = ctx.store()?;
            let plan = store.plan(&customer, today)?;
            if ctx.json {
                return output::print_json(&plan);
            }
            match plan {
                Some(p) => say!("{}", plan_text(&p, today)),
                None => say!("No payment plan for {customer}."),
            }
            Ok(())
        }
    }
}

fn create(ctx: &Ctx, a: CreateArgs) -> Result<(), Failure> {
    let (author, now) = a.by.resolve(ctx)?;
    let today = now.date_naive();
    // Parsed before the database is opened; the default total needs the account, so it comes after.
    let schedule = a.schedule.as_deref().map(schedule).transpose()?;
    let first = a.first.as_deref().map(till::date).transpose()?.unwrap_or(today);
    let total = a.total.as_deref().map(money).transpose()?;
    let store = ctx.store()?;
    let instalments = match (schedule, a.instalments, a.every) {
        (Some(s), _, _) => s,
        (None, Some(count), Some(every)) => {
            let total = match total {
                Some(t) => t,
                None => {
                    let overdue = store.account(&a.customer, today)?.overdue;
                    if !overdue.is_positive() {
                        return Err(Failure::new(
                            "invalid",
                            format!("{} has nothing overdue on {today}: give --total", a.customer),
                        ));
                    }
                    overdue
                }
            };
            split_evenly(total, count, first, every)?
        }
        _ => return Err(Failure::new("invalid", "give --instalments N --every DAYS, or --schedule")),
    };
    let plan = store.create_plan(&a.customer, instalments, &author, now)?;
    if ctx.json {
        return output::print_json(&plan);
    }
    say!("Payment plan agreed; reminders wait while it is kept.\n{}", plan_text(&plan, today));
    Ok(())
}

/// `2026-12-01:50,2027-01-01:50.50`, strictly: each date ISO, each amount a decimal with a dot.
fn schedule(s: &str) -> Result<Vec<Instalment>, Failure> {
    s.split(',')
        .map(|part| {
            let Some((d, m)) = part.trim().split_once(':') else {
                return Err(Failure::new("invalid", format!("--schedule {part:?}: expected YYYY-MM-DD:AMOUNT")));
            };
            Ok(Instalment { due_on: till::date(d)?, amount: money(m)? })
        })
        .collect()
}

pub fn promise(ctx: &Ctx, a: PromiseArgs) -> Result<(), Failure> {
    let amount = money(&a.amount)?;
    let on = till::date(&a.by_date)?;
    let (author, now) = a.by.resolve(ctx)?;
    let store = ctx.store()?;
    let p = store.promise_to_pay(&a.customer, on, amount, &author, now)?;
    if ctx.json {
        return output::print_json(&p);
    }
    say!(
        "{} promises to pay {} EUR by {}; reminders wait until then, and resume if it is not kept.",
        p.customer_ref,
        p.amount,
        p.promised_on
    );
    Ok(())
}

/// The plan, its standing on `today`, and each instalment filled by what was paid, in order.
fn plan_text(p: &PlanView, today: NaiveDate) -> String {
    let standing = match &p.status {
        PlanStatus::Active { paid, next_due: Some(next), next_amount } => {
            format!("kept so far: {paid} EUR paid; next {next_amount} EUR by {next}")
        }
        PlanStatus::Active { paid, .. } => format!("kept so far: {paid} EUR paid"),
        PlanStatus::Completed => "completed".to_owned(),
        PlanStatus::Broken { missed_due, missing } => {
            format!("BROKEN: the instalment of {missed_due} was missed, {missing} EUR behind; reminders resume")
        }
    };
    let mut left = p.paid;
    let mut t = output::table(&["#", "due", "amount", "paid", ""], &[0, 2, 3]);
    for (i, inst) in p.instalments.iter().enumerate() {
        let paid = left.min(inst.amount).clamp_zero();
        left -= paid;
        let mark = if paid == inst.amount {
            "paid"
        } else if inst.due_on < today {
            "late"
        } else {
            ""
        };
        t.add_row(vec![
            (i + 1).to_string(),
            inst.due_on.to_string(),
            inst.amount.to_string(),
            paid.to_string(),
            mark.to_owned(),
        ]);
    }
    let total: Money = p.instalments.iter().map(|i| i.amount).sum();
    format!(
        "Plan {} for {}, agreed {} ({} EUR, {} days' grace; {}): {standing} (on {today})\n{t}",
        till::short_id(p.id),
        p.customer_ref,
        p.created_on,
        total,
        p.grace_days,
        p.state
    )
}
