//! The unit of work: the one owner of every write. It holds the transaction; a write
//! validates, appends its entries (each with its outbox row) and folds them into the account,
//! or writes a follow-up row and replicates it; at commit it brings the queued reminders of every
//! customer it touched up to date, once each, and commits all of it together.
//!
//! Till operations, entries and rows ingested from sync, imports, the fees a reminder adds and
//! the back office's own writes all go through here, so "a write" means the same thing
//! everywhere: nothing below calls back up into it (a fee is one more entry of the same unit of
//! work, and the reminders it changes are refreshed at commit like any other).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, Transaction};
use uuid::Uuid;

use crate::entry::{Entry, EntryBody, REFERENCE_MAX};
use crate::error::{Error, Result};
use crate::money::Money;
use crate::store::db::device::next_seq;
use crate::store::db::values::{Now, new_id, text};
use crate::store::reminders::queue;
use crate::store::sync::outbox;
use crate::store::sync::replica::{self, Key, Table};
use crate::store::till::ledger::{self, EntryRequest, Recorded, Target};

/// One unit of work on the writer connection (see the module's documentation).
#[derive(Debug)]
pub(in crate::store) struct Write<'c> {
    tx: Transaction<'c>,
    device: Uuid,
    now: Now,
    /// Customers whose account or follow-ups changed: their queued reminders are rewritten (or
    /// cancelled) at commit, from the state this unit of work leaves.
    touched: BTreeSet<i64>,
    /// The shop settings changed: the store reloads them after the commit.
    settings_changed: bool,
}

impl<'c> Write<'c> {
    pub(in crate::store) fn begin(conn: &'c mut Connection, device: Uuid, now: Now) -> Result<Write<'c>> {
        Ok(Write { tx: conn.transaction()?, device, now, touched: BTreeSet::new(), settings_changed: false })
    }

    /// The transaction, for the queries and row writes of the write in progress.
    pub(in crate::store) fn conn(&self) -> &Transaction<'c> {
        &self.tx
    }

    pub(in crate::store) fn now(&self) -> Now {
        self.now
    }

    pub(in crate::store) fn device(&self) -> Uuid {
        self.device
    }

    /// This customer's queued reminders are to be brought up to date at commit.
    pub(in crate::store) fn touch(&mut self, customer_id: i64) {
        self.touched.insert(customer_id);
    }

    pub(in crate::store) fn settings_changed(&mut self) {
        self.settings_changed = true;
    }

    /// Validates and records a new local entry of `customer_id` dated `date`.
    pub(in crate::store) fn record(
        &mut self,
        customer_id: i64,
        date: NaiveDate,
        cashier: &str,
        req: EntryRequest,
    ) -> Result<Recorded> {
        let target = ledger::target_by_id(&self.tx, customer_id)?;
        let body = ledger::validate(&self.tx, customer_id, date, req)?;
        self.append(&target, new_id(self.now), date, cashier, body)
    }

    /// Charges a fee or penalty to the account today: a positive adjustment marked as a fee,
    /// which the reminders never chase as an invoice of its own.
    pub(in crate::store) fn charge(&mut self, customer_id: i64, amount: Money, reason: &str) -> Result<Recorded> {
        let today = self.now.date_naive();
        let req = EntryRequest::Adjustment { amount, reason: reason.to_owned() };
        let mut body = ledger::validate(&self.tx, customer_id, today, req)?;
        if let EntryBody::Adjustment { fee, .. } = &mut body {
            *fee = true;
        }
        let target = ledger::target_by_id(&self.tx, customer_id)?;
        self.append(&target, new_id(self.now), today, "ardoise", body)
    }

    /// Writes a new local entry (already validated), its outbox row, and folds it into the
    /// account.
    pub(in crate::store) fn append(
        &mut self,
        target: &Target,
        id: Uuid,
        date: NaiveDate,
        cashier: &str,
        body: EntryBody,
    ) -> Result<Recorded> {
        let cashier = text("cashier", cashier, REFERENCE_MAX)?;
        let mut entry = Entry {
            id,
            device_id: self.device,
            device_seq: 0,
            customer: target.uuid,
            business_date: date,
            recorded_at: self.now.to_utc(),
            cashier,
            body,
        };
        // Everything that can refuse the entry comes before the first row written: a caller
        // that goes on after a refusal (a bank import) then has nothing to take back. The
        // number is the device's own, taken last.
        entry.check_content()?;
        let reversed = ledger::reversed_entry(&self.tx, &entry.body, entry.customer)?;
        entry.device_seq = next_seq(&self.tx)?;
        entry.check_sequence()?;
        ledger::insert_entry(&self.tx, target.id, &entry, reversed.as_ref())?;
        outbox::append_entry(&self.tx, entry.device_seq, entry.id, self.now)?;
        let (balance, deposits) = ledger::fold_in(&self.tx, target.id, &entry, reversed.as_ref())?;
        self.touch(target.id);
        Ok(Recorded { entry, balance, deposits, verdict: None, deposit_applied: None })
    }

    /// Adds an entry recorded elsewhere (another till, a replay) unless already known; says
    /// whether it was new.
    pub(in crate::store) fn ingest(&mut self, e: &Entry) -> Result<bool> {
        let tx = &self.tx;
        if tx.prepare_cached("SELECT 1 FROM entries WHERE uuid = ?1")?.exists([e.id])? {
            return Ok(false);
        }
        // Held to the rules this till's own entries pass: one device cannot break the others'
        // accounts with an entry none of them would have written.
        e.check()?;
        let customer_id: i64 = tx
            .prepare_cached("SELECT id FROM customers WHERE uuid = ?1")?
            .query_row([e.customer], |r| r.get(0))
            .optional()?
            .ok_or_else(|| Error::UnknownCustomer(e.customer.to_string()))?;
        let reversed = ledger::reversed_entry(tx, &e.body, e.customer)?;
        if let EntryBody::Reversal { of, .. } = &e.body {
            // Two tills reversed the same entry offline: only the first in fold order counts, on
            // every device; the refold settles which one that is and zeroes the other's effect.
            if tx.prepare_cached("SELECT 1 FROM entries WHERE reverses = ?1")?.exists([of])? {
                ledger::insert_entry(tx, customer_id, e, None)?;
                ledger::refold(tx, customer_id)?;
                self.touch(customer_id);
                return Ok(true);
            }
        }
        ledger::insert_entry(tx, customer_id, e, reversed.as_ref())?;
        ledger::fold_in(tx, customer_id, e, reversed.as_ref())?;
        self.touch(customer_id);
        Ok(true)
    }

    /// A replicated row was written here: gives it a new clock and queues its whole state for
    /// the other devices.
    pub(in crate::store) fn row(&mut self, t: Table, key: Key) -> Result<()> {
        replica::emit(&self.tx, t, key, self.now)
    }

    /// A replicated row was deleted here: the other devices delete it too.
    pub(in crate::store) fn row_deleted(&mut self, t: Table, key: Key) -> Result<()> {
        replica::emit_deleted(&self.tx, t, key, self.now)
    }

    /// Brings the touched customers' queued reminders up to date, then commits. Says whether
    /// the shop settings changed.
    pub(in crate::store) fn commit(self) -> Result<bool> {
        for &customer_id in &self.touched {
            queue::refresh(&self.tx, customer_id, self.now)?;
        }
        self.tx.commit()?;
        Ok(self.settings_changed)
    }
}
