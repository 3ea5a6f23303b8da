//! The daily run: for every customer with something due, the facts are gathered, today's plan
//! decided (`dunning::daily`, pure), and applied in one unit of work: promises and plans settled
//! with their notes, at most one reminder queued at the level of the most overdue invoice, with
//! the fees its step adds. Idempotent within a day.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::dunning::daily::{self, Action, Agreement, HeldReminder, NewReminder};
use crate::dunning::run::Skip;
use crate::dunning::wording::missing_recipient;
use crate::error::Result;
use crate::store::db::values::{Now, ms, new_id};
use crate::store::handle::Store;
use crate::store::reminders::queue::{self, ReminderRecord, kind_str, write_invoices};
use crate::store::reminders::{config, facts, notes};
use crate::store::sync::replica::{Key, Table};
use crate::store::write::Write;

/// What a daily run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RunReport {
    pub as_of: Option<NaiveDate>,
    /// Customers whose reminder could not be written (a template or ladder problem); the
    /// others were not held up.
    #[serde(default)]
    pub errors: Vec<String>,
    pub customers_checked: u32,
    pub queued: Vec<ReminderRecord>,
    /// Reminders due but waiting for the owner (rate tables to update), each with why.
    #[serde(default)]
    pub held: Vec<ReminderRecord>,
    /// Court files the law does not allow (limitation, insolvency, a public buyer): customer
    /// and reason.
    #[serde(default)]
    pub refused: Vec<String>,
    /// How many customers the run left alone, and why.
    pub skipped: BTreeMap<Skip, u32>,
    pub plans_broken: u32,
    pub promises_broken: u32,
}

impl Store {
    /// The daily run: for every customer with something due, queues at most one reminder at
    /// the level of their most overdue invoice, unless paused. Idempotent within a day; one
    /// unit of work.
    pub fn run_dunning(&self, now: Now) -> Result<RunReport> {
        let today = now.date_naive();
        self.write(now, |w| {
            let config = config::load(w.conn())?;
            let horizon = today.checked_add_days(Days::new(config.lookahead())).unwrap_or(today);
            let candidates: Vec<i64> = {
                let mut stmt = w.conn().prepare_cached(
                    "SELECT customer_id FROM accounts WHERE oldest_due IS NOT NULL AND oldest_due < ?1",
                )?;
                let rows = stmt.query_map([horizon], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut report = RunReport { as_of: Some(today), ..Default::default() };
            for customer_id in candidates {
                report.customers_checked += 1;
                let f = facts::gather(w.conn(), customer_id, horizon)?;
                let plan = daily::plan(&f, &config, now)?;
                for s in &plan.settled {
                    let table = match s.what {
                        Agreement::Promise => "promises",
                        Agreement::Plan => "plans",
                    };
                    w.conn()
                        .prepare_cached(&format!("UPDATE {table} SET state = ?2 WHERE id = ?1"))?
                        .execute(params![s.id, s.state])?;
                    notes::add(w.conn(), customer_id, s.note_kind, &s.note, s.amount, "ardoise", now)?;
                    match (s.what, s.state) {
                        (Agreement::Promise, "broken") => report.promises_broken += 1,
                        (Agreement::Plan, "broken") => report.plans_broken += 1,
                        _ => {}
                    }
                }
                match plan.action {
                    Action::Skip(why) => *report.skipped.entry(why).or_insert(0) += 1,
                    Action::Failed(e) => report.errors.push(format!("{}: {e}", f.customer.reference)),
                    Action::Queue(new) => report.queued.push(queue_one(w, customer_id, &f.customer.language, &new)?),
                    Action::Hold(held) => report.held.push(hold_one(w, customer_id, &f.customer.language, &held)?),
                    Action::Refused(why) => report.refused.push(format!("{}: {why}", f.customer.reference)),
                }
            }
            Ok(report)
        })
    }
}

/// Writes one reminder with the fees its step adds and its outbox row.
fn queue_one(
    w: &mut Write<'_>,
    customer_id: i64,
    language: &crate::dunning::template::Language,
    new: &NewReminder,
) -> Result<ReminderRecord> {
    let now = w.now();
    for (amount, reason) in &new.fees {
        w.charge(customer_id, *amount, reason)?;
    }
    let r = &new.rendered;
    w.conn()
        .prepare_cached(
            "INSERT INTO reminders (uuid, customer_id, level, step, kind, channel, recipient, language, state, created_on,
             created_at, not_before, updated_at, subject, body, amount_due, penalties, indemnity, state_note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'queued', ?9, ?10, ?11, ?10, ?12, ?13, ?14, ?15, ?16, ?17)",
        )?
        .execute(params![
            new_id(now),
            customer_id,
            new.level as i64,
            new.step.name,
            kind_str(new.step.kind),
            new.channel.as_str(),
            r.recipient,
            language.as_str(),
            now.date_naive(),
            ms(now),
            new.not_before.to_rfc3339(),
            r.subject,
            r.body,
            r.amount_due,
            r.penalties,
            r.indemnity,
            missing_recipient(new.channel, r.recipient.as_deref())
        ])?;
    let row = w.conn().last_insert_rowid();
    write_invoices(w.conn(), row, &new.invoices)?;
    let rec = queue::by_row(w.conn(), row)?;
    w.row(Table::Reminders, Key::Rowid(row))?;
    Ok(rec)
}

/// Records a reminder that is due but waits for the owner: held, with the reason as its note
/// and no words yet (they need the rates); the queue writes them once the tables cover it.
/// Its level counts as reached, so the next runs do not hold it again.
fn hold_one(
    w: &mut Write<'_>,
    customer_id: i64,
    language: &crate::dunning::template::Language,
    held: &HeldReminder,
) -> Result<ReminderRecord> {
    let now = w.now();
    w.conn()
        .prepare_cached(
            "INSERT INTO reminders (uuid, customer_id, level, step, kind, channel, recipient, language, state, created_on,
             created_at, not_before, updated_at, subject, body, amount_due, penalties, indemnity, state_note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7, 'held', ?8, ?9, ?10, ?9, '', '', ?11, 0, 0, ?12)",
        )?
        .execute(params![
            new_id(now),
            customer_id,
            held.level as i64,
            held.step.name,
            kind_str(held.step.kind),
            held.channel.as_str(),
            language.as_str(),
            now.date_naive(),
            ms(now),
            held.not_before.to_rfc3339(),
            held.invoices.iter().map(|c| c.remaining).sum::<crate::money::Money>(),
            held.reason,
        ])?;
    let row = w.conn().last_insert_rowid();
    write_invoices(w.conn(), row, &held.invoices)?;
    let rec = queue::by_row(w.conn(), row)?;
    w.row(Table::Reminders, Key::Rowid(row))?;
    Ok(rec)
}
