//! Customer rows: how a customer is stored, searched by its keys, created and updated with its
//! outbox event, and merged field by field with what another device changed.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Row, ToSql, Transaction, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::customer::Customer;
use crate::error::{Error, Result};
use crate::money::Money;
use crate::search;
use crate::store::db::values::{Now, ms};
use crate::store::sync::outbox;
use crate::sync::hlc::Hlc;

pub(in crate::store) const COLUMNS: &str = "uuid, reference, name, email, phone, kind, credit_limit, terms, blocked, consent_email, consent_sms, notes, address, language, paperless_from";
/// Where `id` is in `SELECT {COLUMNS}, id`: just after the columns.
const ID_AT: usize = {
    let (bytes, mut i, mut commas) = (COLUMNS.as_bytes(), 0, 0);
    while i < bytes.len() {
        if bytes[i] == b',' {
            commas += 1;
        }
        i += 1;
    }
    commas + 1
};

/// The event a customer write puts in the outbox: the whole customer and the fields this
/// write changed ("*": all), each of which then carries the event's clock.
#[derive(Serialize)]
struct CustomerEvent<'a> {
    customer: &'a Customer,
    changed: Vec<&'static str>,
}

#[derive(Deserialize)]
pub(in crate::store) struct RemoteCustomer {
    customer: Customer,
    changed: Vec<String>,
}

/// The fields merged one by one, last writer wins; the reference never changes after creation.
pub(in crate::store) const FIELDS: [&str; 13] = [
    "name",
    "email",
    "phone",
    "kind",
    "credit_limit",
    "terms",
    "blocked",
    "consent_email",
    "consent_sms",
    "notes",
    "address",
    "language",
    "paperless_from",
];

/// A row of `SELECT {COLUMNS}, id`: the customer's row id, then the customer.
pub(in crate::store) fn with_id(r: &Row<'_>) -> rusqlite::Result<(i64, Customer)> {
    Ok((r.get(ID_AT)?, from_row(r)?))
}

pub(in crate::store) fn from_row(r: &Row<'_>) -> rusqlite::Result<Customer> {
    let kind: String = r.get(5)?;
    let terms: String = r.get(7)?;
    let bad =
        |col: usize, e: Error| rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, Box::new(e));
    Ok(Customer {
        id: r.get(0)?,
        reference: r.get(1)?,
        name: r.get(2)?,
        email: r.get(3)?,
        phone: r.get(4)?,
        kind: kind.parse().map_err(|e| bad(5, e))?,
        credit_limit: r.get::<_, Option<i64>>(6)?.map(Money::from_minor),
        terms: terms.parse().map_err(|e| bad(7, e))?,
        blocked: r.get(8)?,
        consent_email: r.get(9)?,
        consent_sms: r.get(10)?,
        notes: r.get(11)?,
        address: r.get(12)?,
        language: {
            let l: String = r.get(13)?;
            crate::dunning::template::Language::parse(&l).map_err(|e| bad(13, e))?
        },
        paperless_from: r
            .get::<_, Option<String>>(14)?
            .map(|d| crate::parse_date(&d).map_err(|e| bad(14, e)))
            .transpose()?,
    })
}

fn write_keys(tx: &Transaction<'_>, id: i64, c: &Customer) -> Result<()> {
    tx.prepare_cached("DELETE FROM customer_keys WHERE customer_id = ?1")?.execute([id])?;
    let mut ins =
        tx.prepare_cached("INSERT OR IGNORE INTO customer_keys (key, customer_id, sort_key) VALUES (?1, ?2, ?3)")?;
    let sort_key = format!("{}\u{1}{}", search::fold(&c.name), c.reference);
    for key in search::keys(&c.reference, &c.name, c.phone.as_deref()) {
        ins.execute(params![key, id, sort_key])?;
    }
    Ok(())
}

/// The customer of `reference`, with its row id.
pub(in crate::store) fn by_reference(conn: &Connection, reference: &str) -> Result<(i64, Customer)> {
    conn.prepare_cached(&format!("SELECT {COLUMNS}, id FROM customers WHERE reference = ?1"))?
        .query_row([reference], with_id)
        .optional()?
        .ok_or_else(|| Error::UnknownCustomer(reference.to_owned()))
}

pub(in crate::store) fn search(
    conn: &Connection,
    sql: &str,
    prefixes: &[String],
    limit: usize,
) -> Result<Vec<Customer>> {
    {
        let mut stmt = conn.prepare_cached(sql)?;
        // A customer can match through two keys ("Marie Martin" for "mar"): read a few more
        // rows than needed, and more again if duplicates ate into them.
        let mut want = limit.saturating_mul(2);
        let ids = loop {
            let mut args: Vec<rusqlite::types::Value> = prefixes.iter().map(|p| p.clone().into()).collect();
            args.push(i64::try_from(want).unwrap_or(i64::MAX).into());
            let rows: Vec<i64> =
                stmt.query_map(rusqlite::params_from_iter(args), |r| r.get(0))?.collect::<Result<_, _>>()?;
            let mut ids: Vec<i64> = Vec::with_capacity(limit);
            for id in &rows {
                if !ids.contains(id) {
                    ids.push(*id);
                }
            }
            if ids.len() >= limit || rows.len() < want {
                ids.truncate(limit);
                break ids;
            }
            want = want.saturating_mul(4);
        };
        let mut by_id = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM customers WHERE id = ?1"))?;
        ids.into_iter().map(|id| Ok(by_id.query_row([id], from_row)?)).collect()
    }
}

/// Creates a customer with its outbox event, in a running transaction; returns its row id.
pub(in crate::store) fn create_in(tx: &Transaction<'_>, customer: &Customer, now: Now) -> Result<i64> {
    let id = insert_customer(tx, customer, now)?;
    let hlc = outbox::append_clocked(tx, "customer", &CustomerEvent { customer, changed: vec!["*"] }, [], now)?;
    set_clocks(tx, id, &FIELDS, &hlc.to_string())?;
    Ok(id)
}

/// Writes the fields that differ between `before` and `after` with their outbox event, in a
/// running transaction. Returns whether anything changed.
pub(in crate::store) fn update_in(
    tx: &Transaction<'_>,
    id: i64,
    before: &Customer,
    after: &Customer,
    now: Now,
) -> Result<bool> {
    let changed = changed_fields(before, after);
    if changed.is_empty() {
        return Ok(false);
    }
    write_fields(tx, id, after, now)?;
    let mut stmt = tx.prepare_cached("SELECT hlc FROM customer_clocks WHERE customer_id = ?1 AND field = ?2")?;
    let mut stored = Vec::with_capacity(changed.len());
    for field in &changed {
        stored.extend(stmt.query_row(params![id, field], |r| r.get::<_, String>(0)).optional()?);
    }
    let event = CustomerEvent { customer: after, changed: changed.clone() };
    let hlc = outbox::append_clocked(tx, "customer", &event, stored.iter().map(String::as_str), now)?;
    set_clocks(tx, id, &changed, &hlc.to_string())?;
    Ok(true)
}

/// The row id of a customer by reference.
pub(in crate::store) fn customer_id(conn: &Connection, reference: &str) -> Result<i64> {
    conn.prepare_cached("SELECT id FROM customers WHERE reference = ?1")?
        .query_row([reference], |r| r.get(0))
        .optional()?
        .ok_or_else(|| Error::UnknownCustomer(reference.to_owned()))
}

pub(in crate::store) fn insert_customer(tx: &Transaction<'_>, c: &Customer, now: Now) -> Result<i64> {
    let exists: bool = tx.prepare_cached("SELECT 1 FROM customers WHERE reference = ?1")?.exists([&c.reference])?;
    if exists {
        return Err(Error::DuplicateCustomer(c.reference.clone()));
    }
    with_fields(c, now, |fields| {
        let mut params: Vec<(&str, &dyn ToSql)> = vec![(":uuid", &c.id), (":reference", &c.reference)];
        params.extend_from_slice(fields);
        tx.prepare_cached(
            "INSERT INTO customers (uuid, reference, name, name_key, email, phone, kind, credit_limit, terms, blocked,
             consent_email, consent_sms, notes, created_at, updated_at, address, language, paperless_from)
             VALUES (:uuid, :reference, :name, :name_key, :email, :phone, :kind, :credit_limit, :terms, :blocked,
             :consent_email, :consent_sms, :notes, :now, :now, :address, :language, :paperless_from)",
        )?
        .execute(params.as_slice())?;
        Ok(())
    })?;
    let id = tx.last_insert_rowid();
    tx.prepare_cached(
        "INSERT INTO accounts (customer_id, balance, deposits, credit, open_items, oldest_due, last_key, last_date)
         VALUES (?1, 0, 0, 0, 0, NULL, NULL, NULL)",
    )?
    .execute([id])?;
    write_keys(tx, id, c)?;
    Ok(id)
}

fn changed_fields(a: &Customer, b: &Customer) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut diff = |name, changed: bool| {
        if changed {
            out.push(name);
        }
    };
    diff("name", a.name != b.name);
    diff("email", a.email != b.email);
    diff("phone", a.phone != b.phone);
    diff("kind", a.kind != b.kind);
    diff("credit_limit", a.credit_limit != b.credit_limit);
    diff("terms", a.terms != b.terms);
    diff("blocked", a.blocked != b.blocked);
    diff("consent_email", a.consent_email != b.consent_email);
    diff("consent_sms", a.consent_sms != b.consent_sms);
    diff("notes", a.notes != b.notes);
    diff("address", a.address != b.address);
    diff("language", a.language != b.language);
    diff("paperless_from", a.paperless_from != b.paperless_from);
    out
}

fn write_fields(tx: &Transaction<'_>, id: i64, c: &Customer, now: Now) -> Result<()> {
    with_fields(c, now, |fields| {
        let mut params: Vec<(&str, &dyn ToSql)> = vec![(":id", &id)];
        params.extend_from_slice(fields);
        tx.prepare_cached(
            "UPDATE customers SET name = :name, name_key = :name_key, email = :email, phone = :phone, kind = :kind,
             credit_limit = :credit_limit, terms = :terms, blocked = :blocked, consent_email = :consent_email,
             consent_sms = :consent_sms, notes = :notes, updated_at = :now, address = :address, language = :language,
             paperless_from = :paperless_from WHERE id = :id",
        )?
        .execute(params.as_slice())?;
        Ok(())
    })?;
    write_keys(tx, id, c)
}

/// A customer's own columns as named parameters, one list for the insert and the update, so a
/// new field is bound in one place.
fn with_fields<T>(c: &Customer, now: Now, f: impl FnOnce(&[(&str, &dyn ToSql)]) -> Result<T>) -> Result<T> {
    let (name_key, kind, limit) = (search::fold(&c.name), c.kind.as_str(), c.credit_limit.map(Money::minor));
    let (terms, at, language) = (c.terms.to_string(), ms(now), c.language.as_str());
    let paperless_from = c.paperless_from.map(|d| d.to_string());
    f(&[
        (":name", &c.name),
        (":name_key", &name_key),
        (":email", &c.email),
        (":phone", &c.phone),
        (":kind", &kind),
        (":credit_limit", &limit),
        (":terms", &terms),
        (":blocked", &c.blocked),
        (":consent_email", &c.consent_email),
        (":consent_sms", &c.consent_sms),
        (":notes", &c.notes),
        (":now", &at),
        (":address", &c.address),
        (":language", &language),
        (":paperless_from", &paperless_from),
    ])
}

fn set_clocks(tx: &Transaction<'_>, id: i64, fields: &[&str], hlc: &str) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO customer_clocks (customer_id, field, hlc) VALUES (?1, ?2, ?3)
         ON CONFLICT (customer_id, field) DO UPDATE SET hlc = excluded.hlc",
    )?;
    for f in fields {
        stmt.execute(params![id, f, hlc])?;
    }
    Ok(())
}

/// Takes one field of `from` into `into`.
fn take_field(into: &mut Customer, from: &Customer, field: &str) {
    match field {
        "name" => into.name.clone_from(&from.name),
        "email" => into.email.clone_from(&from.email),
        "phone" => into.phone.clone_from(&from.phone),
        "kind" => into.kind = from.kind,
        "credit_limit" => into.credit_limit = from.credit_limit,
        "terms" => into.terms = from.terms,
        "blocked" => into.blocked.clone_from(&from.blocked),
        "consent_email" => into.consent_email = from.consent_email,
        "consent_sms" => into.consent_sms = from.consent_sms,
        "notes" => into.notes.clone_from(&from.notes),
        "address" => into.address.clone_from(&from.address),
        "language" => into.language = from.language,
        "paperless_from" => into.paperless_from = from.paperless_from,
        _ => {}
    }
}

/// Merges a customer written on another device: a new customer is added; for a known one,
/// each changed field is taken when its clock is later than the local field's. Two customers
/// created offline with the same reference both keep their accounts: the one with the greater
/// id is shown as `REF~abcd` on every device, whatever the order they arrive in.
pub(in crate::store) fn apply_remote(tx: &Transaction<'_>, event: RemoteCustomer, hlc: &Hlc, now: Now) -> Result<()> {
    let hlc_text = hlc.to_string();
    let mut remote = event.customer;
    let local: Option<(i64, Customer)> = tx
        .prepare_cached(&format!("SELECT {COLUMNS}, id FROM customers WHERE uuid = ?1"))?
        .query_row([remote.id], with_id)
        .optional()?;
    let Some((id, mut merged)) = local else {
        remote.validate()?;
        let clash: Option<(i64, Uuid)> = tx
            .prepare_cached("SELECT id, uuid FROM customers WHERE reference = ?1")?
            .query_row([&remote.reference], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((other, other_uuid)) = clash {
            if other_uuid > remote.id {
                let renamed = clash_reference(&remote.reference, other_uuid);
                tx.prepare_cached("UPDATE customers SET reference = ?2 WHERE id = ?1")?
                    .execute(params![other, renamed])?;
                let c = tx
                    .prepare_cached(&format!("SELECT {COLUMNS} FROM customers WHERE id = ?1"))?
                    .query_row([other], from_row)?;
                write_keys(tx, other, &c)?;
            } else {
                remote.reference = clash_reference(&remote.reference, remote.id);
            }
        }
        let id = insert_customer(tx, &remote, now)?;
        return set_clocks(tx, id, &FIELDS, &hlc_text);
    };
    let fields: Vec<&str> = if event.changed.iter().any(|f| f == "*") {
        FIELDS.to_vec()
    } else {
        FIELDS.iter().copied().filter(|f| event.changed.iter().any(|c| c == f)).collect()
    };
    let mut won = Vec::new();
    for field in fields {
        let mine: Option<String> = tx
            .prepare_cached("SELECT hlc FROM customer_clocks WHERE customer_id = ?1 AND field = ?2")?
            .query_row(params![id, field], |r| r.get(0))
            .optional()?;
        // Compared as clocks, not as text: an older release stored remote clocks as they
        // came, and `5.0.…` sorts after every real clock as text.
        if mine.as_deref().and_then(Hlc::parse_stored).is_none_or(|m| m < *hlc) {
            take_field(&mut merged, &remote, field);
            won.push(field);
        }
    }
    if won.is_empty() {
        return Ok(());
    }
    write_fields(tx, id, &merged, now)?;
    set_clocks(tx, id, &won, &hlc_text)
}

fn clash_reference(reference: &str, id: Uuid) -> String {
    format!("{reference}~{}", &id.simple().to_string()[..4])
}

/// Columns of each customer in `ids` (sorted, no repeats), in that order: one pass over the
/// customers in id order when many are asked for, a lookup each otherwise. `read` gets the
/// columns after the id.
fn in_id_order<T>(
    conn: &Connection,
    ids: &[i64],
    columns: &str,
    read: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut out = Vec::with_capacity(ids.len());
    let total: i64 = conn.query_row("SELECT count(*) FROM customers", [], |r| r.get(0))?;
    if ids.len() as i64 * 8 > total {
        let mut stmt = conn.prepare_cached(&format!("SELECT id, {columns} FROM customers ORDER BY id"))?;
        let mut rows = stmt.query([])?;
        let mut want = ids.iter().peekable();
        while let (Some(&&id), Some(r)) = (want.peek(), rows.next()?) {
            if r.get::<_, i64>(0)? == id {
                out.push(read(r)?);
                want.next();
            }
        }
    } else {
        let mut stmt = conn.prepare_cached(&format!("SELECT id, {columns} FROM customers WHERE id = ?1"))?;
        for id in ids {
            out.push(stmt.query_row([id], &read)?);
        }
    }
    if out.len() != ids.len() {
        return Err(Error::Corrupt("an account without its customer".into()));
    }
    Ok(out)
}

/// The reference and name of each customer in `ids` (sorted), in that order.
pub(in crate::store) fn names_in_order(conn: &Connection, ids: &[i64]) -> Result<Vec<(String, String)>> {
    in_id_order(conn, ids, "reference, name", |r| Ok((r.get(1)?, r.get(2)?)))
}

/// A customer's reference, name, phone and email, as the owner's lists show them.
pub(in crate::store) type Contact = (String, String, Option<String>, Option<String>);

pub(in crate::store) fn customer_names(conn: &Connection, ids: &[i64]) -> Result<HashMap<i64, Contact>> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let contacts = in_id_order(conn, &sorted, "reference, name, phone, email", |r| {
        Ok((r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })?;
    Ok(sorted.into_iter().zip(contacts).collect())
}
