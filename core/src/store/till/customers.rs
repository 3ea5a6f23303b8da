//! Customers at the till: added, updated, found by reference or search, listed.

use std::collections::HashMap;

use uuid::Uuid;

use crate::customer::{Customer, CustomerPatch, NewCustomer};
use crate::error::Result;
use crate::payref::PaymentReference;
use crate::search;
use crate::store::db::values::Now;
use crate::store::handle::Store;
use crate::store::till::customer_rows::{COLUMNS, by_reference, create_in, from_row, search, update_in};

impl Store {
    pub fn add_customer(&self, new: NewCustomer, now: Now) -> Result<Customer> {
        let customer = Customer::from_new(Uuid::new_v4(), new)?;
        self.write(now, |w| create_in(w.conn(), &customer, now))?;
        Ok(customer)
    }

    pub fn update_customer(&self, reference: &str, patch: CustomerPatch, now: Now) -> Result<Customer> {
        self.write(now, |w| {
            let (id, before) = by_reference(w.conn(), reference)?;
            let after = before.patched(patch)?;
            update_in(w.conn(), id, &before, &after, now)?;
            Ok(after)
        })
    }

    pub fn customer(&self, reference: &str) -> Result<Customer> {
        Ok(self.read(|conn| by_reference(conn, reference))?.1)
    }

    /// The customer's payment reference (ISO 11649), printed on every document sent to them.
    pub fn payment_reference(&self, reference: &str) -> Result<PaymentReference> {
        Ok(self.customer(reference)?.payment_reference())
    }

    /// Whose account a payment reference names: `None` when nobody's, or when two customers
    /// share it (one chance in millions), so a transfer is never booked to a guessed account.
    /// The reference is already checked: one with wrong check digits never gets here
    /// ([`PaymentReference::parse`] refuses it).
    pub fn customer_by_payment_reference(&self, wanted: &PaymentReference) -> Result<Option<Customer>> {
        // Derived, not stored: every id is read, a few milliseconds for a shop's customers;
        // a whole statement reads them once (`payment_references`).
        match self.payment_references()?.remove(wanted).flatten() {
            Some(reference) => Ok(Some(self.customer(&reference)?)),
            None => Ok(None),
        }
    }

    /// Every customer's payment reference, to their customer reference: for matching a whole
    /// bank statement with one read of the customers instead of one per transaction. A
    /// reference two customers share (one chance in millions) maps to nobody, as in
    /// [`Store::customer_by_payment_reference`].
    pub fn payment_references(&self) -> Result<HashMap<PaymentReference, Option<String>>> {
        let ids: Vec<(Uuid, String)> = self.read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT uuid, reference FROM customers")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })?;
        let mut map = HashMap::with_capacity(ids.len());
        for (id, reference) in ids {
            map.entry(PaymentReference::for_customer(id))
                .and_modify(|shared| *shared = None)
                .or_insert(Some(reference));
        }
        Ok(map)
    }

    /// Customers in name order, a page at a time.
    pub fn customers(&self, limit: usize, offset: usize) -> Result<Vec<Customer>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM customers ORDER BY name_key, reference LIMIT ?1 OFFSET ?2"
            ))?;
            let rows = stmt.query_map([limit as i64, offset as i64], from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    pub fn customer_count(&self) -> Result<u64> {
        self.read(|conn| Ok(conn.query_row("SELECT count(*) FROM customers", [], |r| r.get::<_, i64>(0))? as u64))
    }

    /// The till's search: every word of the query is a prefix of a word of the name, of the
    /// reference or of the phone number, ignoring case and accents. Matches come in the order
    /// of the word typed, then by name ("mar": every Marc, then every Marie, then every
    /// Martin...), so the index yields the first ones without sorting every match.
    pub fn search_customers(&self, query: &str, limit: usize) -> Result<Vec<Customer>> {
        let mut prefixes = search::query_prefixes(query);
        if prefixes.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        // The longest word drives the index range; the others must each be a prefix of one of
        // the candidate's keys.
        prefixes.sort_by_key(|p| std::cmp::Reverse(p.chars().count()));
        let others: String = (1..prefixes.len())
            .map(|i| {
                let n = i + 1;
                format!(
                    " AND EXISTS (SELECT 1 FROM customer_keys o WHERE o.customer_id = k.customer_id
                       AND o.key >= ?{n} AND o.key < ?{n} || char(1114111))"
                )
            })
            .collect();
        let n = prefixes.len() + 1;
        let sql = format!(
            "SELECT k.customer_id FROM customer_keys k
             WHERE k.key >= ?1 AND k.key < ?1 || char(1114111){others}
             ORDER BY k.key, k.sort_key LIMIT ?{n}"
        );
        self.read(|conn| search(conn, &sql, &prefixes, limit))
    }
}
