//! Following up on an account: disputes, promises to pay, payment plans, notes and calls,
//! holds and per-invoice stops, and the customer's whole timeline in order.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dunning::plan::{self, Instalment, PlanStatus};
use crate::entry::EntryBody;
use crate::error::{Error, Result};
use crate::money::Money;
use crate::store::db::values::{ENTRY_SELECT, Now, date_of, entry_from_row, ms, prose};
use crate::store::handle::Store;
use crate::store::reminders::facts::paid_since;
use crate::store::reminders::notes;
use crate::store::sync::replica::{Key, Table};
use crate::store::till::customer_rows::customer_id;
use crate::store::till::ledger::{EntryRequest, Recorded};
use crate::store::write::Write;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Dispute {
    pub id: Uuid,
    pub customer_ref: String,
    pub invoice: String,
    pub reason: String,
    /// open, upheld or rejected.
    pub state: String,
    pub opened_on: NaiveDate,
    pub resolution: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DisputeResolution {
    /// The customer is right: a credit note for `credit` (default: what is left on the invoice).
    Upheld { credit: Option<Money> },
    /// The invoice stands: the ladder takes it up again.
    Rejected,
}

/// A customer whose reminders the owner paused (`Store::hold_reminders`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderHold {
    pub customer_ref: String,
    pub customer_name: String,
    /// `None`: until released.
    pub until: Option<NaiveDate>,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Promise {
    pub id: Uuid,
    pub customer_ref: String,
    pub promised_on: NaiveDate,
    pub amount: Money,
    /// open, kept or broken.
    pub state: String,
}

/// A payment plan ("échéancier") and where it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record), uniffi(name = "PaymentPlan"))]
pub struct PlanView {
    pub id: Uuid,
    pub customer_ref: String,
    pub created_on: NaiveDate,
    pub instalments: Vec<Instalment>,
    pub grace_days: u32,
    /// Stored state: active, completed, broken or cancelled.
    pub state: String,
    /// Where it stands today.
    pub status: PlanStatus,
    /// Paid since the plan was agreed.
    pub paid: Money,
}

/// The outcome of a call to a customer; a promise pauses reminders until its date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum CallOutcome {
    Reached,
    NoAnswer,
    Promise { on: NaiveDate, amount: Money },
}

/// One line of the customer's story: ledger entries, reminders and every follow-up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TimelineItem {
    pub date: NaiveDate,
    pub at: DateTime<Utc>,
    /// `entry:<kind>`, `reminder`, or a follow-up kind (note, call, dispute_opened, ...).
    pub kind: String,
    pub text: String,
    pub amount: Option<Money>,
    /// A reminder's state (queued, sent, failed, cancelled) and channel.
    pub state: Option<String>,
    pub id: Uuid,
    /// Who recorded it: the cashier of an entry, the author of a note or call.
    pub author: Option<String>,
}

/// The fold position now: money recorded after it counts toward a promise or a plan.
fn key_now(tx: &Transaction<'_>, customer_id: i64) -> Result<String> {
    let last: Option<String> = tx
        .prepare_cached("SELECT last_key FROM accounts WHERE customer_id = ?1")?
        .query_row([customer_id], |r| r.get(0))?;
    Ok(last.unwrap_or_default())
}

impl Store {
    /// Opens a dispute on an invoice: it leaves the reminders at once and the till shows it.
    pub fn open_dispute(&self, invoice: &str, reason: &str, author: &str, now: Now) -> Result<Dispute> {
        let reason = prose("reason", reason, 500)?;
        self.write(now, |w| {
            let tx = w.conn();
            let found: Option<(Uuid, i64, String, bool)> = tx
                .prepare_cached("SELECT i.entry_uuid, i.customer_id, c.reference, i.open FROM items i JOIN customers c ON c.id = i.customer_id WHERE i.reference = ?1")?
                .query_row([invoice], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .optional()?;
            let (entry, cid, customer_ref, open) = found.ok_or_else(|| Error::UnknownInvoice(invoice.to_owned()))?;
            if !open {
                return Err(Error::InvoiceSettled { invoice: invoice.to_owned() });
            }
            if tx.prepare_cached("SELECT 1 FROM disputes WHERE invoice = ?1 AND state = 'open'")?.exists([entry])? {
                return Err(Error::Invalid { field: "dispute", reason: format!("invoice {invoice} is already disputed") });
            }
            let d = Dispute {
                id: Uuid::new_v4(),
                customer_ref,
                invoice: invoice.to_owned(),
                reason,
                state: "open".into(),
                opened_on: now.date_naive(),
                resolution: None,
            };
            tx.execute(
                "INSERT INTO disputes (uuid, customer_id, invoice, reason, state, opened_on) VALUES (?1, ?2, ?3, ?4, 'open', ?5)",
                params![d.id, cid, entry, d.reason, d.opened_on],
            )?;
            w.row(Table::Disputes, Key::Blob(d.id))?;
            notes::add(w.conn(), cid, "dispute_opened", &format!("dispute on {invoice}: {}", d.reason), None, author, now)?;
            w.touch(cid);
            Ok(d)
        })
    }

    pub fn note_dispute(&self, id: Uuid, note: &str, author: &str, now: Now) -> Result<()> {
        let note = prose("note", note, 2000)?;
        self.write(now, |w| {
            let (cid, invoice) = dispute_row(w.conn(), id)?;
            notes::add(w.conn(), cid, "dispute_note", &format!("dispute on {invoice}: {note}"), None, author, now)
        })
    }

    /// Upheld: a credit note settles (part of) the invoice. Rejected: the ladder resumes.
    /// One unit of work: the resolution and its credit note land together or not at all.
    pub fn resolve_dispute(
        &self,
        id: Uuid,
        resolution: DisputeResolution,
        note: &str,
        author: &str,
        now: Now,
    ) -> Result<(Dispute, Option<Recorded>)> {
        let note = prose("note", note, 2000)?;
        self.write(now, |w| {
            let (cid, invoice) = dispute_row(w.conn(), id)?;
            let open: bool = w
                .conn()
                .prepare_cached("SELECT state = 'open' FROM disputes WHERE uuid = ?1")?
                .query_row([id], |r| r.get(0))?;
            if !open {
                return Err(Error::Invalid { field: "dispute", reason: "already resolved".into() });
            }
            let state = match resolution {
                DisputeResolution::Upheld { .. } => "upheld",
                DisputeResolution::Rejected => "rejected",
            };
            w.conn()
                .prepare_cached("UPDATE disputes SET state = ?2, resolved_on = ?3, resolution = ?4 WHERE uuid = ?1")?
                .execute(params![id, state, now.date_naive(), note])?;
            notes::add(
                w.conn(),
                cid,
                &format!("dispute_{state}"),
                &format!("dispute on {invoice} {state}: {note}"),
                None,
                author,
                now,
            )?;
            let credit = match resolution {
                DisputeResolution::Upheld { credit } => {
                    let left: Option<Money> = w
                        .conn()
                        .prepare_cached("SELECT amount - settled FROM items WHERE reference = ?1 AND open = 1")?
                        .query_row([&invoice], |r| r.get(0))
                        .optional()?;
                    match credit.or(left) {
                        Some(amount) if amount.is_positive() => {
                            let req = EntryRequest::CreditNote {
                                amount,
                                reason: format!("dispute upheld: {note}"),
                                invoice: left.map(|_| invoice.clone()),
                            };
                            Some(w.record(cid, now.date_naive(), author, req)?)
                        }
                        _ => None,
                    }
                }
                DisputeResolution::Rejected => None,
            };
            let d = dispute_in(w.conn(), id)?;
            w.row(Table::Disputes, Key::Blob(id))?;
            w.touch(cid);
            Ok((d, credit))
        })
    }

    /// One dispute by id.
    pub fn dispute(&self, id: Uuid) -> Result<Dispute> {
        self.read(|conn| {
            dispute_row(conn, id)?;
            dispute_in(conn, id)
        })
    }

    /// Disputes of a customer (or of the shop), open ones first.
    pub fn disputes(&self, customer: Option<&str>) -> Result<Vec<Dispute>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT d.uuid, c.reference, i.reference, d.reason, d.state, d.opened_on, d.resolution FROM disputes d
                 JOIN customers c ON c.id = d.customer_id JOIN items i ON i.entry_uuid = d.invoice
                 WHERE ?1 IS NULL OR c.reference = ?1 ORDER BY d.state != 'open', d.id DESC",
            )?;
            let rows = stmt.query_map([customer], |r| {
                Ok(Dispute {
                    id: r.get(0)?,
                    customer_ref: r.get(1)?,
                    invoice: r.get(2)?,
                    reason: r.get(3)?,
                    state: r.get(4)?,
                    opened_on: r.get(5)?,
                    resolution: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// A promise to pay `amount` by `on`: reminders wait until then.
    pub fn promise_to_pay(
        &self,
        customer: &str,
        on: NaiveDate,
        amount: Money,
        author: &str,
        now: Now,
    ) -> Result<Promise> {
        self.write(now, |w| {
            let cid = customer_id(w.conn(), customer)?;
            promise_in(w, cid, customer, on, amount, author)
        })
    }

    /// A payment plan: reminders wait while it is kept; a missed instalment (after the grace
    /// days) breaks it and the ladder resumes where it was.
    pub fn create_plan(
        &self,
        customer: &str,
        instalments: Vec<Instalment>,
        author: &str,
        now: Now,
    ) -> Result<PlanView> {
        plan::validate(&instalments, now.date_naive())?;
        let grace = self.settings().dunning.plan_grace_days;
        self.write(now, |w| {
            let tx = w.conn();
            let cid = customer_id(tx, customer)?;
            if tx.prepare_cached("SELECT 1 FROM plans WHERE customer_id = ?1 AND state = 'active'")?.exists([cid])? {
                return Err(Error::Invalid { field: "plan", reason: "the customer already has an active plan".into() });
            }
            let id = Uuid::new_v4();
            tx.execute(
                "INSERT INTO plans (uuid, customer_id, created_on, created_key, grace_days, instalments, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'active')",
                params![id, cid, now.date_naive(), key_now(tx, cid)?, grace, serde_json::to_string(&instalments)?],
            )?;
            let total: Money = instalments.iter().map(|i| i.amount).sum();
            let text = format!("payment plan: {} instalments, {total} EUR", instalments.len());
            notes::add(tx, cid, "plan", &text, Some(total), author, now)?;
            let view =
                plan_view(tx, cid, customer, now.date_naive())?.ok_or_else(|| Error::Corrupt("plan vanished".into()))?;
            w.row(Table::Plans, Key::Blob(id))?;
            w.touch(cid);
            Ok(view)
        })
    }

    /// The customer's latest plan and where it stands on `today`.
    pub fn plan(&self, customer: &str, today: NaiveDate) -> Result<Option<PlanView>> {
        self.read(|conn| {
            let cid = customer_id(conn, customer)?;
            plan_view(conn, cid, customer, today)
        })
    }

    pub fn add_note(&self, customer: &str, note: &str, author: &str, now: Now) -> Result<()> {
        let note = prose("note", note, 2000)?;
        self.write(now, |w| {
            let cid = customer_id(w.conn(), customer)?;
            notes::add(w.conn(), cid, "note", &note, None, author, now)
        })
    }

    /// The outcome of the ladder's phone call (or any call); a promise pauses reminders. The
    /// call, and the promise made during it, are one unit of work.
    pub fn record_call(&self, customer: &str, outcome: CallOutcome, note: &str, author: &str, now: Now) -> Result<()> {
        let note = note.trim();
        if note.chars().count() > 2000 {
            return Err(Error::Invalid { field: "note", reason: "longer than 2,000 characters".into() });
        }
        self.write(now, |w| {
            let cid = customer_id(w.conn(), customer)?;
            if let CallOutcome::Promise { on, amount } = &outcome {
                promise_in(w, cid, customer, *on, *amount, author)?;
            }
            let what = match &outcome {
                CallOutcome::Reached => "call: reached".to_owned(),
                CallOutcome::NoAnswer => "call: no answer".to_owned(),
                CallOutcome::Promise { on, amount } => format!("call: promise of {amount} EUR by {on}"),
            };
            let text = if note.is_empty() { what } else { format!("{what} ({note})") };
            notes::add(w.conn(), cid, "call", &text, None, author, now)
        })
    }

    /// Holds reminders for a customer until a date (or until released), with a reason.
    pub fn hold_reminders(
        &self,
        customer: &str,
        until: Option<NaiveDate>,
        reason: Option<&str>,
        author: &str,
        now: Now,
    ) -> Result<()> {
        let reason = reason.map(|r| prose("reason", r, 500)).transpose()?;
        self.write(now, |w| {
            let cid = customer_id(w.conn(), customer)?;
            w.conn().execute(
                "INSERT INTO dunning_customers (customer_id, hold_until, hold_reason) VALUES (?1, ?2, ?3)
                 ON CONFLICT (customer_id) DO UPDATE SET hold_until = excluded.hold_until, hold_reason = excluded.hold_reason",
                params![cid, until, reason],
            )?;
            w.row(Table::DunningCustomers, Key::Rowid(cid))?;
            // A reminder already queued must not go out while the hold lasts.
            w.touch(cid);
            let text = match (&reason, until) {
                (Some(r), Some(u)) => format!("reminders on hold until {u}: {r}"),
                (Some(r), None) => format!("reminders on hold: {r}"),
                (None, _) => "reminders resumed".to_owned(),
            };
            notes::add(w.conn(), cid, "hold", &text, None, author, now)
        })
    }

    /// The customers whose reminders are on hold on `today` (a hold whose day has passed is
    /// over), by name: what the back office lists to release.
    pub fn reminder_holds(&self, today: NaiveDate) -> Result<Vec<ReminderHold>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT c.reference, c.name, d.hold_until, d.hold_reason FROM dunning_customers d
                 JOIN customers c ON c.id = d.customer_id
                 WHERE d.hold_reason IS NOT NULL AND (d.hold_until IS NULL OR d.hold_until >= ?1)
                 ORDER BY c.name, c.reference",
            )?;
            let rows = stmt.query_map([today], |r| {
                Ok(ReminderHold {
                    customer_ref: r.get(0)?,
                    customer_name: r.get(1)?,
                    until: r.get(2)?,
                    reason: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Records that insolvency proceedings (sauvegarde, redressement or liquidation judiciaire)
    /// opened against the customer on `since`, or with `None` that none are open. From that day
    /// no recovery indemnity is claimed and no court file is prepared: the claim is declared to
    /// the mandataire judiciaire instead. Queued reminders are rewritten at once.
    pub fn set_insolvency(&self, customer: &str, since: Option<NaiveDate>, now: Now) -> Result<()> {
        self.write(now, |w| {
            let cid = customer_id(w.conn(), customer)?;
            w.conn().execute(
                "INSERT INTO dunning_customers (customer_id, insolvent_since) VALUES (?1, ?2)
                 ON CONFLICT (customer_id) DO UPDATE SET insolvent_since = excluded.insolvent_since",
                params![cid, since],
            )?;
            w.row(Table::DunningCustomers, Key::Rowid(cid))?;
            w.touch(cid);
            let text = match since {
                Some(d) => format!("insolvency proceedings opened on {d}: no indemnity, no court file"),
                None => "no insolvency proceedings".to_owned(),
            };
            notes::add(w.conn(), cid, "insolvency", &text, None, "ardoise", now)
        })
    }

    /// Puts the customer on another ladder (`None`: the default), or out of reminders.
    pub fn set_customer_ladder(
        &self,
        customer: &str,
        ladder: Option<&str>,
        excluded: bool,
        author: &str,
        now: Now,
    ) -> Result<()> {
        if let Some(name) = ladder {
            self.ladder(name)?;
        }
        self.write(now, |w| {
            let cid = customer_id(w.conn(), customer)?;
            w.conn().execute(
                "INSERT INTO dunning_customers (customer_id, ladder, excluded) VALUES (?1, ?2, ?3)
                 ON CONFLICT (customer_id) DO UPDATE SET ladder = excluded.ladder, excluded = excluded.excluded",
                params![cid, ladder, excluded],
            )?;
            w.row(Table::DunningCustomers, Key::Rowid(cid))?;
            // A queued reminder is rewritten for the new ladder, or cancelled if excluded.
            w.touch(cid);
            let text = if excluded {
                "excluded from reminders".to_owned()
            } else {
                format!("ladder: {}", ladder.unwrap_or("default"))
            };
            notes::add(w.conn(), cid, "ladder", &text, None, author, now)
        })
    }

    /// Stops (or, with `None`, resumes) reminders for one invoice.
    pub fn stop_invoice(&self, invoice: &str, reason: Option<&str>, author: &str, now: Now) -> Result<()> {
        let reason = reason.map(|r| prose("reason", r, 500)).transpose()?;
        self.write(now, |w| {
            let (entry, cid): (Uuid, i64) = w
                .conn()
                .prepare_cached("SELECT entry_uuid, customer_id FROM items WHERE reference = ?1")?
                .query_row([invoice], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .ok_or_else(|| Error::UnknownInvoice(invoice.to_owned()))?;
            match &reason {
                Some(r) => {
                    w.conn().execute(
                        "INSERT INTO invoice_stops (invoice, customer_id, reason, at) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (invoice) DO UPDATE SET reason = excluded.reason",
                        params![entry, cid, r, ms(now)],
                    )?;
                    w.row(Table::InvoiceStops, Key::Blob(entry))?;
                    notes::add(
                        w.conn(),
                        cid,
                        "invoice_stop",
                        &format!("no reminders for {invoice}: {r}"),
                        None,
                        author,
                        now,
                    )?;
                }
                None => {
                    w.conn().execute("DELETE FROM invoice_stops WHERE invoice = ?1", [entry])?;
                    w.row_deleted(Table::InvoiceStops, Key::Blob(entry))?;
                    notes::add(
                        w.conn(),
                        cid,
                        "invoice_stop",
                        &format!("reminders resumed for {invoice}"),
                        None,
                        author,
                        now,
                    )?;
                }
            }
            w.touch(cid);
            Ok(())
        })
    }

    /// Everything that happened on the account, newest first.
    pub fn customer_timeline(&self, customer: &str, limit: usize) -> Result<Vec<TimelineItem>> {
        self.read(|conn| timeline(conn, customer, limit))
    }
}

/// A promise, with its note, in a unit of work.
fn promise_in(
    w: &mut Write<'_>,
    cid: i64,
    customer: &str,
    on: NaiveDate,
    amount: Money,
    author: &str,
) -> Result<Promise> {
    let now = w.now();
    if !amount.is_positive() {
        return Err(Error::NotPositive { field: "amount", amount });
    }
    if on < now.date_naive() {
        return Err(Error::Invalid { field: "date", reason: format!("a promise for {on} is already in the past") });
    }
    let p = Promise {
        id: Uuid::new_v4(),
        customer_ref: customer.to_owned(),
        promised_on: on,
        amount,
        state: "open".into(),
    };
    w.conn().execute(
        "INSERT INTO promises (uuid, customer_id, promised_on, amount, created_on, created_key, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open')",
        params![p.id, cid, on, amount, now.date_naive(), key_now(w.conn(), cid)?],
    )?;
    w.row(Table::Promises, Key::Blob(p.id))?;
    notes::add(w.conn(), cid, "promise", &format!("promise to pay {amount} EUR by {on}"), Some(amount), author, now)?;
    w.touch(cid);
    Ok(p)
}

fn timeline(conn: &Connection, customer: &str, limit: usize) -> Result<Vec<TimelineItem>> {
    {
        let cid = customer_id(conn, customer)?;
        let mut items = Vec::new();
        let mut stmt = conn.prepare_cached(&format!("{ENTRY_SELECT} WHERE e.customer_id = ?1"))?;
        for row in stmt.query_map([cid], entry_from_row)? {
            let e = row??;
            let text = match &e.body {
                EntryBody::Sale { invoice_ref, due_on, .. } => {
                    format!("sale on account, invoice {invoice_ref} due {due_on}")
                }
                EntryBody::Payment { method, .. } => format!("payment ({})", method.as_str()),
                EntryBody::DepositReceived { order_ref, .. } => {
                    format!("deposit received{}", order_ref.as_ref().map(|o| format!(" for {o}")).unwrap_or_default())
                }
                EntryBody::DepositApplied { .. } => "deposit applied".into(),
                EntryBody::DepositRefunded { .. } => "deposit refunded".into(),
                EntryBody::CreditNote { reason, .. } => format!("credit note: {reason}"),
                EntryBody::Adjustment { reason, .. } => format!("adjustment: {reason}"),
                EntryBody::WriteOff { reason, .. } => format!("write-off: {reason}"),
                EntryBody::Reversal { reason, .. } => format!("reversal: {reason}"),
            };
            items.push(TimelineItem {
                date: e.business_date,
                at: e.recorded_at,
                kind: format!("entry:{}", e.body.kind()),
                text,
                amount: e.body.amount(),
                state: None,
                id: e.id,
                author: Some(e.cashier.clone()),
            });
        }
        let mut stmt = conn.prepare_cached(
            "SELECT uuid, created_on, created_at, step, channel, state, amount_due, state_note FROM reminders WHERE customer_id = ?1",
        )?;
        let rows = stmt.query_map([cid], |r| {
            Ok((
                r.get::<_, Uuid>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })?;
        for row in rows {
            let (id, on, at, step, channel, state, amount, note) = row?;
            let note = note.map(|n| format!(" ({n})")).unwrap_or_default();
            items.push(TimelineItem {
                date: date_of(&on)?,
                at: DateTime::from_timestamp_millis(at).unwrap_or_default(),
                kind: "reminder".into(),
                text: format!("{step} by {channel}: {state}{note}"),
                amount: Some(Money::from_minor(amount)),
                state: Some(state),
                id,
                author: None,
            });
        }
        let mut stmt = conn.prepare_cached(
            "SELECT uuid, date, at, kind, text, amount, author FROM followups WHERE customer_id = ?1",
        )?;
        let rows = stmt.query_map([cid], |r| {
            Ok((
                r.get::<_, Uuid>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?;
        for row in rows {
            let (id, date, at, kind, text, amount, author) = row?;
            items.push(TimelineItem {
                date: date_of(&date)?,
                at: DateTime::from_timestamp_millis(at).unwrap_or_default(),
                kind,
                text,
                amount: amount.map(Money::from_minor),
                state: None,
                id,
                author: Some(author),
            });
        }
        items.sort_by_key(|x| std::cmp::Reverse((x.date, x.at)));
        items.truncate(limit);
        Ok(items)
    }
}

fn dispute_row(tx: &Connection, id: Uuid) -> Result<(i64, String)> {
    tx.prepare_cached(
        "SELECT d.customer_id, i.reference FROM disputes d JOIN items i ON i.entry_uuid = d.invoice WHERE d.uuid = ?1",
    )?
    .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
    .optional()?
    .ok_or_else(|| Error::NotFound { what: "dispute", id: id.to_string() })
}

fn plan_view(tx: &Connection, cid: i64, customer: &str, today: NaiveDate) -> Result<Option<PlanView>> {
    let row: Option<(Uuid, String, String, u32, String, String)> = tx
        .prepare_cached(
            "SELECT uuid, created_on, created_key, grace_days, instalments, state FROM plans WHERE customer_id = ?1 ORDER BY id DESC LIMIT 1",
        )?
        .query_row([cid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        .optional()?;
    let Some((id, created, key, grace_days, instalments, state)) = row else { return Ok(None) };
    let instalments: Vec<Instalment> = serde_json::from_str(&instalments)?;
    let paid = paid_since(tx, cid, &key)?;
    let status = plan::status(&instalments, paid, grace_days, today);
    Ok(Some(PlanView {
        id,
        customer_ref: customer.to_owned(),
        created_on: date_of(&created)?,
        instalments,
        grace_days,
        state,
        status,
        paid,
    }))
}

fn dispute_in(tx: &Connection, id: Uuid) -> Result<Dispute> {
    let row: (String, String, String, String, String, Option<String>) = tx
        .prepare_cached(
            "SELECT c.reference, i.reference, d.reason, d.state, d.opened_on, d.resolution FROM disputes d
             JOIN customers c ON c.id = d.customer_id JOIN items i ON i.entry_uuid = d.invoice WHERE d.uuid = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?;
    Ok(Dispute {
        id,
        customer_ref: row.0,
        invoice: row.1,
        reason: row.2,
        state: row.3,
        opened_on: date_of(&row.4)?,
        resolution: row.5,
    })
}
