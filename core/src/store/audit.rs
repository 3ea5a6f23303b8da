//! The consistency audit: checks every account projection against the ledger it derives from.

use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::store::handle::Store;

/// Each query lists the customers (or rows) breaking one invariant; all must return nothing.
const CHECKS: &[(&str, &str)] = &[
    (
        "balance equals the sum of the entries",
        "SELECT a.customer_id FROM accounts a LEFT JOIN (SELECT customer_id, sum(balance_effect) b, sum(deposit_effect) d
         FROM entries GROUP BY customer_id) e ON e.customer_id = a.customer_id
         WHERE a.balance != coalesce(e.b, 0) OR a.deposits != coalesce(e.d, 0)",
    ),
    (
        "balance equals open items less unallocated credit",
        "SELECT a.customer_id FROM accounts a
         WHERE a.balance != coalesce((SELECT sum(amount - settled) FROM items i WHERE i.customer_id = a.customer_id AND open = 1), 0) - a.credit
            OR a.credit != coalesce((SELECT sum(remaining) FROM credit_lots l WHERE l.customer_id = a.customer_id), 0)
            OR a.deposits != coalesce((SELECT sum(remaining) FROM deposit_lots d WHERE d.customer_id = a.customer_id), 0)",
    ),
    (
        "open invoice count, oldest due date and what is owed by due date are current",
        "SELECT a.customer_id FROM accounts a
         WHERE a.open_items != (SELECT count(*) FROM items i WHERE i.customer_id = a.customer_id AND open = 1)
            OR a.oldest_due IS NOT (SELECT min(due_on) FROM items i WHERE i.customer_id = a.customer_id AND open = 1)
            OR a.open_dues != coalesce((SELECT group_concat(i.due_on || ' ' || (i.amount - i.settled), ',' ORDER BY i.due_on, i.amount - i.settled)
                                        FROM items i WHERE i.customer_id = a.customer_id AND i.open = 1), '')",
    ),
    (
        "no item is settled beyond its amount, and settled equals its allocations",
        "SELECT i.reference FROM items i WHERE i.settled < 0 OR i.settled > i.amount
            OR i.settled != coalesce((SELECT sum(amount) FROM allocations x WHERE x.item = i.entry_uuid), 0)
            OR i.open != (i.cancelled = 0 AND i.amount > i.settled)",
    ),
    (
        "an item has a closing date exactly when it is closed, on or after its issue",
        "SELECT i.reference FROM items i WHERE i.open = (i.closed_on IS NOT NULL) OR i.closed_on < i.issued_on",
    ),
    (
        "every allocation settles an item of its own customer, dated never before it",
        "SELECT a.id FROM allocations a LEFT JOIN items i ON i.entry_uuid = a.item
         WHERE i.entry_uuid IS NULL OR i.customer_id != a.customer_id OR a.on_date < i.issued_on",
    ),
    (
        "no credit is allocated beyond its amount",
        "SELECT l.entry_uuid FROM credit_lots l WHERE l.remaining < 0 OR l.remaining > l.amount
            OR (l.cancelled = 0 AND l.amount - l.remaining != coalesce((SELECT sum(amount) FROM allocations x WHERE x.source = l.entry_uuid), 0))
            OR (l.cancelled = 1 AND coalesce((SELECT sum(amount) FROM allocations x WHERE x.source = l.entry_uuid), 0) != 0)",
    ),
    (
        "the totals per day equal the items issued and the allocations made that day",
        "SELECT day FROM (
             SELECT day, sum(s) AS s, sum(i) AS i, sum(a) AS a FROM (
                 SELECT day, sold AS s, issued AS i, allocated AS a FROM day_totals
                 UNION ALL SELECT issued_on, -sum(CASE WHEN charge = 0 THEN amount ELSE 0 END), -sum(amount), 0
                     FROM items GROUP BY issued_on
                 UNION ALL SELECT on_date, 0, 0, -sum(amount) FROM allocations GROUP BY on_date)
             GROUP BY day)
         WHERE s != 0 OR i != 0 OR a != 0",
    ),
    (
        "every write has its outbox row or came from elsewhere",
        "SELECT e.uuid FROM entries e JOIN device d ON e.device_id = d.device_id
         WHERE e.device_seq >= (SELECT coalesce(min(seq), d.next_seq) FROM outbox)
           AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = e.uuid AND o.seq = e.device_seq)",
    ),
];

impl Store {
    /// Verifies that every account agrees with its ledger. An error names the broken invariant
    /// and a few offending rows; nothing is changed either way.
    pub fn audit(&self) -> Result<()> {
        self.read(|conn| match broken(conn)?.into_iter().next() {
            Some(first) => Err(Error::Corrupt(first)),
            None => Ok(()),
        })
    }
}

/// Every invariant `conn` breaks, each with a few offending rows: `ardoise check` reports them
/// all, where a till only needs to know whether one is broken.
pub(in crate::store) fn broken(conn: &Connection) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (name, sql) in CHECKS {
        let mut stmt = conn.prepare(&format!("{sql} LIMIT 5"))?;
        let bad: Vec<String> =
            stmt.query_map([], |r| r.get_ref(0).map(|v| format!("{v:?}")))?.collect::<Result<_, _>>()?;
        if !bad.is_empty() {
            out.push(format!("{name}: broken for {}", bad.join(", ")));
        }
    }
    Ok(out)
}
