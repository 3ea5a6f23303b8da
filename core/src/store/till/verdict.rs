//! "May this customer buy on account now?": the one place the store gathers what the checkout
//! rules read (the account row, open disputes, the till's sync state, a manager's override of
//! today, the last risk score), for `checkout::check` to decide. The verdict the till shows, the
//! one a sale is recorded under and the one an override is recorded against all come from here.

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use crate::checkout::{self, AccountSnapshot, CheckoutRules, OfflineState, OverrideGrant, Verdict};
use crate::error::{Error, Result};
use crate::money::Money;
use crate::store::db::open_dues::OpenDues;
use crate::store::db::values::{Now, ms};

/// Which overrides a verdict may count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::store) enum Overrides {
    /// An unused override of today covering the cart turns a refusal into a warning.
    Count,
    /// The verdict before any override: what a manager is asked to override.
    Ignore,
}

/// What one question to the checkout is about.
#[derive(Clone, Copy, Debug)]
pub(in crate::store) struct Ask {
    pub(in crate::store) customer_id: i64,
    /// What would go on account.
    pub(in crate::store) cart: Money,
    /// The business day the sale is for (today, or the day of a backdated sale).
    pub(in crate::store) day: NaiveDate,
    /// The till's clock, which says how long it has been out of touch.
    pub(in crate::store) now: Now,
    pub(in crate::store) overrides: Overrides,
}

/// The verdict for `ask`, from `conn` (a reader, or the writer inside a sale).
pub(in crate::store) fn verdict(conn: &Connection, device: Uuid, rules: &CheckoutRules, ask: Ask) -> Result<Verdict> {
    let snap = snapshot(conn, device, rules, ask)?;
    Ok(checkout::check(&snap, rules, ask.cart, ask.day))
}

/// Everything the checkout rules read about the customer of `ask`.
pub(in crate::store) fn snapshot(
    conn: &Connection,
    device: Uuid,
    rules: &CheckoutRules,
    ask: Ask,
) -> Result<AccountSnapshot> {
    let today = ask.day;
    let mut snap = account_row(conn, ask.customer_id, today)?;
    snap.offline = offline(conn, device, ask.customer_id, rules.offline_after_hours, ask.now)?;
    if ask.overrides == Overrides::Count {
        snap.grant = grant(conn, ask.customer_id, today, ask.cart)?;
    }
    snap.late_risk = late_risk(conn, ask.customer_id)?;
    Ok(snap)
}

/// The account row with the customer's limit and block; the overdue figures come from the
/// row's open dues, less the invoices under an open dispute.
pub(in crate::store) fn account_row(conn: &Connection, customer_id: i64, today: NaiveDate) -> Result<AccountSnapshot> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.reference, c.name, c.credit_limit, c.blocked, a.balance, a.deposits, a.oldest_due, a.open_dues
         FROM customers c JOIN accounts a ON a.customer_id = c.id WHERE c.id = ?1",
    )?;
    let mut rows = stmt.query([customer_id])?;
    let r = rows.next()?.ok_or_else(|| Error::Corrupt(format!("customer {customer_id} has no account row")))?;
    // Disputed invoices are not held against the customer while the dispute is open: what each
    // open one owes, and when it is due.
    let disputed: Vec<(NaiveDate, i64)> = conn
        .prepare_cached(
            "SELECT DISTINCT i.entry_uuid, i.due_on, i.amount - i.settled FROM disputes d JOIN items i ON i.entry_uuid = d.invoice
             WHERE d.customer_id = ?1 AND d.state = 'open' AND i.open = 1",
        )?
        .query_map([customer_id], |r| Ok((r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let oldest_due: Option<NaiveDate> = r.get(6)?;
    let (overdue, overdue_invoices, oldest_overdue_due) = if oldest_due.is_some_and(|d| d < today) {
        OpenDues::from_row(r, 7)?.overdue(today, &disputed)?
    } else {
        (Money::ZERO, 0, None)
    };
    Ok(AccountSnapshot {
        customer_ref: r.get(0)?,
        customer_name: r.get(1)?,
        credit_limit: r.get(2)?,
        blocked: r.get(3)?,
        balance: r.get(4)?,
        deposits: r.get(5)?,
        overdue,
        overdue_invoices,
        oldest_overdue_due,
        disputed: Money::from_minor(disputed.iter().map(|d| d.1).sum()),
        disputed_invoices: disputed.len() as u32,
        ..AccountSnapshot::default()
    })
}

/// For an enrolled till out of touch longer than the shop allows: how long, and what it sold
/// on account to this customer since the server last acknowledged its events.
fn offline(
    conn: &Connection,
    device: Uuid,
    customer_id: i64,
    after_hours: u32,
    now: Now,
) -> Result<Option<OfflineState>> {
    let row: Option<(Option<i64>, Option<i64>, i64)> = conn
        .prepare_cached(
            "SELECT last_success_at, enrolled_at, acked_seq FROM sync_state WHERE id = 1 AND server_url IS NOT NULL",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((last_success, enrolled_at, acked)) = row else { return Ok(None) };
    let since = last_success.or(enrolled_at).unwrap_or(0);
    let offline_ms = ms(now) - since;
    if offline_ms < i64::from(after_hours) * 3_600_000 {
        return Ok(None);
    }
    let unsynced: Money = conn
        .prepare_cached(
            "SELECT coalesce(sum(balance_effect), 0) FROM entries
             WHERE device_id = ?1 AND device_seq > ?2 AND customer_id = ?3 AND kind = 'sale'",
        )?
        .query_row(params![device, acked, customer_id], |r| r.get(0))?;
    Ok(Some(OfflineState {
        hours_offline: last_success.map(|_| u32::try_from(offline_ms / 3_600_000).unwrap_or(u32::MAX)),
        unsynced_sales: unsynced,
    }))
}

/// The first unused override of `today` for this customer that covers `cart`.
fn grant(conn: &Connection, customer_id: i64, today: NaiveDate, cart: Money) -> Result<Option<OverrideGrant>> {
    Ok(conn
        .prepare_cached(
            "SELECT uuid, manager, reason FROM overrides
             WHERE customer_id = ?1 AND business_date = ?2 AND amount >= ?3 AND used_by IS NULL ORDER BY id LIMIT 1",
        )?
        .query_row(params![customer_id, today, cart], |r| {
            Ok(OverrideGrant { id: r.get(0)?, manager: r.get(1)?, reason: r.get(2)? })
        })
        .optional()?)
}

/// The customer's last stored risk score, as a percentage, with its reasons.
fn late_risk(conn: &Connection, customer_id: i64) -> Result<Option<(u8, Vec<String>)>> {
    let found: Option<(f64, String)> = conn
        .prepare_cached("SELECT score, reasons FROM risk_scores WHERE customer_id = ?1")?
        .query_row([customer_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    found
        .map(|(score, reasons)| Ok(((score * 100.0).round().clamp(0.0, 100.0) as u8, serde_json::from_str(&reasons)?)))
        .transpose()
}
