//! Ledger writes: validate, append the entry and its outbox row, and fold it into the account,
//! all in one transaction. Also ingests entries from elsewhere (replay, later sync).

use std::collections::HashMap;

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::account::{AccountState, Allocation, CreditLot, DepositLot, Item};
use crate::checkout::Verdict;
use crate::customer::Terms;
use crate::entry::{Entry, EntryBody, OrderKey, PaymentMethod, REASON_MAX, REFERENCE_MAX};
use crate::error::{Error, Result};
use crate::money::Money;
use crate::store::db::open_dues::OpenDues;
use crate::store::db::values::{ENTRY_SELECT, Now, entry_from_row, text};

/// A sale on account at the till.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleRequest {
    pub customer: String,
    pub amount: Money,
    /// Business date; today when `None`.
    pub date: Option<NaiveDate>,
    /// Invoice number; the device numbers it when `None`.
    pub invoice_ref: Option<String>,
    pub cashier: String,
    /// Part of the sale paid at once from deposits held for the customer (an order picked up);
    /// only the rest is on account and judged by the checkout.
    #[serde(default)]
    pub deposit: Option<Money>,
}

/// Every other ledger write. Invoices are named by their reference, entries by their id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryRequest {
    Payment {
        amount: Money,
        method: PaymentMethod,
        invoice: Option<String>,
    },
    DepositTake {
        amount: Money,
        method: PaymentMethod,
        order_ref: Option<String>,
    },
    DepositApply {
        amount: Money,
        invoice: Option<String>,
    },
    DepositRefund {
        amount: Money,
        method: PaymentMethod,
    },
    CreditNote {
        amount: Money,
        reason: String,
        invoice: Option<String>,
    },
    /// Signed: positive charges the customer, negative reduces what they owe.
    Adjustment {
        amount: Money,
        reason: String,
    },
    WriteOff {
        amount: Money,
        reason: String,
        invoice: Option<String>,
    },
    Reversal {
        entry: Uuid,
        reason: String,
    },
}

/// What a write returns: the entry as stored and the account right after it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Recorded {
    pub entry: Entry,
    pub balance: Money,
    pub deposits: Money,
    /// The checkout verdict a sale was recorded under.
    pub verdict: Option<Verdict>,
    /// The deposit applied to a sale in the same transaction, if any.
    pub deposit_applied: Option<Entry>,
}

pub(in crate::store) fn positive(field: &'static str, amount: Money) -> Result<()> {
    if amount.is_positive() { Ok(()) } else { Err(Error::NotPositive { field, amount }) }
}

pub(in crate::store) fn business_date(date: Option<NaiveDate>, now: Now) -> Result<NaiveDate> {
    let today = now.date_naive();
    match date {
        Some(d) if d > today => {
            Err(Error::Invalid { field: "date", reason: format!("{d} is in the future (today is {today})") })
        }
        Some(d) => Ok(d),
        None => Ok(today),
    }
}

/// The customer a write is for: its row id, its id across devices, and its terms.
#[derive(Debug)]
pub(in crate::store) struct Target {
    pub(in crate::store) id: i64,
    pub(in crate::store) uuid: Uuid,
    pub(in crate::store) terms: Terms,
}

pub(in crate::store) fn customer_in(conn: &Connection, reference: &str) -> Result<Target> {
    let row: Option<(i64, Uuid, String)> = conn
        .prepare_cached("SELECT id, uuid, terms FROM customers WHERE reference = ?1")?
        .query_row([reference], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let (id, uuid, terms) = row.ok_or_else(|| Error::UnknownCustomer(reference.to_owned()))?;
    Ok(Target { id, uuid, terms: terms.parse()? })
}

/// An open invoice of this customer, by reference, that an amount dated `date` may settle.
fn aimed_invoice(
    tx: &Transaction<'_>,
    customer_id: i64,
    date: NaiveDate,
    reference: Option<String>,
) -> Result<Option<Uuid>> {
    let Some(reference) = reference else { return Ok(None) };
    let row: Option<(Uuid, i64, String, bool)> = tx
        .prepare_cached("SELECT entry_uuid, customer_id, issued_on, open FROM items WHERE reference = ?1")?
        .query_row([&reference], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    match row {
        Some((id, owner, issued, open)) if owner == customer_id => {
            if !open {
                return Err(Error::InvoiceSettled { invoice: reference });
            }
            if issued.as_str() > date.to_string().as_str() {
                return Err(Error::Invalid {
                    field: "date",
                    reason: format!("invoice {reference} was issued on {issued}, after {date}"),
                });
            }
            Ok(Some(id))
        }
        _ => Err(Error::UnknownInvoice(reference)),
    }
}

fn account_totals(tx: &Transaction<'_>, customer_id: i64) -> Result<(Money, Option<String>)> {
    Ok(tx
        .prepare_cached("SELECT deposits, last_date FROM accounts WHERE customer_id = ?1")?
        .query_row([customer_id], |r| Ok((Money::from_minor(r.get(0)?), r.get(1)?)))?)
}

/// Deposit use is checked against what is held now, so it cannot be dated before the
/// account's latest entry (it would spend a deposit the fold has not yet seen).
pub(in crate::store) fn deposit_use(
    tx: &Transaction<'_>,
    customer_id: i64,
    date: NaiveDate,
    amount: Money,
) -> Result<()> {
    positive("amount", amount)?;
    let (available, last_date) = account_totals(tx, customer_id)?;
    if amount > available {
        return Err(Error::InsufficientDeposit { requested: amount, available: available.clamp_zero() });
    }
    if last_date.is_some_and(|d| d.as_str() > date.to_string().as_str()) {
        return Err(Error::Invalid {
            field: "date",
            reason: "a deposit cannot be used before the account's latest entry".into(),
        });
    }
    Ok(())
}

pub(in crate::store) fn validate(
    tx: &Transaction<'_>,
    customer_id: i64,
    date: NaiveDate,
    req: EntryRequest,
) -> Result<EntryBody> {
    Ok(match req {
        EntryRequest::Payment { amount, method, invoice } => {
            positive("amount", amount)?;
            EntryBody::Payment { amount, method, invoice: aimed_invoice(tx, customer_id, date, invoice)? }
        }
        EntryRequest::DepositTake { amount, method, order_ref } => {
            positive("amount", amount)?;
            let order_ref = order_ref.map(|o| text("order reference", &o, REFERENCE_MAX)).transpose()?;
            EntryBody::DepositReceived { amount, method, order_ref }
        }
        EntryRequest::DepositApply { amount, invoice } => {
            deposit_use(tx, customer_id, date, amount)?;
            EntryBody::DepositApplied { amount, invoice: aimed_invoice(tx, customer_id, date, invoice)? }
        }
        EntryRequest::DepositRefund { amount, method } => {
            deposit_use(tx, customer_id, date, amount)?;
            EntryBody::DepositRefunded { amount, method }
        }
        EntryRequest::CreditNote { amount, reason, invoice } => {
            positive("amount", amount)?;
            let reason = text("reason", &reason, REASON_MAX)?;
            EntryBody::CreditNote { amount, reason, invoice: aimed_invoice(tx, customer_id, date, invoice)? }
        }
        EntryRequest::Adjustment { amount, reason } => {
            if amount.is_zero() {
                return Err(Error::NotPositive { field: "adjustment", amount });
            }
            let reason = text("reason", &reason, REASON_MAX)?;
            let n: i64 = tx.query_row("SELECT next_seq FROM device WHERE id = 1", [], |r| r.get(0))?;
            let prefix: String = tx.query_row("SELECT prefix FROM device WHERE id = 1", [], |r| r.get(0))?;
            EntryBody::Adjustment { amount, reason, reference: format!("ADJ-{prefix}-{n:06}"), fee: false }
        }
        EntryRequest::WriteOff { amount, reason, invoice } => {
            positive("amount", amount)?;
            let reason = text("reason", &reason, REASON_MAX)?;
            EntryBody::WriteOff { amount, reason, invoice: aimed_invoice(tx, customer_id, date, invoice)? }
        }
        EntryRequest::Reversal { entry, reason } => {
            let reason = text("reason", &reason, REASON_MAX)?;
            validate_reversal(tx, customer_id, date, entry)?;
            EntryBody::Reversal { of: entry, reason }
        }
    })
}

fn validate_reversal(tx: &Transaction<'_>, customer_id: i64, date: NaiveDate, target: Uuid) -> Result<()> {
    let row: Option<(i64, String, String)> = tx
        .prepare_cached("SELECT customer_id, kind, business_date FROM entries WHERE uuid = ?1")?
        .query_row([target], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((owner, kind, target_date)) = row.filter(|r| r.0 == customer_id) else {
        return Err(Error::UnknownEntry(target.to_string()));
    };
    let _ = owner;
    let id = target.to_string();
    if kind == "reversal" {
        return Err(Error::NotReversible(id, "a reversal is corrected by a new entry, not reversed"));
    }
    if tx.prepare_cached("SELECT 1 FROM entries WHERE reverses = ?1")?.exists([target])? {
        return Err(Error::NotReversible(id, "it was already reversed"));
    }
    if target_date.as_str() > date.to_string().as_str() {
        return Err(Error::NotReversible(id, "the reversal would be dated before the entry"));
    }
    if kind == "deposit_received" {
        let untouched: bool = tx
            .prepare_cached("SELECT remaining = amount FROM deposit_lots WHERE entry_uuid = ?1")?
            .query_row([target], |r| r.get(0))
            .optional()?
            .unwrap_or(false);
        if !untouched {
            return Err(Error::NotReversible(id, "the deposit was already used; reverse its use or refund it"));
        }
    }
    if kind == "deposit_applied" || kind == "deposit_refunded" {
        let (_, last) = account_totals(tx, customer_id)?;
        if last.is_some_and(|d| d.as_str() > date.to_string().as_str()) {
            return Err(Error::Invalid {
                field: "date",
                reason: "cannot be dated before the account's latest entry".into(),
            });
        }
    }
    Ok(())
}

pub(in crate::store) fn target_by_id(tx: &Transaction<'_>, customer_id: i64) -> Result<Target> {
    let (uuid, terms): (Uuid, String) = tx
        .prepare_cached("SELECT uuid, terms FROM customers WHERE id = ?1")?
        .query_row([customer_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(Target { id: customer_id, uuid, terms: terms.parse()? })
}

pub(in crate::store) fn reversed_entry(conn: &Connection, body: &EntryBody, customer: Uuid) -> Result<Option<Entry>> {
    let EntryBody::Reversal { of, .. } = body else { return Ok(None) };
    let found = conn
        .prepare_cached(&format!("{ENTRY_SELECT} WHERE e.uuid = ?1"))?
        .query_row([of], entry_from_row)
        .optional()?
        .transpose()?;
    match found {
        Some(e) if e.customer == customer => Ok(Some(e)),
        _ => Err(Error::UnknownEntry(of.to_string())),
    }
}

pub(in crate::store) fn insert_entry(
    tx: &Transaction<'_>,
    customer_id: i64,
    e: &Entry,
    reversed: Option<&Entry>,
) -> Result<()> {
    let effect = e.body.effect(reversed.map(|r| &r.body));
    let reverses = match &e.body {
        EntryBody::Reversal { of, .. } => Some(*of),
        _ => None,
    };
    tx.prepare_cached(
        "INSERT INTO entries (uuid, device_id, device_seq, customer_id, kind, balance_effect, deposit_effect,
         business_date, recorded_at, cashier, order_key, reverses, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        e.id,
        e.device_id,
        e.device_seq as i64,
        customer_id,
        e.body.kind(),
        effect.balance.minor(),
        effect.deposits.minor(),
        e.business_date.to_string(),
        e.recorded_at.timestamp_millis(),
        e.cashier,
        e.order_key().0,
        reverses,
        serde_json::to_string(&e.body)?
    ])?;
    Ok(())
}

/// Folds an entry into its account: incrementally when it comes last in the fold order (the
/// usual case at a till), or by refolding the whole account when it lands in the past.
pub(in crate::store) fn fold_in(
    tx: &Transaction<'_>,
    customer_id: i64,
    e: &Entry,
    reversed: Option<&Entry>,
) -> Result<(Money, Money)> {
    let (last, balance, deposits): (Option<String>, i64, i64) = tx
        .prepare_cached("SELECT last_key, balance, deposits FROM accounts WHERE customer_id = ?1")?
        .query_row([customer_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let key = e.order_key();
    if last.as_ref().is_some_and(|l| *l > key.0) {
        return refold(tx, customer_id);
    }
    let target = reversed.map(|r| r.id);
    let totals = AccountState {
        balance: Money::from_minor(balance),
        deposits: Money::from_minor(deposits),
        ..Default::default()
    };
    let mut state = load_state(tx, customer_id, totals, target)?;
    state.apply(e, reversed);
    let last_date = e.business_date;
    save_state(tx, customer_id, &state, Rows::NewOf(e.id), &key, last_date)?;
    Ok((state.balance, state.deposits))
}

/// Rebuilds one account's projection from its entries in fold order. The projection is
/// derived data; the entries themselves are never touched.
pub(in crate::store) fn refold(tx: &Transaction<'_>, customer_id: i64) -> Result<(Money, Money)> {
    // An allocation always settles one of its customer's own items (the audit holds it): they
    // are found through those, since no index leads with the allocations' customer.
    tx.prepare_cached("DELETE FROM allocations WHERE item IN (SELECT entry_uuid FROM items WHERE customer_id = ?1)")?
        .execute([customer_id])?;
    for table in ["items", "credit_lots", "deposit_lots"] {
        tx.prepare_cached(&format!("DELETE FROM {table} WHERE customer_id = ?1"))?.execute([customer_id])?;
    }
    let entries: Vec<Entry> = {
        let mut stmt = tx.prepare_cached(&format!("{ENTRY_SELECT} WHERE e.customer_id = ?1 ORDER BY e.order_key"))?;
        let rows = stmt.query_map([customer_id], entry_from_row)?;
        rows.map(|r| r?).collect::<Result<_>>()?
    };
    let mut state = AccountState::default();
    let mut seen: HashMap<Uuid, &Entry> = HashMap::new();
    let mut undone: std::collections::HashSet<Uuid> = std::collections::HashSet::new();
    for e in &entries {
        let reversed = match &e.body {
            EntryBody::Reversal { of, .. } if undone.insert(*of) => seen.get(of).copied(),
            _ => None,
        };
        if matches!(e.body, EntryBody::Reversal { .. }) {
            // A second reversal of one entry (two tills, offline) is kept but moves nothing.
            let effect = e.body.effect(reversed.map(|r| &r.body));
            tx.prepare_cached(
                "UPDATE entries SET balance_effect = ?2, deposit_effect = ?3
                 WHERE uuid = ?1 AND (balance_effect != ?2 OR deposit_effect != ?3)",
            )?
            .execute(params![e.id, effect.balance.minor(), effect.deposits.minor()])?;
        }
        state.apply(e, reversed);
        seen.insert(e.id, e);
    }
    if let Some(last) = entries.last() {
        save_state(tx, customer_id, &state, Rows::AllNew, &last.order_key(), last.business_date)?;
    }
    Ok((state.balance, state.deposits))
}

/// Folds the first entries of an account that had none, already inserted (an import), in
/// memory, oldest first. Imports carry no reversals.
pub(in crate::store) fn fold_first(tx: &Transaction<'_>, customer_id: i64, mut entries: Vec<Entry>) -> Result<()> {
    entries.sort_by_cached_key(Entry::order_key);
    let mut state = AccountState::default();
    for e in &entries {
        state.apply(e, None);
    }
    if let Some(last) = entries.last() {
        save_state(tx, customer_id, &state, Rows::AllNew, &last.order_key(), last.business_date)?;
    }
    Ok(())
}

/// The account's open rows, added to `state` (its totals, already read), and with them what a
/// reversal of `target` undoes.
fn load_state(
    tx: &Transaction<'_>,
    customer_id: i64,
    mut state: AccountState,
    target: Option<Uuid>,
) -> Result<AccountState> {
    let item_cols =
        "entry_uuid, reference, issued_on, due_on, amount, settled, cancelled, order_key, charge, closed_on FROM items";
    let lot_cols = "entry_uuid, amount, remaining, cancelled, order_key FROM credit_lots";
    let dep_cols = "entry_uuid, order_ref, amount, remaining, order_key FROM deposit_lots";
    // Named: without statistics SQLite takes `items_by_customer` (every invoice the customer
    // ever had, each looked up in the table to test `open`) over the partial index of the open
    // ones; on a shop of 5,000,000 entries that was 0.3 to 0.5 ms of every write against 0.04.
    load_items(
        tx,
        &format!("SELECT {item_cols} INDEXED BY items_open WHERE customer_id = ?1 AND open = 1"),
        customer_id,
        &mut state.items,
    )?;
    load_lots(
        tx,
        &format!("SELECT {lot_cols} WHERE customer_id = ?1 AND remaining > 0"),
        customer_id,
        &mut state.credits,
    )?;
    load_deposits(
        tx,
        &format!("SELECT {dep_cols} WHERE customer_id = ?1 AND remaining != 0"),
        customer_id,
        &mut state.deposit_lots,
    )?;
    if let Some(t) = target {
        // A reversal also needs what it undoes: the entry's own row, the rows it is allocated
        // to or from, and those allocations.
        let related =
            "(SELECT item FROM allocations WHERE source = ?1 UNION SELECT source FROM allocations WHERE item = ?1)";
        load_items(
            tx,
            &format!("SELECT {item_cols} WHERE entry_uuid = ?1 OR entry_uuid IN {related}"),
            t,
            &mut state.items,
        )?;
        load_lots(
            tx,
            &format!("SELECT {lot_cols} WHERE entry_uuid = ?1 OR entry_uuid IN {related}"),
            t,
            &mut state.credits,
        )?;
        load_deposits(tx, &format!("SELECT {dep_cols} WHERE entry_uuid = ?1"), t, &mut state.deposit_lots)?;
        let mut stmt = tx.prepare_cached(
            "SELECT source, item, amount, by_entry, on_date FROM allocations WHERE source = ?1 OR item = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([t], |r| {
            Ok(Allocation {
                source: r.get(0)?,
                item: r.get(1)?,
                amount: Money::from_minor(r.get(2)?),
                by: r.get(3)?,
                on: date_col(r, 4)?,
            })
        })?;
        state.allocations = rows.collect::<Result<_, _>>()?;
    }
    Ok(state)
}

fn date_col(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<NaiveDate> {
    let s: String = r.get(i)?;
    crate::error::parse_date(&s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
}

/// Appends the rows `sql` returns to `out`, skipping any already loaded (same entry id).
fn load_into<T>(
    tx: &Transaction<'_>,
    sql: &str,
    arg: impl rusqlite::ToSql,
    out: &mut Vec<T>,
    row: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    id: fn(&T) -> Uuid,
) -> Result<()> {
    let mut stmt = tx.prepare_cached(sql)?;
    for found in stmt.query_map([arg], row)? {
        let found = found?;
        if !out.iter().any(|x| id(x) == id(&found)) {
            out.push(found);
        }
    }
    Ok(())
}

fn load_items(tx: &Transaction<'_>, sql: &str, arg: impl rusqlite::ToSql, out: &mut Vec<Item>) -> Result<()> {
    let row = |r: &rusqlite::Row<'_>| {
        Ok(Item {
            entry: r.get(0)?,
            reference: r.get(1)?,
            issued_on: date_col(r, 2)?,
            due_on: date_col(r, 3)?,
            amount: Money::from_minor(r.get(4)?),
            settled: Money::from_minor(r.get(5)?),
            cancelled: r.get(6)?,
            key: OrderKey(r.get(7)?),
            charge: r.get(8)?,
            closed_on: r.get::<_, Option<String>>(9)?.and_then(|d| crate::error::parse_date(&d).ok()),
            dirty: false,
        })
    };
    load_into(tx, sql, arg, out, row, |i| i.entry)
}

fn load_lots(tx: &Transaction<'_>, sql: &str, arg: impl rusqlite::ToSql, out: &mut Vec<CreditLot>) -> Result<()> {
    let row = |r: &rusqlite::Row<'_>| {
        Ok(CreditLot {
            entry: r.get(0)?,
            amount: Money::from_minor(r.get(1)?),
            remaining: Money::from_minor(r.get(2)?),
            cancelled: r.get(3)?,
            key: OrderKey(r.get(4)?),
            dirty: false,
        })
    };
    load_into(tx, sql, arg, out, row, |l| l.entry)
}

fn load_deposits(tx: &Transaction<'_>, sql: &str, arg: impl rusqlite::ToSql, out: &mut Vec<DepositLot>) -> Result<()> {
    let row = |r: &rusqlite::Row<'_>| {
        Ok(DepositLot {
            entry: r.get(0)?,
            order_ref: r.get(1)?,
            amount: Money::from_minor(r.get(2)?),
            remaining: Money::from_minor(r.get(3)?),
            key: OrderKey(r.get(4)?),
            dirty: false,
        })
    };
    load_into(tx, sql, arg, out, row, |l| l.entry)
}

/// Which of a state's rows are not in the tables yet.
#[derive(Clone, Copy, Debug)]
enum Rows {
    /// Those of this entry (the one folded in): the others were loaded.
    NewOf(Uuid),
    /// All of them (the account was emptied to be folded again, or had nothing).
    AllNew,
}

impl Rows {
    fn is_new(self, entry: Uuid) -> bool {
        match self {
            Rows::NewOf(e) => e == entry,
            Rows::AllNew => true,
        }
    }
}

fn save_state(
    tx: &Transaction<'_>,
    customer_id: i64,
    s: &AccountState,
    rows: Rows,
    key: &OrderKey,
    last_date: NaiveDate,
) -> Result<()> {
    // An item already stored is updated in what a fold changes, not inserted again: an upsert
    // looks for the row as an insert first, through each unique index, and a REPLACE would
    // skip the delete trigger that keeps `day_totals`.
    let mut update = tx.prepare_cached(
        "UPDATE items SET settled = ?2, cancelled = ?3, open = ?4, closed_on = ?5 WHERE entry_uuid = ?1",
    )?;
    for i in s.items.iter().filter(|i| i.dirty && !rows.is_new(i.entry)) {
        let changed = update.execute(params![
            i.entry,
            i.settled.minor(),
            i.cancelled,
            i.is_open(),
            i.closed_on.map(|d| d.to_string())
        ])?;
        if changed != 1 {
            return Err(Error::Corrupt(format!("the item of entry {} is missing from its account", i.entry)));
        }
    }
    let mut items = tx.prepare_cached(
        "INSERT INTO items (entry_uuid, customer_id, reference, issued_on, due_on, amount, settled, cancelled, order_key, open, charge, closed_on)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for i in s.items.iter().filter(|i| i.dirty && rows.is_new(i.entry)) {
        items.execute(params![
            i.entry,
            customer_id,
            i.reference,
            i.issued_on.to_string(),
            i.due_on.to_string(),
            i.amount.minor(),
            i.settled.minor(),
            i.cancelled,
            i.key.0,
            i.is_open(),
            i.charge,
            i.closed_on.map(|d| d.to_string())
        ])?;
    }
    let mut lots = tx.prepare_cached(
        "INSERT OR REPLACE INTO credit_lots (entry_uuid, customer_id, amount, remaining, cancelled, order_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for l in s.credits.iter().filter(|l| l.dirty) {
        lots.execute(params![l.entry, customer_id, l.amount.minor(), l.remaining.minor(), l.cancelled, l.key.0])?;
    }
    let mut deps = tx.prepare_cached(
        "INSERT OR REPLACE INTO deposit_lots (entry_uuid, customer_id, order_ref, amount, remaining, order_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for d in s.deposit_lots.iter().filter(|d| d.dirty) {
        deps.execute(params![d.entry, customer_id, d.order_ref, d.amount.minor(), d.remaining.minor(), d.key.0])?;
    }
    let mut allocs = tx.prepare_cached(
        "INSERT INTO allocations (customer_id, source, item, amount, by_entry, on_date) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for a in &s.new_allocations {
        allocs.execute(params![customer_id, a.source, a.item, a.amount.minor(), a.by, a.on.to_string()])?;
    }
    // Every open item and unallocated credit is in the loaded state, so these are complete.
    let open: Vec<(NaiveDate, i64)> = s.open_items().map(|i| (i.due_on, i.remaining().minor())).collect();
    let oldest_due = open.iter().map(|(d, _)| *d).min();
    let open_items = open.len() as i64;
    let open_dues = OpenDues::write(open);
    tx.prepare_cached(
        "UPDATE accounts SET balance = ?2, deposits = ?3, credit = ?4, open_items = ?5,
         last_key = max(coalesce(last_key, ''), ?6), last_date = max(coalesce(last_date, ''), ?7), open_dues = ?8
         WHERE customer_id = ?1",
    )?
    .execute(params![
        customer_id,
        s.balance.minor(),
        s.deposits.minor(),
        s.unallocated_credit().minor(),
        open_items,
        key.0,
        last_date.to_string(),
        open_dues
    ])?;
    // Apart, and only when it changes: SQLite rewrites an index entry for every column a
    // statement sets, even to the same value, and most writes leave the oldest due date as it
    // was (one page of `accounts_by_oldest_due` fewer per sale or payment).
    tx.prepare_cached("UPDATE accounts SET oldest_due = ?2 WHERE customer_id = ?1 AND oldest_due IS NOT ?2")?
        .execute(params![customer_id, oldest_due])?;
    Ok(())
}
