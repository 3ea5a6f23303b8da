//! Bank statements into the ledger: each transaction is kept with what became of it (applied,
//! suggested, left), a certain match is recorded as the customer's payment once, whoever
//! imports it; a person confirms the suggestions and can undo any match. Lines and matches are
//! replicated rows: every device of the shop lists them, and may confirm or undo them.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use crate::bank::matching::{self, Book, BookCustomer, Decision, Holders, Names, OpenInvoice, Rule, Suggestion};
use crate::bank::{Import, Line, LineState, Statement, Status, Transaction, entry_id, line_id};
use crate::entry::PaymentMethod;
use crate::error::{Error, Result};
use crate::money::Money;
use crate::payref::PaymentReference;
use crate::store::db::conn::Bulk;
use crate::store::db::values::{Now, ms};
use crate::store::handle::Store;
use crate::store::sync::replica::{self, Key, Table};
use crate::store::till::ledger::{self, EntryRequest};
use crate::store::write::Write;

/// Transactions past which a statement's import gets the bulk writer's larger page cache.
const BIG_STATEMENT: usize = 500;

/// Longest label kept: what a statement line says is short; a file that says more is trimmed.
const LABEL_MAX: usize = 500;

impl Store {
    /// Takes in statements already read and checked (`crate::bank::camt::parse` and the other
    /// readers). Each booked transaction not seen before is kept and decided
    /// ([`matching::decide`]): a certain credit is recorded as the customer's payment by
    /// transfer, dated the day the bank booked it, under [`entry_id`] (so importing the same
    /// or an overlapping statement again, here or on another device, records nothing twice);
    /// the others are kept as suggestions or left, with why. Pending transactions are only
    /// reported: they come again, booked. The whole file is one unit of work: it is taken in
    /// whole or not at all, and each customer's queued reminders are rewritten once.
    pub fn import_statements(&self, statements: &[Statement], cashier: &str, now: Now) -> Result<Import> {
        let tokens = matching::quoted_tokens(statements.iter().flat_map(|s| &s.transactions));
        // Each payment touches its customer's pages in several tables: a statement of
        // thousands of them outgrows the writer's page cache, and SQLite would spill pages
        // mid-transaction and read them back (most of the time on a large shop).
        let count: usize = statements.iter().map(|s| s.transactions.len()).sum();
        let bulk = Bulk { large: count >= BIG_STATEMENT, moving_in: false };
        let report = self.attempt_bulk(now, bulk, |w| {
            // Read in the write: the book is the ledger the payments are then written to, with
            // no sale or synced payment committed in between.
            let (mut book, named) = read_book(w.conn(), &tokens)?;
            let mut report = Import::default();
            let mut rows = Vec::new();
            for st in statements {
                let account = st.account_iban.as_deref().unwrap_or(&st.id);
                for tx in &st.transactions {
                    if tx.status != Status::Booked {
                        report.unmatched.push(pending_line(account, tx));
                        continue;
                    }
                    let uuid = line_id(account, &tx.bank_id);
                    let known =
                        w.conn().prepare_cached("SELECT 1 FROM bank_transactions WHERE uuid = ?1")?.exists([uuid])?;
                    if known {
                        report.duplicates += 1;
                        continue;
                    }
                    let (line, recorded_before) =
                        take(w, (&mut book, &named), (account, uuid), tx, cashier, &mut rows)?;
                    if recorded_before {
                        // Taken in on another device (or a copy of this ledger) already.
                        report.duplicates += 1;
                        continue;
                    }
                    report.imported += 1;
                    match line.state {
                        LineState::Applied => report.applied.push(line),
                        LineState::Suggested => report.suggested.push(line),
                        LineState::Unmatched => report.unmatched.push(line),
                    }
                }
            }
            // For the other devices, each line with its match if it has one, after the payments.
            replica::emit_new(w.conn(), Table::BankLines, rows, w.now())?;
            Ok(Some(report))
        })?;
        report.ok_or_else(|| Error::Corrupt("a statement's import gave up without an error".into()))
    }

    /// The bank transactions kept here, newest first, those in `state` only if given.
    pub fn bank_lines(&self, state: Option<LineState>, limit: usize, offset: usize) -> Result<Vec<Line>> {
        self.read(|conn| {
            let ids: Vec<i64> = conn
                .prepare_cached(
                    "SELECT id FROM bank_transactions WHERE ?1 IS NULL OR state = ?1
                     ORDER BY booked_on DESC, id DESC LIMIT ?2 OFFSET ?3",
                )?
                .query_map(params![state.map(LineState::as_str), limit as i64, offset as i64], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            ids.into_iter().map(|id| line(conn, id)).collect()
        })
    }

    /// A person says whose payment a credit is: recorded as theirs (aimed at `invoice` if
    /// given, the rest to their oldest invoices), with who confirmed it. Refused for a debit
    /// and for a transaction already applied (undo it first).
    pub fn confirm_bank_match(
        &self,
        transaction: &str,
        customer: &str,
        invoice: Option<&str>,
        by: &str,
        now: Now,
    ) -> Result<Line> {
        self.write(now, |w| {
            let t = stored(w.conn(), transaction)?;
            if t.amount <= 0 {
                return Err(refused(transaction, "money out: only a credit is a customer's payment"));
            }
            if t.state == LineState::Applied {
                return Err(refused(transaction, "already applied: undo it first"));
            }
            // A match undone keeps its entry (reversed): a new one needs a new id, the same
            // on every device that confirms the same way the same number of times.
            let earlier: i64 =
                w.conn().query_row("SELECT count(*) FROM bank_matches WHERE line = ?1", [t.uuid], |r| r.get(0))?;
            let key = if earlier == 0 { t.bank_id.clone() } else { format!("{}#{}", t.bank_id, earlier + 1) };
            let id = entry_id(&t.account, &key);
            let applied = record(w, t.booked_on, t.amount, &id, customer, invoice.map(str::to_owned), by)?;
            // What the ledger refuses (an unknown customer or invoice) is told as such.
            applied?;
            finish_match(w, &t, Rule::Confirmed, by, &key)?;
            line(w.conn(), t.id)
        })
    }

    /// Undoes the match of a transaction: its payment is reversed (so the customer owes it
    /// again, on every device) and the transaction goes back to the suggestions; an undone
    /// match is never applied again by itself.
    pub fn undo_bank_match(&self, transaction: &str, by: &str, now: Now) -> Result<Line> {
        self.write(now, |w| {
            let t = stored(w.conn(), transaction)?;
            let active: Option<(i64, i64, Uuid)> = w
                .conn()
                .query_row(
                    "SELECT id, customer_id, entry FROM bank_matches WHERE line = ?1 AND undone_at IS NULL",
                    [t.uuid],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((match_id, customer_id, entry)) = active else {
                return Err(refused(transaction, "not applied: nothing to undo"));
            };
            let today = w.now().date_naive();
            let reason = format!("bank match of {} undone by {by}", t.bank_id);
            w.record(customer_id, today, by, EntryRequest::Reversal { entry, reason })?;
            w.conn().execute(
                "UPDATE bank_matches SET undone_at = ?2, undone_by = ?3 WHERE id = ?1",
                params![match_id, ms(w.now()), by],
            )?;
            let suggested: bool =
                w.conn().query_row("SELECT suggestions != '[]' FROM bank_transactions WHERE id = ?1", [t.id], |r| {
                    r.get(0)
                })?;
            let state = if suggested { LineState::Suggested } else { LineState::Unmatched };
            w.conn().execute(
                "UPDATE bank_transactions SET state = ?2, why = ?3 WHERE id = ?1",
                params![t.id, state.as_str(), format!("match undone by {by} on {today}")],
            )?;
            w.row(Table::BankLines, Key::Blob(t.uuid))?;
            line(w.conn(), t.id)
        })
    }
}

/// Decides one new transaction, records what it decides, and keeps the transaction: the
/// transaction with what became of it, and whether its payment was in the ledger already
/// (recorded on another device). Each row is written once, in its final state, the line under
/// `uuid` (its `line_id`); the line's row as the other devices receive it is added to `rows`.
fn take(
    w: &mut Write<'_>,
    (book, named): (&mut Book, &HashSet<Uuid>),
    (account, uuid): (&str, Uuid),
    tx: &Transaction,
    cashier: &str,
    rows: &mut Vec<(i64, Map<String, Json>)>,
) -> Result<(Line, bool)> {
    let decision = matching::decide(tx, book);
    let iban = tx.counterparty_iban.as_deref().map(matching::compact_iban);
    let mut out = unmatched_line(account, tx);
    let date = out.date;
    let mut recorded_before = false;
    let mut applied = None;
    match decision {
        Decision::Apply(apply) => {
            let id = entry_id(account, &tx.bank_id);
            match record(w, date, tx.signed().minor(), &id, &apply.customer, apply.aim, cashier)? {
                Ok(new) => {
                    recorded_before = !new;
                    out.state = LineState::Applied;
                    applied = Some((id, apply.rule, apply.customer));
                }
                Err(why) => {
                    out.why = Some(format!(
                        "{} by {}, but the ledger refused it: {why}",
                        apply.customer,
                        apply.rule.as_str()
                    ));
                }
            }
        }
        Decision::Suggest(s) => {
            out.state = LineState::Suggested;
            out.invoices = s.first().map(|best| best.invoices.clone()).unwrap_or_default();
            out.suggestions = s;
        }
        Decision::Leave(why) => out.why = Some(why),
    }
    let kept = Kept {
        uuid,
        account,
        bank_id: &tx.bank_id,
        booked_on: date.map(|d| d.to_string()),
        amount: out.amount.minor(),
        counterparty: out.counterparty.as_deref(),
        iban: iban.as_deref(),
        label: &out.label,
        state: out.state.as_str(),
        why: out.why.as_deref().unwrap_or(""),
        suggestions: serde_json::to_string(&out.suggestions).map_err(|e| Error::Corrupt(e.to_string()))?,
        imported_at: ms(w.now()),
    };
    let (rowid, mut row) = keep(w, &kept)?;
    let mut matches = Vec::new();
    if let Some((entry, rule, customer)) = applied {
        let (reference, customer_uuid) = insert_match(w, uuid, entry, rule, cashier)?;
        matches.push(json!([
            replica::blob_cell(entry.as_bytes()),
            replica::customer_cell(customer_uuid),
            rule.as_str(),
            cashier,
            kept.imported_at,
            null,
            null
        ]));
        out.customer = Some(reference);
        out.invoices = applied_invoices(w.conn(), entry)?;
        (out.rule, out.by, out.entry) = (Some(rule), Some(cashier.to_owned()), Some(entry));
        // What this import does next sees the account as it now is.
        let again = read_customer(w.conn(), &customer, named, book)?;
        let pending = book.refresh(again);
        complete(w.conn(), book, named, pending)?;
        if let Some(iban) = &iban {
            book.saw_account(iban, &customer);
        }
    }
    row.insert("$matches".into(), Json::Array(matches));
    rows.push((rowid, row));
    Ok((out, recorded_before))
}

/// A bank line as it is first kept.
struct Kept<'a> {
    uuid: Uuid,
    account: &'a str,
    bank_id: &'a str,
    booked_on: Option<String>,
    amount: i64,
    counterparty: Option<&'a str>,
    iban: Option<&'a str>,
    label: &'a str,
    state: &'static str,
    why: &'a str,
    suggestions: String,
    imported_at: i64,
}

/// Inserts a new line: its local row id, and its row as `replica::emit` would read it back
/// (less its matches), for the other devices.
fn keep(w: &Write<'_>, k: &Kept<'_>) -> Result<(i64, Map<String, Json>)> {
    w.conn()
        .prepare_cached(
            "INSERT INTO bank_transactions
                 (uuid, account, bank_id, booked_on, amount, counterparty, iban, label, state, why, suggestions, imported_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![
            k.uuid,
            k.account,
            k.bank_id,
            k.booked_on,
            k.amount,
            k.counterparty,
            k.iban,
            k.label,
            k.state,
            k.why,
            k.suggestions,
            k.imported_at
        ])?;
    let row = [
        ("uuid", replica::blob_cell(k.uuid.as_bytes())),
        ("account", json!(k.account)),
        ("bank_id", json!(k.bank_id)),
        ("booked_on", json!(k.booked_on)),
        ("amount", json!(k.amount)),
        ("counterparty", json!(k.counterparty)),
        ("iban", json!(k.iban)),
        ("label", json!(k.label)),
        ("state", json!(k.state)),
        ("why", json!(k.why)),
        ("suggestions", json!(k.suggestions)),
        ("imported_at", json!(k.imported_at)),
    ];
    Ok((w.conn().last_insert_rowid(), row.into_iter().map(|(c, v)| (c.to_owned(), v)).collect()))
}

/// Records the payment `id` of a credit of `cents` booked on `booked_on` for `customer`,
/// unless the ledger already holds it (another device recorded the same transaction): says
/// whether it was recorded now. `Ok(Err(e))` when the ledger refuses it: nothing of it is
/// written then.
fn record(
    w: &mut Write<'_>,
    booked_on: Option<NaiveDate>,
    cents: i64,
    id: &Uuid,
    customer: &str,
    aim: Option<String>,
    cashier: &str,
) -> Result<Result<bool>> {
    if w.conn().prepare_cached("SELECT 1 FROM entries WHERE uuid = ?1")?.exists([id])? {
        return Ok(Ok(false));
    }
    let today = w.now().date_naive();
    let date = booked_on.filter(|d| *d <= today).unwrap_or(today);
    let amount = Money::from_minor(cents);
    // No savepoint: the ledger refuses before it writes anything (`Write::append`), and a
    // savepoint would copy every page a payment changes aside, for nothing.
    let written = w.conn().total_changes();
    let attempt = (|| -> Result<()> {
        let target = ledger::customer_in(w.conn(), customer)?;
        let req = EntryRequest::Payment { amount, method: PaymentMethod::Transfer, invoice: aim };
        let body = ledger::validate(w.conn(), target.id, date, req)?;
        w.append(&target, *id, date, cashier, body)?;
        Ok(())
    })();
    match attempt {
        Ok(()) => Ok(Ok(true)),
        // A refusal after a row was written would leave half a payment: the whole import is
        // given up instead (it never was, but nothing here relies on that).
        Err(e @ (Error::Sqlite(_) | Error::Corrupt(_))) => Err(e),
        Err(e) if w.conn().total_changes() != written => Err(e),
        Err(e) => Ok(Err(e)),
    }
}

/// Writes the match of bank line `line` whose payment `entry` is in the ledger (the line's row,
/// written next, carries it to the other devices): the reference and id of the customer the
/// entry is for.
fn insert_match(w: &mut Write<'_>, line: Uuid, entry: Uuid, rule: Rule, by: &str) -> Result<(String, Uuid)> {
    let (customer_id, reference, uuid): (i64, String, Uuid) = w
        .conn()
        .prepare_cached(
            "SELECT e.customer_id, c.reference, c.uuid FROM entries e JOIN customers c ON c.id = e.customer_id
             WHERE e.uuid = ?1",
        )?
        .query_row([entry], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    w.conn()
        .prepare_cached(
            "INSERT INTO bank_matches (line, customer_id, entry, rule, by, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![line, customer_id, entry, rule.as_str(), by, ms(w.now())])?;
    Ok((reference, uuid))
}

/// Writes the match of a stored transaction whose payment `entry_id(account, key)` is in the
/// ledger, and marks it applied.
fn finish_match(w: &mut Write<'_>, t: &Stored, rule: Rule, by: &str, key: &str) -> Result<()> {
    insert_match(w, t.uuid, entry_id(&t.account, key), rule, by)?;
    w.conn().execute("UPDATE bank_transactions SET state = 'applied', why = '' WHERE id = ?1", [t.id])?;
    w.row(Table::BankLines, Key::Blob(t.uuid))?;
    Ok(())
}

/// The invoices a payment settled, oldest due first.
fn applied_invoices(conn: &Connection, entry: Uuid) -> Result<Vec<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT i.reference FROM allocations a JOIN items i ON i.entry_uuid = a.item
             WHERE a.source = ?1 GROUP BY i.reference ORDER BY min(i.due_on), i.reference",
        )?
        .query_map([entry], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// A stored bank transaction, as the writes need it.
struct Stored {
    id: i64,
    uuid: Uuid,
    account: String,
    bank_id: String,
    booked_on: Option<NaiveDate>,
    amount: i64,
    state: LineState,
}

const STORED: &str = "SELECT id, account, bank_id, booked_on, amount, state, uuid FROM bank_transactions";

fn stored_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Stored> {
    let state: String = r.get(5)?;
    Ok(Stored {
        id: r.get(0)?,
        uuid: r.get(6)?,
        account: r.get(1)?,
        bank_id: r.get(2)?,
        booked_on: r.get(3)?,
        amount: r.get(4)?,
        state: LineState::parse(&state).unwrap_or(LineState::Unmatched),
    })
}

/// The transaction a person names: by the bank's id, or the end of it when that is unique
/// (hashed ids are long to type).
fn stored(conn: &Connection, wanted: &str) -> Result<Stored> {
    let wanted = wanted.trim();
    let not_found = || Error::NotFound { what: "bank transaction", id: wanted.to_owned() };
    let mut rows: Vec<Stored> = conn
        .prepare_cached(&format!("{STORED} WHERE bank_id = ?1"))?
        .query_map([wanted], stored_row)?
        .collect::<Result<_, _>>()?;
    // An end too short would name many transactions by chance.
    if rows.is_empty() && wanted.len() >= 4 {
        rows = conn
            .prepare_cached(&format!("{STORED} WHERE substr(bank_id, -length(?1)) = ?1"))?
            .query_map([wanted], stored_row)?
            .collect::<Result<_, _>>()?;
    }
    match rows.len() {
        0 => Err(not_found()),
        1 => Ok(rows.remove(0)),
        n => Err(Error::Invalid {
            field: "transaction",
            reason: format!("{wanted:?} names {n} bank transactions: give the whole id"),
        }),
    }
}

fn refused(transaction: &str, why: &str) -> Error {
    Error::Invalid { field: "transaction", reason: format!("{transaction}: {why}") }
}

/// A transaction with what became of it, read back from the tables.
fn line(conn: &Connection, id: i64) -> Result<Line> {
    let (account, bank_id, date, amount, label, counterparty, state, why, suggestions): (
        String,
        String,
        Option<NaiveDate>,
        i64,
        String,
        Option<String>,
        String,
        String,
        String,
    ) = conn
        .prepare_cached(
            "SELECT account, bank_id, booked_on, amount, label, counterparty, state, why, suggestions
             FROM bank_transactions WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?))
        })?;
    let state = LineState::parse(&state).ok_or_else(|| Error::Corrupt(format!("bank transaction state {state}")))?;
    let suggestions: Vec<Suggestion> =
        serde_json::from_str(&suggestions).map_err(|e| Error::Corrupt(format!("bank suggestions: {e}")))?;
    let mut out = Line {
        transaction: bank_id,
        account,
        amount: Money::from_minor(amount),
        date,
        label,
        counterparty,
        state,
        customer: None,
        invoices: Vec::new(),
        rule: None,
        by: None,
        entry: None,
        why: (!why.is_empty()).then_some(why),
        suggestions,
    };
    let active: Option<(String, String, String, Uuid)> = conn
        .prepare_cached(
            "SELECT c.reference, m.rule, m.by, m.entry FROM bank_matches m JOIN customers c ON c.id = m.customer_id
             WHERE m.line = (SELECT uuid FROM bank_transactions WHERE id = ?1) AND m.undone_at IS NULL
             ORDER BY m.at DESC",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    if let Some((customer, rule, by, entry)) = active {
        out.invoices = applied_invoices(conn, entry)?;
        out.customer = Some(customer);
        out.rule = Rule::parse(&rule);
        out.by = Some(by);
        out.entry = Some(entry);
    } else if let Some(best) = out.suggestions.first() {
        out.invoices = best.invoices.clone();
    }
    Ok(out)
}

/// A pending transaction, reported but not kept: it comes again booked, under its own id.
fn pending_line(account: &str, tx: &Transaction) -> Line {
    Line { why: Some("pending: the bank has not booked it yet".into()), ..unmatched_line(account, tx) }
}

/// A transaction as the bank gave it, matched to nobody (yet).
fn unmatched_line(account: &str, tx: &Transaction) -> Line {
    Line {
        transaction: tx.bank_id.clone(),
        account: account.to_owned(),
        amount: tx.signed(),
        date: tx.booking_date.or(tx.value_date),
        label: label(tx),
        counterparty: tx.counterparty_name.clone(),
        state: LineState::Unmatched,
        customer: None,
        invoices: Vec::new(),
        rule: None,
        by: None,
        entry: None,
        why: None,
        suggestions: Vec::new(),
    }
}

/// What the payer and the bank wrote, joined once each.
fn label(tx: &Transaction) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for t in [&tx.remittance, &tx.creditor_reference, &tx.bank_label].into_iter().flatten() {
        let t = t.trim();
        if !t.is_empty() && !parts.contains(&t) {
            parts.push(t);
        }
    }
    let joined = parts.join(" | ");
    joined.chars().take(LABEL_MAX).collect()
}

/// Of `ids`, the open invoices, oldest due first for each customer (as the ledger settles
/// them): (customer row id, invoice).
fn read_invoices(conn: &Connection, ids: impl IntoIterator<Item = Uuid>) -> Result<Vec<(i64, OpenInvoice)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT customer_id, reference, due_on, amount - settled, order_key FROM items WHERE entry_uuid = ?1",
    )?;
    let mut open: Vec<(i64, String, OpenInvoice)> = Vec::new();
    for id in ids {
        let (customer, reference, due_on, left, key): (i64, String, NaiveDate, i64, String) =
            stmt.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
        open.push((customer, key, OpenInvoice { reference, due_on, open: Money::from_minor(left) }));
    }
    open.sort_by(|a, b| (a.0, a.2.due_on, &a.1).cmp(&(b.0, b.2.due_on, &b.1)));
    Ok(open.into_iter().map(|(c, _, i)| (c, i)).collect())
}

/// What the matcher needs of the ledger for one import: every customer with every open amount,
/// the accounts seen before, and the references of only the open invoices that can change a
/// decision (see [`Book`]): those the import's `tokens` name, read with the open amounts
/// (an import never opens an invoice, so these are found once), and those
/// of amounts few enough customers owe to be evidence. The amounts come from the covering
/// index of open invoices; reading every open invoice's reference instead (a look-up in the
/// table each) was most of a 10,000-transaction import on a shop of 286,251 open invoices,
/// whose 1,476 distinct amounts are each owed by dozens of customers.
fn read_book(conn: &Connection, tokens: &HashSet<String>) -> Result<(Book, HashSet<Uuid>)> {
    let mut customers: Vec<BookCustomer> = Vec::new();
    let mut at: HashMap<i64, usize> = HashMap::new();
    let mut uuids: Vec<(Uuid, String)> = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT c.id, c.uuid, c.reference, c.name, coalesce(a.balance, 0)
             FROM customers c LEFT JOIN accounts a ON a.customer_id = c.id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            at.insert(r.get(0)?, customers.len());
            let reference: String = r.get(2)?;
            uuids.push((r.get(1)?, reference.clone()));
            customers.push(BookCustomer {
                reference,
                name: r.get(3)?,
                balance: Money::from_minor(r.get(4)?),
                open: Vec::new(),
                unlisted: Vec::new(),
            });
        }
    }
    // The names filed and the payment references computed on another core while the open
    // invoices are read: on a large shop each is a good part of the book.
    let names: Vec<String> = customers.iter().map(|c| c.name.clone()).collect();
    let (filed, rest) = std::thread::scope(|scope| {
        let filing = scope.spawn(move || (Names::new(names.iter().map(String::as_str)), references_of(uuids)));
        let rest = read_open(conn, tokens, &at, &mut customers);
        // A panic there is a bug of the matcher's own, told as such rather than carried on.
        let filed = filing.join().map_err(|_| Error::Corrupt("filing the customers' names failed".into()));
        (filed, rest)
    });
    let ((names, references), (named, accounts)) = (filed?, rest?);
    let mut book = Book::with_names(customers, references, &accounts, names);
    let pending = book.incomplete();
    complete(conn, &mut book, &named, pending)?;
    Ok((book, named))
}

/// An account (IBAN) a matched payment came from, and the customer's reference.
type SeenAccount = (String, String);

/// Each payment reference to the customer it is for, `None` when two customers share one.
fn references_of(uuids: Vec<(Uuid, String)>) -> HashMap<PaymentReference, Option<String>> {
    let mut references = HashMap::with_capacity(uuids.len());
    for (id, reference) in uuids {
        references
            .entry(PaymentReference::for_customer(id))
            .and_modify(|shared: &mut Option<String>| *shared = None)
            .or_insert(Some(reference));
    }
    references
}

/// The open invoices of `customers` (by row id, `at`) as [`read_book`] lists them, the invoices
/// the `tokens` name, and the accounts seen before.
fn read_open(
    conn: &Connection,
    tokens: &HashSet<String>,
    at: &HashMap<i64, usize>,
    customers: &mut [BookCustomer],
) -> Result<(HashSet<Uuid>, Vec<SeenAccount>)> {
    let mut named: HashSet<Uuid> = HashSet::new();
    let mut open: Vec<(usize, Uuid, i64)> = Vec::new();
    {
        // The references come with the rest from the covering index, compared in ASCII
        // capitals as the tokens are, in one buffer: no string kept for an invoice not named.
        let mut stmt = conn.prepare(
            "SELECT customer_id, entry_uuid, amount - settled, reference FROM items INDEXED BY items_open WHERE open = 1",
        )?;
        let mut rows = stmt.query([])?;
        let mut capitals = String::new();
        while let Some(r) = rows.next()? {
            let id: Uuid = r.get(1)?;
            capitals.clear();
            capitals.push_str(r.get_ref(3)?.as_str().map_err(rusqlite::Error::from)?);
            capitals.make_ascii_uppercase();
            if tokens.contains(capitals.as_str()) {
                named.insert(id);
            }
            if let Some(&c) = at.get(&r.get::<_, i64>(0)?) {
                open.push((c, id, r.get(2)?));
            }
        }
    }
    let accounts: Vec<(String, String)> = conn
        .prepare(
            "SELECT t.iban, c.reference FROM bank_matches m JOIN bank_transactions t ON t.uuid = m.line
             JOIN customers c ON c.id = m.customer_id WHERE m.undone_at IS NULL AND t.iban IS NOT NULL",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    // Which amounts are evidence depends on who owes them, not on what is listed: counted
    // first, then the book is made with those listed.
    let counting = {
        let mut owed: Vec<Vec<Money>> = vec![Vec::new(); customers.len()];
        for &(c, _, cents) in &open {
            owed[c].push(Money::from_minor(cents));
        }
        let mut holders = Holders::default();
        for (c, amounts) in owed.into_iter().enumerate() {
            holders.add(amounts, customers[c].balance);
        }
        holders
    };
    let mut listed: Vec<Uuid> = Vec::new();
    for &(c, id, cents) in &open {
        if named.contains(&id) || counting.thin(cents) {
            listed.push(id);
        } else {
            customers[c].unlisted.push(Money::from_minor(cents));
        }
    }
    drop(counting);
    for (customer, invoice) in read_invoices(conn, listed)? {
        if let Some(&c) = at.get(&customer) {
            customers[c].open.push(invoice);
        }
    }
    Ok((named, accounts))
}

/// Reads again the customers the book asks for, until it lists every invoice that can change a
/// decision (see [`Book::refresh`]).
fn complete(conn: &Connection, book: &mut Book, named: &HashSet<Uuid>, mut pending: Vec<String>) -> Result<()> {
    while let Some(who) = pending.pop() {
        let again = read_customer(conn, &who, named, book)?;
        pending.extend(book.refresh(again));
    }
    Ok(())
}

/// One customer as `book` lists them, read inside the write in progress (after a payment of
/// theirs, or when the book asks): the named invoices and those of amounts that are evidence,
/// and the amounts of the others.
fn read_customer(conn: &Connection, reference: &str, named: &HashSet<Uuid>, book: &Book) -> Result<BookCustomer> {
    let (id, name, balance): (i64, String, i64) = conn
        .prepare_cached(
            "SELECT c.id, c.name, coalesce(a.balance, 0) FROM customers c LEFT JOIN accounts a ON a.customer_id = c.id
             WHERE c.reference = ?1",
        )?
        .query_row([reference], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let mut listed: Vec<Uuid> = Vec::new();
    let mut unlisted: Vec<Money> = Vec::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT entry_uuid, amount - settled FROM items INDEXED BY items_open WHERE customer_id = ?1 AND open = 1",
        )?;
        let mut rows = stmt.query([id])?;
        while let Some(r) = rows.next()? {
            let (invoice, cents): (Uuid, i64) = (r.get(0)?, r.get(1)?);
            if named.contains(&invoice) || book.thin(cents) {
                listed.push(invoice);
            } else {
                unlisted.push(Money::from_minor(cents));
            }
        }
    }
    let open = read_invoices(conn, listed)?.into_iter().map(|(_, i)| i).collect();
    Ok(BookCustomer { reference: reference.to_owned(), name, balance: Money::from_minor(balance), open, unlisted })
}

#[cfg(test)]
#[path = "bank_tests.rs"]
mod tests;
