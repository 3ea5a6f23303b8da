//! The database schema: the current version in full for new files, and one upgrade step per
//! version for files written by older releases. Never drops a table that holds money.

use std::collections::HashMap;

use rusqlite::{Connection, Transaction};

use crate::error::{Error, Result};

pub const VERSION: i64 = 17;

/// Version 1: customers, the ledger with its projections, and the outbox. New files get
/// [`CURRENT`]; this is kept to build version-1 files for the upgrade test.
#[cfg(test)]
const V1: &str = "
CREATE TABLE device (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    device_id BLOB NOT NULL,
    prefix TEXT NOT NULL,
    next_seq INTEGER NOT NULL,
    next_invoice INTEGER NOT NULL
);
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    uuid BLOB NOT NULL UNIQUE,
    reference TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('business', 'consumer')),
    credit_limit INTEGER CHECK (credit_limit >= 0),
    terms TEXT NOT NULL,
    blocked TEXT,
    consent_email INTEGER NOT NULL,
    consent_sms INTEGER NOT NULL,
    notes TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX customers_by_name ON customers (name_key);
CREATE TABLE customer_keys (
    key TEXT NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    PRIMARY KEY (key, customer_id)
) WITHOUT ROWID;
CREATE INDEX customer_keys_by_customer ON customer_keys (customer_id);
CREATE TABLE entries (
    id INTEGER PRIMARY KEY,
    uuid BLOB NOT NULL UNIQUE,
    device_id BLOB NOT NULL,
    device_seq INTEGER NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    kind TEXT NOT NULL,
    balance_effect INTEGER NOT NULL,
    deposit_effect INTEGER NOT NULL,
    business_date TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    cashier TEXT NOT NULL,
    order_key TEXT NOT NULL,
    reverses BLOB,
    body TEXT NOT NULL,
    UNIQUE (device_id, device_seq)
);
CREATE INDEX entries_by_customer ON entries (customer_id, order_key);
CREATE INDEX entries_by_reversed ON entries (reverses) WHERE reverses IS NOT NULL;
CREATE TABLE items (
    entry_uuid BLOB PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    reference TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    amount INTEGER NOT NULL,
    settled INTEGER NOT NULL,
    cancelled INTEGER NOT NULL,
    order_key TEXT NOT NULL,
    open INTEGER NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX items_by_reference ON items (reference);
CREATE INDEX items_by_customer ON items (customer_id);
CREATE INDEX items_open ON items (customer_id, due_on) WHERE open = 1;
CREATE TABLE credit_lots (
    entry_uuid BLOB PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    amount INTEGER NOT NULL,
    remaining INTEGER NOT NULL,
    cancelled INTEGER NOT NULL,
    order_key TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX credit_lots_by_customer ON credit_lots (customer_id);
CREATE TABLE deposit_lots (
    entry_uuid BLOB PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    order_ref TEXT,
    amount INTEGER NOT NULL,
    remaining INTEGER NOT NULL,
    order_key TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX deposit_lots_by_customer ON deposit_lots (customer_id);
CREATE TABLE allocations (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    source BLOB NOT NULL,
    item BLOB NOT NULL,
    amount INTEGER NOT NULL,
    by_entry BLOB NOT NULL
);
CREATE INDEX allocations_by_customer ON allocations (customer_id);
CREATE INDEX allocations_by_source ON allocations (source);
CREATE INDEX allocations_by_item ON allocations (item);
CREATE TABLE accounts (
    customer_id INTEGER PRIMARY KEY REFERENCES customers (id),
    balance INTEGER NOT NULL,
    deposits INTEGER NOT NULL,
    credit INTEGER NOT NULL,
    open_items INTEGER NOT NULL,
    oldest_due TEXT,
    last_key TEXT,
    last_date TEXT
);
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    event_id BLOB NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
";

/// Version 2: shop settings (checkout thresholds) and recorded manager overrides.
const V2: &str = "
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE overrides (
    id INTEGER PRIMARY KEY,
    uuid BLOB NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    business_date TEXT NOT NULL,
    amount INTEGER NOT NULL,
    manager TEXT NOT NULL,
    reason TEXT NOT NULL,
    verdict TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    used_by BLOB
);
CREATE INDEX overrides_by_customer ON overrides (customer_id, business_date);
";

/// Version 3: reminders (queue, per-invoice levels), disputes, promises, payment plans, notes
/// and calls, holds and stops; customers get a postal address and a language.
const V3: &str = "
ALTER TABLE customers ADD COLUMN address TEXT;
ALTER TABLE customers ADD COLUMN language TEXT NOT NULL DEFAULT 'fr' CHECK (language IN ('fr', 'en'));
CREATE INDEX accounts_by_oldest_due ON accounts (oldest_due) WHERE oldest_due IS NOT NULL;
CREATE TABLE dunning_customers (
    customer_id INTEGER PRIMARY KEY REFERENCES customers (id),
    ladder TEXT,
    excluded INTEGER NOT NULL DEFAULT 0,
    hold_until TEXT,
    hold_reason TEXT
);
CREATE TABLE invoice_stops (
    invoice BLOB PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    reason TEXT NOT NULL,
    at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE reminders (
    id INTEGER PRIMARY KEY,
    uuid BLOB NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    level INTEGER NOT NULL,
    step TEXT NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT,
    language TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed', 'cancelled')),
    state_note TEXT,
    created_on TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    not_before TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    amount_due INTEGER NOT NULL,
    penalties INTEGER NOT NULL,
    indemnity INTEGER NOT NULL
);
CREATE INDEX reminders_by_customer ON reminders (customer_id, created_on);
CREATE INDEX reminders_queued ON reminders (customer_id) WHERE state = 'queued';
CREATE TABLE reminder_invoices (
    reminder_id INTEGER NOT NULL REFERENCES reminders (id),
    invoice BLOB NOT NULL,
    level INTEGER NOT NULL,
    remaining INTEGER NOT NULL,
    PRIMARY KEY (reminder_id, invoice)
) WITHOUT ROWID;
CREATE INDEX reminder_invoices_by_invoice ON reminder_invoices (invoice);
CREATE TABLE disputes (
    id INTEGER PRIMARY KEY,
    uuid BLOB NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    invoice BLOB NOT NULL,
    reason TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'upheld', 'rejected')),
    opened_on TEXT NOT NULL,
    resolved_on TEXT,
    resolution TEXT
);
CREATE INDEX disputes_open ON disputes (customer_id) WHERE state = 'open';
CREATE INDEX disputes_by_invoice ON disputes (invoice);
CREATE TABLE promises (
    id INTEGER PRIMARY KEY,
    uuid BLOB NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    promised_on TEXT NOT NULL,
    amount INTEGER NOT NULL,
    created_on TEXT NOT NULL,
    created_key TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'kept', 'broken'))
);
CREATE INDEX promises_open ON promises (customer_id) WHERE state = 'open';
CREATE TABLE plans (
    id INTEGER PRIMARY KEY,
    uuid BLOB NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    created_on TEXT NOT NULL,
    created_key TEXT NOT NULL,
    grace_days INTEGER NOT NULL,
    instalments TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'completed', 'broken', 'cancelled'))
);
CREATE INDEX plans_active ON plans (customer_id) WHERE state = 'active';
CREATE TABLE followups (
    id INTEGER PRIMARY KEY,
    uuid BLOB NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    kind TEXT NOT NULL,
    date TEXT NOT NULL,
    at INTEGER NOT NULL,
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    amount INTEGER
);
CREATE INDEX followups_by_customer ON followups (customer_id, date);
";

/// Version 4: a write reads only the credit and deposit lots still open, through partial
/// indexes, instead of every lot the customer ever had.
const V4: &str = "
CREATE INDEX credit_lots_open ON credit_lots (customer_id) WHERE remaining > 0;
CREATE INDEX deposit_lots_open ON deposit_lots (customer_id) WHERE remaining != 0;
";

/// Version 5: the open-invoice index covers the amounts, so the checkout's overdue sum and the
/// reminder run read one index range instead of one row per open invoice.
const V5: &str = "
DROP INDEX items_open;
CREATE INDEX items_open ON items (customer_id, due_on, amount, settled, open) WHERE open = 1;
";

/// Version 6: each search key carries its customer's sort key (folded name, reference), so the
/// till's search takes the first matches in name order from one index, without reading every
/// matching customer.
const V6: &str = "
ALTER TABLE customer_keys ADD COLUMN sort_key TEXT NOT NULL DEFAULT '';
UPDATE customer_keys SET sort_key =
    (SELECT c.name_key || char(1) || c.reference FROM customers c WHERE c.id = customer_keys.customer_id);
CREATE INDEX customer_keys_sorted ON customer_keys (key, sort_key);
";

/// Version 7: sync. The till's enrolment and cursors, the hybrid logical clock, each event's
/// clock in the outbox (kept after the server acknowledges it, so that a restored server can be
/// refilled), a clock per mutable row and per customer field for last-writer-wins, and the
/// events the server refused.
const V7: &str = "
CREATE TABLE sync_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    server_url TEXT,
    shop_id TEXT,
    token TEXT,
    epoch TEXT,
    cursor INTEGER NOT NULL DEFAULT 0,
    cursor_event BLOB,
    acked_seq INTEGER NOT NULL DEFAULT 0,
    hlc_wall INTEGER NOT NULL DEFAULT 0,
    hlc_counter INTEGER NOT NULL DEFAULT 0,
    enrolled_at INTEGER,
    last_success_at INTEGER,
    last_attempt_at INTEGER,
    failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
INSERT INTO sync_state (id) VALUES (1);
ALTER TABLE outbox ADD COLUMN hlc TEXT NOT NULL DEFAULT '';
CREATE TABLE sync_parked (
    cursor INTEGER PRIMARY KEY,
    device_id BLOB NOT NULL,
    event_id BLOB NOT NULL,
    kind TEXT NOT NULL,
    hlc TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE TABLE sync_rejections (
    seq INTEGER PRIMARY KEY,
    event_id BLOB NOT NULL,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE TABLE customer_clocks (
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    field TEXT NOT NULL,
    hlc TEXT NOT NULL,
    PRIMARY KEY (customer_id, field)
) WITHOUT ROWID;
ALTER TABLE reminders ADD COLUMN hlc TEXT NOT NULL DEFAULT '';
ALTER TABLE disputes ADD COLUMN hlc TEXT NOT NULL DEFAULT '';
ALTER TABLE promises ADD COLUMN hlc TEXT NOT NULL DEFAULT '';
ALTER TABLE plans ADD COLUMN hlc TEXT NOT NULL DEFAULT '';
ALTER TABLE dunning_customers ADD COLUMN hlc TEXT NOT NULL DEFAULT '';
ALTER TABLE invoice_stops ADD COLUMN hlc TEXT NOT NULL DEFAULT '';
ALTER TABLE settings ADD COLUMN hlc TEXT NOT NULL DEFAULT '';
ALTER TABLE overrides ADD COLUMN hlc TEXT NOT NULL DEFAULT '';
ALTER TABLE followups ADD COLUMN hlc TEXT NOT NULL DEFAULT '';
";

/// Version 8: reports as of any date. Each item says whether it is a fee rather than a sale and
/// on which business date it stopped being open; each allocation carries the business date it
/// happened on. Filled in from the entries for databases made before. The indexes cover what a
/// report reads, so a report walks index ranges and never the 3 GB of rows behind them.
const V8: &str = "
ALTER TABLE items ADD COLUMN charge INTEGER NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN closed_on TEXT;
ALTER TABLE allocations ADD COLUMN on_date TEXT NOT NULL DEFAULT '';
UPDATE allocations SET on_date = coalesce((SELECT e.business_date FROM entries e WHERE e.uuid = allocations.by_entry), '');
UPDATE items SET charge = 1 WHERE entry_uuid IN (SELECT uuid FROM entries WHERE kind = 'adjustment');
UPDATE items SET closed_on = CASE
    WHEN cancelled THEN (SELECT max(e.business_date) FROM entries e WHERE e.reverses = items.entry_uuid)
    ELSE (SELECT max(a.on_date) FROM allocations a WHERE a.item = items.entry_uuid) END
    WHERE open = 0;
DROP INDEX allocations_by_item;
CREATE INDEX allocations_by_item ON allocations (item, on_date, amount);
CREATE INDEX allocations_by_date ON allocations (on_date, amount);
CREATE INDEX items_by_issued ON items (issued_on, charge, amount);
DROP INDEX items_open;
CREATE INDEX items_open ON items (customer_id, due_on, amount, settled, open, issued_on, entry_uuid) WHERE open = 1;
CREATE INDEX items_by_closed ON items (closed_on, issued_on, customer_id, due_on, amount, entry_uuid)
    WHERE closed_on IS NOT NULL;
CREATE INDEX items_cancelled ON items (closed_on, issued_on, charge, amount) WHERE cancelled = 1;
CREATE TABLE risk_scores (
    customer_id INTEGER PRIMARY KEY REFERENCES customers (id),
    as_of TEXT NOT NULL,
    score REAL NOT NULL,
    reasons TEXT NOT NULL
);
";

/// Version 9: each account lists what its open invoices owe by due date (`open_dues`, written by
/// the fold with the rest of the account row), so the aging as of today reads one row per
/// customer instead of every open invoice; and the amounts issued and allocated per business
/// date, kept by triggers in the same transaction as the items and allocations they sum
/// (whatever writes them: a sale, a fold, a refold, a synced entry). The KPIs read a few dozen of these rows instead of summing a
/// quarter's invoices and payments on every call, which retires the two indexes those sums
/// walked (every write paid for them).
const V9: &str = "
ALTER TABLE accounts ADD COLUMN open_dues TEXT NOT NULL DEFAULT '';
UPDATE accounts SET open_dues = coalesce((SELECT group_concat(i.due_on || ' ' || (i.amount - i.settled), ',' ORDER BY i.due_on, i.amount - i.settled)
    FROM items i WHERE i.customer_id = accounts.customer_id AND i.open = 1), '');
CREATE TABLE day_totals (
    day TEXT PRIMARY KEY,
    sold INTEGER NOT NULL DEFAULT 0,
    issued INTEGER NOT NULL DEFAULT 0,
    allocated INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
DROP INDEX items_by_issued;
DROP INDEX allocations_by_date;
CREATE TRIGGER items_day_insert AFTER INSERT ON items BEGIN
    INSERT INTO day_totals (day, sold, issued)
        VALUES (NEW.issued_on, CASE WHEN NEW.charge = 0 THEN NEW.amount ELSE 0 END, NEW.amount)
        ON CONFLICT (day) DO UPDATE SET sold = sold + excluded.sold, issued = issued + excluded.issued;
END;
CREATE TRIGGER items_day_delete AFTER DELETE ON items BEGIN
    UPDATE day_totals SET sold = sold - CASE WHEN OLD.charge = 0 THEN OLD.amount ELSE 0 END, issued = issued - OLD.amount
        WHERE day = OLD.issued_on;
END;
CREATE TRIGGER items_day_update AFTER UPDATE OF issued_on, amount, charge ON items BEGIN
    UPDATE day_totals SET sold = sold - CASE WHEN OLD.charge = 0 THEN OLD.amount ELSE 0 END, issued = issued - OLD.amount
        WHERE day = OLD.issued_on;
    INSERT INTO day_totals (day, sold, issued)
        VALUES (NEW.issued_on, CASE WHEN NEW.charge = 0 THEN NEW.amount ELSE 0 END, NEW.amount)
        ON CONFLICT (day) DO UPDATE SET sold = sold + excluded.sold, issued = issued + excluded.issued;
END;
CREATE TRIGGER allocations_day_insert AFTER INSERT ON allocations BEGIN
    INSERT INTO day_totals (day, allocated) VALUES (NEW.on_date, NEW.amount)
        ON CONFLICT (day) DO UPDATE SET allocated = allocated + excluded.allocated;
END;
CREATE TRIGGER allocations_day_delete AFTER DELETE ON allocations BEGIN
    UPDATE day_totals SET allocated = allocated - OLD.amount WHERE day = OLD.on_date;
END;
CREATE TRIGGER allocations_day_update AFTER UPDATE OF on_date, amount ON allocations BEGIN
    UPDATE day_totals SET allocated = allocated - OLD.amount WHERE day = OLD.on_date;
    INSERT INTO day_totals (day, allocated) VALUES (NEW.on_date, NEW.amount)
        ON CONFLICT (day) DO UPDATE SET allocated = allocated + excluded.allocated;
END;
";

/// `day_totals` computed from scratch: on the upgrade to version 9, and after a bulk import
/// that set its triggers aside. Summed in one scan of each table into a map: SQLite's GROUP BY
/// would sort a million rows (no index leads with their dates), which took 5 s of a
/// million-row import against half a second for the scans.
pub(in crate::store) fn fill_day_totals(tx: &Transaction<'_>) -> Result<()> {
    // day -> (sold, issued, allocated)
    let mut days: HashMap<String, [i64; 3]> = HashMap::new();
    let mut add = |day: &str, sums: [i64; 3]| {
        let slot = match days.get_mut(day) {
            Some(slot) => slot,
            None => days.entry(day.to_owned()).or_default(),
        };
        for (total, x) in slot.iter_mut().zip(sums) {
            *total += x;
        }
    };
    fn text<'r>(r: &'r rusqlite::Row<'_>) -> Result<&'r str> {
        r.get_ref(0)?.as_str().map_err(|e| Error::Corrupt(format!("a date that is not text: {e}")))
    }
    let mut items = tx.prepare("SELECT issued_on, charge, amount FROM items")?;
    let mut rows = items.query([])?;
    while let Some(r) = rows.next()? {
        let (charge, amount): (i64, i64) = (r.get(1)?, r.get(2)?);
        add(text(r)?, [if charge == 0 { amount } else { 0 }, amount, 0]);
    }
    let mut allocations = tx.prepare("SELECT on_date, amount FROM allocations")?;
    let mut rows = allocations.query([])?;
    while let Some(r) = rows.next()? {
        add(text(r)?, [0, 0, r.get(1)?]);
    }
    tx.execute("DELETE FROM day_totals", [])?;
    let mut insert = tx.prepare("INSERT INTO day_totals (day, sold, issued, allocated) VALUES (?1, ?2, ?3, ?4)")?;
    for (day, [sold, issued, allocated]) in days {
        insert.execute(rusqlite::params![day, sold, issued, allocated])?;
    }
    Ok(())
}

/// Version 10: the day from which a customer's bills go by email instead of on paper, which the
/// risk model reads (a paper bill is paid later than the same customer's emailed ones).
const V10: &str = "
ALTER TABLE customers ADD COLUMN paperless_from TEXT CHECK (paperless_from IS NULL OR date(paperless_from) = paperless_from);
";

/// Version 11: public buyers as a kind of customer, reminders held for the owner (a rate table
/// that does not cover a half-year) and the day each was sent (a consumer's interest runs from
/// the formal notice's), and the day a customer's insolvency proceedings opened.
/// Only CHECK constraints widen, which SQLite cannot alter: their text is rewritten in the
/// schema (what SQLite documents for a change that leaves the stored rows valid), so the
/// customers and reminders, and everything that references them, stay as they are.
fn upgrade_to_v11(tx: &Transaction<'_>) -> Result<()> {
    let cookie: i64 = tx.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
    tx.pragma_update(None, "writable_schema", true)?;
    let widened = tx.execute(
        "UPDATE sqlite_master SET sql = replace(sql, 'CHECK (kind IN (''business'', ''consumer''))',
                                                 'CHECK (kind IN (''business'', ''consumer'', ''public''))')
         WHERE type = 'table' AND name = 'customers'",
        [],
    )? + tx.execute(
        "UPDATE sqlite_master SET sql = replace(sql, 'CHECK (state IN (''queued'', ''sent'', ''failed'', ''cancelled''))',
                                                 'CHECK (state IN (''queued'', ''sent'', ''failed'', ''cancelled'', ''held''))')
         WHERE type = 'table' AND name = 'reminders'",
        [],
    )?;
    tx.pragma_update(None, "schema_version", cookie + 1)?;
    tx.pragma_update(None, "writable_schema", false)?;
    if widened != 2 {
        return Err(Error::Corrupt("customers or reminders table not found for the version 11 upgrade".into()));
    }
    // A reminder sent before this version was last updated when it was marked sent.
    tx.execute_batch(
        "ALTER TABLE dunning_customers ADD COLUMN insolvent_since TEXT
             CHECK (insolvent_since IS NULL OR date(insolvent_since) = insolvent_since);
         ALTER TABLE reminders ADD COLUMN sent_on TEXT CHECK (sent_on IS NULL OR date(sent_on) = sent_on);
         UPDATE reminders SET sent_on = date(updated_at / 1000, 'unixepoch') WHERE state = 'sent';",
    )?;
    Ok(())
}

/// Brings the database to `VERSION` in one transaction: a new file gets the full schema, an
/// older one each missing step. A newer file is refused untouched.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > VERSION {
        return Err(Error::SchemaTooNew { found, supported: VERSION });
    }
    if found == VERSION {
        return Ok(());
    }
    let tx = conn.transaction()?;
    if found == 0 {
        create(&tx)?;
    } else {
        for v in found..VERSION {
            upgrade_from(&tx, v)?;
        }
    }
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.pragma_update(None, "application_id", super::conn::APPLICATION_ID)?;
    tx.commit()?;
    Ok(())
}

fn create(tx: &Transaction<'_>) -> Result<()> {
    tx.execute_batch(CURRENT)?;
    Ok(())
}

/// The whole schema of the current version, for a new file: what the upgrade steps above lead
/// to, written once in full (a test holds an upgraded version-1 file equal to a new one).
const CURRENT: &str = "
CREATE TABLE device (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    device_id BLOB NOT NULL,
    prefix TEXT NOT NULL,
    next_seq INTEGER NOT NULL,
    next_invoice INTEGER NOT NULL
);
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    uuid BLOB NOT NULL UNIQUE,
    reference TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('business', 'consumer', 'public')),
    credit_limit INTEGER CHECK (credit_limit >= 0),
    terms TEXT NOT NULL,
    blocked TEXT,
    consent_email INTEGER NOT NULL,
    consent_sms INTEGER NOT NULL,
    notes TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    address TEXT,
    language TEXT NOT NULL DEFAULT 'fr' CHECK (language IN ('fr', 'en')),
    paperless_from TEXT CHECK (paperless_from IS NULL OR date(paperless_from) = paperless_from)
);
CREATE TABLE customer_keys (
    key TEXT NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    sort_key TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (key, customer_id)
) WITHOUT ROWID;
CREATE TABLE entries (
    id INTEGER PRIMARY KEY,
    uuid BLOB NOT NULL UNIQUE,
    device_id BLOB NOT NULL,
    device_seq INTEGER NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    kind TEXT NOT NULL,
    balance_effect INTEGER NOT NULL,
    deposit_effect INTEGER NOT NULL,
    business_date TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    cashier TEXT NOT NULL,
    order_key TEXT NOT NULL,
    reverses BLOB,
    body TEXT NOT NULL,
    UNIQUE (device_id, device_seq)
);
CREATE TABLE items (
    entry_uuid BLOB PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    reference TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    amount INTEGER NOT NULL,
    settled INTEGER NOT NULL,
    cancelled INTEGER NOT NULL,
    order_key TEXT NOT NULL,
    open INTEGER NOT NULL,
    charge INTEGER NOT NULL DEFAULT 0,
    closed_on TEXT
) WITHOUT ROWID;
CREATE TABLE credit_lots (
    entry_uuid BLOB PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    amount INTEGER NOT NULL,
    remaining INTEGER NOT NULL,
    cancelled INTEGER NOT NULL,
    order_key TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE deposit_lots (
    entry_uuid BLOB PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    order_ref TEXT,
    amount INTEGER NOT NULL,
    remaining INTEGER NOT NULL,
    order_key TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE allocations (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    source BLOB NOT NULL,
    item BLOB NOT NULL,
    amount INTEGER NOT NULL,
    by_entry BLOB NOT NULL,
    on_date TEXT NOT NULL DEFAULT ''
);
CREATE TABLE accounts (
    customer_id INTEGER PRIMARY KEY REFERENCES customers (id),
    balance INTEGER NOT NULL,
    deposits INTEGER NOT NULL,
    credit INTEGER NOT NULL,
    open_items INTEGER NOT NULL,
    oldest_due TEXT,
    last_key TEXT,
    last_date TEXT,
    open_dues TEXT NOT NULL DEFAULT ''
);
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    event_id BLOB NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    hlc TEXT NOT NULL DEFAULT ''
);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    hlc TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE TABLE overrides (
    id INTEGER PRIMARY KEY,
    uuid BLOB NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    business_date TEXT NOT NULL,
    amount INTEGER NOT NULL,
    manager TEXT NOT NULL,
    reason TEXT NOT NULL,
    verdict TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    used_by BLOB,
    hlc TEXT NOT NULL DEFAULT ''
);
CREATE TABLE dunning_customers (
    customer_id INTEGER PRIMARY KEY REFERENCES customers (id),
    ladder TEXT,
    excluded INTEGER NOT NULL DEFAULT 0,
    hold_until TEXT,
    hold_reason TEXT,
    hlc TEXT NOT NULL DEFAULT '',
    insolvent_since TEXT CHECK (insolvent_since IS NULL OR date(insolvent_since) = insolvent_since)
);
CREATE TABLE invoice_stops (
    invoice BLOB PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    reason TEXT NOT NULL,
    at INTEGER NOT NULL,
    hlc TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE TABLE reminders (
    id INTEGER PRIMARY KEY,
    uuid BLOB NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    level INTEGER NOT NULL,
    step TEXT NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT,
    language TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed', 'cancelled', 'held')),
    state_note TEXT,
    created_on TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    not_before TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    amount_due INTEGER NOT NULL,
    penalties INTEGER NOT NULL,
    indemnity INTEGER NOT NULL,
    hlc TEXT NOT NULL DEFAULT '',
    sent_on TEXT CHECK (sent_on IS NULL OR date(sent_on) = sent_on)
);
CREATE TABLE reminder_invoices (
    reminder_id INTEGER NOT NULL REFERENCES reminders (id),
    invoice BLOB NOT NULL,
    level INTEGER NOT NULL,
    remaining INTEGER NOT NULL,
    PRIMARY KEY (reminder_id, invoice)
) WITHOUT ROWID;
CREATE TABLE disputes (
    id INTEGER PRIMARY KEY,
    uuid BLOB NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    invoice BLOB NOT NULL,
    reason TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'upheld', 'rejected')),
    opened_on TEXT NOT NULL,
    resolved_on TEXT,
    resolution TEXT,
    hlc TEXT NOT NULL DEFAULT ''
);
CREATE TABLE promises (
    id INTEGER PRIMARY KEY,
    uuid BLOB NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    promised_on TEXT NOT NULL,
    amount INTEGER NOT NULL,
    created_on TEXT NOT NULL,
    created_key TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'kept', 'broken')),
    hlc TEXT NOT NULL DEFAULT ''
);
CREATE TABLE plans (
    id INTEGER PRIMARY KEY,
    uuid BLOB NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    created_on TEXT NOT NULL,
    created_key TEXT NOT NULL,
    grace_days INTEGER NOT NULL,
    instalments TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'completed', 'broken', 'cancelled')),
    hlc TEXT NOT NULL DEFAULT ''
);
CREATE TABLE followups (
    id INTEGER PRIMARY KEY,
    uuid BLOB NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    kind TEXT NOT NULL,
    date TEXT NOT NULL,
    at INTEGER NOT NULL,
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    amount INTEGER,
    hlc TEXT NOT NULL DEFAULT ''
);
CREATE TABLE sync_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    server_url TEXT,
    shop_id TEXT,
    token TEXT,
    epoch TEXT,
    cursor INTEGER NOT NULL DEFAULT 0,
    cursor_event BLOB,
    acked_seq INTEGER NOT NULL DEFAULT 0,
    hlc_wall INTEGER NOT NULL DEFAULT 0,
    hlc_counter INTEGER NOT NULL DEFAULT 0,
    enrolled_at INTEGER,
    last_success_at INTEGER,
    last_attempt_at INTEGER,
    failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE sync_set_aside (
    cursor INTEGER PRIMARY KEY,
    device_id BLOB NOT NULL,
    event_id BLOB NOT NULL,
    kind TEXT NOT NULL,
    hlc TEXT NOT NULL,
    payload TEXT NOT NULL,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE TABLE bank_transactions (
    id INTEGER PRIMARY KEY,
    uuid BLOB NOT NULL UNIQUE,
    account TEXT NOT NULL,
    bank_id TEXT NOT NULL,
    booked_on TEXT CHECK (booked_on IS NULL OR date(booked_on) = booked_on),
    amount INTEGER NOT NULL,
    counterparty TEXT,
    iban TEXT,
    label TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('applied', 'suggested', 'unmatched')),
    why TEXT NOT NULL,
    suggestions TEXT NOT NULL,
    imported_at INTEGER NOT NULL,
    hlc TEXT NOT NULL DEFAULT ''
);
CREATE INDEX bank_transactions_by_state ON bank_transactions (state, booked_on);
CREATE TABLE bank_matches (
    id INTEGER PRIMARY KEY,
    line BLOB NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    entry BLOB NOT NULL UNIQUE,
    rule TEXT NOT NULL CHECK (rule IN ('reference', 'invoices', 'confirmed')),
    by TEXT NOT NULL,
    at INTEGER NOT NULL,
    undone_at INTEGER,
    undone_by TEXT
);
CREATE INDEX bank_matches_by_line ON bank_matches (line);
CREATE INDEX bank_matches_by_customer ON bank_matches (customer_id);
CREATE TABLE sync_parked (
    cursor INTEGER PRIMARY KEY,
    device_id BLOB NOT NULL,
    event_id BLOB NOT NULL,
    kind TEXT NOT NULL,
    hlc TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE TABLE sync_rejections (
    seq INTEGER PRIMARY KEY,
    event_id BLOB NOT NULL,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE TABLE customer_clocks (
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    field TEXT NOT NULL,
    hlc TEXT NOT NULL,
    PRIMARY KEY (customer_id, field)
) WITHOUT ROWID;
CREATE TABLE risk_scores (
    customer_id INTEGER PRIMARY KEY REFERENCES customers (id),
    as_of TEXT NOT NULL,
    score REAL NOT NULL,
    reasons TEXT NOT NULL
);
CREATE TABLE day_totals (
    day TEXT PRIMARY KEY,
    sold INTEGER NOT NULL DEFAULT 0,
    issued INTEGER NOT NULL DEFAULT 0,
    allocated INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX customers_by_name ON customers (name_key);
CREATE INDEX customer_keys_by_customer ON customer_keys (customer_id);
CREATE INDEX entries_by_customer ON entries (customer_id, order_key);
CREATE INDEX entries_by_reversed ON entries (reverses) WHERE reverses IS NOT NULL;
CREATE UNIQUE INDEX items_by_reference ON items (reference);
CREATE INDEX items_by_customer ON items (customer_id);
CREATE INDEX credit_lots_by_customer ON credit_lots (customer_id);
CREATE INDEX deposit_lots_by_customer ON deposit_lots (customer_id);
CREATE INDEX allocations_by_source ON allocations (source);
CREATE INDEX overrides_by_customer ON overrides (customer_id, business_date);
CREATE INDEX accounts_by_oldest_due ON accounts (oldest_due) WHERE oldest_due IS NOT NULL;
CREATE INDEX reminders_by_customer ON reminders (customer_id, created_on);
CREATE INDEX reminders_queued ON reminders (customer_id) WHERE state = 'queued';
CREATE INDEX reminder_invoices_by_invoice ON reminder_invoices (invoice);
CREATE INDEX disputes_open ON disputes (customer_id) WHERE state = 'open';
CREATE INDEX disputes_by_invoice ON disputes (invoice);
CREATE INDEX promises_open ON promises (customer_id) WHERE state = 'open';
CREATE INDEX plans_active ON plans (customer_id) WHERE state = 'active';
CREATE INDEX followups_by_customer ON followups (customer_id, date);
CREATE INDEX credit_lots_open ON credit_lots (customer_id) WHERE remaining > 0;
CREATE INDEX deposit_lots_open ON deposit_lots (customer_id) WHERE remaining != 0;
CREATE INDEX customer_keys_sorted ON customer_keys (key, sort_key);
CREATE INDEX allocations_by_item ON allocations (item, on_date, amount);
CREATE INDEX items_open ON items (customer_id, due_on, amount, settled, open, issued_on, entry_uuid, reference, order_key, charge, cancelled, closed_on)
    WHERE open = 1;
CREATE INDEX items_by_closed ON items (closed_on, issued_on, customer_id, due_on, amount, entry_uuid)
    WHERE closed_on IS NOT NULL;
CREATE INDEX items_cancelled ON items (closed_on, issued_on, charge, amount) WHERE cancelled = 1;
CREATE TRIGGER items_day_insert AFTER INSERT ON items BEGIN
    INSERT INTO day_totals (day, sold, issued)
        VALUES (NEW.issued_on, CASE WHEN NEW.charge = 0 THEN NEW.amount ELSE 0 END, NEW.amount)
        ON CONFLICT (day) DO UPDATE SET sold = sold + excluded.sold, issued = issued + excluded.issued;
END;
CREATE TRIGGER items_day_delete AFTER DELETE ON items BEGIN
    UPDATE day_totals SET sold = sold - CASE WHEN OLD.charge = 0 THEN OLD.amount ELSE 0 END, issued = issued - OLD.amount
        WHERE day = OLD.issued_on;
END;
CREATE TRIGGER items_day_update AFTER UPDATE OF issued_on, amount, charge ON items BEGIN
    UPDATE day_totals SET sold = sold - CASE WHEN OLD.charge = 0 THEN OLD.amount ELSE 0 END, issued = issued - OLD.amount
        WHERE day = OLD.issued_on;
    INSERT INTO day_totals (day, sold, issued)
        VALUES (NEW.issued_on, CASE WHEN NEW.charge = 0 THEN NEW.amount ELSE 0 END, NEW.amount)
        ON CONFLICT (day) DO UPDATE SET sold = sold + excluded.sold, issued = issued + excluded.issued;
END;
CREATE TRIGGER allocations_day_insert AFTER INSERT ON allocations BEGIN
    INSERT INTO day_totals (day, allocated) VALUES (NEW.on_date, NEW.amount)
        ON CONFLICT (day) DO UPDATE SET allocated = allocated + excluded.allocated;
END;
CREATE TRIGGER allocations_day_delete AFTER DELETE ON allocations BEGIN
    UPDATE day_totals SET allocated = allocated - OLD.amount WHERE day = OLD.on_date;
END;
CREATE TRIGGER allocations_day_update AFTER UPDATE OF on_date, amount ON allocations BEGIN
    UPDATE day_totals SET allocated = allocated - OLD.amount WHERE day = OLD.on_date;
    INSERT INTO day_totals (day, allocated) VALUES (NEW.on_date, NEW.amount)
        ON CONFLICT (day) DO UPDATE SET allocated = allocated + excluded.allocated;
END;
INSERT INTO sync_state (id) VALUES (1);
";

/// Version 12: events from other devices that this till cannot apply (they break a rule its
/// own writes follow, or come from a newer release) are kept aside with why, never dropped.
const V12: &str = "
CREATE TABLE sync_set_aside (
    cursor INTEGER PRIMARY KEY,
    device_id BLOB NOT NULL,
    event_id BLOB NOT NULL,
    kind TEXT NOT NULL,
    hlc TEXT NOT NULL,
    payload TEXT NOT NULL,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL
);
";

/// Version 13: the bank transactions this database imported, each applied, suggested or left,
/// and the matches made of them (who, by which rule, undone or not). Local to the database
/// that imported the statement: the payments themselves are entries and sync as such.
const V13: &str = "
CREATE TABLE bank_transactions (
    id INTEGER PRIMARY KEY,
    account TEXT NOT NULL,
    bank_id TEXT NOT NULL,
    booked_on TEXT CHECK (booked_on IS NULL OR date(booked_on) = booked_on),
    amount INTEGER NOT NULL,
    counterparty TEXT,
    iban TEXT,
    label TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('applied', 'suggested', 'unmatched')),
    why TEXT NOT NULL,
    suggestions TEXT NOT NULL,
    imported_at INTEGER NOT NULL,
    UNIQUE (account, bank_id)
);
CREATE INDEX bank_transactions_by_state ON bank_transactions (state, booked_on);
CREATE TABLE bank_matches (
    id INTEGER PRIMARY KEY,
    tx INTEGER NOT NULL REFERENCES bank_transactions (id),
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    entry BLOB NOT NULL UNIQUE,
    rule TEXT NOT NULL CHECK (rule IN ('reference', 'invoices', 'confirmed')),
    by TEXT NOT NULL,
    at INTEGER NOT NULL,
    undone_at INTEGER,
    undone_by TEXT
);
CREATE INDEX bank_matches_by_tx ON bank_matches (tx);
CREATE INDEX bank_matches_by_customer ON bank_matches (customer_id);
";

/// Version 14: the open invoices by their reference in ASCII capitals, as a bank statement's
/// matcher reads invoice numbers: an import looks up only the numbers its transactions quote
/// instead of reading every open invoice's reference.
const V14: &str = "
CREATE INDEX items_open_by_reference ON items (upper(reference)) WHERE open = 1;
";

/// Version 15: the index of open invoices holds all of an open invoice, so that folding a payment
/// into an account reads its open invoices from that index alone, instead of looking each one
/// up in the table (most of a payment's reads on a large shop).
const V15: &str = "
DROP INDEX items_open;
CREATE INDEX items_open ON items (customer_id, due_on, amount, settled, open, issued_on, entry_uuid, reference, order_key, charge, cancelled, closed_on)
    WHERE open = 1;
";

/// Version 16: two indexes fewer for every payment to write. A customer's allocations are
/// reached through their invoices when an account is folded again, and a bank statement's
/// invoice numbers are compared with the references the matcher reads with every open invoice
/// anyway: each was one more page written per allocation or per invoice paid.
const V16: &str = "
DROP INDEX allocations_by_customer;
DROP INDEX items_open_by_reference;
";

/// Version 17: bank lines reach every device of the shop, each with its matches (row
/// replication, `store/sync/replica.rs`): a statement imported on one server process, a till or
/// the owner's phone is listed, confirmed and undone on any other. A line gets the id every
/// device derives from its account and the bank's id (`bank::line_id`, which makes the pair
/// unique), and a match names its line by that id instead of a local row number.
const V17: &str = "
ALTER TABLE bank_matches RENAME TO bank_matches_v16;
ALTER TABLE bank_transactions RENAME TO bank_transactions_v16;
DROP INDEX bank_transactions_by_state;
DROP INDEX bank_matches_by_tx;
DROP INDEX bank_matches_by_customer;
CREATE TABLE bank_transactions (
    id INTEGER PRIMARY KEY,
    uuid BLOB NOT NULL UNIQUE,
    account TEXT NOT NULL,
    bank_id TEXT NOT NULL,
    booked_on TEXT CHECK (booked_on IS NULL OR date(booked_on) = booked_on),
    amount INTEGER NOT NULL,
    counterparty TEXT,
    iban TEXT,
    label TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('applied', 'suggested', 'unmatched')),
    why TEXT NOT NULL,
    suggestions TEXT NOT NULL,
    imported_at INTEGER NOT NULL,
    hlc TEXT NOT NULL DEFAULT ''
);
CREATE INDEX bank_transactions_by_state ON bank_transactions (state, booked_on);
CREATE TABLE bank_matches (
    id INTEGER PRIMARY KEY,
    line BLOB NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    entry BLOB NOT NULL UNIQUE,
    rule TEXT NOT NULL CHECK (rule IN ('reference', 'invoices', 'confirmed')),
    by TEXT NOT NULL,
    at INTEGER NOT NULL,
    undone_at INTEGER,
    undone_by TEXT
);
CREATE INDEX bank_matches_by_line ON bank_matches (line);
CREATE INDEX bank_matches_by_customer ON bank_matches (customer_id);
";

fn upgrade_to_v17(tx: &Transaction<'_>) -> Result<()> {
    tx.execute_batch(V17)?;
    let old: Vec<(i64, String, String)> = tx
        .prepare("SELECT id, account, bank_id FROM bank_transactions_v16")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut copy = tx.prepare(
        "INSERT INTO bank_transactions (id, uuid, account, bank_id, booked_on, amount, counterparty, iban, label,
                                        state, why, suggestions, imported_at)
         SELECT id, ?2, account, bank_id, booked_on, amount, counterparty, iban, label, state, why, suggestions,
                imported_at
         FROM bank_transactions_v16 WHERE id = ?1",
    )?;
    for (id, account, bank_id) in old {
        copy.execute(rusqlite::params![id, crate::bank::line_id(&account, &bank_id)])?;
    }
    tx.execute_batch(
        "INSERT INTO bank_matches (id, line, customer_id, entry, rule, by, at, undone_at, undone_by)
             SELECT m.id, t.uuid, m.customer_id, m.entry, m.rule, m.by, m.at, m.undone_at, m.undone_by
             FROM bank_matches_v16 m JOIN bank_transactions t ON t.id = m.tx;
         DROP TABLE bank_matches_v16;
         DROP TABLE bank_transactions_v16;",
    )?;
    Ok(())
}

fn upgrade_from(tx: &Transaction<'_>, version: i64) -> Result<()> {
    match version {
        1 => tx.execute_batch(V2)?,
        2 => tx.execute_batch(V3)?,
        3 => tx.execute_batch(V4)?,
        4 => tx.execute_batch(V5)?,
        5 => tx.execute_batch(V6)?,
        6 => tx.execute_batch(V7)?,
        7 => tx.execute_batch(V8)?,
        8 => {
            tx.execute_batch(V9)?;
            fill_day_totals(tx)?;
        }
        9 => tx.execute_batch(V10)?,
        10 => upgrade_to_v11(tx)?,
        11 => tx.execute_batch(V12)?,
        12 => tx.execute_batch(V13)?,
        13 => tx.execute_batch(V14)?,
        14 => tx.execute_batch(V15)?,
        15 => tx.execute_batch(V16)?,
        16 => upgrade_to_v17(tx)?,
        _ => return Err(Error::Corrupt(format!("no upgrade from schema version {version}"))),
    }
    Ok(())
}

#[cfg(test)]
pub(crate) fn create_v1_for_tests(conn: &Connection) {
    conn.execute_batch(V1).unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
}
