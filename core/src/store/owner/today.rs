//! The owner's day: what needs a person today. Calls to make and letters to post (queued
//! reminders whose channel is a person's work), reminders held for the owner's approval,
//! promises broken lately, and bank credits waiting to be confirmed.

use chrono::{Days, NaiveDate};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::bank::{Line, LineState};
use crate::error::Result;
use crate::money::Money;
use crate::store::db::values::Now;
use crate::store::handle::Store;

/// How far back a broken promise still calls for a word with the customer.
const BROKEN_PROMISE_DAYS: u64 = 30;
/// Most bank credits listed: the rest is on the bank page.
const BANK_LINES_MAX: usize = 50;

/// Today's work for a person at the shop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Today {
    pub as_of: NaiveDate,
    /// Queued phone-call reminders due today or before, oldest first.
    pub calls: Vec<Task>,
    /// Queued letters and court files to print and post, oldest first.
    pub letters: Vec<Task>,
    /// Reminders held for the owner (a rate table missing, a step that asks for approval).
    pub held: Vec<Task>,
    /// Promises to pay whose day passed without the money, in the last 30 days.
    pub broken_promises: Vec<BrokenPromise>,
    /// Bank credits suggested for a customer, waiting for someone to confirm.
    pub bank_to_confirm: Vec<Line>,
}

/// A reminder that needs a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record), uniffi(name = "OwnerTask"))]
pub struct Task {
    pub reminder: Uuid,
    pub customer_ref: String,
    pub customer_name: String,
    pub phone: Option<String>,
    /// The ladder step ("relance 2", "mise en demeure"...).
    pub step: String,
    pub channel: String,
    pub amount_due: Money,
    /// The day it was queued.
    pub since: NaiveDate,
    /// Why it is held, for a held one.
    pub note: Option<String>,
}

/// A promise the customer did not keep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct BrokenPromise {
    pub customer_ref: String,
    pub customer_name: String,
    pub phone: Option<String>,
    pub promised_on: NaiveDate,
    pub amount: Money,
}

impl Store {
    /// What needs a person on the day of `now` (see [`Today`]).
    pub fn today(&self, now: Now) -> Result<Today> {
        let as_of = now.date_naive();
        let (calls, letters, held, broken_promises) = self.read(|conn| {
            Ok((
                tasks(conn, "state = 'queued' AND channel = 'phone_call' AND substr(not_before, 1, 10) <= ?1", as_of)?,
                tasks(
                    conn,
                    "state = 'queued' AND channel IN ('letter', 'document') AND substr(not_before, 1, 10) <= ?1",
                    as_of,
                )?,
                tasks(conn, "state = 'held' AND created_on <= ?1", as_of)?,
                broken(conn, as_of)?,
            ))
        })?;
        let bank_to_confirm = self.bank_lines(Some(LineState::Suggested), BANK_LINES_MAX, 0)?;
        Ok(Today { as_of, calls, letters, held, broken_promises, bank_to_confirm })
    }
}

fn tasks(conn: &Connection, filter: &str, as_of: NaiveDate) -> Result<Vec<Task>> {
    let sql = format!(
        "SELECT r.uuid, c.reference, c.name, c.phone, r.step, r.channel, r.amount_due, r.created_on, r.state_note
         FROM reminders r JOIN customers c ON c.id = r.customer_id
         WHERE {filter} ORDER BY r.created_on, r.id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![as_of.to_string()], |r| {
        Ok(Task {
            reminder: r.get(0)?,
            customer_ref: r.get(1)?,
            customer_name: r.get(2)?,
            phone: r.get(3)?,
            step: r.get(4)?,
            channel: r.get(5)?,
            amount_due: Money::from_minor(r.get(6)?),
            since: r.get(7)?,
            note: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn broken(conn: &Connection, as_of: NaiveDate) -> Result<Vec<BrokenPromise>> {
    let since = as_of.checked_sub_days(Days::new(BROKEN_PROMISE_DAYS)).unwrap_or(as_of);
    let mut stmt = conn.prepare_cached(
        "SELECT c.reference, c.name, c.phone, p.promised_on, p.amount
         FROM promises p JOIN customers c ON c.id = p.customer_id
         WHERE p.state = 'broken' AND p.promised_on >= ?1 AND p.promised_on <= ?2
         ORDER BY p.promised_on DESC, p.id DESC",
    )?;
    let rows = stmt.query_map(params![since.to_string(), as_of.to_string()], |r| {
        Ok(BrokenPromise {
            customer_ref: r.get(0)?,
            customer_name: r.get(1)?,
            phone: r.get(2)?,
            promised_on: r.get(3)?,
            amount: Money::from_minor(r.get(4)?),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::SaleRequest;
    use crate::customer::NewCustomer;

    fn at(s: &str) -> Now {
        DateTime::parse_from_rfc3339(&format!("{s}T10:00:00+01:00")).unwrap()
    }

    fn sold(s: &Store, c: &str, name: &str, on: &str) {
        let new = NewCustomer {
            reference: c.into(),
            name: name.into(),
            phone: Some("+33 6 12 34 56 78".into()),
            kind: crate::customer::CustomerKind::Business,
            terms: crate::customer::Terms::Net(30),
            ..Default::default()
        };
        s.add_customer(new, at(on)).unwrap();
        let sale = SaleRequest {
            customer: c.into(),
            amount: Money::from_minor(10_000),
            date: Some(on.parse().unwrap()),
            invoice_ref: None,
            cashier: "anna".into(),
            deposit: None,
        };
        s.sell_on_account(sale, at(on)).unwrap();
    }

    #[test]
    fn the_day_lists_calls_letters_broken_promises_and_only_them() {
        let s = Store::open_in_memory().unwrap();
        // Due 2026-03-03: 27 days late on 03-30 (the call step, 25 days).
        sold(&s, "C1", "Hélène Dupré", "2026-02-01");
        // Due 2026-02-15: 43 days late (the formal notice by letter, 40 days).
        sold(&s, "C2", "Boulangerie Martin", "2026-01-16");
        // Due 2026-03-10: promised for 03-20, not paid.
        sold(&s, "C3", "Marc Petit", "2026-02-08");
        s.promise_to_pay("C3", "2026-03-20".parse().unwrap(), Money::from_minor(10_000), "anna", at("2026-03-12"))
            .unwrap();
        // Not late yet.
        sold(&s, "C4", "Paul Durand", "2026-03-20");
        s.run_dunning(at("2026-03-30")).unwrap();

        let t = s.today(at("2026-03-30")).unwrap();
        let refs = |v: &[Task]| v.iter().map(|t| t.customer_ref.clone()).collect::<Vec<_>>();
        // C3 has no email: the second reminder becomes a call too.
        assert_eq!(refs(&t.calls), ["C1", "C3"], "{t:#?}");
        assert_eq!(t.calls[0].phone.as_deref(), Some("+33 6 12 34 56 78"));
        assert_eq!(t.calls[0].amount_due, Money::from_minor(10_000));
        assert_eq!(refs(&t.letters), ["C2"], "{t:#?}");
        assert!(t.letters[0].note.as_deref().unwrap().contains("no postal address"), "what stops it is said");
        let broken: Vec<&str> = t.broken_promises.iter().map(|p| p.customer_ref.as_str()).collect();
        assert_eq!(broken, ["C3"], "{t:#?}");
        assert!(t.bank_to_confirm.is_empty());

        // A month later the broken promise is old news.
        let later = s.today(at("2026-04-25")).unwrap();
        assert!(later.broken_promises.is_empty());
    }
}
