//! Row replication for the shop's mutable follow-up data (reminders, disputes, promises, plans,
//! holds, stops, settings, overrides, notes, bank lines): a write sends the whole row with its hybrid
//! logical clock, and a device keeps, for each row, the version with the latest clock.
//!
//! Rows travel as JSON objects of their columns, minus the local row id; the customer's local
//! id becomes the customer's uuid and blobs (uuids) become `{"$blob": hex}`. Column names from
//! the network are checked against the table's own columns before they reach any SQL.

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, Transaction, params_from_iter};
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::store::db::device::next_seq;
use crate::store::db::values::{Now, new_id};
use crate::store::sync::outbox;
use crate::sync::hlc::Hlc;

/// The replicated tables and how each is keyed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::store) enum Table {
    Reminders,
    Disputes,
    Promises,
    Plans,
    Overrides,
    Followups,
    DunningCustomers,
    InvoiceStops,
    Settings,
    BankLines,
}

/// Which row a write touched, by its local identity.
#[derive(Clone, Debug)]
pub(in crate::store) enum Key {
    Rowid(i64),
    Blob(Uuid),
    Text(String),
}

impl Table {
    const ALL: [Table; 10] = [
        Table::Reminders,
        Table::Disputes,
        Table::Promises,
        Table::Plans,
        Table::Overrides,
        Table::Followups,
        Table::DunningCustomers,
        Table::InvoiceStops,
        Table::Settings,
        Table::BankLines,
    ];

    fn name(self) -> &'static str {
        match self {
            Table::Reminders => "reminders",
            Table::Disputes => "disputes",
            Table::Promises => "promises",
            Table::Plans => "plans",
            Table::Overrides => "overrides",
            Table::Followups => "followups",
            Table::DunningCustomers => "dunning_customers",
            Table::InvoiceStops => "invoice_stops",
            Table::Settings => "settings",
            Table::BankLines => "bank_transactions",
        }
    }

    /// The column that identifies a row on every device.
    fn key_column(self) -> &'static str {
        match self {
            Table::DunningCustomers => "customer_id",
            Table::InvoiceStops => "invoice",
            Table::Settings => "key",
            _ => "uuid",
        }
    }

    /// Tables whose `id` is a local row number, never sent.
    fn has_local_id(self) -> bool {
        !matches!(self, Table::DunningCustomers | Table::InvoiceStops | Table::Settings)
    }

    fn parse(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Rows whose arrival changes what is overdue or paused: the receiving device rewrites
    /// its queued reminders for that customer.
    fn affects_dunning(self) -> bool {
        matches!(self, Table::Disputes | Table::DunningCustomers | Table::InvoiceStops | Table::Promises | Table::Plans)
    }
}

fn where_key(t: Table, key: &Key) -> (String, Value) {
    match key {
        Key::Rowid(id) => {
            let col = if t.has_local_id() { "id" } else { t.key_column() };
            (format!("{col} = ?"), Value::Integer(*id))
        }
        Key::Blob(u) => (format!("{} = ?", t.key_column()), Value::Blob(u.as_bytes().to_vec())),
        Key::Text(s) => (format!("{} = ?", t.key_column()), Value::Text(s.clone())),
    }
}

/// Records a local write of one row: gives it a new clock and queues its whole state.
pub(in crate::store) fn emit(tx: &Transaction<'_>, t: Table, key: Key, now: Now) -> Result<()> {
    let (cond, arg) = where_key(t, &key);
    let stored: Option<String> = tx
        .prepare_cached(&format!("SELECT hlc FROM {} WHERE {cond}", t.name()))?
        .query_row([&arg], |r| r.get(0))
        .optional()?;
    let hlc = outbox::tick_past(tx, stored.as_deref(), now)?.to_string();
    tx.prepare_cached(&format!("UPDATE {} SET hlc = ?1 WHERE {}", t.name(), cond.replace('?', "?2")))?
        .execute(rusqlite::params![hlc, arg])?;
    let row = snapshot(tx, t, &cond, arg)?.ok_or_else(|| Error::Corrupt(format!("{} row vanished", t.name())))?;
    let payload = json!({ "table": t.name(), "row": row });
    let seq = next_seq(tx)?;
    outbox::append_with_clock(tx, seq, new_id(now), "row", &payload.to_string(), &hlc, now)
}

/// Records the local writes of many new rows of `t` at once (a statement's bank lines), each
/// given as `emit` would read it back ([`row_of`]) with its local row id: the clocks and
/// sequence numbers are handed out in memory and written back once, instead of reading each
/// row back and updating the clock and the counter for each. Nothing else may tick the clock
/// or take a sequence number meanwhile.
pub(in crate::store) fn emit_new(
    tx: &Transaction<'_>,
    t: Table,
    rows: Vec<(i64, Map<String, Json>)>,
    now: Now,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut seq = outbox::Sequencer::start(tx)?;
    let mut stamp = tx.prepare_cached(&format!("UPDATE {} SET hlc = ?2 WHERE id = ?1", t.name()))?;
    for (id, row) in rows {
        let hlc = seq.tick(now).to_string();
        stamp.execute(rusqlite::params![id, hlc])?;
        let payload = json!({ "table": t.name(), "row": row });
        outbox::append_with_clock(tx, seq.seq(), new_id(now), "row", &payload.to_string(), &hlc, now)?;
    }
    seq.finish(tx)
}

/// A row as it travels: what [`emit`] sends of it, for a row that exists.
#[cfg(test)]
pub(in crate::store) fn row_of(conn: &Connection, t: Table, key: Key) -> Result<Option<Map<String, Json>>> {
    let (cond, arg) = where_key(t, &key);
    snapshot(conn, t, &cond, arg)
}

/// A blob cell as a row carries it.
pub(in crate::store) fn blob_cell(bytes: &[u8]) -> Json {
    json!({ "$blob": hex(bytes) })
}

/// A customer cell as a row carries it: the customer's id, the same on every device.
pub(in crate::store) fn customer_cell(customer: Uuid) -> Json {
    json!({ "$customer": customer.to_string() })
}

/// Records that a row was deleted, so that other devices delete it too.
pub(in crate::store) fn emit_deleted(tx: &Transaction<'_>, t: Table, key: Key, now: Now) -> Result<()> {
    let hlc = outbox::tick(tx, now)?.to_string();
    let key = match key {
        Key::Blob(u) => json!({ "$blob": hex(u.as_bytes()) }),
        Key::Text(s) => json!(s),
        Key::Rowid(_) => return Err(Error::Corrupt("a deleted row needs its shared key".into())),
    };
    let payload = json!({ "table": t.name(), "deleted": key });
    let seq = next_seq(tx)?;
    outbox::append_with_clock(tx, seq, new_id(now), "row", &payload.to_string(), &hlc, now)
}

fn snapshot(conn: &Connection, t: Table, cond: &str, arg: Value) -> Result<Option<Map<String, Json>>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT * FROM {} WHERE {cond}", t.name()))?;
    let names: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
    let mut rows = stmt.query([arg])?;
    let Some(r) = rows.next()? else { return Ok(None) };
    let mut out = Map::new();
    let mut local_id = None;
    for (i, name) in names.iter().enumerate() {
        if name == "hlc" {
            continue;
        }
        if name == "id" && t.has_local_id() {
            local_id = Some(r.get::<_, i64>(i)?);
            continue;
        }
        let v = r.get_ref(i)?;
        let j = if name == "customer_id" {
            let id = v.as_i64().map_err(rusqlite::Error::from)?;
            let uuid: Uuid =
                conn.prepare_cached("SELECT uuid FROM customers WHERE id = ?1")?.query_row([id], |r| r.get(0))?;
            json!({ "$customer": uuid.to_string() })
        } else {
            to_json(v)
        };
        out.insert(name.clone(), j);
    }
    drop(rows);
    if t == Table::BankLines {
        let line = out.get("uuid").cloned().unwrap_or(Json::Null);
        out.insert("$matches".into(), Json::Array(bank_matches(conn, &to_sql_blob(&line)?)?));
    }
    if let (Table::Reminders, Some(id)) = (t, local_id) {
        let mut stmt =
            conn.prepare_cached("SELECT invoice, level, remaining FROM reminder_invoices WHERE reminder_id = ?1")?;
        let children: Vec<Json> = stmt
            .query_map([id], |r| Ok(json!([to_json(r.get_ref(0)?), r.get::<_, i64>(1)?, r.get::<_, i64>(2)?])))?
            .collect::<Result<_, _>>()?;
        out.insert("$invoices".into(), Json::Array(children));
    }
    Ok(Some(out))
}

/// A bank line's matches, as its row carries them: `[entry, customer, rule, by, at, undone_at,
/// undone_by]` each, oldest first. They travel with the line (a match is the line's state),
/// so a device never holds a match without its line, nor a line in a state its matches deny.
fn bank_matches(conn: &Connection, line: &Value) -> Result<Vec<Json>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.entry, c.uuid, m.rule, m.by, m.at, m.undone_at, m.undone_by
         FROM bank_matches m JOIN customers c ON c.id = m.customer_id WHERE m.line = ?1 ORDER BY m.at, m.entry",
    )?;
    let rows = stmt.query_map([line], |r| {
        Ok(json!([
            to_json(r.get_ref(0)?),
            customer_cell(r.get(1)?),
            to_json(r.get_ref(2)?),
            to_json(r.get_ref(3)?),
            to_json(r.get_ref(4)?),
            to_json(r.get_ref(5)?),
            to_json(r.get_ref(6)?),
        ]))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A row's `{"$blob": hex}` cell as SQL, for the reads of its children.
fn to_sql_blob(j: &Json) -> Result<Value> {
    match j.get("$blob").and_then(Json::as_str).and_then(unhex) {
        Some(b) => Ok(Value::Blob(b)),
        None => Err(Error::Corrupt("a bank line without its id".into())),
    }
}

fn to_json(v: ValueRef<'_>) -> Json {
    match v {
        ValueRef::Null => Json::Null,
        ValueRef::Integer(i) => json!(i),
        ValueRef::Real(f) => json!(f),
        ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => blob_cell(b),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn bad(reason: impl Into<String>) -> Error {
    Error::Invalid { field: "synced row", reason: reason.into() }
}

/// A JSON cell back to SQL; `None` when it names a customer this device does not know.
fn to_sql(tx: &Transaction<'_>, j: &Json) -> Result<Option<Value>> {
    Ok(Some(match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Integer(i64::from(*b)),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Real(n.as_f64().ok_or_else(|| bad("number out of range"))?),
        },
        Json::String(s) => Value::Text(s.clone()),
        Json::Object(o) => {
            if let Some(Json::String(h)) = o.get("$blob") {
                Value::Blob(unhex(h).ok_or_else(|| bad("bad blob"))?)
            } else if let Some(Json::String(u)) = o.get("$customer") {
                let uuid = Uuid::try_parse(u).map_err(|_| bad("bad customer id"))?;
                let id: Option<i64> = tx
                    .prepare_cached("SELECT id FROM customers WHERE uuid = ?1")?
                    .query_row([uuid], |r| r.get(0))
                    .optional()?;
                match id {
                    Some(id) => Value::Integer(id),
                    None => return Ok(None),
                }
            } else {
                return Err(bad("unexpected object"));
            }
        }
        Json::Array(_) => return Err(bad("unexpected array")),
    }))
}

fn unhex(h: &str) -> Option<Vec<u8>> {
    if h.len() % 2 != 0 || h.len() > 256 {
        return None;
    }
    (0..h.len()).step_by(2).map(|i| u8::from_str_radix(h.get(i..i + 2)?, 16).ok()).collect()
}

fn columns(tx: &Transaction<'_>, t: Table) -> Result<Vec<String>> {
    let mut stmt = tx.prepare_cached("SELECT name FROM pragma_table_info(?1)")?;
    let cols = stmt.query_map([t.name()], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(cols)
}

/// What applying a remote row did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::store) enum Applied {
    /// Written; for the tables that change dunning, the customer's local id.
    Written { table_settings: bool, customer: Option<i64> },
    /// This device already had the same or a later version.
    Older,
    /// The row names a customer this device does not know (the server refuses those).
    UnknownCustomer,
}

/// The clock of the local version of a row: `None` when there is no such row, `Some(None)`
/// for a row without a readable clock (written before clocks, or by an older release that
/// stored a remote clock as it came), which any remote version replaces. Read as a clock,
/// never compared as text: an older release's `5.0.…` sorts after every real clock as text.
fn stored_clock(tx: &Transaction<'_>, t: Table, key: &Value) -> Result<Option<Option<Hlc>>> {
    let local: Option<String> = tx
        .prepare_cached(&format!("SELECT hlc FROM {} WHERE {} = ?1", t.name(), t.key_column()))?
        .query_row([key], |r| r.get(0))
        .optional()?;
    Ok(local.map(|h| Hlc::parse_stored(&h)))
}

/// Applies a row from another device if its clock is later than the local version's.
pub(in crate::store) fn apply(tx: &Transaction<'_>, payload: &Json, hlc: &Hlc) -> Result<Applied> {
    let obj = payload.as_object().ok_or_else(|| bad("not an object"))?;
    let t = obj.get("table").and_then(Json::as_str).and_then(Table::parse).ok_or_else(|| bad("unknown table"))?;
    let hlc_s = hlc.to_string();
    if let Some(key) = obj.get("deleted") {
        let Some(key) = to_sql(tx, key)? else { return Ok(Applied::UnknownCustomer) };
        if stored_clock(tx, t, &key)?.is_some_and(|local| local >= Some(*hlc)) {
            return Ok(Applied::Older);
        }
        let sql = format!("DELETE FROM {} WHERE {} = ?1", t.name(), t.key_column());
        tx.prepare_cached(&sql)?.execute([key])?;
        return Ok(Applied::Written { table_settings: t == Table::Settings, customer: None });
    }
    let row = obj.get("row").and_then(Json::as_object).ok_or_else(|| bad("no row"))?;
    let known = columns(tx, t)?;
    let mut cols = Vec::new();
    let mut vals = Vec::new();
    let mut customer = None;
    for (name, j) in row {
        if name == "$invoices" || name == "$matches" {
            continue;
        }
        if name == "hlc" || (name == "id" && t.has_local_id()) || !known.iter().any(|k| k == name) {
            return Err(bad(format!("{} has no column {name:?}", t.name())));
        }
        let Some(v) = to_sql(tx, j)? else { return Ok(Applied::UnknownCustomer) };
        if name == "customer_id" {
            if let Value::Integer(id) = v {
                customer = Some(id);
            }
        }
        cols.push(name.clone());
        vals.push(v);
    }
    let key_at = cols.iter().position(|c| c == t.key_column()).ok_or_else(|| bad("row without its key"))?;
    let key = vals[key_at].clone();
    let local = stored_clock(tx, t, &key)?;
    if local.is_some_and(|local| local >= Some(*hlc)) {
        return Ok(Applied::Older);
    }
    cols.push("hlc".into());
    vals.push(Value::Text(hlc_s));
    if local.is_some() {
        let set: Vec<String> = cols.iter().enumerate().map(|(i, c)| format!("{c} = ?{}", i + 1)).collect();
        let sql = format!("UPDATE {} SET {} WHERE {} = ?{}", t.name(), set.join(", "), t.key_column(), key_at + 1);
        tx.prepare_cached(&sql)?.execute(params_from_iter(&vals))?;
    } else {
        let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
        let sql = format!("INSERT INTO {} ({}) VALUES ({})", t.name(), cols.join(", "), marks.join(", "));
        tx.prepare_cached(&sql)?.execute(params_from_iter(&vals))?;
    }
    if t == Table::Reminders {
        let id: i64 = tx.prepare_cached("SELECT id FROM reminders WHERE uuid = ?1")?.query_row([&key], |r| r.get(0))?;
        tx.prepare_cached("DELETE FROM reminder_invoices WHERE reminder_id = ?1")?.execute([id])?;
        let children = row.get("$invoices").and_then(Json::as_array).map(Vec::as_slice).unwrap_or_default();
        let mut ins = tx.prepare_cached(
            "INSERT OR REPLACE INTO reminder_invoices (reminder_id, invoice, level, remaining) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for c in children {
            let (Some(inv), Some(level), Some(remaining)) =
                (c.get(0), c.get(1).and_then(Json::as_i64), c.get(2).and_then(Json::as_i64))
            else {
                return Err(bad("bad reminder invoice"));
            };
            let inv = to_sql(tx, inv)?.ok_or_else(|| bad("bad reminder invoice"))?;
            ins.execute(rusqlite::params![id, inv, level, remaining])?;
        }
    }
    if t == Table::BankLines {
        let matches = row.get("$matches").and_then(Json::as_array).map(Vec::as_slice).unwrap_or_default();
        if !replace_bank_matches(tx, &key, matches)? {
            return Ok(Applied::UnknownCustomer);
        }
        settle_bank_line(tx, &key)?;
    }
    Ok(Applied::Written {
        table_settings: t == Table::Settings,
        customer: if t.affects_dunning() { customer } else { None },
    })
}

/// Puts a line's matches as its newest version carries them; `false` when one names a customer
/// this device does not know yet (the whole row then waits, as any row naming one does).
fn replace_bank_matches(tx: &Transaction<'_>, line: &Value, matches: &[Json]) -> Result<bool> {
    let mut rows = Vec::with_capacity(matches.len());
    for m in matches {
        let cells = m.as_array().filter(|c| c.len() == 7).ok_or_else(|| bad("bad bank match"))?;
        let mut values = Vec::with_capacity(7);
        for c in cells {
            let Some(v) = to_sql(tx, c)? else { return Ok(false) };
            values.push(v);
        }
        rows.push(values);
    }
    tx.prepare_cached("DELETE FROM bank_matches WHERE line = ?1")?.execute([line])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO bank_matches (line, entry, customer_id, rule, by, at, undone_at, undone_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for v in rows {
        insert.execute(rusqlite::params![line, v[0], v[1], v[2], v[3], v[4], v[5], v[6]])?;
    }
    Ok(true)
}

/// A bank line's state from its matches, whoever wrote its newest version: applied while a
/// match of it stands whose payment is in this ledger (a match without its payment, which the
/// server would have refused, proves nothing), else suggested when it has suggestions, else
/// left.
pub(in crate::store) fn settle_bank_line(conn: &Connection, line: &Value) -> Result<()> {
    conn.prepare_cached(
        "UPDATE bank_transactions SET
             state = CASE
                 WHEN EXISTS (SELECT 1 FROM bank_matches m JOIN entries e ON e.uuid = m.entry
                              WHERE m.line = bank_transactions.uuid AND m.undone_at IS NULL) THEN 'applied'
                 WHEN suggestions != '[]' THEN 'suggested'
                 ELSE 'unmatched' END
         WHERE uuid = ?1",
    )?
    .execute([line])?;
    Ok(())
}

/// The columns each replicated table has in this release's schema, read once from a fresh
/// in-memory database: the receiver that holds no store (the server) checks rows against the
/// same columns a till's `apply` does.
fn schema_columns() -> Result<&'static [(Table, Vec<String>)]> {
    static COLUMNS: std::sync::OnceLock<Vec<(Table, Vec<String>)>> = std::sync::OnceLock::new();
    if let Some(c) = COLUMNS.get() {
        return Ok(c);
    }
    let mut conn = rusqlite::Connection::open_in_memory()?;
    crate::store::db::schema::migrate(&mut conn)?;
    let tx = conn.transaction()?;
    let all = Table::ALL.into_iter().map(|t| Ok((t, columns(&tx, t)?))).collect::<Result<Vec<_>>>()?;
    Ok(COLUMNS.get_or_init(|| all))
}

/// Checks a row event without a database: a known table, a row of its columns with its key
/// (or a deletion by key), values of the shapes `apply` takes. Returns the customer the row
/// names, if any.
pub(crate) fn check_shape(payload: &Json) -> Result<Option<Uuid>> {
    let obj = payload.as_object().ok_or_else(|| bad("not an object"))?;
    let t = obj.get("table").and_then(Json::as_str).and_then(Table::parse).ok_or_else(|| bad("unknown table"))?;
    let mut customer = None;
    let mut value = |j: &Json| -> Result<()> {
        match j {
            Json::Null | Json::Bool(_) | Json::String(_) => Ok(()),
            Json::Number(n) if n.as_i64().is_some() || n.as_f64().is_some_and(f64::is_finite) => Ok(()),
            Json::Object(o) if o.len() == 1 => match (o.get("$blob"), o.get("$customer")) {
                (Some(Json::String(h)), _) if unhex(h).is_some() => Ok(()),
                (_, Some(Json::String(u))) => {
                    customer = Some(Uuid::try_parse(u).map_err(|_| bad("bad customer id"))?);
                    Ok(())
                }
                _ => Err(bad("unexpected object")),
            },
            _ => Err(bad("unexpected value")),
        }
    };
    if let Some(key) = obj.get("deleted") {
        value(key)?;
        return Ok(customer);
    }
    let row = obj.get("row").and_then(Json::as_object).ok_or_else(|| bad("no row"))?;
    let known = &schema_columns()?.iter().find(|(k, _)| *k == t).expect("every table has its columns").1;
    for (name, j) in row {
        if name == "$invoices" {
            let ok = t == Table::Reminders
                && j.as_array().is_some_and(|a| {
                    a.iter().all(|c| {
                        c.get(0).is_some_and(|i| value(i).is_ok())
                            && c.get(1).is_some_and(Json::is_i64)
                            && c.get(2).is_some_and(Json::is_i64)
                    })
                });
            if !ok {
                return Err(bad("bad reminder invoices"));
            }
            continue;
        }
        if name == "$matches" {
            let ok = t == Table::BankLines
                && j.as_array().is_some_and(|a| {
                    a.iter().all(|m| m.as_array().is_some_and(|c| c.len() == 7 && c.iter().all(|v| value(v).is_ok())))
                });
            if !ok {
                return Err(bad("bad bank matches"));
            }
            continue;
        }
        if name == "hlc" || (name == "id" && t.has_local_id()) || !known.iter().any(|k| k == name) {
            let name: String = name.chars().take(40).collect();
            return Err(bad(format!("{} has no column {name:?}", t.name())));
        }
        value(j)?;
    }
    if !row.contains_key(t.key_column()) {
        return Err(bad("row without its key"));
    }
    if t == Table::BankLines {
        check_bank_line_id(row)?;
    }
    Ok(customer)
}

/// A bank line's id is derived from its account and the bank's id: a row under another id
/// would be a second line for one transaction (and collide with the first).
fn check_bank_line_id(row: &Map<String, Json>) -> Result<()> {
    let text = |name: &str| row.get(name).and_then(Json::as_str);
    let (Some(account), Some(bank_id)) = (text("account"), text("bank_id")) else {
        return Err(bad("a bank line carries its account and the bank's id"));
    };
    let id = row.get("uuid").and_then(|u| u.get("$blob")).and_then(Json::as_str).and_then(unhex);
    if id.as_deref() != Some(crate::bank::line_id(account, bank_id).as_bytes().as_slice()) {
        return Err(bad("a bank line's id is not the one its account and bank id give"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_junk() {
        let u = Uuid::new_v4();
        assert_eq!(unhex(&hex(u.as_bytes())).unwrap(), u.as_bytes().to_vec());
        assert!(unhex("abc").is_none());
        assert!(unhex("zz").is_none());
    }

    #[test]
    fn a_bank_line_under_another_id_than_its_own_is_refused() {
        let line = |id: Uuid| {
            json!({"table": "bank_transactions", "row": {
                "uuid": {"$blob": hex(id.as_bytes())}, "account": "FR76", "bank_id": "T1", "amount": 100
            }})
        };
        assert!(check_shape(&line(crate::bank::line_id("FR76", "T1"))).is_ok());
        for wrong in [crate::bank::line_id("FR76", "T2"), Uuid::new_v4()] {
            assert!(matches!(check_shape(&line(wrong)), Err(Error::Invalid { .. })));
        }
        let headless = json!({"table": "bank_transactions", "row": {"uuid": {"$blob": "00"}, "amount": 1}});
        assert!(matches!(check_shape(&headless), Err(Error::Invalid { .. })));
    }

    #[test]
    fn every_table_is_found_by_name() {
        for t in Table::ALL {
            assert_eq!(Table::parse(t.name()), Some(t));
        }
        assert_eq!(Table::parse("customers"), None, "customers merge per field, not as rows");
        assert_eq!(Table::parse("entries"), None, "the ledger is a grow-only set");
    }
}
