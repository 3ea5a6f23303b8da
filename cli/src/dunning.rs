//! `ardoise dunning run` and `ardoise reminders ...`: the daily reminder run, and the queue of
//! reminders it fills for the back office to send.

use ardoise_core::dunning::ladder::StepKind;
use ardoise_core::dunning::run::Skip;
use ardoise_core::store::{ReminderRecord, ReminderState, RunReport};
use ardoise_core::{Money, Store, Uuid};
use clap::{Args, Subcommand};

use crate::output::{self, Failure, say};
use crate::till::{self, Ctx, IdOf, When};

#[derive(Debug, Subcommand)]
pub enum DunningCmd {
    /// Queue the day's reminders: at most one per customer, at the step of the ladder their most
    /// overdue invoice has reached, unless a promise, a plan, a hold or a dispute pauses them.
    /// Running it twice on a day queues nothing more.
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The day of the run, YYYY-MM-DD [default: today]; it runs at the current time of day on
    /// that date (SMS wait for daytime), and cannot be in the future
    #[arg(long, visible_alias = "date", value_name = "YYYY-MM-DD")]
    as_of: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum RemindersCmd {
    /// Reminders, newest first, with their short ids
    List(ListArgs),
    /// One reminder in full: who, how, and its subject and text
    Show {
        /// The reminder's id, or the short id `reminders list` shows (any unique start or end)
        id: String,
    },
    /// Record what became of a reminder: sent, failed, or cancelled by hand
    Mark(MarkArgs),
    /// Write a reminder as a PDF: the formal notice to post, the court file to file
    Pdf(PdfArgs),
}

#[derive(Debug, Args)]
pub struct PdfArgs {
    /// The reminder's id, or a unique start or end of it
    id: String,
    /// Where to write the PDF
    #[arg(long, value_name = "FILE")]
    out: std::path::PathBuf,
    /// The date the document bears and figures are computed to
    #[command(flatten)]
    when: When,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// queued, held, sent, failed or cancelled [default: all]
    #[arg(long)]
    state: Option<String>,
    /// Only this customer's reminders
    #[arg(long, value_name = "REF")]
    customer: Option<String>,
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

#[derive(Debug, Args)]
pub struct MarkArgs {
    /// The reminder's id, or a unique start or end of it
    id: String,
    /// sent, failed or cancelled
    #[arg(long)]
    state: String,
    /// What happened (a bounced email, a returned letter...)
    #[arg(long)]
    note: Option<String>,
    #[command(flatten)]
    when: When,
}

pub fn run(ctx: &Ctx, cmd: DunningCmd) -> Result<(), Failure> {
    let DunningCmd::Run(a) = cmd;
    let (_, now) = When { date: a.as_of }.resolve()?;
    let store = ctx.store()?;
    let report = store.run_dunning(now)?;
    if ctx.json {
        output::print_json(&report)?;
    } else {
        say!("{}", report_text(&report));
    }
    if report.errors.is_empty() {
        return Ok(());
    }
    // The others' reminders were queued; the exit code is what tells a scheduled run that
    // someone must look at these customers.
    Err(Failure::new(
        "dunning_errors",
        format!(
            "{} could not be processed: {}",
            output::count(report.errors.len(), "customer", "customers"),
            report.errors.join("; ")
        ),
    )
    .printed())
}

/// The run as the owner reads it: who is reminded and how, then who was left alone and why.
pub fn report_text(r: &RunReport) -> String {
    let day = r.as_of.map(|d| d.to_string()).unwrap_or_default();
    let mut s = format!(
        "Reminder run of {day}: {} with something due, {} queued.\n",
        output::count(r.customers_checked as usize, "customer", "customers"),
        output::count(r.queued.len(), "reminder", "reminders")
    );
    if !r.queued.is_empty() {
        s.push_str(&format!("{}\n", queued_table(&r.queued)));
    }
    for h in &r.held {
        s.push_str(&format!(
            "Held for the owner: {} ({}), {}: {}\n",
            h.customer_name,
            h.customer_ref,
            h.step,
            h.state_note.as_deref().unwrap_or("")
        ));
    }
    for why in &r.refused {
        s.push_str(&format!("Court file refused: {why}\n"));
    }
    for e in &r.errors {
        s.push_str(&format!("Could not process: {e}\n"));
    }
    if !r.skipped.is_empty() {
        let parts: Vec<String> = r.skipped.iter().map(|(why, n)| format!("{n} {}", skip_text(*why))).collect();
        s.push_str(&format!("Not reminded today: {}.\n", parts.join(", ")));
    }
    if r.promises_broken + r.plans_broken > 0 {
        s.push_str(&format!(
            "Broken today: {}, {}; their reminders resume.\n",
            output::count(r.promises_broken as usize, "promise to pay", "promises to pay"),
            output::count(r.plans_broken as usize, "payment plan", "payment plans")
        ));
    }
    s.trim_end().to_owned()
}

/// The day's queue: one row per customer reminded.
pub fn queued_table(rows: &[ReminderRecord]) -> comfy_table::Table {
    let mut t =
        output::table(&["id", "customer", "step", "channel", "to", "amount due", "+ penalties", "not before"], &[5, 6]);
    for q in rows {
        // Only a formal notice or a court file claims penalties; earlier steps merely record
        // what the law would allow so far.
        let claimed = q.kind != StepKind::Reminder;
        let extra = if claimed { q.penalties + q.indemnity } else { Money::ZERO };
        t.add_row(vec![
            till::short_id(q.id),
            format!("{} ({})", q.customer_name, q.customer_ref),
            q.step.clone(),
            q.channel.as_str().replace('_', " "),
            q.recipient.clone().unwrap_or_else(|| "-".into()),
            q.amount_due.to_string(),
            if extra.is_zero() { String::new() } else { extra.to_string() },
            output::local_time(&q.not_before),
        ]);
    }
    t
}

fn skip_text(why: Skip) -> &'static str {
    match why {
        Skip::NothingDue => "with nothing late enough yet",
        Skip::AlreadyAtLevel => "already reminded at their step",
        Skip::TooSoon => "reminded too recently",
        Skip::Excluded => "excluded from reminders",
        Skip::OnHold => "on hold",
        Skip::Promise => "waiting on a promise to pay",
        Skip::Plan => "keeping to a payment plan",
        Skip::NoticePending => "waiting for a formal notice to be sent and its deadline to pass",
    }
}

pub fn reminders(ctx: &Ctx, cmd: RemindersCmd) -> Result<(), Failure> {
    match cmd {
        RemindersCmd::List(a) => list(ctx, a),
        RemindersCmd::Show { id } => {
            let store = ctx.store()?;
            let r = find(&store, &id)?;
            if ctx.json {
                return output::print_json(&r);
            }
            say!("{}", full_text(&r));
            Ok(())
        }
        RemindersCmd::Mark(a) => mark(ctx, a),
        RemindersCmd::Pdf(a) => pdf(ctx, a),
    }
}

fn pdf(ctx: &Ctx, a: PdfArgs) -> Result<(), Failure> {
    let today = a.when.today()?;
    let store = ctx.store()?;
    let r = find(&store, &a.id)?;
    let doc = store.reminder_document(r.id, today)?;
    let bytes = ardoise_server::send::formal_notice_pdf(&doc)
        .map_err(|e| Failure::new("pdf", format!("cannot build the PDF: {e}")))?;
    crate::report::write_file(&a.out, &bytes)?;
    if ctx.json {
        return output::print_json(&doc);
    }
    say!("{} for {} ({}) written to {}.", r.step, r.customer_name, r.customer_ref, a.out.display());
    Ok(())
}

fn list(ctx: &Ctx, a: ListArgs) -> Result<(), Failure> {
    let state = a.state.as_deref().map(ReminderState::parse).transpose()?;
    let store = ctx.store()?;
    if let Some(c) = &a.customer {
        // An unknown reference is an error, not an empty list.
        store.customer(c)?;
    }
    let rows = store.reminders(state, a.customer.as_deref(), a.limit)?;
    if ctx.json {
        return output::print_json(&rows);
    }
    if rows.is_empty() {
        say!("No reminders.");
    } else {
        say!("{}", output::reminders_table(&rows));
    }
    Ok(())
}

fn mark(ctx: &Ctx, a: MarkArgs) -> Result<(), Failure> {
    let state = ReminderState::parse(&a.state)?;
    let (_, now) = a.when.resolve()?;
    let store = ctx.store()?;
    let id = find(&store, &a.id)?.id;
    let r = store.set_reminder_state(id, state, a.note.as_deref(), now)?;
    if ctx.json {
        return output::print_json(&r);
    }
    say!(
        "Reminder {} to {} ({}), {} by {}: {}.",
        till::short_id(r.id),
        r.customer_name,
        r.customer_ref,
        r.step,
        r.channel.as_str().replace('_', " "),
        r.state.as_str()
    );
    Ok(())
}

/// A reminder by its id or a unique start or end of it. The store lists reminders but has no lookup
/// by id, so the whole list is searched (a shop has thousands at most).
pub fn find(store: &Store, wanted: &str) -> Result<ReminderRecord, Failure> {
    let all = store.reminders(None, None, usize::MAX)?;
    let id: Uuid = till::find_id(wanted, all.iter().map(|r| r.id), IdOf::Reminder)?;
    all.into_iter().find(|r| r.id == id).ok_or_else(|| Failure::new("unknown_reminder", "reminder vanished"))
}

/// A reminder in full: the header the back office needs, then the text as the customer reads it.
pub fn full_text(r: &ReminderRecord) -> String {
    let mut rows = vec![
        ("id", r.id.to_string()),
        ("customer", format!("{} ({})", r.customer_name, r.customer_ref)),
        ("step", format!("{} (level {})", r.step, r.level)),
        ("channel", r.channel.as_str().replace('_', " ")),
        ("to", r.recipient.clone().unwrap_or_else(|| "-".into())),
        ("language", r.language.as_str().to_owned()),
        ("state", r.state.as_str().to_owned()),
        ("created", r.created_on.to_string()),
        ("not before", output::local_time(&r.not_before)),
        ("invoices", r.invoices.join(", ")),
        ("amount due", r.amount_due.to_string()),
    ];
    if !(r.penalties + r.indemnity).is_zero() {
        rows.push(("penalties", r.penalties.to_string()));
        rows.push(("indemnity", r.indemnity.to_string()));
    }
    if let Some(n) = &r.state_note {
        rows.push(("note", n.clone()));
    }
    format!("{}\n\nSubject: {}\n\n{}", output::fields(&rows), r.subject, r.body)
}
