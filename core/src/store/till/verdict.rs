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
pub(in crate::store) struct Ask<'a> {
    /// The customer's reference.
    pub(in crate::store) customer: &'a str,
    /// What would go on account.
    pub(in crate::store) cart: Money,
    /// The business day the sale is for (today, or the day of a backdated sale).
    pub(in crate::store) day: NaiveDate,
    /// The till's clock, which says how long it has been out of touch.
    pub(in crate::store) now: Now,
    pub(in crate::store) overrides: Overrides,
}

/// The verdict for `ask`, from `conn` (a reader, or the writer inside a sale).
pub(in crate::store) fn verdict(
    conn: &Connection,
    device: Uuid,
    rules: &CheckoutRules,
    ask: Ask<'_>,
) -> Result<Verdict> {
    let snap = snapshot(conn, device, rules, ask)?;
    Ok(checkout::check(&snap, rules, ask.cart, ask.day))
}

/// One row for the common case: the customer, the account, the till's sync state and the risk
/// score, with whether the customer has an open dispute or an unused override today. What
/// those flags point to is read only when they are set.
const SNAPSHOT: &str = "
SELECT c.id, c.reference, c.name, c.credit_limit, c.blocked, a.balance, a.deposits, a.oldest_due, a.open_dues,
       EXISTS (SELECT 1 FROM disputes d WHERE d.customer_id = c.id AND d.state = 'open'),
       EXISTS (SELECT 1 FROM overrides o WHERE o.customer_id = c.id AND o.business_date = ?2 AND o.used_by IS NULL),
       r.score, r.reasons, s.server_url IS NOT NULL, s.last_success_at, s.enrolled_at, s.acked_seq
FROM customers c JOIN accounts a ON a.customer_id = c.id JOIN sync_state s ON s.id = 1
     LEFT JOIN risk_scores r ON r.customer_id = c.id
WHERE c.reference = ?1";

/// Everything the checkout rules read about the customer of `ask`.
pub(in crate::store) fn snapshot(
    conn: &Connection,
    device: Uuid,
    rules: &CheckoutRules,
    ask: Ask<'_>,
) -> Result<AccountSnapshot> {
    let today = ask.day;
    let mut stmt = conn.prepare_cached(SNAPSHOT)?;
    let mut rows = stmt.query(params![ask.customer, today])?;
    let r = rows.next()?.ok_or_else(|| Error::UnknownCustomer(ask.customer.to_owned()))?;
    let customer_id: i64 = r.get(0)?;
    // Disputed invoices are not held against the customer while the dispute is open: what each
    // open one owes, and when it is due.
    let disputed: Vec<(NaiveDate, i64)> = if r.get(9)? { disputed(conn, customer_id)? } else { Vec::new() };
    let oldest_due: Option<NaiveDate> = r.get(7)?;
    let (overdue, overdue_invoices, oldest_overdue_due) = if oldest_due.is_some_and(|d| d < today) {
        OpenDues::from_row(r, 8)?.overdue(today, &disputed)?
    } else {
        (Money::ZERO, 0, None)
    };
    let grant = if ask.overrides == Overrides::Count && r.get::<_, bool>(10)? {
        grant(conn, customer_id, today, ask.cart)?
    } else {
        None
    };
    let score: Option<f64> = r.get(11)?;
    let late_risk = match (score, r.get::<_, Option<String>>(12)?) {
        (Some(score), Some(reasons)) => {
            Some(((score * 100.0).round().clamp(0.0, 100.0) as u8, serde_json::from_str(&reasons)?))
        }
        _ => None,
    };
    let offline = if r.get(13)? {
        let since: Option<i64> = r.get::<_, Option<i64>>(14)?;
        offline(conn, device, customer_id, (since, r.get(15)?, r.get(16)?), rules.offline_after_hours, ask.now)?
    } else {
        None
    };
    Ok(AccountSnapshot {
        customer_ref: r.get(1)?,
        customer_name: r.get(2)?,
        credit_limit: r.get(3)?,
        blocked: r.get(4)?,
        balance: r.get(5)?,
        deposits: r.get(6)?,
        overdue,
        overdue_invoices,
        oldest_overdue_due,
        disputed: Money::from_minor(disputed.iter().map(|d| d.1).sum()),
        disputed_invoices: disputed.len() as u32,
        offline,
        grant,
        late_risk,
    })
}

/// What each open, disputed invoice of the customer owes, and when it is due.
fn disputed(conn: &Connection, customer_id: i64) -> Result<Vec<(NaiveDate, i64)>> {
    Ok(conn
        .prepare_cached(
            "SELECT DISTINCT i.entry_uuid, i.due_on, i.amount - i.settled FROM disputes d JOIN items i ON i.entry_uuid = d.invoice
             WHERE d.customer_id = ?1 AND d.state = 'open' AND i.open = 1",
        )?
        .query_map([customer_id], |r| Ok((r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

/// For an enrolled till out of touch longer than the shop allows: how long, and what it sold
/// on account to this customer since the server last acknowledged its events. `sync` is the
/// last success, the enrolment and the last acknowledged sequence.
fn offline(
    conn: &Connection,
    device: Uuid,
    customer_id: i64,
    (last_success, enrolled_at, acked): (Option<i64>, Option<i64>, i64),
    after_hours: u32,
    now: Now,
) -> Result<Option<OfflineState>> {
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
