//! Imports into the store: each file in one transaction with its outbox rows, all or nothing.
//! Re-importing a file changes nothing; a later export of the same history only adds what is new
//! (a payment since, a dispute).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use rusqlite::{OptionalExtension, Transaction, params};
use uuid::Uuid;

use crate::customer::{Customer, CustomerPatch, NewCustomer, Terms};
use crate::entry::{Entry, EntryBody, PaymentMethod};
use crate::error::{Error, Result};
use crate::import::{self, DateStyle, ImportReport, InvoiceRow, Problems};
use crate::money::Money;
use crate::store::db::conn::Bulk;
use crate::store::db::values::Now;
use crate::store::handle::Store;
use crate::store::sync::outbox::Sequencer;
use crate::store::sync::replica::{self, Key, Table};
use crate::store::till::customer_rows::{COLUMNS, create_in, update_in, with_id};
use crate::store::till::ledger;
use crate::store::write::Write;

const CASHIER: &str = "import";

/// A customer the invoices file names.
struct Account {
    id: i64,
    uuid: Uuid,
    /// Created by this import: its entries are its first.
    created: bool,
}

/// An invoice already in the store under the reference a row gives.
struct Known {
    entry: Uuid,
    customer_id: i64,
    issued_on: String,
    due_on: String,
    amount: i64,
    remaining: i64,
    cancelled: bool,
}

impl Store {
    /// Imports a customers file (`ref,name,email,phone,kind,credit_limit,terms`, optional
    /// `paperless_from`): new references are created, known ones updated where the file
    /// differs.
    pub fn import_customers(&self, data: &[u8], now: Now) -> Result<ImportReport> {
        let rows = import::parse_customers(data)?;
        let mut report = ImportReport { rows: rows.len() as u64, ..Default::default() };
        let mut problems = Problems::new();
        let written = self.attempt(now, |w| {
            let tx = w.conn();
            for row in rows {
                let existing: Option<(i64, Customer)> = tx
                    .prepare_cached(&format!("SELECT {COLUMNS}, id FROM customers WHERE reference = ?1"))?
                    .query_row([&row.reference], with_id)
                    .optional()?;
                let outcome = match existing {
                    None => Customer::from_new(
                        Uuid::new_v4(),
                        NewCustomer {
                            reference: row.reference.clone(),
                            name: row.name.clone(),
                            email: row.email.clone(),
                            phone: row.phone.clone(),
                            kind: row.kind,
                            credit_limit: row.credit_limit,
                            terms: row.terms.unwrap_or(Terms::default_for(row.kind)),
                            paperless_from: row.paperless_from.flatten(),
                            ..Default::default()
                        },
                    )
                    .and_then(|c| create_in(tx, &c, now).map(|_| report.customers_created += 1)),
                    Some((id, before)) => before
                        .patched(CustomerPatch {
                            name: Some(row.name.clone()),
                            email: Some(row.email.clone()),
                            phone: Some(row.phone.clone()),
                            kind: Some(row.kind),
                            credit_limit: Some(row.credit_limit),
                            terms: row.terms,
                            paperless_from: row.paperless_from,
                            ..Default::default()
                        })
                        .and_then(|after| update_in(tx, id, &before, &after, now))
                        .map(|changed| if changed { report.customers_updated += 1 } else { report.unchanged += 1 }),
                };
                match outcome {
                    Ok(()) => {}
                    Err(e @ (Error::Sqlite(_) | Error::Corrupt(_))) => return Err(e),
                    Err(e) => problems.add(row.line, e.to_string()),
                }
            }
            Ok(problems.list.is_empty().then_some(()))
        })?;
        problems.into_result("customers")?;
        written.ok_or_else(|| Error::Corrupt("an import with no problem was not written".into()))?;
        Ok(report)
    }

    /// Imports an invoice history (`customer_ref,invoice_ref,issued_on,due_on,amount,paid_on`,
    /// optional `disputed`). Each invoice becomes a sale on account dated its issue date, and a
    /// paid one a payment of it dated `paid_on`; unknown customers are created.
    pub fn import_invoices(&self, data: &[u8], dates: DateStyle, now: Now) -> Result<ImportReport> {
        self.import_invoices_from(data, dates, now, BIG_IMPORT_ROWS)
    }

    /// [`Store::import_invoices`], treating a file of `big` rows or more as a big one (tests
    /// take the bulk path with small files).
    pub(crate) fn import_invoices_from(
        &self,
        data: &[u8],
        dates: DateStyle,
        now: Now,
        big: usize,
    ) -> Result<ImportReport> {
        let rows = import::parse_invoices(data, dates, now.date_naive())?;
        let mut report = ImportReport { rows: rows.len() as u64, ..Default::default() };
        let mut problems = Problems::new();
        // Written customer by customer, oldest first: each customer's index entries then land
        // side by side instead of all over a file larger than the cache.
        let mut rows = rows;
        rows.sort_by(|a, b| (&a.customer_ref, a.issued_on, a.line).cmp(&(&b.customer_ref, b.issued_on, b.line)));
        // A whole history in one transaction outgrows the till's page cache: a larger one for
        // the import's duration. Rebuilding an index sorts everything its table holds: worth it
        // when the file brings more than the store already has (a shop moving in), not for a
        // small file into a big store.
        let large = rows.len() >= big;
        let stored = self
            .read(|conn| Ok(conn.query_row("SELECT coalesce(max(id), 0) FROM entries", [], |r| r.get::<_, i64>(0))?))?;
        let bulk = Bulk { large, moving_in: large && rows.len() as i64 > stored };
        self.attempt_bulk(now, bulk, |w| write_invoices(w, &rows, &mut report, &mut problems, bulk.moving_in))?;
        problems.list.sort_by_key(|p| p.line);
        problems.into_result("invoices")?;
        Ok(report)
    }
}

/// Writes the invoices (and their payments and disputes) in one unit of work; `None` (nothing
/// kept) when a row has a problem.
fn write_invoices(
    w: &mut Write<'_>,
    rows: &[InvoiceRow],
    report: &mut ImportReport,
    problems: &mut Problems,
    set_aside: bool,
) -> Result<Option<()>> {
    let now = w.now();
    let tx = w.conn();
    // Customers first: creating one takes a sequence number, which the entries below take
    // from memory.
    let mut accounts: HashMap<&str, Account> = HashMap::new();
    for row in rows {
        if !accounts.contains_key(row.customer_ref.as_str()) {
            accounts.insert(&row.customer_ref, account_for(tx, row, now, report)?);
        }
    }
    let aside = if set_aside { Some(SetAside::take(tx)?) } else { None };
    let mut known = KnownItems::new(tx, aside.is_some())?;
    let mut writer = Writer { seq: Sequencer::start(tx)?, ids: uuid::ContextV7::new(), now, touched: HashMap::new() };
    let mut disputes: Vec<(i64, Uuid, &InvoiceRow)> = Vec::new();
    for row in rows {
        let account = &accounts[row.customer_ref.as_str()];
        match known.take(tx, &row.invoice_ref)? {
            None => {
                let sale = EntryBody::Sale {
                    amount: row.amount,
                    invoice_ref: row.invoice_ref.clone(),
                    due_on: row.due_on,
                    override_id: None,
                };
                let sale_id = writer.write(tx, account, row.issued_on, sale)?;
                report.invoices_created += 1;
                if let Some(paid) = row.paid_on {
                    let body = EntryBody::Payment {
                        amount: row.amount,
                        method: PaymentMethod::Transfer,
                        invoice: Some(sale_id),
                    };
                    writer.write(tx, account, paid, body)?;
                    report.payments_recorded += 1;
                }
                if row.disputed {
                    disputes.push((account.id, sale_id, row));
                }
            }
            Some(k) => {
                let same = k.customer_id == account.id
                    && k.issued_on == row.issued_on.to_string()
                    && k.due_on == row.due_on.to_string()
                    && k.amount == row.amount.minor();
                if !same {
                    problems.add(
                        row.line,
                        format!(
                            "invoice {} is already recorded with another customer, date or amount",
                            row.invoice_ref
                        ),
                    );
                    continue;
                }
                let mut changed = false;
                if let Some(paid) = row.paid_on.filter(|_| k.remaining > 0 && !k.cancelled) {
                    let body = EntryBody::Payment {
                        amount: Money::from_minor(k.remaining),
                        method: PaymentMethod::Transfer,
                        invoice: Some(k.entry),
                    };
                    writer.write(tx, account, paid, body)?;
                    report.payments_recorded += 1;
                    changed = true;
                }
                if row.disputed && !tx.prepare_cached("SELECT 1 FROM disputes WHERE invoice = ?1")?.exists([k.entry])? {
                    disputes.push((account.id, k.entry, row));
                    changed = true;
                }
                if !changed {
                    report.unchanged += 1;
                }
            }
        }
    }
    if !problems.list.is_empty() {
        return Ok(None);
    }
    let Writer { seq, touched, .. } = writer;
    seq.finish(tx)?;
    for (customer_id, invoice, row) in disputes {
        dispute(tx, customer_id, invoice, row, now)?;
        report.disputes_recorded += 1;
    }
    let created: HashSet<i64> = accounts.values().filter(|a| a.created).map(|a| a.id).collect();
    let mut touched: Vec<(i64, Vec<Entry>)> = touched.into_iter().collect();
    touched.sort_by_key(|(id, _)| *id);
    let mut ids = Vec::with_capacity(touched.len());
    let mut existing = Vec::new();
    for (customer_id, entries) in touched {
        ids.push(customer_id);
        if created.contains(&customer_id) {
            ledger::fold_first(tx, customer_id, entries)?;
        } else {
            existing.push(customer_id);
        }
    }
    if let Some(aside) = aside {
        aside.restore(tx)?;
    }
    // An account that had entries is folded again from all of them: the history may land
    // before what the till recorded since.
    for customer_id in existing {
        ledger::refold(tx, customer_id)?;
    }
    for customer_id in ids {
        w.touch(customer_id);
    }
    Ok(Some(()))
}

/// Rows past which an import gets a larger page cache, and how large (KiB, SQLite's negative form).
const BIG_IMPORT_ROWS: usize = 20_000;

/// Writes entries with their outbox rows, numbered in the device's sequence, and keeps
/// them per customer to fold once at the end.
struct Writer {
    seq: Sequencer,
    ids: uuid::ContextV7,
    now: Now,
    touched: HashMap<i64, Vec<Entry>>,
}

impl Writer {
    fn write(&mut self, tx: &Transaction<'_>, account: &Account, date: NaiveDate, body: EntryBody) -> Result<Uuid> {
        // Increasing ids (a counter within the import's timestamp) land at the end of the
        // entries' and outbox's unique indexes instead of anywhere in them.
        let at = uuid::Timestamp::from_unix(
            &self.ids,
            self.now.timestamp().max(0) as u64,
            self.now.timestamp_subsec_nanos(),
        );
        let entry = Entry {
            id: Uuid::new_v7(at),
            device_id: self.seq.device(),
            device_seq: self.seq.seq(),
            customer: account.uuid,
            business_date: date,
            recorded_at: self.now.to_utc(),
            cashier: CASHIER.to_owned(),
            body,
        };
        ledger::insert_entry(tx, account.id, &entry, None)?;
        self.seq.append_entry(tx, entry.device_seq, entry.id, self.now)?;
        let id = entry.id;
        self.touched.entry(account.id).or_default().push(entry);
        Ok(id)
    }
}

/// The invoices already in the store, by reference: looked up one at a time, or all read at
/// once when a bulk import has set the reference index aside.
enum KnownItems {
    Lookup,
    Loaded(HashMap<String, Known>),
}

const KNOWN_SELECT: &str =
    "SELECT entry_uuid, customer_id, issued_on, due_on, amount, amount - settled, cancelled, reference FROM items";

fn known_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<Known> {
    Ok(Known {
        entry: r.get(0)?,
        customer_id: r.get(1)?,
        issued_on: r.get(2)?,
        due_on: r.get(3)?,
        amount: r.get(4)?,
        remaining: r.get(5)?,
        cancelled: r.get(6)?,
    })
}

impl KnownItems {
    fn new(tx: &Transaction<'_>, load: bool) -> Result<KnownItems> {
        if !load {
            return Ok(KnownItems::Lookup);
        }
        let mut all = HashMap::new();
        let mut stmt = tx.prepare(KNOWN_SELECT)?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            all.insert(r.get(7)?, known_from(r)?);
        }
        Ok(KnownItems::Loaded(all))
    }

    /// The stored invoice under `reference`; each reference is asked once (the file has no
    /// duplicates).
    fn take(&mut self, tx: &Transaction<'_>, reference: &str) -> Result<Option<Known>> {
        match self {
            KnownItems::Lookup => Ok(tx
                .prepare_cached(&format!("{KNOWN_SELECT} WHERE reference = ?1"))?
                .query_row([reference], known_from)
                .optional()?),
            KnownItems::Loaded(all) => Ok(all.remove(reference)),
        }
    }
}

/// The indexes and triggers of the tables a bulk import fills, dropped while it writes and
/// created again at the end, in the same transaction: SQLite then builds each index by sorting
/// once instead of inserting each row's key at a random place in a file larger than the cache.
struct SetAside(Vec<String>);

impl SetAside {
    fn take(tx: &Transaction<'_>) -> Result<SetAside> {
        let objects: Vec<(String, String, String)> = tx
            .prepare(
                "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL
                 AND tbl_name IN ('entries', 'items', 'allocations', 'credit_lots') ORDER BY type, name",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (kind, name, _) in &objects {
            tx.execute_batch(&format!("DROP {kind} \"{name}\""))?;
        }
        Ok(SetAside(objects.into_iter().map(|(_, _, sql)| sql).collect()))
    }

    /// Indexes before triggers (the query's order); the per-day totals the triggers would have
    /// kept are summed afresh.
    fn restore(self, tx: &Transaction<'_>) -> Result<()> {
        for sql in self.0 {
            tx.execute_batch(&sql)?;
        }
        crate::store::db::schema::fill_day_totals(tx)
    }
}

/// The customer a row is for, created (named after its reference, with the row's terms) when
/// the store does not know it.
fn account_for(tx: &Transaction<'_>, row: &InvoiceRow, now: Now, report: &mut ImportReport) -> Result<Account> {
    let found: Option<(i64, Uuid)> = tx
        .prepare_cached("SELECT id, uuid FROM customers WHERE reference = ?1")?
        .query_row([&row.customer_ref], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((id, uuid)) = found {
        return Ok(Account { id, uuid, created: false });
    }
    // The invoice keeps its own due date; the customer's terms are only a guess from it, so a
    // delay the law would not let a business agree to gives the legal default instead.
    let kind = crate::customer::CustomerKind::Business;
    let days = (row.due_on - row.issued_on).num_days();
    let terms = u16::try_from(days)
        .ok()
        .filter(|d| *d <= 365)
        .map(|d| if d == 0 { Terms::OnReceipt } else { Terms::Net(d) })
        .filter(|t| t.allowed_for(kind).is_ok())
        .unwrap_or(Terms::default_for(kind));
    let customer = Customer::from_new(
        Uuid::new_v4(),
        NewCustomer {
            reference: row.customer_ref.clone(),
            name: row.customer_ref.clone(),
            kind,
            terms,
            ..Default::default()
        },
    )?;
    let id = create_in(tx, &customer, now)?;
    report.customers_created += 1;
    Ok(Account { id, uuid: customer.id, created: true })
}

/// Records that an imported invoice was disputed: still open, the dispute stays open; paid, it
/// was settled in full, so it is closed as rejected on the payment date.
fn dispute(tx: &Transaction<'_>, customer_id: i64, invoice: Uuid, row: &InvoiceRow, now: Now) -> Result<()> {
    let id = Uuid::new_v4();
    let (state, resolved, resolution) = match row.paid_on {
        None => ("open", None, None),
        Some(p) => ("rejected", Some(p.to_string()), Some(format!("imported history: paid in full on {p}"))),
    };
    tx.prepare_cached(
        "INSERT INTO disputes (uuid, customer_id, invoice, reason, state, opened_on, resolved_on, resolution)
         VALUES (?1, ?2, ?3, 'imported history: disputed', ?4, ?5, ?6, ?7)",
    )?
    .execute(params![id, customer_id, invoice, state, row.issued_on, resolved, resolution])?;
    replica::emit(tx, Table::Disputes, Key::Blob(id), now)
}
