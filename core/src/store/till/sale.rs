//! The till's money writes: a sale on account (judged by the checkout verdict, with a deposit
//! applied in the same unit of work) and every other entry (payments, deposits, credit notes,
//! adjustments, write-offs, reversals).

use chrono::NaiveDate;
use rusqlite::{Connection, Transaction};
use uuid::Uuid;

use crate::checkout::Decision;
use crate::entry::{EntryBody, REFERENCE_MAX};
use crate::error::{Error, Result};
use crate::money::Money;
use crate::store::db::device::next_invoice_ref;
use crate::store::db::values::text;
use crate::store::db::values::{Now, new_id};
use crate::store::handle::Store;
use crate::store::till::ledger::{
    EntryRequest, Recorded, SaleRequest, Target, business_date, customer_in, deposit_use, positive, validate,
};
use crate::store::till::verdict::{self, Ask, Overrides};

impl Store {
    /// Records a sale on account if the checkout verdict allows it, or if a manager override
    /// recorded today covers it. The invoice's due date follows the customer's terms.
    pub fn sell_on_account(&self, req: SaleRequest, now: Now) -> Result<Recorded> {
        positive("amount", req.amount)?;
        let deposit = req.deposit.filter(|d| !d.is_zero());
        if let Some(d) = deposit {
            positive("deposit", d)?;
            if d > req.amount {
                return Err(Error::Invalid {
                    field: "deposit",
                    reason: format!("{d} is more than the sale ({})", req.amount),
                });
            }
        }
        let on_account = req.amount - deposit.unwrap_or(Money::ZERO);
        let date = business_date(req.date, now)?;
        let rules = self.settings().checkout.clone();
        self.write(now, |w| {
            let target = customer_in(w.conn(), &req.customer)?;
            if let Some(d) = deposit {
                deposit_use(w.conn(), target.id, date, d)?;
            }
            let ask = Ask { customer: &req.customer, cart: on_account, day: date, now, overrides: Overrides::Count };
            let snap = verdict::snapshot(w.conn(), w.device(), &rules, ask)?;
            let verdict = crate::checkout::check(&snap, &rules, on_account, date);
            // Nothing on account (the deposit pays it all) needs no permission: a deposit is money.
            if verdict.decision == Decision::Refuse && on_account.is_positive() {
                return Err(Error::Refused(Box::new(verdict)));
            }
            let entry_id = new_id(now);
            // The override the verdict counted, if it needed one, is used by this sale.
            let overridden =
                verdict.reasons.iter().any(|r| matches!(r, crate::checkout::Reason::ManagerOverride { .. }));
            let override_id = snap.grant.filter(|_| overridden).map(|g| g.id);
            if let Some(id) = override_id {
                w.conn()
                    .prepare_cached("UPDATE overrides SET used_by = ?2 WHERE uuid = ?1")?
                    .execute(rusqlite::params![id, entry_id])?;
            }
            let invoice_ref = match &req.invoice_ref {
                Some(r) => {
                    let r = text("invoice reference", r, REFERENCE_MAX)?;
                    if w.conn().prepare_cached("SELECT 1 FROM items WHERE reference = ?1")?.exists([&r])? {
                        return Err(Error::DuplicateInvoice(r));
                    }
                    r
                }
                None => next_invoice_ref(w.conn())?,
            };
            let body =
                EntryBody::Sale { amount: req.amount, invoice_ref, due_on: target.terms.due_date(date), override_id };
            let mut rec = w.append(&target, entry_id, date, &req.cashier, body)?;
            if let Some(d) = deposit {
                let applied = EntryBody::DepositApplied { amount: d, invoice: Some(entry_id) };
                let second = w.append(&target, new_id(now), date, &req.cashier, applied)?;
                (rec.balance, rec.deposits, rec.deposit_applied) =
                    (second.balance, second.deposits, Some(second.entry));
            }
            rec.verdict = Some(verdict);
            Ok(rec)
        })
    }

    /// Records a payment, deposit, credit note, adjustment, write-off or reversal.
    pub fn record(
        &self,
        customer: &str,
        date: Option<NaiveDate>,
        cashier: &str,
        req: EntryRequest,
        now: Now,
    ) -> Result<Recorded> {
        let date = business_date(date, now)?;
        self.write(now, |w| {
            let (target, body) = checked(w.conn(), customer, date, req)?;
            w.append(&target, new_id(now), date, cashier, body)
        })
    }

    /// [`Store::record`] under an id the caller derives from what it records (a bank
    /// transaction, a payment provider's event), so that recording it again, from this device
    /// or another, is recognised: `None` when an entry with that id is already in the ledger.
    /// The check and the write are one transaction, and the id is unique in every ledger and in
    /// the shop's log, so the same money is never taken in twice.
    pub fn record_once(
        &self,
        id: Uuid,
        customer: &str,
        date: Option<NaiveDate>,
        cashier: &str,
        req: EntryRequest,
        now: Now,
    ) -> Result<Option<Recorded>> {
        let date = business_date(date, now)?;
        self.write(now, |w| {
            if in_ledger(w.conn(), id)? {
                return Ok(None);
            }
            let (target, body) = checked(w.conn(), customer, date, req)?;
            w.append(&target, id, date, cashier, body).map(Some)
        })
    }

    /// [`Store::record_once`] for several entries in one unit of work: one commit, so one
    /// wait for the disk, for a burst of payments a provider reports. Each is recorded,
    /// recognised (`None`) or refused on its own (its `Err` in its place, nothing written for
    /// it: validation writes nothing); only a failure to write fails them all.
    pub fn record_once_each(
        &self,
        items: Vec<(Uuid, String, EntryRequest)>,
        cashier: &str,
        now: Now,
    ) -> Result<Vec<Result<Option<Recorded>>>> {
        let date = business_date(None, now)?;
        self.write(now, |w| {
            let mut out = Vec::with_capacity(items.len());
            for (id, customer, req) in items {
                if in_ledger(w.conn(), id)? {
                    out.push(Ok(None));
                    continue;
                }
                match checked(w.conn(), &customer, date, req) {
                    Ok((target, body)) => out.push(Ok(Some(w.append(&target, id, date, cashier, body)?))),
                    Err(e) => out.push(Err(e)),
                }
            }
            Ok(out)
        })
    }

    /// [`Store::record_once_each`] for entries that stand or fall together (a payment's
    /// reversal and the credit that goes with it): each recorded or recognised (`None`) in one
    /// unit of work, or, at the first refusal, none of them, that refusal being the error. In
    /// the outbox, and so in the log, they follow one another in the order given.
    pub fn record_once_all(
        &self,
        items: Vec<(Uuid, String, EntryRequest)>,
        cashier: &str,
        now: Now,
    ) -> Result<Vec<Option<Recorded>>> {
        let date = business_date(None, now)?;
        self.write(now, |w| {
            let mut out = Vec::with_capacity(items.len());
            for (id, customer, req) in items {
                if in_ledger(w.conn(), id)? {
                    out.push(None);
                    continue;
                }
                let (target, body) = checked(w.conn(), &customer, date, req)?;
                out.push(Some(w.append(&target, id, date, cashier, body)?));
            }
            Ok(out)
        })
    }

    /// Whether an entry with this id is in the ledger (a provider's payment a refund or a
    /// chargeback refers to, for instance).
    pub fn has_entry(&self, id: Uuid) -> Result<bool> {
        self.read(|conn| in_ledger(conn, id))
    }
}

/// Whether an entry with this id is in the ledger `conn` reads.
fn in_ledger(conn: &Connection, id: Uuid) -> Result<bool> {
    Ok(conn.prepare_cached("SELECT 1 FROM entries WHERE uuid = ?1")?.exists([id])?)
}

/// The customer a request is for and the entry it makes, checked; nothing written either way.
fn checked(conn: &Transaction<'_>, customer: &str, date: NaiveDate, req: EntryRequest) -> Result<(Target, EntryBody)> {
    let target = customer_in(conn, customer)?;
    let body = validate(conn, target.id, date, req)?;
    Ok((target, body))
}
