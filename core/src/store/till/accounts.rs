//! Account reads for the till: the checkout verdict, the account summary, the timeline, and
//! manager overrides. Each is a point lookup plus the customer's few open invoices.

use chrono::NaiveDate;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::checkout::{self, Decision, Verdict};
use crate::customer::Customer;
use crate::entry::{Effect, Entry};
use crate::error::{Error, Result};
use crate::money::Money;
use crate::payref::PaymentReference;
use crate::store::db::values::{ENTRY_SELECT, entry_from_row};
use crate::store::db::values::{Now, ms};
use crate::store::handle::Store;
use crate::store::sync::replica::{Key, Table};
use crate::store::till::customer_rows::{by_reference, customer_id};
use crate::store::till::verdict::{self, Ask, Overrides};

/// An invoice (or charge) not yet fully settled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OpenInvoice {
    pub reference: String,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub amount: Money,
    pub remaining: Money,
    /// Days past the due date; 0 when not yet overdue.
    pub days_overdue: u32,
}

/// A deposit still held, with the order it was taken for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DepositHeld {
    pub order_ref: Option<String>,
    pub amount: Money,
    pub remaining: Money,
}

/// Everything the till and the owner see about an account today.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AccountSummary {
    pub customer: Customer,
    /// The reference the customer quotes on a bank transfer (ISO 11649), derived from the
    /// customer's id: the same on every device.
    pub payment_reference: PaymentReference,
    /// What the customer owes; negative when they hold credit.
    pub balance: Money,
    pub overdue: Money,
    pub oldest_overdue_days: Option<u32>,
    /// The limit in force (the customer's, or the shop default).
    pub credit_limit: Option<Money>,
    pub available_credit: Option<Money>,
    pub deposits_available: Money,
    pub credit_on_account: Money,
    pub open_invoices: Vec<OpenInvoice>,
    pub deposits: Vec<DepositHeld>,
}

/// One line of the customer's history, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub entry: Entry,
    pub effect: Effect,
}

/// A manager's permission to sell on account despite a refusal, for one customer, one day, up
/// to one amount.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Override {
    pub id: Uuid,
    pub customer_ref: String,
    pub business_date: NaiveDate,
    pub amount: Money,
    pub manager: String,
    pub reason: String,
    pub verdict: Verdict,
}

impl Store {
    /// May this customer buy `cart_total` on account now? Offline, from one account row, on a
    /// reader: it never waits for a write in progress.
    pub fn check(&self, customer: &str, cart_total: Money, now: Now) -> Result<Verdict> {
        if cart_total.is_negative() {
            return Err(Error::NotPositive { field: "cart total", amount: cart_total });
        }
        let rules = self.settings().checkout.clone();
        let ask = Ask { customer, cart: cart_total, day: now.date_naive(), now, overrides: Overrides::Count };
        self.read(|conn| verdict::verdict(conn, self.device_id(), &rules, ask))
    }

    /// Records a manager's override of today's verdict for this customer and amount; the next
    /// sale on account within it goes through, and carries the override's id.
    pub fn override_checkout(
        &self,
        customer: &str,
        cart_total: Money,
        manager: &str,
        reason: &str,
        now: Now,
    ) -> Result<Override> {
        if !cart_total.is_positive() {
            return Err(Error::NotPositive { field: "cart total", amount: cart_total });
        }
        let (manager, reason) = (manager.trim(), reason.trim());
        if manager.is_empty() || reason.is_empty() {
            return Err(Error::Invalid { field: "override", reason: "needs the manager's name and a reason".into() });
        }
        let rules = self.settings().checkout.clone();
        self.write(now, |w| {
            let customer_id = customer_id(w.conn(), customer)?;
            let ask = Ask { customer, cart: cart_total, day: now.date_naive(), now, overrides: Overrides::Ignore };
            let verdict = verdict::verdict(w.conn(), w.device(), &rules, ask)?;
            if verdict.decision != Decision::Refuse {
                return Err(Error::Invalid {
                    field: "override",
                    reason: format!("nothing to override: the sale is allowed ({})", verdict.summary()),
                });
            }
            let ov = Override {
                id: Uuid::new_v4(),
                customer_ref: customer.to_owned(),
                business_date: now.date_naive(),
                amount: cart_total,
                manager: manager.to_owned(),
                reason: reason.to_owned(),
                verdict,
            };
            w.conn().execute(
                "INSERT INTO overrides (uuid, customer_id, business_date, amount, manager, reason, verdict, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    ov.id,
                    customer_id,
                    ov.business_date,
                    ov.amount,
                    ov.manager,
                    ov.reason,
                    serde_json::to_string(&ov.verdict)?,
                    ms(now)
                ],
            )?;
            let row = w.conn().last_insert_rowid();
            w.row(Table::Overrides, Key::Rowid(row))?;
            Ok(ov)
        })
    }

    /// The account as of `today`: balance, overdue, limits, open invoices, deposits held.
    pub fn account(&self, customer: &str, today: NaiveDate) -> Result<AccountSummary> {
        let rules = self.settings().checkout.clone();
        self.read(|conn| {
            let (id, c) = by_reference(conn, customer)?;
            // The account's own rules only (limits, what is available): any time of `today` will do.
            let noon = today.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc().fixed_offset();
            let ask = Ask { customer, cart: Money::ZERO, day: today, now: noon, overrides: Overrides::Ignore };
            let snap = verdict::snapshot(conn, self.device_id(), &rules, ask)?;
            let credit: Money =
                conn.prepare_cached("SELECT credit FROM accounts WHERE customer_id = ?1")?.query_row([id], |r| r.get(0))?;
            let mut stmt = conn.prepare_cached(
                "SELECT reference, issued_on, due_on, amount, settled FROM items WHERE customer_id = ?1 AND open = 1 ORDER BY due_on, issued_on",
            )?;
            let open_invoices = stmt
                .query_map([id], |r| {
                    let (amount, settled, due_on): (Money, Money, NaiveDate) = (r.get(3)?, r.get(4)?, r.get(2)?);
                    Ok(OpenInvoice {
                        reference: r.get(0)?,
                        issued_on: r.get(1)?,
                        due_on,
                        amount,
                        remaining: amount - settled,
                        days_overdue: u32::try_from((today - due_on).num_days()).unwrap_or(0),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut stmt = conn.prepare_cached(
                "SELECT order_ref, amount, remaining FROM deposit_lots WHERE customer_id = ?1 AND remaining > 0 ORDER BY order_key",
            )?;
            let deposits = stmt
                .query_map([id], |r| Ok(DepositHeld { order_ref: r.get(0)?, amount: r.get(1)?, remaining: r.get(2)? }))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let verdict = checkout::check(&snap, &rules, Money::ZERO, today);
            Ok(AccountSummary {
                payment_reference: c.payment_reference(),
                customer: c,
                balance: snap.balance,
                overdue: snap.overdue,
                oldest_overdue_days: verdict.oldest_overdue_days,
                credit_limit: verdict.credit_limit,
                available_credit: verdict.available_credit,
                deposits_available: verdict.deposits_available,
                credit_on_account: credit,
                open_invoices,
                deposits,
            })
        })
    }

    /// The customer's entries, newest first.
    pub fn timeline(&self, customer: &str, limit: usize) -> Result<Vec<TimelineEvent>> {
        self.read(|conn| {
            let id = customer_id(conn, customer)?;
            let mut stmt = conn.prepare_cached(&format!(
                "{ENTRY_SELECT} WHERE e.customer_id = ?1 ORDER BY e.order_key DESC LIMIT ?2"
            ))?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = stmt.query_map(params![id, limit], |r| {
                let effect = Effect { balance: r.get(8)?, deposits: r.get(9)? };
                Ok(entry_from_row(r)?.map(|entry| TimelineEvent { entry, effect }))
            })?;
            rows.map(|r| r?).collect()
        })
    }

    /// Every entry in the order this device recorded or received them.
    pub fn entries(&self) -> Result<Vec<Entry>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(&format!("{ENTRY_SELECT} ORDER BY e.id"))?;
            let rows = stmt.query_map([], entry_from_row)?;
            rows.map(|r| r?).collect()
        })
    }
}
