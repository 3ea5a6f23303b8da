//! The customer's rights under the GDPR: everything the till holds about them as JSON (access,
//! portability), and erasure that anonymises their personal data while keeping the accounting
//! entries the law requires a shop to keep (ten years in France, Code de commerce L123-22).

use rusqlite::{Connection, Transaction, params};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::customer::CustomerPatch;
use crate::error::Result;
use crate::store::db::values::Now;
use crate::store::handle::Store;
use crate::store::reminders::notes;
use crate::store::sync::replica::{self, Key, Table};
use crate::store::till::customer_rows::{by_reference, update_in};

/// Every table holding rows about one customer, by `customer_id`.
const TABLES: [&str; 16] = [
    "accounts",
    "entries",
    "items",
    "credit_lots",
    "deposit_lots",
    "allocations",
    "overrides",
    "dunning_customers",
    "invoice_stops",
    "reminders",
    "disputes",
    "promises",
    "plans",
    "followups",
    "risk_scores",
    "customer_clocks",
];

/// What replaces erased free text.
const ERASED: &str = "[erased]";

fn rows_as_json(conn: &Connection, table: &str, customer_id: i64) -> Result<Vec<Value>> {
    // No index leads with the allocations' customer: they are found through the customer's
    // items, which they always settle (the audit holds it).
    let sql = match table {
        "allocations" => {
            "SELECT * FROM allocations WHERE item IN (SELECT entry_uuid FROM items WHERE customer_id = ?1) ORDER BY id"
                .to_owned()
        }
        _ => format!("SELECT * FROM {table} WHERE customer_id = ?1"),
    };
    let mut stmt = conn.prepare(&sql)?;
    let names: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
    let mut rows = stmt.query([customer_id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut obj = Map::new();
        for (i, name) in names.iter().enumerate() {
            use rusqlite::types::ValueRef;
            let v = match r.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => json!(n),
                ValueRef::Real(f) => json!(f),
                ValueRef::Text(t) => {
                    let s = String::from_utf8_lossy(t).into_owned();
                    // Stored JSON (entry bodies, instalments) reads better as JSON.
                    match serde_json::from_str::<Value>(&s) {
                        Ok(v @ (Value::Object(_) | Value::Array(_))) => v,
                        _ => Value::String(s),
                    }
                }
                ValueRef::Blob(b) => match Uuid::from_slice(b) {
                    Ok(u) => Value::String(u.to_string()),
                    Err(_) => Value::String(b.iter().map(|x| format!("{x:02x}")).collect()),
                },
            };
            obj.insert(name.clone(), v);
        }
        out.push(Value::Object(obj));
    }
    Ok(out)
}

/// What an erasure changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Erasure {
    pub customer_ref: String,
    pub reminders_scrubbed: u64,
    pub reminders_cancelled: u64,
    pub notes_scrubbed: u64,
    pub disputes_scrubbed: u64,
    /// Ledger entries kept, as the law requires.
    pub entries_kept: u64,
}

impl Store {
    /// Everything this device holds about one customer, as one JSON document.
    pub fn customer_data(&self, customer: &str, now: Now) -> Result<Value> {
        let account = self.account(customer, now.date_naive())?;
        let timeline = self.customer_timeline(customer, usize::MAX)?;
        self.read(|conn| {
            let (id, c) = by_reference(conn, customer)?;
            let mut tables = Map::new();
            for t in TABLES {
                tables.insert(t.to_owned(), Value::Array(rows_as_json(conn, t, id)?));
            }
            Ok(json!({
                "exported_at": now.to_rfc3339(),
                "customer": c,
                "account": {
                    "balance": account.balance,
                    "overdue": account.overdue,
                    "deposits_available": account.deposits_available,
                    "credit_on_account": account.credit_on_account,
                    "open_invoices": account.open_invoices.len(),
                },
                "timeline": timeline,
                "records": tables,
            }))
        })
    }

    /// Erases a customer's personal data: name, contact details, address and notes are replaced,
    /// consents withdrawn, the account blocked, reminder texts and notes scrubbed and queued
    /// reminders cancelled. The ledger entries and invoice references stay (accounting law);
    /// every change is an ordinary synced write, so the erasure reaches every device.
    pub fn erase_customer(&self, customer: &str, author: &str, now: Now) -> Result<Erasure> {
        self.write(now, |w| erase(w.conn(), customer, author, now))
    }
}

fn erase(tx: &Transaction<'_>, customer: &str, author: &str, now: Now) -> Result<Erasure> {
    {
        let (id, before) = by_reference(tx, customer)?;
        let short: String = before.id.simple().to_string().chars().take(8).collect();
        let after = before.patched(CustomerPatch {
            name: Some(format!("Erased customer {short}")),
            email: Some(None),
            phone: Some(None),
            address: Some(None),
            notes: Some(String::new()),
            consent_email: Some(false),
            consent_sms: Some(false),
            blocked: Some(Some("personal data erased (GDPR)".into())),
            ..Default::default()
        })?;
        update_in(tx, id, &before, &after, now)?;
        let mut report = Erasure { customer_ref: before.reference.clone(), ..Default::default() };
        let ids = |sql: &str| -> Result<Vec<i64>> {
            let mut stmt = tx.prepare(sql)?;
            let rows = stmt.query_map([id], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        };
        for rid in ids("SELECT id FROM reminders WHERE customer_id = ?1")? {
            let cancelled = tx.execute(
                "UPDATE reminders SET state = 'cancelled', state_note = 'customer erased' WHERE id = ?1 AND state = 'queued'",
                [rid],
            )?;
            report.reminders_cancelled += cancelled as u64;
            tx.execute(
                "UPDATE reminders SET recipient = NULL, subject = ?2, body = ?2,
                 state_note = CASE WHEN state_note IS NULL THEN NULL ELSE 'customer erased' END WHERE id = ?1",
                params![rid, ERASED],
            )?;
            replica::emit(tx, Table::Reminders, Key::Rowid(rid), now)?;
            report.reminders_scrubbed += 1;
        }
        for fid in ids("SELECT id FROM followups WHERE customer_id = ?1 AND text != '[erased]'")? {
            tx.execute("UPDATE followups SET text = ?2 WHERE id = ?1", params![fid, ERASED])?;
            replica::emit(tx, Table::Followups, Key::Rowid(fid), now)?;
            report.notes_scrubbed += 1;
        }
        for did in ids("SELECT id FROM disputes WHERE customer_id = ?1")? {
            tx.execute(
                "UPDATE disputes SET reason = ?2, resolution = CASE WHEN resolution IS NULL THEN NULL ELSE ?2 END WHERE id = ?1",
                params![did, ERASED],
            )?;
            replica::emit(tx, Table::Disputes, Key::Rowid(did), now)?;
            report.disputes_scrubbed += 1;
        }
        tx.execute("DELETE FROM risk_scores WHERE customer_id = ?1", [id])?;
        // The bank lines matched to them name them and their account: kept as the bank wrote
        // the amounts, without who paid.
        for line in ids(
            "SELECT t.id FROM bank_transactions t WHERE t.uuid IN (SELECT line FROM bank_matches WHERE customer_id = ?1)",
        )? {
            tx.execute(
                "UPDATE bank_transactions SET counterparty = NULL, iban = NULL, label = ?2, suggestions = '[]' WHERE id = ?1",
                params![line, ERASED],
            )?;
            replica::emit(tx, Table::BankLines, Key::Rowid(line), now)?;
        }
        report.entries_kept =
            tx.query_row("SELECT count(*) FROM entries WHERE customer_id = ?1", [id], |r| r.get::<_, i64>(0))? as u64;
        notes::add(tx, id, "note", "personal data erased on request (GDPR)", None, author, now)?;
        Ok(report)
    }
}
