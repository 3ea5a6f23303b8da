//! Risk scores from the store: each customer's invoices as known on a date, the model fitted on
//! the shop's own history, and today's scores kept for the checkout and the overdue list.

use std::collections::HashMap;

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::reports::date_of;
use super::{Now, Store};
use crate::checkout::Verdict;
use crate::error::Result;
use crate::money::Money;
use crate::risk::{self, InvoiceFact, Model};

/// One customer's score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerRisk {
    pub customer_ref: String,
    pub name: String,
    /// The probability that the next invoice is paid after its due date.
    pub score: f64,
    pub reasons: Vec<String>,
}

/// Every customer's sales invoices issued by `as_of`, as the risk model reads them: settled on
/// the day they were paid off (later settlements are ignored by the model), disputed if a
/// dispute was ever opened on them. Invoices cancelled by `as_of` are left out.
pub(crate) fn histories(conn: &Connection, as_of: NaiveDate) -> Result<Vec<(i64, Vec<InvoiceFact>)>> {
    let mut stmt = conn.prepare(
        "SELECT i.customer_id, i.issued_on, i.due_on, i.amount, i.closed_on, i.cancelled,
                EXISTS (SELECT 1 FROM disputes d WHERE d.invoice = i.entry_uuid)
         FROM items i WHERE i.charge = 0 AND i.issued_on <= ?1 ORDER BY i.customer_id, i.issued_on",
    )?;
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
        let fact = InvoiceFact {
            issued_on: date_of(&r.get::<_, String>(1)?)?,
            due_on: date_of(&r.get::<_, String>(2)?)?,
            amount: Money::from_minor(r.get(3)?),
            settled_on: if cancelled { None } else { closed.as_deref().map(date_of).transpose()? },
            disputed: r.get(6)?,
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
    let hist = histories(conn, as_of)?;
    let refs: Vec<&[InvoiceFact]> = hist.iter().map(|(_, h)| h.as_slice()).collect();
    let model = Model::train(&refs, as_of);
    let mut scored: Vec<(i64, risk::Risk)> =
        hist.iter().map(|(id, h)| (*id, model.score(&model.features(h, as_of, None)))).collect();
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

/// The stored scores of these customers, for the overdue list.
pub(super) fn stored_many(conn: &Connection, ids: &[i64]) -> Result<HashMap<i64, (f64, Vec<String>)>> {
    let mut out = HashMap::new();
    for &id in ids {
        if let Some(found) = stored(conn, id)? {
            out.insert(id, found);
        }
    }
    Ok(out)
}

/// Adds the customer's last stored score to a checkout verdict: one indexed row.
pub(super) fn annotate(conn: &Connection, customer_id: i64, verdict: &mut Verdict) -> Result<()> {
    if let Some((score, reasons)) = stored(conn, customer_id)? {
        verdict.late_risk_pct = Some((score * 100.0).round().clamp(0.0, 100.0) as u8);
        verdict.late_risk_reasons = reasons;
    }
    Ok(())
}

impl Store {
    /// Each customer's probability of paying their next invoice late, as known at the end of
    /// `as_of` (no look-ahead), with the main reasons in words. Highest risk first.
    pub fn risk_report(&self, as_of: NaiveDate) -> Result<Vec<CustomerRisk>> {
        let scored = score_all(&self.conn, as_of)?;
        let ids: Vec<i64> = scored.iter().map(|(id, _)| *id).collect();
        let mut names = super::reports::customer_names(&self.conn, &ids)?;
        Ok(scored
            .into_iter()
            .map(|(id, r)| {
                let (customer_ref, name, _, _) = names.remove(&id).unwrap_or_default();
                CustomerRisk { customer_ref, name, score: r.probability, reasons: r.reasons }
            })
            .collect())
    }

    /// Computes today's scores and keeps them for the checkout verdict and the overdue list, in
    /// one transaction. Run once a day (the scores move with payments, not with each sale).
    /// Returns how many customers were scored.
    pub fn refresh_risk(&mut self, now: Now) -> Result<usize> {
        let today = now.date_naive();
        let scored = score_all(&self.conn, today)?;
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM risk_scores", [])?;
        {
            let mut ins = tx.prepare_cached(
                "INSERT INTO risk_scores (customer_id, as_of, score, reasons) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (id, r) in &scored {
                ins.execute(params![id, today.to_string(), r.probability, serde_json::to_string(&r.reasons)?])?;
            }
        }
        tx.commit()?;
        Ok(scored.len())
    }
}
