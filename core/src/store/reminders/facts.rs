//! What the daily run and the queue read about one customer: the invoices due, what was paid on
//! them and since each promise or plan, the customer's pauses and the reminders already sent.

use std::collections::HashMap;

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use crate::dunning::daily::{ActivePlan, Facts, OpenPromise};
use crate::dunning::ladder::Channel;
use crate::dunning::plan::Instalment;
use crate::dunning::run::DueInvoice;
use crate::dunning::wording::Contacted;
use crate::error::Result;
use crate::money::Money;
use crate::store::till::customer_rows::{COLUMNS, from_row};

/// The facts of one customer, with the invoices due before `horizon`.
pub(in crate::store) fn gather(conn: &Connection, customer_id: i64, horizon: NaiveDate) -> Result<Facts> {
    let customer = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM customers WHERE id = ?1"))?
        .query_row([customer_id], from_row)?;
    let invoices = due_invoices(conn, customer_id, horizon)?;
    let payments = payments(conn, customer_id, &invoices)?;
    let last_contact: Option<NaiveDate> = conn
        .prepare_cached("SELECT max(created_on) FROM reminders WHERE customer_id = ?1 AND state != 'cancelled'")?
        .query_row([customer_id], |r| r.get(0))?;
    /// A customer's own dunning settings row: ladder, excluded, hold until, hold reason,
    /// insolvent since.
    type Settings = (Option<String>, bool, Option<NaiveDate>, Option<String>, Option<NaiveDate>);
    let row: Option<Settings> = conn
        .prepare_cached(
            "SELECT ladder, excluded, hold_until, hold_reason, insolvent_since FROM dunning_customers WHERE customer_id = ?1",
        )?
        .query_row([customer_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .optional()?;
    let (ladder, excluded, hold_until, hold_reason, insolvent_since) = row.unwrap_or((None, false, None, None, None));
    let promises = {
        let mut stmt = conn.prepare_cached(
            "SELECT id, promised_on, amount, created_key FROM promises WHERE customer_id = ?1 AND state = 'open'",
        )?;
        let rows = stmt.query_map([customer_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, NaiveDate>(1)?, r.get::<_, Money>(2)?, r.get::<_, String>(3)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, on, amount, key) = row?;
            out.push(OpenPromise { id, on, amount, paid_since: paid_since(conn, customer_id, &key)? });
        }
        out
    };
    let plans = {
        let mut stmt = conn.prepare_cached(
            "SELECT id, instalments, grace_days, created_key FROM plans WHERE customer_id = ?1 AND state = 'active'",
        )?;
        let rows = stmt.query_map([customer_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, u32>(2)?, r.get::<_, String>(3)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, instalments, grace_days, key) = row?;
            let instalments: Vec<Instalment> = serde_json::from_str(&instalments)?;
            out.push(ActivePlan { id, instalments, grace_days, paid_since: paid_since(conn, customer_id, &key)? });
        }
        out
    };
    // Consumers owe interest from the day the formal notice was sent: one queued, held or
    // failed was never received, so it starts nothing.
    let notice_on: Option<NaiveDate> = conn
        .prepare_cached(
            "SELECT min(sent_on) FROM reminders WHERE customer_id = ?1 AND kind = 'formal_notice' AND state = 'sent'",
        )?
        .query_row([customer_id], |r| r.get(0))?;
    // A letter lists what the customer actually received, on the day it went.
    let history = {
        let mut stmt = conn.prepare_cached(
            "SELECT id, coalesce(sent_on, created_on), step, channel FROM reminders WHERE customer_id = ?1 AND state = 'sent'
             ORDER BY coalesce(sent_on, created_on), created_at",
        )?;
        let rows = stmt.query_map([customer_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, NaiveDate>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, on, step, channel) = row?;
            out.push(Contacted { id, on, step, channel: Channel::parse(&channel)? });
        }
        out
    };
    Ok(Facts {
        customer,
        invoices,
        payments,
        last_contact,
        ladder,
        excluded,
        hold: hold_reason.map(|reason| (hold_until, reason)),
        promises,
        plans,
        notice_on,
        insolvent_since,
        history,
    })
}

/// Unpaid invoices due before `horizon`, without disputed or stopped ones (nor fees), with the
/// level each was already chased at.
fn due_invoices(conn: &Connection, customer_id: i64, horizon: NaiveDate) -> Result<Vec<DueInvoice>> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.entry_uuid, i.reference, i.issued_on, i.due_on, i.amount, i.amount - i.settled,
                (SELECT max(ri.level) FROM reminder_invoices ri JOIN reminders r ON r.id = ri.reminder_id
                  WHERE ri.invoice = i.entry_uuid AND r.state != 'cancelled')
         FROM items i
         WHERE i.customer_id = ?1 AND i.open = 1 AND i.due_on < ?2
           AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.invoice = i.entry_uuid AND d.state = 'open')
           AND NOT EXISTS (SELECT 1 FROM invoice_stops s WHERE s.invoice = i.entry_uuid)
           AND NOT EXISTS (SELECT 1 FROM entries e WHERE e.uuid = i.entry_uuid AND e.kind = 'adjustment'
                           AND json_extract(e.body, '$.fee'))
         ORDER BY i.due_on, i.issued_on",
    )?;
    let rows = stmt.query_map(params![customer_id, horizon], |r| {
        Ok(DueInvoice {
            entry: r.get(0)?,
            reference: r.get(1)?,
            issued_on: r.get(2)?,
            due_on: r.get(3)?,
            amount: r.get(4)?,
            remaining: r.get(5)?,
            reached: r.get::<_, Option<i64>>(6)?.map(|l| l as usize),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// What was paid on each invoice, by the business date of the payment (its allocations).
fn payments(
    conn: &Connection,
    customer_id: i64,
    invoices: &[DueInvoice],
) -> Result<HashMap<Uuid, Vec<(NaiveDate, Money)>>> {
    // Found through the invoice's own index (`allocations_by_item`); the customer is only
    // checked (`+`), so no plan walks every allocation of the customer for each invoice.
    let mut stmt = conn.prepare_cached(
        "SELECT e.business_date, sum(a.amount) FROM allocations a JOIN entries e ON e.uuid = a.source
         WHERE a.item = ?1 AND +a.customer_id = ?2 GROUP BY e.business_date",
    )?;
    let mut out = HashMap::new();
    for inv in invoices {
        let paid = stmt
            .query_map(params![inv.entry, customer_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        out.insert(inv.entry, paid);
    }
    Ok(out)
}

/// Money received since an order key: payments, deposits used, credits (less reversals of them).
pub(in crate::store) fn paid_since(conn: &Connection, customer_id: i64, key: &str) -> Result<Money> {
    Ok(conn
        .prepare_cached(
            "SELECT coalesce(-sum(balance_effect), 0) FROM entries
             WHERE customer_id = ?1 AND order_key > ?2 AND balance_effect != 0
               AND (kind IN ('payment', 'deposit_applied', 'credit_note', 'write_off')
                    OR (kind = 'reversal' AND balance_effect > 0
                        AND (SELECT kind FROM entries o WHERE o.uuid = entries.reverses) IN ('payment', 'deposit_applied')))",
        )?
        .query_row(params![customer_id, key], |r| r.get(0))?)
}
