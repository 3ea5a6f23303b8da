//! The follow-up notes of a customer's timeline (a call, a promise kept or broken, a dispute
//! opened...): one row each, replicated to every device.

use rusqlite::{Transaction, params};

use crate::error::Result;
use crate::money::Money;
use crate::store::db::values::{Now, ms, new_id};
use crate::store::sync::replica::{self, Key, Table};

/// Adds a note of `kind` to the customer's timeline.
pub(in crate::store) fn add(
    tx: &Transaction<'_>,
    customer_id: i64,
    kind: &str,
    text: &str,
    amount: Option<Money>,
    author: &str,
    now: Now,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO followups (uuid, customer_id, kind, date, at, author, text, amount) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![new_id(now), customer_id, kind, now.date_naive(), ms(now), author, text, amount])?;
    replica::emit(tx, Table::Followups, Key::Rowid(tx.last_insert_rowid()), now)
}
