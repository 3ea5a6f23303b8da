//! Risk scores from the store: each customer's invoices as known on a date, the model fitted on
//! the shop's own history, and today's scores kept for the checkout and the overdue list.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::customer::paperless_on;
use crate::error::Result;
use crate::money::Money;
use crate::risk::{self, InvoiceFact, Model, Next};
use crate::store::db::values::Now;
use crate::store::db::values::date_of;
use crate::store::handle::Store;
use crate::store::till::customer_rows::customer_names;

/// One customer's score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CustomerRisk {
    pub customer_ref: String,
    pub name: String,
    /// The probability that the next invoice is paid after its due date.
    pub score: f64,
    pub reasons: Vec<String>,
}

/// The sales invoices issued by ?1, in [`histories`]' order. Read in one pass over the table
/// and sorted: the `+` keeps the planner from walking `items_by_customer` for the order
/// instead, a walk that looks every row up by its key, one random read each, and that made a
/// 2.6-million-invoice shop's nightly scoring spend most of its time here.
const HISTORIES: &str = "SELECT customer_id, issued_on, due_on, amount, closed_on, cancelled, entry_uuid
    FROM items WHERE charge = 0 AND issued_on <= ?1 ORDER BY +customer_id, issued_on, order_key";

/// The customers who get their bills by email, and from which day.
fn paperless_from(conn: &Connection) -> Result<HashMap<i64, NaiveDate>> {
    let mut stmt = conn.prepare("SELECT id, paperless_from FROM customers WHERE paperless_from IS NOT NULL")?;
    let mut rows = stmt.query([])?;
    let mut out = HashMap::new();
    while let Some(r) = rows.next()? {
        out.insert(r.get(0)?, date_of(&r.get::<_, String>(1)?)?);
    }
    Ok(out)
}

/// Every customer's sales invoices issued by `as_of`, as the risk model reads them: settled on
/// the day they were paid off (later settlements are ignored by the model), disputed if a
/// dispute was ever opened on them, sent by email if issued once the customer was paperless
/// (`paperless`: from [`paperless_from`]). Invoices cancelled by `as_of` are left out. In
/// customer order, each customer's in the order they were issued and recorded.
fn histories(
    conn: &Connection,
    as_of: NaiveDate,
    paperless: &HashMap<i64, NaiveDate>,
) -> Result<Vec<(i64, Vec<InvoiceFact>)>> {
    let disputed: HashSet<Uuid> =
        conn.prepare("SELECT invoice FROM disputes")?.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare(HISTORIES)?;
    let d = as_of.to_string();
    let mut rows = stmt.query([&d])?;
    let mut out: Vec<(i64, Vec<InvoiceFact>)> = Vec::new();
    while let Some(r) = rows.next()? {
        let customer_id: i64 = r.get(0)?;
        let closed: Option<String> = r.get(4)?;
        let cancelled: bool = r.get(5)?;
        if cancelled && closed.as_deref().is_some_and(|c| c <= d.as_str()) {
            continue;
        }
        let issued_on = date_of(&r.get::<_, String>(1)?)?;
        let fact = InvoiceFact {
            issued_on,
            due_on: date_of(&r.get::<_, String>(2)?)?,
            amount: Money::from_minor(r.get(3)?),
            settled_on: if cancelled { None } else { closed.as_deref().map(date_of).transpose()? },
            disputed: disputed.contains(&r.get::<_, Uuid>(6)?),
            paperless: paperless_on(paperless.get(&customer_id).copied(), issued_on),
        };
        match out.last_mut() {
            Some((id, facts)) if *id == customer_id => facts.push(fact),
            _ => out.push((customer_id, vec![fact])),
        }
    }
    Ok(out)
}

/// Scores every customer with history as of `as_of`, with a model fitted on what the shop knew
/// then. Highest risk first.
fn score_all(conn: &Connection, as_of: NaiveDate) -> Result<Vec<(i64, risk::Risk)>> {
    let paperless = paperless_from(conn)?;
    let hist = histories(conn, as_of, &paperless)?;
    let refs: Vec<&[InvoiceFact]> = hist.iter().map(|(_, h)| h.as_slice()).collect();
    let model = Model::train(&refs, as_of);
    // The next invoice is issued the day after `as_of` at the earliest.
    let next_day = as_of.succ_opt().unwrap_or(as_of);
    let next = |id: &i64| Next { amount: None, paperless: paperless_on(paperless.get(id).copied(), next_day) };
    let mut scored: Vec<(i64, risk::Risk)> =
        hist.iter().map(|(id, h)| (*id, model.score(&model.features(h, as_of, next(id))))).collect();
    scored.sort_by(|a, b| b.1.probability.total_cmp(&a.1.probability).then(a.0.cmp(&b.0)));
    Ok(scored)
}

/// The score last stored for a customer by `refresh_risk`: probability and reasons.
fn stored(conn: &Connection, customer_id: i64) -> Result<Option<(f64, Vec<String>)>> {
    let found: Option<(f64, String)> = conn
        .prepare_cached("SELECT score, reasons FROM risk_scores WHERE customer_id = ?1")?
        .query_row([customer_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    found.map(|(score, reasons)| Ok((score, serde_json::from_str(&reasons)?))).transpose()
}

/// Customers up to which [`stored_many`] looks each one up; past it, one pass over all the
/// scores costs less (a look-up is an index probe and a row; a pass reads rows in order).
const LOOKUPS_MAX: usize = 1000;

/// The stored scores of these customers, for the overdue list: one look each for a page of
/// them, one pass over the scores for many (a list sorted by risk needs every debtor's).
pub(in crate::store) fn stored_many(conn: &Connection, ids: &[i64]) -> Result<HashMap<i64, (f64, Vec<String>)>> {
    let mut out = HashMap::new();
    if ids.len() <= LOOKUPS_MAX {
        for &id in ids {
            if let Some(found) = stored(conn, id)? {
                out.insert(id, found);
            }
        }
        return Ok(out);
    }
    let wanted: HashSet<i64> = ids.iter().copied().collect();
    let mut stmt = conn.prepare_cached("SELECT customer_id, score, reasons FROM risk_scores")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        if wanted.contains(&id) {
            let reasons: String = r.get(2)?;
            out.insert(id, (r.get(1)?, serde_json::from_str(&reasons)?));
        }
    }
    Ok(out)
}

impl Store {
    /// The customer's late-payment risk as last scored (`refresh_risk`): probability and
    /// reasons, or `None` before any scoring.
    pub fn customer_risk(&self, customer: &str) -> Result<Option<(f64, Vec<String>)>> {
        self.read(|conn| stored(conn, crate::store::till::customer_rows::by_reference(conn, customer)?.0))
    }

    /// Each customer's probability of paying their next invoice late, as known at the end of
    /// `as_of` (no look-ahead), with the main reasons in words. Highest risk first.
    pub fn risk_report(&self, as_of: NaiveDate) -> Result<Vec<CustomerRisk>> {
        self.read(|conn| {
            let scored = score_all(conn, as_of)?;
            let ids: Vec<i64> = scored.iter().map(|(id, _)| *id).collect();
            let mut names = customer_names(conn, &ids)?;
            Ok(scored
                .into_iter()
                .map(|(id, r)| {
                    let (customer_ref, name, _, _) = names.remove(&id).unwrap_or_default();
                    CustomerRisk { customer_ref, name, score: r.probability, reasons: r.reasons }
                })
                .collect())
        })
    }

    /// Computes today's scores and keeps them for the checkout verdict and the overdue list, in
    /// one transaction. Run once a day (the scores move with payments, not with each sale).
    /// Returns how many customers were scored.
    pub fn refresh_risk(&self, now: Now) -> Result<usize> {
        let today = now.date_naive();
        // Scored on a reader: the till keeps selling while the whole shop is scored.
        let scored = self.read(|conn| score_all(conn, today))?;
        self.bookkeep(|tx| {
            tx.execute("DELETE FROM risk_scores", [])?;
            let mut ins = tx.prepare_cached(
                "INSERT INTO risk_scores (customer_id, as_of, score, reasons) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (id, r) in &scored {
                ins.execute(params![id, today, r.probability, serde_json::to_string(&r.reasons)?])?;
            }
            Ok(scored.len())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One scan of the table and one sort, whatever indexes `items` has.
    #[test]
    fn histories_are_read_in_one_pass() {
        let store = Store::open_in_memory().unwrap();
        let plan: Vec<String> = store
            .conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {HISTORIES}"))
            .unwrap()
            .query_map(["2026-01-01"], |r| r.get(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(plan, ["SCAN items", "USE TEMP B-TREE FOR ORDER BY"], "{plan:?}");
    }
}
