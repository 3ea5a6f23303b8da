//! The reminder queue: reminders as stored and read back, and keeping the queued ones true to
//! the ledger. At the commit of every unit of work, each touched customer's queued reminders are
//! rewritten from the account as it now stands, or cancelled when nothing they chase is overdue
//! any more: a reminder never goes out for a debt paid at the counter an hour earlier. Below the
//! write path: it writes rows and replicates them, and never records an entry.

use chrono::{DateTime, FixedOffset, NaiveDate};
use rusqlite::{Connection, Transaction, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dunning::daily::{self, Chased, Queued, Refresh};
use crate::dunning::ladder::{Channel, StepKind};
use crate::dunning::template::Language;
use crate::dunning::wording::{Rendered, missing_recipient};
use crate::error::{Error, Result};
use crate::money::Money;
use crate::store::db::values::{Now, date_of, ms};
use crate::store::reminders::{config, facts};
use crate::store::sync::replica::{self, Key, Table};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ReminderState {
    Queued,
    Sent,
    Failed,
    Cancelled,
    /// Due, but waiting for the owner (the rate tables do not cover a half-year its penalties
    /// need); `state_note` says why.
    Held,
}

impl ReminderState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderState::Queued => "queued",
            ReminderState::Sent => "sent",
            ReminderState::Failed => "failed",
            ReminderState::Cancelled => "cancelled",
            ReminderState::Held => "held",
        }
    }

    pub fn parse(s: &str) -> Result<ReminderState> {
        match s {
            "queued" => Ok(ReminderState::Queued),
            "sent" => Ok(ReminderState::Sent),
            "failed" => Ok(ReminderState::Failed),
            "cancelled" => Ok(ReminderState::Cancelled),
            "held" => Ok(ReminderState::Held),
            _ => Err(Error::Invalid { field: "reminder state", reason: format!("{s:?}") }),
        }
    }
}

/// A reminder as queued for the back office, with its rendered content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record), uniffi(name = "Reminder"))]
pub struct ReminderRecord {
    pub id: Uuid,
    pub customer_ref: String,
    pub customer_name: String,
    /// Index of the ladder step (0 = first).
    pub level: u32,
    pub step: String,
    pub kind: StepKind,
    pub channel: Channel,
    /// Email address, phone number or postal address, as the channel needs.
    pub recipient: Option<String>,
    pub language: Language,
    pub state: ReminderState,
    pub state_note: Option<String>,
    pub created_on: NaiveDate,
    /// Not to be sent before (SMS wait for daytime, and for Monday on Sundays).
    pub not_before: DateTime<FixedOffset>,
    pub subject: String,
    pub body: String,
    pub amount_due: Money,
    pub penalties: Money,
    pub indemnity: Money,
    /// References of the invoices it names.
    pub invoices: Vec<String>,
}

pub(in crate::store) fn by_row(conn: &Connection, id: i64) -> Result<ReminderRecord> {
    let mut stmt = conn.prepare_cached(&format!("{REMINDER_SELECT} WHERE r.id = ?1"))?;
    let rec = stmt.query_row([id], reminder_from_row)??;
    Ok(rec)
}

pub(in crate::store) const REMINDER_SELECT: &str =
    "SELECT r.id, r.uuid, c.reference, c.name, r.level, r.step, r.kind, r.channel, r.recipient, r.language,
    r.state, r.state_note, r.created_on, r.not_before, r.subject, r.body, r.amount_due, r.penalties, r.indemnity,
    (SELECT json_group_array(i.reference ORDER BY i.due_on, i.reference) FROM reminder_invoices ri
      JOIN items i ON i.entry_uuid = ri.invoice WHERE ri.reminder_id = r.id)
    FROM reminders r JOIN customers c ON c.id = r.customer_id";

pub(in crate::store) fn reminder_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<ReminderRecord>> {
    let kind: String = r.get(6)?;
    let channel: String = r.get(7)?;
    let lang: String = r.get(9)?;
    let state: String = r.get(10)?;
    let created: String = r.get(12)?;
    let not_before: String = r.get(13)?;
    let invoices: Option<String> = r.get(19)?;
    let (id, customer_ref, customer_name, level): (Uuid, String, String, i64) =
        (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
    let (step, recipient, state_note, subject, body): (String, Option<String>, Option<String>, String, String) =
        (r.get(5)?, r.get(8)?, r.get(11)?, r.get(14)?, r.get(15)?);
    let (amount_due, penalties, indemnity): (i64, i64, i64) = (r.get(16)?, r.get(17)?, r.get(18)?);
    Ok((|| {
        Ok(ReminderRecord {
            id,
            customer_ref,
            customer_name,
            level: level as u32,
            step,
            kind: serde_json::from_value(serde_json::Value::String(kind))?,
            channel: Channel::parse(&channel)?,
            recipient,
            language: Language::parse(&lang)?,
            state: ReminderState::parse(&state)?,
            state_note,
            created_on: date_of(&created)?,
            not_before: DateTime::parse_from_rfc3339(&not_before)
                .map_err(|_| Error::Corrupt(format!("bad time {not_before}")))?,
            subject,
            body,
            amount_due: Money::from_minor(amount_due),
            penalties: Money::from_minor(penalties),
            indemnity: Money::from_minor(indemnity),
            invoices: invoices.map(|s| serde_json::from_str(&s)).transpose()?.unwrap_or_default(),
        })
    })())
}

pub(in crate::store) fn kind_str(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Reminder => "reminder",
        StepKind::FormalNotice => "formal_notice",
        StepKind::CourtFile => "court_file",
    }
}

/// Replaces the invoices a reminder names (each at its own level, with what it still owes).
pub(in crate::store) fn write_invoices(tx: &Transaction<'_>, reminder: i64, invoices: &[Chased]) -> Result<()> {
    tx.prepare_cached("DELETE FROM reminder_invoices WHERE reminder_id = ?1")?.execute([reminder])?;
    let mut ins = tx.prepare_cached(
        "INSERT INTO reminder_invoices (reminder_id, invoice, level, remaining) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for c in invoices {
        ins.execute(params![reminder, c.invoice, c.level as i64, c.remaining])?;
    }
    Ok(())
}

/// After any write to a customer's account or follow-ups: their reminders not yet sent are
/// cancelled when nothing is overdue any more, or rewritten with what is overdue now; one whose
/// penalties need a half-year the rate tables lack is held for the owner, and a held one whose
/// tables were updated is queued again. A reminder that reads the same is left alone (no new
/// version to replicate).
pub(in crate::store) fn refresh(tx: &Transaction<'_>, customer_id: i64, now: Now) -> Result<()> {
    let queued: Vec<(Queued, bool)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id, level, channel, state = 'held' FROM reminders WHERE customer_id = ?1 AND state IN ('queued', 'held')",
        )?;
        let rows = stmt.query_map([customer_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get::<_, bool>(3)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, level, channel, held) = row?;
            out.push((Queued { id, level: level as usize, channel: Channel::parse(&channel)? }, held));
        }
        out
    };
    if queued.is_empty() {
        return Ok(());
    }
    let today = now.date_naive();
    let config = config::load(tx)?;
    let f = facts::gather(tx, customer_id, today)?;
    let set_state = |id: i64, state: &str, note: &str| -> Result<()> {
        tx.prepare_cached("UPDATE reminders SET state = ?2, state_note = ?3, updated_at = ?4 WHERE id = ?1")?
            .execute(params![id, state, note, ms(now)])?;
        Ok(())
    };
    for (q, held) in queued {
        match daily::refresh(&f, &config, &q, today)? {
            Refresh::Cancel => set_state(q.id, "cancelled", "nothing overdue any more (paid, credited or disputed)")?,
            Refresh::Stop(why) => set_state(q.id, "cancelled", &why)?,
            Refresh::Hold(why) => {
                let note: Option<String> = tx
                    .prepare_cached("SELECT state_note FROM reminders WHERE id = ?1")?
                    .query_row([q.id], |r| r.get(0))?;
                if held && note.as_deref() == Some(why.as_str()) {
                    continue;
                }
                set_state(q.id, "held", &why)?;
            }
            Refresh::Rewrite { rendered, invoices } => {
                if !held && reads_the_same(tx, q.id, &rendered, &invoices)? {
                    continue;
                }
                tx.prepare_cached(
                    "UPDATE reminders SET subject = ?2, body = ?3, amount_due = ?4, penalties = ?5, indemnity = ?6, updated_at = ?7,
                            recipient = ?8, state = 'queued',
                            state_note = CASE WHEN state = 'held' THEN ?9 ELSE state_note END
                     WHERE id = ?1",
                )?
                .execute(params![
                    q.id,
                    rendered.subject,
                    rendered.body,
                    rendered.amount_due,
                    rendered.penalties,
                    rendered.indemnity,
                    ms(now),
                    rendered.recipient,
                    missing_recipient(q.channel, rendered.recipient.as_deref()),
                ])?;
                write_invoices(tx, q.id, &invoices)?;
            }
        }
        replica::emit(tx, Table::Reminders, Key::Rowid(q.id), now)?;
    }
    Ok(())
}

/// Whether the stored reminder already says what `rendered` says about `invoices`.
fn reads_the_same(tx: &Transaction<'_>, id: i64, rendered: &Rendered, invoices: &[Chased]) -> Result<bool> {
    let stored: (String, String, Money, Money, Money) = tx
        .prepare_cached("SELECT subject, body, amount_due, penalties, indemnity FROM reminders WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
    let same_text = stored
        == (
            rendered.subject.clone(),
            rendered.body.clone(),
            rendered.amount_due,
            rendered.penalties,
            rendered.indemnity,
        );
    if !same_text {
        return Ok(false);
    }
    let mut named: Vec<Chased> = tx
        .prepare_cached("SELECT invoice, level, remaining FROM reminder_invoices WHERE reminder_id = ?1")?
        .query_map([id], |r| {
            Ok(Chased { invoice: r.get(0)?, level: r.get::<_, i64>(1)? as usize, remaining: r.get(2)? })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut wanted = invoices.to_vec();
    named.sort_unstable();
    wanted.sort_unstable();
    Ok(named == wanted)
}

/// The reminder with this id, as stored.
pub(in crate::store) fn by_id(conn: &Connection, id: Uuid) -> Result<Option<i64>> {
    use rusqlite::OptionalExtension;
    Ok(conn.prepare_cached("SELECT id FROM reminders WHERE uuid = ?1")?.query_row([id], |r| r.get(0)).optional()?)
}
