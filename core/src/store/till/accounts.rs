//! Account reads for the till: the checkout verdict, the account summary, the timeline, and
//! manager overrides. Each is a point lookup plus the customer's few open invoices.

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::checkout::{self, AccountSnapshot, CheckoutRules, Decision, Verdict};
use crate::customer::Customer;
use crate::entry::{Effect, Entry};
use crate::error::{Error, Result};
use crate::money::Money;
use crate::store::owner::reports::{date_key, date_of_key, dated_amount};
use crate::store::sync::replica::{self, Key, Table};
use crate::store::till::ledger::{ENTRY_SELECT, entry_from_row};
use crate::store::{Now, Store, customer_id, ms};

/// An invoice (or charge) not yet fully settled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenInvoice {
    pub reference: String,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub amount: Money,
    pub remaining: Money,
    /// Days past the due date; 0 when not yet overdue.
    pub days_overdue: u32,
}

/// A deposit still held, with the order it was taken for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositHeld {
    pub order_ref: Option<String>,
    pub amount: Money,
    pub remaining: Money,
}

/// Everything the till and the owner see about an account today.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub customer: Customer,
    /// What the customer owes; negative when they hold credit.
    pub balance: Money,
    pub overdue: Money,
    pub oldest_overdue_days: Option<u32>,
    /// The limit in force (the customer's, or the shop default).
    pub credit_limit: Option<Money>,
    pub available_credit: Option<Money>,
    pub deposits_available: Money,
    pub credit_on_account: Money,
    pub open_invoices: Vec<OpenInvoice>,
    pub deposits: Vec<DepositHeld>,
}

/// One line of the customer's history, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub entry: Entry,
    pub effect: Effect,
}

/// A manager's permission to sell on account despite a refusal, for one customer, one day, up
/// to one amount.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    pub id: Uuid,
    pub customer_ref: String,
    pub business_date: NaiveDate,
    pub amount: Money,
    pub manager: String,
    pub reason: String,
    pub verdict: Verdict,
}

/// The one-row read behind the checkout verdict; the open invoices are read only when the
/// oldest one is past due.
pub(in crate::store) fn snapshot_of(conn: &Connection, customer_id: i64, today: NaiveDate) -> Result<AccountSnapshot> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.reference, c.name, c.credit_limit, c.blocked, a.balance, a.deposits, a.oldest_due, a.open_dues
         FROM customers c JOIN accounts a ON a.customer_id = c.id WHERE c.id = ?1",
    )?;
    let mut rows = stmt.query([customer_id])?;
    let r = rows.next()?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    let today_s = today.to_string();
    // Disputed invoices are not held against the customer while the dispute is open: what each
    // open one owes, and when it is due.
    let disputed_items: Vec<(NaiveDate, i64)> = conn
        .prepare_cached(
            "SELECT DISTINCT i.entry_uuid, i.due_on, i.amount - i.settled FROM disputes d JOIN items i ON i.entry_uuid = d.invoice
             WHERE d.customer_id = ?1 AND d.state = 'open' AND i.open = 1",
        )?
        .query_map([customer_id], |r| Ok((r.get::<_, String>(1)?, r.get(2)?)))?
        .map(|row| {
            let (due, owed) = row?;
            Ok((crate::error::parse_date(&due)?, owed))
        })
        .collect::<Result<_>>()?;
    let oldest_due: Option<String> = r.get(6)?;
    let (overdue, count, oldest) = if oldest_due.is_some_and(|d| d < today_s) {
        // The account row lists what each open invoice owes by due date, oldest first (kept by
        // the fold with the rest of the row): the overdue ones are read from it rather than
        // from the items, less the disputed ones.
        let dues = r.get_ref(7)?.as_bytes().map_err(|e| Error::Corrupt(format!("open dues: {e}")))?;
        overdue_from_dues(dues, today, &disputed_items)?
    } else {
        (Money::ZERO, 0, None)
    };
    Ok(AccountSnapshot {
        customer_ref: r.get(0)?,
        customer_name: r.get(1)?,
        credit_limit: r.get::<_, Option<i64>>(2)?.map(Money::from_minor),
        blocked: r.get(3)?,
        balance: Money::from_minor(r.get(4)?),
        deposits: Money::from_minor(r.get(5)?),
        overdue,
        overdue_invoices: count,
        oldest_overdue_due: oldest,
        disputed: Money::from_minor(disputed_items.iter().map(|d| d.1).sum()),
        disputed_invoices: disputed_items.len() as u32,
    })
}

/// The sum, count and oldest due date of the open invoices due before `today` in an account's
/// `open_dues` ("YYYY-MM-DD owed,...", oldest first), leaving out one entry for each disputed
/// invoice (due date, owed): entries with the same two values are interchangeable here.
fn overdue_from_dues(
    dues: &[u8],
    today: NaiveDate,
    disputed: &[(NaiveDate, i64)],
) -> Result<(Money, u32, Option<NaiveDate>)> {
    let corrupt = |what: &[u8]| Error::Corrupt(format!("open dues: {:?}", String::from_utf8_lossy(what)));
    let today = date_key(today);
    let mut left_out: Vec<(u32, i64)> = disputed.iter().map(|(d, o)| (date_key(*d), *o)).collect();
    let (mut sum, mut count, mut oldest) = (0i64, 0u32, None);
    for part in dues.split(|&c| c == b',') {
        let (due, owed) = dated_amount(part).ok_or_else(|| corrupt(part))?;
        if due >= today {
            break;
        }
        if let Some(k) = left_out.iter().position(|d| *d == (due, owed)) {
            left_out.swap_remove(k);
            continue;
        }
        sum += owed;
        count += 1;
        if oldest.is_none() {
            oldest = Some(date_of_key(due).ok_or_else(|| corrupt(part))?);
        }
    }
    Ok((Money::from_minor(sum), count, oldest))
}

/// Finds an unused override of today covering `amount` and marks it used by `sale`.
pub(in crate::store) fn override_for_sale(
    conn: &Connection,
    customer_id: i64,
    date: NaiveDate,
    amount: Money,
    sale: Uuid,
) -> Result<Option<(Uuid, String, String)>> {
    let found: Option<(i64, Uuid, String, String)> = conn
        .prepare_cached(
            "SELECT id, uuid, manager, reason FROM overrides
             WHERE customer_id = ?1 AND business_date = ?2 AND amount >= ?3 AND used_by IS NULL ORDER BY id LIMIT 1",
        )?
        .query_row(params![customer_id, date.to_string(), amount.minor()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((row, id, manager, reason)) = found else { return Ok(None) };
    conn.prepare_cached("UPDATE overrides SET used_by = ?2 WHERE id = ?1")?.execute(params![row, sale])?;
    Ok(Some((id, manager, reason)))
}

impl Store {
    /// May this customer buy `cart_total` on account now? Offline, from one row.
    pub fn check(&self, customer: &str, cart_total: Money, now: Now) -> Result<Verdict> {
        if cart_total.is_negative() {
            return Err(Error::NotPositive { field: "cart total", amount: cart_total });
        }
        let today = now.date_naive();
        let cid = customer_id(&self.conn, customer)?;
        let snap = snapshot_of(&self.conn, cid, today)?;
        let mut verdict = checkout::check(&snap, &self.settings.checkout, cart_total, today);
        guard_offline(&self.conn, self.device_id, &self.settings.checkout, cid, &mut verdict, now)?;
        crate::store::owner::risk::annotate(&self.conn, cid, &mut verdict)?;
        Ok(verdict)
    }

    /// Records a manager's override of today's verdict for this customer and amount; the next
    /// sale on account within it goes through, and carries the override's id.
    pub fn override_checkout(
        &mut self,
        customer: &str,
        cart_total: Money,
        manager: &str,
        reason: &str,
        now: Now,
    ) -> Result<Override> {
        if !cart_total.is_positive() {
            return Err(Error::NotPositive { field: "cart total", amount: cart_total });
        }
        let (manager, reason) = (manager.trim(), reason.trim());
        if manager.is_empty() || reason.is_empty() {
            return Err(Error::Invalid { field: "override", reason: "needs the manager's name and a reason".into() });
        }
        let verdict = self.check(customer, cart_total, now)?;
        if verdict.decision != Decision::Refuse {
            return Err(Error::Invalid {
                field: "override",
                reason: format!("nothing to override: the sale is allowed ({})", verdict.summary()),
            });
        }
        let ov = Override {
            id: Uuid::new_v4(),
            customer_ref: customer.to_owned(),
            business_date: now.date_naive(),
            amount: cart_total,
            manager: manager.to_owned(),
            reason: reason.to_owned(),
            verdict,
        };
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO overrides (uuid, customer_id, business_date, amount, manager, reason, verdict, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                ov.id,
                customer_id(&tx, customer)?,
                ov.business_date.to_string(),
                ov.amount.minor(),
                ov.manager,
                ov.reason,
                serde_json::to_string(&ov.verdict)?,
                ms(now)
            ],
        )?;
        let row = tx.last_insert_rowid();
        replica::emit(&tx, Table::Overrides, Key::Rowid(row), now)?;
        tx.commit()?;
        Ok(ov)
    }

    /// The account as of `today`: balance, overdue, limits, open invoices, deposits held.
    pub fn account(&self, customer: &str, today: NaiveDate) -> Result<AccountSummary> {
        let (id, c) = self.customer_row(customer)?;
        let snap = snapshot_of(&self.conn, id, today)?;
        let credit: i64 = self
            .conn
            .prepare_cached("SELECT credit FROM accounts WHERE customer_id = ?1")?
            .query_row([id], |r| r.get(0))?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT reference, issued_on, due_on, amount, settled FROM items WHERE customer_id = ?1 AND open = 1 ORDER BY due_on, issued_on",
        )?;
        let open_invoices = stmt
            .query_map([id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })?
            .map(|row| {
                let (reference, issued, due, amount, settled) = row?;
                let due_on = crate::error::parse_date(&due)?;
                Ok(OpenInvoice {
                    reference,
                    issued_on: crate::error::parse_date(&issued)?,
                    due_on,
                    amount: Money::from_minor(amount),
                    remaining: Money::from_minor(amount - settled),
                    days_overdue: u32::try_from((today - due_on).num_days()).unwrap_or(0),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT order_ref, amount, remaining FROM deposit_lots WHERE customer_id = ?1 AND remaining > 0 ORDER BY order_key",
        )?;
        let deposits = stmt
            .query_map([id], |r| {
                Ok(DepositHeld {
                    order_ref: r.get(0)?,
                    amount: Money::from_minor(r.get(1)?),
                    remaining: Money::from_minor(r.get(2)?),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let verdict = checkout::check(&snap, &self.settings.checkout, Money::ZERO, today);
        Ok(AccountSummary {
            customer: c,
            balance: snap.balance,
            overdue: snap.overdue,
            oldest_overdue_days: verdict.oldest_overdue_days,
            credit_limit: verdict.credit_limit,
            available_credit: verdict.available_credit,
            deposits_available: verdict.deposits_available,
            credit_on_account: Money::from_minor(credit),
            open_invoices,
            deposits,
        })
    }

    /// The customer's entries, newest first.
    pub fn timeline(&self, customer: &str, limit: usize) -> Result<Vec<TimelineEvent>> {
        let id = customer_id(&self.conn, customer)?;
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{ENTRY_SELECT} WHERE e.customer_id = ?1 ORDER BY e.order_key DESC LIMIT ?2"))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![id, limit], |r| {
            let effect = Effect { balance: Money::from_minor(r.get(8)?), deposits: Money::from_minor(r.get(9)?) };
            Ok(entry_from_row(r)?.map(|entry| TimelineEvent { entry, effect }))
        })?;
        rows.map(|r| r?).collect()
    }
}

/// Adds the offline cap to a verdict when this till is enrolled and out of touch.
pub(in crate::store) fn guard_offline(
    conn: &Connection,
    device: Uuid,
    rules: &CheckoutRules,
    cid: i64,
    verdict: &mut Verdict,
    now: Now,
) -> Result<()> {
    if let Some(state) = crate::store::sync::state::offline_state(conn, device, cid, rules.offline_after_hours, now)? {
        checkout::guard_offline(verdict, rules, state);
    }
    Ok(())
}
