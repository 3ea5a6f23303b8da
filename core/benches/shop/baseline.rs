//! The two yardsticks for the checkout verdict, on a second, read-only connection: the answer
//! a simple app computes by aggregating the ledger, and one indexed row (the floor).

use std::path::Path;

use ardoise_core::checkout::{self, AccountSnapshot, CheckoutRules};
use ardoise_core::{Money, Verdict, parse_date};
use chrono::NaiveDate;
use rusqlite::{Connection, OpenFlags};

/// Balance and deposits by summing the customer's entries; overdue by FIFO over their sales:
/// everything paid or credited settles invoices oldest due first, so the unpaid ones are those
/// whose running total exceeds what was paid. The due date lives only in the entry's JSON.
const AGGREGATE: &str = "
WITH e AS MATERIALIZED (
    SELECT id, kind, balance_effect, deposit_effect,
           CASE WHEN kind = 'sale' THEN json_extract(body, '$.due_on') END AS due
    FROM entries WHERE customer_id = ?1
),
tot AS (
    SELECT coalesce(sum(balance_effect), 0) AS balance,
           coalesce(sum(deposit_effect), 0) AS deposits,
           coalesce(-sum(min(balance_effect, 0)), 0) AS paid
    FROM e
),
fifo AS (
    SELECT due, balance_effect AS amount,
           sum(balance_effect) OVER (ORDER BY due, id ROWS UNBOUNDED PRECEDING) AS running
    FROM e WHERE kind = 'sale'
),
unpaid AS (
    SELECT due, min(amount, running - tot.paid) AS owed FROM fifo, tot
    WHERE running > tot.paid AND due < ?2
)
SELECT c.reference, c.name, c.credit_limit, c.blocked, tot.balance, tot.deposits,
       (SELECT coalesce(sum(owed), 0) FROM unpaid),
       (SELECT count(*) FROM unpaid),
       (SELECT min(due) FROM unpaid)
FROM customers c, tot WHERE c.id = ?1";

const POINT: &str = "SELECT balance, deposits, oldest_due FROM accounts WHERE customer_id = ?1";

/// A read-only connection on the shop's file, beside the store's own.
#[derive(Debug)]
pub struct Baselines {
    conn: Connection,
    rules: CheckoutRules,
}

/// The accounts row, as the floor reads it.
#[derive(Debug)]
pub struct Row {
    pub balance: i64,
    pub deposits: i64,
    pub oldest_due: Option<String>,
}

impl Baselines {
    pub fn open(path: &Path, rules: CheckoutRules) -> Baselines {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).expect("open read-only");
        // The store's own page cache size, so the comparison is between queries, not caches.
        conn.pragma_update(None, "cache_size", -16_000).expect("cache size");
        Baselines { conn, rules }
    }

    /// The same verdict as the store's, from numbers aggregated over the ledger. It goes
    /// through the same pure rules, so only where the numbers come from differs.
    pub fn aggregated_verdict(&self, customer_id: i64, cart: Money, today: NaiveDate) -> Verdict {
        let snap = self
            .conn
            .prepare_cached(AGGREGATE)
            .expect("prepare aggregation")
            .query_row(rusqlite::params![customer_id, today.to_string()], |r| {
                Ok(AccountSnapshot {
                    customer_ref: r.get(0)?,
                    customer_name: r.get(1)?,
                    credit_limit: r.get::<_, Option<i64>>(2)?.map(Money::from_minor),
                    blocked: r.get(3)?,
                    balance: Money::from_minor(r.get(4)?),
                    deposits: Money::from_minor(r.get(5)?),
                    overdue: Money::from_minor(r.get(6)?),
                    overdue_invoices: r.get(7)?,
                    oldest_overdue_due: r.get::<_, Option<String>>(8)?.map(|d| parse_date(&d).expect("stored date")),
                    // A simple app knows nothing of disputes; the generated shop has none.
                    disputed: Money::ZERO,
                    disputed_invoices: 0,
                    ..AccountSnapshot::default()
                })
            })
            .expect("aggregate");
        checkout::check(&snap, &self.rules, cart, today)
    }

    /// One row by primary key: what any answer from a precomputed projection must at least cost.
    pub fn point_lookup(&self, customer_id: i64) -> Row {
        self.conn
            .prepare_cached(POINT)
            .expect("prepare point lookup")
            .query_row([customer_id], |r| Ok(Row { balance: r.get(0)?, deposits: r.get(1)?, oldest_due: r.get(2)? }))
            .expect("point lookup")
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }
}
