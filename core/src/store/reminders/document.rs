//! A reminder, formal notice or court file as a document, and a statement as one: gathered
//! from the account as it stands on the day the document is produced.

use std::collections::HashSet;

use chrono::{DateTime, Duration, NaiveDate};
use rusqlite::OptionalExtension;
use uuid::Uuid;

use crate::document::{self, Document, StatementDocument};
use crate::dunning::ladder::Channel;
use crate::dunning::wording::Letter;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::reminders::{config, facts};
use crate::store::till::customer_rows::by_reference;

impl Store {
    /// The reminder `id` as a document dated `today`: the invoices it chases as they stand, and
    /// only the reminders that actually left before it, on the day they left.
    pub fn reminder_document(&self, id: Uuid, today: NaiveDate) -> Result<Document> {
        self.read(|conn| {
            let row: Option<(i64, i64, i64, String, i64)> = conn
                .prepare_cached("SELECT id, customer_id, level, channel, created_at FROM reminders WHERE uuid = ?1")?
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
                .optional()?;
            let (row, customer_id, level, channel, created_at) =
                row.ok_or_else(|| Error::NotFound { what: "reminder", id: id.to_string() })?;
            let named: HashSet<Uuid> = conn
                .prepare_cached("SELECT invoice FROM reminder_invoices WHERE reminder_id = ?1")?
                .query_map([row], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let config = config::load(conn)?;
            let mut f = facts::gather(conn, customer_id, today + Duration::days(1))?;
            f.invoices.retain(|i| named.contains(&i.entry));
            let ladder = config.ladder(f.ladder.as_deref());
            let step = ladder.steps.get(level as usize).ok_or_else(|| {
                Error::Corrupt(format!("reminder {id} is at step {level} of a ladder with {}", ladder.steps.len()))
            })?;
            let sent = sent_before(conn, customer_id, row, created_at)?;
            let letter = Letter {
                shop: &config.shop,
                rates: &config.rates,
                template: config.template(&step.template, f.customer.language)?,
                step,
                channel: Channel::parse(&channel)?,
                customer: &f.customer,
                invoices: &f.invoices,
                payments: &f.payments,
                notice_on: f.notice_on,
                insolvent_since: f.insolvent_since,
                history: &f.history,
                myself: Some(row),
                today,
            };
            document::build(&letter, &sent)
        })
    }

    /// The statement of `customer` from `from` to `to` with both parties' blocks, for a PDF.
    pub fn statement_document(
        &self,
        customer: &str,
        from: NaiveDate,
        to: NaiveDate,
        today: NaiveDate,
    ) -> Result<StatementDocument> {
        let statement = self.statement(customer, from, to)?;
        self.read(|conn| {
            let (_, c) = by_reference(conn, customer)?;
            let shop = crate::store::db::settings::load_shop(conn)?;
            Ok(StatementDocument {
                language: c.language,
                date: today,
                creditor: document::creditor(&shop, c.language),
                debtor: document::Party {
                    name: c.name.clone(),
                    lines: document::lines(c.address.as_deref().unwrap_or("")),
                },
                payment_reference: c.payment_reference(),
                statement,
            })
        })
    }
}

/// The customer's reminders sent before reminder `row`, with the day each left (the day its
/// state became sent), oldest first.
fn sent_before(
    conn: &rusqlite::Connection,
    customer_id: i64,
    row: i64,
    created_at: i64,
) -> Result<Vec<(NaiveDate, String, Channel)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT updated_at, step, channel FROM reminders
         WHERE customer_id = ?1 AND id != ?2 AND state = 'sent' AND created_at <= ?3 ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map(rusqlite::params![customer_id, row, created_at], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
    })?;
    let mut out = Vec::new();
    for r in rows {
        let (at, step, channel) = r?;
        let on = DateTime::from_timestamp_millis(at).ok_or_else(|| Error::Corrupt(format!("bad time {at}")))?;
        out.push((on.date_naive(), step, Channel::parse(&channel)?));
    }
    Ok(out)
}
