//! Exports of the shop's books for the accountant: accounts, ledger and reminders as CSV or JSON.

use rusqlite::Connection;

use crate::entry::EntryBody;
use crate::error::Result;
use crate::money::Money;
use crate::report::export::{Format, Table};
use crate::store::handle::Store;

/// What can be exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ExportKind {
    Accounts,
    Ledger,
    Reminders,
}

impl std::str::FromStr for ExportKind {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "accounts" => Ok(ExportKind::Accounts),
            "ledger" => Ok(ExportKind::Ledger),
            "reminders" => Ok(ExportKind::Reminders),
            _ => Err(crate::Error::Invalid {
                field: "export",
                reason: format!("{s:?}: use accounts, ledger or reminders"),
            }),
        }
    }
}

fn money(minor: Option<i64>) -> String {
    minor.map(|m| Money::from_minor(m).to_string()).unwrap_or_default()
}

fn table(
    conn: &Connection,
    sql: &str,
    columns: Vec<&'static str>,
    text: &[&str],
    row: impl Fn(&rusqlite::Row<'_>) -> Result<Vec<String>>,
) -> Result<Table> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(row(r)?);
    }
    let text = columns.iter().map(|c| text.contains(c)).collect();
    Ok(Table { columns, text, rows: out })
}

impl Store {
    /// The table behind an export, for callers that want the rows themselves.
    pub fn export_table(&self, kind: ExportKind) -> Result<Table> {
        self.read(|conn| {
            match kind {
                ExportKind::Accounts => table(
                    conn,
                    "SELECT c.reference, c.name, c.email, c.phone, c.kind, c.credit_limit, c.terms, c.blocked,
                            a.balance, a.deposits, a.credit, a.open_items, a.oldest_due
                     FROM customers c JOIN accounts a ON a.customer_id = c.id ORDER BY c.reference",
                    vec![
                        "customer_ref", "name", "email", "phone", "kind", "credit_limit", "terms", "blocked", "balance",
                        "deposits", "credit_on_account", "open_invoices", "oldest_due",
                    ],
                    &["customer_ref", "name", "email", "phone", "blocked"],
                    |r| {
                        Ok(vec![
                            r.get(0)?,
                            r.get(1)?,
                            r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                            r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                            r.get(4)?,
                            money(r.get(5)?),
                            r.get(6)?,
                            r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                            money(r.get(8)?),
                            money(r.get(9)?),
                            money(r.get(10)?),
                            r.get::<_, i64>(11)?.to_string(),
                            r.get::<_, Option<String>>(12)?.unwrap_or_default(),
                        ])
                    },
                ),
                ExportKind::Ledger => table(
                    conn,
                    "SELECT e.uuid, e.business_date, c.reference, e.kind, e.balance_effect, e.deposit_effect, e.body, e.cashier, e.recorded_at
                     FROM entries e JOIN customers c ON c.id = e.customer_id ORDER BY e.business_date, e.order_key",
                    vec![
                        "entry_id", "date", "customer_ref", "kind", "amount", "balance_effect", "deposit_effect", "reference",
                        "reason", "cashier", "recorded_at",
                    ],
                    &["customer_ref", "reference", "reason", "cashier"],
                    |r| {
                        let body: EntryBody = serde_json::from_str(&r.get::<_, String>(6)?)?;
                        let (reference, reason) = match &body {
                            EntryBody::Sale { invoice_ref, .. } => (invoice_ref.clone(), String::new()),
                            EntryBody::Adjustment { reference, reason, .. } => (reference.clone(), reason.clone()),
                            EntryBody::DepositReceived { order_ref, .. } => (order_ref.clone().unwrap_or_default(), String::new()),
                            EntryBody::CreditNote { reason, .. } | EntryBody::WriteOff { reason, .. } => (String::new(), reason.clone()),
                            EntryBody::Reversal { of, reason } => (of.to_string(), reason.clone()),
                            _ => (String::new(), String::new()),
                        };
                        let recorded = chrono::DateTime::from_timestamp_millis(r.get(8)?).map(|t| t.to_rfc3339()).unwrap_or_default();
                        Ok(vec![
                            r.get::<_, uuid::Uuid>(0)?.to_string(),
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            body.amount().map(|a| a.to_string()).unwrap_or_default(),
                            money(r.get(4)?),
                            money(r.get(5)?),
                            reference,
                            reason,
                            r.get(7)?,
                            recorded,
                        ])
                    },
                ),
                ExportKind::Reminders => table(
                    conn,
                    "SELECT r.uuid, c.reference, r.level, r.step, r.channel, r.recipient, r.state, r.created_on, r.not_before,
                            r.amount_due, r.subject
                     FROM reminders r JOIN customers c ON c.id = r.customer_id ORDER BY r.created_on, r.id",
                    vec![
                        "reminder_id", "customer_ref", "level", "step", "channel", "recipient", "state", "created_on",
                        "not_before", "amount_due", "subject",
                    ],
                    &["customer_ref", "step", "recipient", "subject"],
                    |r| {
                        Ok(vec![
                            r.get::<_, uuid::Uuid>(0)?.to_string(),
                            r.get(1)?,
                            r.get::<_, i64>(2)?.to_string(),
                            r.get(3)?,
                            r.get(4)?,
                            r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                            r.get(6)?,
                            r.get(7)?,
                            r.get(8)?,
                            money(r.get(9)?),
                            r.get(10)?,
                        ])
                    },
                ),
            }
        })
    }

    /// An export rendered as CSV (formulas neutralised) or JSON.
    pub fn export(&self, kind: ExportKind, format: Format) -> Result<String> {
        self.export_table(kind)?.render(format)
    }
}
