//! How results and errors reach the user: tables for people, JSON for scripts.

use std::io::Write;

use ardoise_core::store::{ReminderRecord, TimelineItem};
use ardoise_core::{AccountSummary, Decision, Entry, EntryBody, Error, Money, Recorded, Verdict};
use chrono::{DateTime, Local, TimeZone};
use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
use serde::Serialize;

/// Prints one line on stdout. A closed pipe (`ardoise customer list | head`) is not an error
/// worth a panic, so write errors are dropped.
macro_rules! say {
    () => { $crate::output::emit("") };
    ($($arg:tt)*) => { $crate::output::emit(&format!($($arg)*)) };
}
pub(crate) use say;

pub fn emit(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}

/// A command that failed: what to tell the user, and the machine-readable code for `--json`.
#[derive(Debug)]
pub struct Failure {
    pub code: &'static str,
    pub message: String,
    /// For a refused sale: the verdict, so its reasons can be shown.
    pub verdict: Option<Box<Verdict>>,
    /// The command already printed its full result (with `--json`, the one JSON object a
    /// script parses): only the exit code and the line on stderr remain to say it failed.
    pub printed: bool,
}

impl Failure {
    pub fn new(code: &'static str, message: impl Into<String>) -> Failure {
        Failure { code, message: message.into(), verdict: None, printed: false }
    }

    /// See [`Failure::printed`].
    pub fn printed(self) -> Failure {
        Failure { printed: true, ..self }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let message = e.to_string();
        let code = error_code(&e);
        let verdict = match e {
            Error::Refused(v) => Some(v),
            _ => None,
        };
        Failure { code, message, verdict, printed: false }
    }
}

/// The variant name in snake_case: matched exhaustively so a new core error gets a code here.
fn error_code(e: &Error) -> &'static str {
    match e {
        Error::Amount(_) => "amount",
        Error::NotPositive { .. } => "not_positive",
        Error::InvalidDate(_) => "invalid_date",
        Error::Invalid { .. } => "invalid",
        Error::IdentityIncomplete { .. } => "identity_incomplete",
        Error::UnknownCustomer(_) => "unknown_customer",
        Error::DuplicateCustomer(_) => "duplicate_customer",
        Error::UnknownInvoice(_) => "unknown_invoice",
        Error::DuplicateInvoice(_) => "duplicate_invoice",
        Error::InvoiceSettled { .. } => "invoice_settled",
        Error::UnknownEntry(_) => "unknown_entry",
        // The same codes as the CLI's own lookups by short id give.
        Error::NotFound { what, .. } => match *what {
            "reminder" => "unknown_reminder",
            "dispute" => "unknown_dispute",
            "ladder" => "unknown_ladder",
            "plan" => "unknown_plan",
            _ => "not_found",
        },
        Error::NotReversible(..) => "not_reversible",
        Error::InsufficientDeposit { .. } => "insufficient_deposit",
        Error::Refused(_) => "refused",
        Error::Open { .. } => "open",
        Error::NotArdoise { .. } => "not_ardoise",
        Error::SchemaTooNew { .. } => "schema_too_new",
        Error::Sqlite(_) => "sqlite",
        Error::Corrupt(_) => "corrupt",
        Error::Import { .. } => "import",
        Error::StaleRates { .. } => "stale_rates",
        Error::NotEnrolled => "not_enrolled",
        // As the bindings split them: try again later, or someone must act.
        Error::Sync { retryable: true, .. } => "sync_unreachable",
        Error::Sync { retryable: false, .. } => "sync_refused",
    }
}

#[derive(Serialize)]
struct ErrorJson<'a> {
    error: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    verdict: Option<VerdictJson<'a>>,
}

/// `error: ...` on stderr (and the JSON object on stdout with `--json`).
pub fn report(f: &Failure, json: bool) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {}", f.message);
    if let Some(v) = &f.verdict {
        for r in &v.reasons {
            let _ = writeln!(err, "  - {}", r.message());
        }
        let _ = writeln!(
            err,
            "  a manager can allow it: ardoise checkout --customer {} --amount {} --override-by NAME --reason WHY",
            v.customer_ref, v.cart_total
        );
    }
    if json && !f.printed {
        let body = ErrorJson { error: &f.message, code: f.code, verdict: f.verdict.as_deref().map(VerdictJson::new) };
        if let Ok(s) = serde_json::to_string_pretty(&body) {
            emit(&s);
        }
    }
}

pub fn print_json(value: &impl Serialize) -> Result<(), Failure> {
    let s = serde_json::to_string_pretty(value).map_err(|e| Failure::new("json", e.to_string()))?;
    emit(&s);
    Ok(())
}

/// The verdict as the core serializes it, plus what the cashier reads for each reason.
#[derive(Debug, Serialize)]
pub struct VerdictJson<'a> {
    #[serde(flatten)]
    pub verdict: &'a Verdict,
    pub messages: Vec<String>,
}

impl<'a> VerdictJson<'a> {
    pub fn new(verdict: &'a Verdict) -> Self {
        VerdictJson { verdict, messages: verdict.reasons.iter().map(|r| r.message()).collect() }
    }
}

/// What every ledger write prints with `--json`.
#[derive(Debug, Serialize)]
pub struct RecordedJson<'a> {
    pub entry: &'a Entry,
    pub balance: Money,
    pub deposits: Money,
    pub verdict: Option<VerdictJson<'a>>,
    pub deposit_applied: Option<&'a Entry>,
}

impl<'a> RecordedJson<'a> {
    pub fn new(rec: &'a Recorded) -> Self {
        RecordedJson {
            entry: &rec.entry,
            balance: rec.balance,
            deposits: rec.deposits,
            verdict: rec.verdict.as_ref().map(VerdictJson::new),
            deposit_applied: rec.deposit_applied.as_ref(),
        }
    }
}

/// A table in the house style; columns listed in `right` hold numbers and align right.
pub fn table(header: &[&str], right: &[usize]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    t.set_header(header.to_vec());
    for &i in right {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

/// Two columns, label and value: for one record's fields.
pub fn fields(rows: &[(&str, String)]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    for (k, v) in rows {
        t.add_row(vec![k.to_string(), v.clone()]);
    }
    t
}

/// Label and amount, amounts aligned on the decimal point.
pub fn numbers(rows: &[(&str, String)]) -> Table {
    let mut t = fields(rows);
    if let Some(c) = t.column_mut(1) {
        c.set_cell_alignment(CellAlignment::Right);
    }
    t
}

pub fn limit_text(limit: Option<Money>) -> String {
    limit.map_or_else(|| "no limit".to_owned(), |l| l.to_string())
}

/// "1 reminder", "3 reminders".
pub fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

pub fn days_text(days: Option<u32>) -> String {
    match days {
        None => "-".to_owned(),
        Some(1) => "1 day".to_owned(),
        Some(n) => format!("{n} days"),
    }
}

/// The checkout answer as the cashier reads it: the decision, each reason, then the numbers.
pub fn verdict_block(v: &Verdict) -> String {
    let head = match v.decision {
        Decision::Allow => "ALLOW   on account OK",
        Decision::Warn => "WARN    on account OK, but check with the customer",
        Decision::Refuse => "REFUSE  on account refused — cash, card or deposit still fine",
    };
    let mut s = format!("{} ({}): {} EUR on account\n{head}\n", v.customer_name, v.customer_ref, v.cart_total);
    for r in &v.reasons {
        s.push_str(&format!("  - {}\n", r.message()));
    }
    let t = numbers(&[
        ("balance", v.balance.to_string()),
        ("overdue", v.overdue.to_string()),
        ("oldest overdue", days_text(v.oldest_overdue_days)),
        ("credit limit", limit_text(v.credit_limit)),
        ("available credit", v.available_credit.map_or_else(|| "no limit".to_owned(), |a| a.to_string())),
        ("deposits usable", v.deposits_available.to_string()),
    ]);
    s.push_str(&t.to_string());
    if let Some(pct) = v.late_risk_pct {
        s.push_str(&format!("\nlate-payment risk {pct} %: {}", v.late_risk_reasons.join("; ")));
    }
    s
}

/// One row per account: the list, the search results and the demo's closing table.
pub fn accounts_table(rows: &[AccountSummary]) -> Table {
    let mut t = table(&["ref", "name", "phone", "balance", "overdue", "oldest overdue", "limit"], &[3, 4, 5, 6]);
    for a in rows {
        let c = &a.customer;
        let name = if c.blocked.is_some() { format!("{} (blocked)", c.name) } else { c.name.clone() };
        t.add_row(vec![
            c.reference.clone(),
            name,
            c.phone.clone().unwrap_or_default(),
            a.balance.to_string(),
            a.overdue.to_string(),
            days_text(a.oldest_overdue_days),
            limit_text(a.credit_limit),
        ]);
    }
    t
}

/// An account in full: who, the numbers, open invoices and deposits held.
pub fn account_block(a: &AccountSummary, today: chrono::NaiveDate) -> String {
    let c = &a.customer;
    let mut rows = vec![
        ("reference", c.reference.clone()),
        ("payment reference", a.payment_reference.to_string()),
        ("name", c.name.clone()),
        ("kind", c.kind.as_str().to_owned()),
        ("phone", c.phone.clone().unwrap_or_default()),
        ("email", c.email.clone().unwrap_or_default()),
        ("terms", c.terms.to_string()),
        ("own credit limit", c.credit_limit.map_or_else(|| "none (shop default)".to_owned(), |l| l.to_string())),
        ("consent", format!("email: {}, sms: {}", yes_no(c.consent_email), yes_no(c.consent_sms))),
        ("address", c.address.clone().unwrap_or_default()),
        ("language", c.language.as_str().to_owned()),
        ("bills", c.paperless_from.map_or_else(|| "on paper".to_owned(), |d| format!("by email from {d}"))),
    ];
    if let Some(b) = &c.blocked {
        rows.push(("BLOCKED", b.clone()));
    }
    if !c.notes.is_empty() {
        rows.push(("notes", c.notes.clone()));
    }
    let mut s = fields(&rows).to_string();
    s.push_str(&format!("\nAccount on {today}\n"));
    let numbers = numbers(&[
        ("balance", a.balance.to_string()),
        ("overdue", a.overdue.to_string()),
        ("oldest overdue", days_text(a.oldest_overdue_days)),
        ("credit limit", limit_text(a.credit_limit)),
        ("available credit", a.available_credit.map_or_else(|| "no limit".to_owned(), |x| x.to_string())),
        ("deposits held", a.deposits_available.to_string()),
        ("credit on account", a.credit_on_account.to_string()),
    ]);
    s.push_str(&numbers.to_string());
    if a.open_invoices.is_empty() {
        s.push_str("\nNo open invoices.");
    } else {
        let mut t = table(&["invoice", "issued", "due", "amount", "remaining", "days overdue"], &[3, 4, 5]);
        for i in &a.open_invoices {
            t.add_row(vec![
                i.reference.clone(),
                i.issued_on.to_string(),
                i.due_on.to_string(),
                i.amount.to_string(),
                i.remaining.to_string(),
                i.days_overdue.to_string(),
            ]);
        }
        s.push_str(&format!("\nOpen invoices\n{t}"));
    }
    if !a.deposits.is_empty() {
        let mut t = table(&["order", "deposit", "remaining"], &[1, 2]);
        for d in &a.deposits {
            t.add_row(vec![d.order_ref.clone().unwrap_or_default(), d.amount.to_string(), d.remaining.to_string()]);
        }
        s.push_str(&format!("\nDeposits held\n{t}"));
    }
    s
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// One line for an entry: what it was, in the words of the till.
pub fn describe(body: &EntryBody) -> String {
    match body {
        EntryBody::Sale { invoice_ref, due_on, override_id, .. } => {
            let ov = if override_id.is_some() { ", manager override" } else { "" };
            format!("sale on account, invoice {invoice_ref} due {due_on}{ov}")
        }
        EntryBody::Payment { method, invoice, .. } => {
            let aimed = if invoice.is_some() { ", on a named invoice" } else { "" };
            format!("payment ({}){aimed}", method.as_str())
        }
        EntryBody::DepositReceived { method, order_ref, .. } => match order_ref {
            Some(o) => format!("deposit taken ({}) for order {o}", method.as_str()),
            None => format!("deposit taken ({})", method.as_str()),
        },
        EntryBody::DepositApplied { .. } => "deposit applied".to_owned(),
        EntryBody::DepositRefunded { method, .. } => format!("deposit refunded ({})", method.as_str()),
        EntryBody::CreditNote { reason, .. } => format!("credit note: {reason}"),
        EntryBody::Adjustment { reason, reference, .. } => format!("adjustment {reference}: {reason}"),
        EntryBody::WriteOff { reason, .. } => format!("write-off: {reason}"),
        EntryBody::Reversal { of, reason } => format!("reversal of entry {of}: {reason}"),
    }
}

/// What the account looks like after a write, in words.
pub fn balance_line(balance: Money, deposits: Money) -> String {
    let owed = if balance.is_negative() {
        format!("{} EUR in the customer's favour", balance.abs())
    } else {
        format!("{balance} EUR owed")
    };
    format!("Balance: {owed}; deposits held: {deposits} EUR")
}

/// An instant on the till's clock, to the minute. The core hands some instants back in UTC.
pub fn local_time<Tz: TimeZone>(t: &DateTime<Tz>) -> String {
    t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string()
}

/// The merged story of an account (`timeline --full`), newest first.
pub fn timeline_table(items: &[TimelineItem]) -> Table {
    let mut t = table(&["date", "what", "details", "amount", "state", "id"], &[3]);
    for i in items {
        let what = i.kind.strip_prefix("entry:").unwrap_or(&i.kind).replace('_', " ");
        t.add_row(vec![
            i.date.to_string(),
            what,
            i.text.clone(),
            i.amount.map(|m| m.to_string()).unwrap_or_default(),
            i.state.clone().unwrap_or_default(),
            crate::till::short_id(i.id),
        ]);
    }
    t
}

/// Reminders, one per row, with the short id `reminders show` and `mark` take.
pub fn reminders_table(rows: &[ReminderRecord]) -> Table {
    let mut t =
        table(&["id", "created", "customer", "step", "channel", "to", "amount due", "state", "not before"], &[6]);
    for r in rows {
        t.add_row(vec![
            crate::till::short_id(r.id),
            r.created_on.to_string(),
            format!("{} ({})", r.customer_name, r.customer_ref),
            r.step.clone(),
            r.channel.as_str().replace('_', " "),
            r.recipient.clone().unwrap_or_else(|| "-".into()),
            r.amount_due.to_string(),
            r.state.as_str().to_owned(),
            local_time(&r.not_before),
        ]);
    }
    t
}
