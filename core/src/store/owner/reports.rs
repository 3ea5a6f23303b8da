//! The owner's reports read from the store as of any date: what was open then, the period's
//! credit sales, statements and exports. The formulas live in `crate::report`.

use std::collections::HashMap;

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::money::Money;
use crate::report::kpis::{self, KpiInputs};
use crate::report::statement::{Movement, OverdueInvoice};
use crate::report::{AgingReport, Buckets, CustomerAging, Kpis, MonthSales, Statement};
use crate::store::db::open_dues::{OpenDues, date_key, date_of_key};
use crate::store::db::values::date_of;
use crate::store::handle::Store;
use crate::store::till::customer_rows::{by_reference, customer_names, names_in_order};

/// How far back the countback may walk when the receivables outgrow the period's sales.
const COUNTBACK_MONTHS: u32 = 36;
/// The longest period the KPIs take.
pub const MAX_MONTHS: u32 = 120;

/// An invoice or charge open at the end of a date, with what was still owed on it then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OpenAt {
    pub customer_id: i64,
    pub due_on: NaiveDate,
    pub remaining: Money,
}

/// One customer's open invoice at a date, for a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
struct OpenInvoiceAt {
    reference: String,
    issued_on: NaiveDate,
    due_on: NaiveDate,
    remaining: Money,
}

/// How the overdue list is sorted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum OverdueSort {
    #[default]
    Amount,
    Age,
    Risk,
}

impl std::str::FromStr for OverdueSort {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "amount" => Ok(OverdueSort::Amount),
            "age" => Ok(OverdueSort::Age),
            "risk" => Ok(OverdueSort::Risk),
            _ => Err(Error::Invalid { field: "sort", reason: format!("{s:?}: use amount, age or risk") }),
        }
    }
}

/// The owner's overview page's figures, read together (see [`Store::dashboard`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    /// What is owed, and split by days past due (the aging's totals).
    pub receivables: Money,
    pub buckets: Buckets,
    pub kpis: Kpis,
    /// The KPIs of the as-of date's month alone.
    pub month: Kpis,
    /// Countback DSO at each end asked for.
    pub trend: Vec<Option<f64>>,
    /// The largest overdue accounts, by amount.
    pub debtors: Vec<OverdueAccount>,
}

/// One line of the owner's overdue list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OverdueAccount {
    pub customer_ref: String,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Everything owed, due or not.
    pub owed: Money,
    pub overdue: Money,
    /// Days past due of the oldest unpaid invoice.
    pub oldest_days: i64,
    pub buckets: Buckets,
    /// The probability the next invoice is paid late, when a risk score is known.
    pub risk: Option<f64>,
    pub risk_reasons: Vec<String>,
}

/// What was still owed at the end of the date bound to `param` on the item `i`: its amount less
/// its allocations dated up to then.
fn owed_at(param: &str) -> String {
    format!(
        "i.amount - coalesce((SELECT sum(a.amount) FROM allocations a WHERE a.item = i.entry_uuid AND a.on_date <= {param}), 0)"
    )
}

/// Whether nothing recorded is dated after `as_of`: then the stored open items are the state at
/// its end, with no per-invoice look at allocations. The last day with an item issued or money
/// allocated, and one index end.
fn nothing_after(conn: &Connection, as_of: NaiveDate) -> Result<bool> {
    let latest: Option<String> = conn.prepare_cached(
        "SELECT max(coalesce((SELECT day FROM day_totals WHERE issued != 0 OR allocated != 0 ORDER BY day DESC LIMIT 1), ''),
                    coalesce((SELECT max(closed_on) FROM items WHERE closed_on IS NOT NULL), ''))",
    )?
    .query_row([], |r| r.get(0))?;
    Ok(latest.as_deref().is_none_or(|l| l <= as_of.to_string().as_str()))
}

/// Everything open at the end of `as_of`: issued by then and open now or closed after it, with
/// what was owed on it then (its amount less its allocations dated up to then). Reads only the
/// covering indexes `items_open` and `items_by_closed`.
pub(crate) fn open_at(conn: &Connection, as_of: NaiveDate) -> Result<Vec<OpenAt>> {
    let mut out = Vec::new();
    let mut push = |r: &rusqlite::Row<'_>| -> Result<()> {
        let remaining = Money::from_minor(r.get(2)?);
        if remaining.is_positive() {
            out.push(OpenAt { customer_id: r.get(0)?, due_on: date_of(&r.get::<_, String>(1)?)?, remaining });
        }
        Ok(())
    };
    if nothing_after(conn, as_of)? {
        let mut stmt = conn.prepare_cached("SELECT customer_id, due_on, amount - settled FROM items WHERE open = 1")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            push(r)?;
        }
        return Ok(out);
    }
    let owed = owed_at("?1");
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT i.customer_id, i.due_on, {owed} FROM items i WHERE i.open = 1 AND i.issued_on <= ?1
         UNION ALL
         SELECT i.customer_id, i.due_on, {owed} FROM items i WHERE i.closed_on > ?1 AND i.issued_on <= ?1"
    ))?;
    let mut rows = stmt.query([as_of.to_string()])?;
    while let Some(r) = rows.next()? {
        push(r)?;
    }
    Ok(out)
}

/// What was owed at the end of `as_of`, and the part of it not yet due.
fn receivables_at(conn: &Connection, as_of: NaiveDate) -> Result<(Money, Money)> {
    if nothing_after(conn, as_of)? {
        // The account rows' dues, as the aging reads them.
        let per = buckets_from_accounts(conn, as_of)?;
        return Ok((per.iter().map(|p| p.1.total()).sum(), per.iter().map(|p| p.1.current).sum()));
    }
    let open = open_at(conn, as_of)?;
    let total = open.iter().map(|o| o.remaining).sum();
    let current = open.iter().filter(|o| o.due_on >= as_of).map(|o| o.remaining).sum();
    Ok((total, current))
}

/// What was owed at the end of `from`, from what was owed at the end of `to` and the movements
/// dated in between: invoices and charges issued (`issued`, summed by the caller), cancelled,
/// and money allocated to them.
fn receivables_before(conn: &Connection, at_to: Money, issued: Money, from: NaiveDate, to: NaiveDate) -> Result<Money> {
    let (f, t) = (from.to_string(), to.to_string());
    let sum = |sql: &str| -> Result<Money> {
        Ok(Money::from_minor(
            conn.prepare_cached(sql)?.query_row(params![f, t], |r| r.get::<_, Option<i64>>(0))?.unwrap_or(0),
        ))
    };
    let cancelled = sum("SELECT sum(amount) FROM items WHERE cancelled = 1 AND closed_on > ?1 AND closed_on <= ?2")?;
    let allocated = sum("SELECT sum(allocated) FROM day_totals WHERE day > ?1 AND day <= ?2")?;
    Ok(at_to - issued + cancelled + allocated)
}

/// Credit sales (not fees) issued from `first` to `last` less those cancelled by `as_of`, and
/// everything issued then (fees included, cancellations not taken off).
fn month_sums(conn: &Connection, first: NaiveDate, last: NaiveDate, as_of: NaiveDate) -> Result<(Money, Money)> {
    let (f, l) = (first.to_string(), last.to_string());
    let (sold, issued): (Option<i64>, Option<i64>) = conn
        .prepare_cached("SELECT sum(sold), sum(issued) FROM day_totals WHERE day >= ?1 AND day <= ?2")?
        .query_row(params![f, l], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let cancelled: Option<i64> = conn
        .prepare_cached(
            // The partial index holds only cancelled items; left to itself the planner would
            // walk the month's sales on the issue-date index and read every row.
            "SELECT sum(amount) FROM items INDEXED BY items_cancelled
             WHERE cancelled = 1 AND closed_on <= ?3 AND issued_on >= ?1 AND issued_on <= ?2 AND charge = 0",
        )?
        .query_row(params![f, l, as_of.to_string()], |r| r.get(0))?;
    Ok((Money::from_minor(sold.unwrap_or(0) - cancelled.unwrap_or(0)), Money::from_minor(issued.unwrap_or(0))))
}

/// Each customer's buckets and the days past due of their oldest unpaid invoice at the end of
/// `as_of`. When nothing is dated after it, SQLite sums each customer's open items in one pass
/// over the covering index, in customer order; otherwise the open items at that date are
/// grouped here.
fn customer_buckets(conn: &Connection, as_of: NaiveDate) -> Result<Vec<(i64, Buckets, i64)>> {
    if !nothing_after(conn, as_of)? {
        let mut per: HashMap<i64, (Buckets, i64)> = HashMap::new();
        for o in open_at(conn, as_of)? {
            let days = (as_of - o.due_on).num_days();
            let e = per.entry(o.customer_id).or_default();
            e.0.add(days, o.remaining);
            e.1 = e.1.max(days);
        }
        return Ok(per.into_iter().map(|(id, (b, oldest))| (id, b, oldest)).collect());
    }
    buckets_from_accounts(conn, as_of)
}

/// Each owing customer's buckets and oldest days past due from the account rows, which list what
/// their open invoices owe by due date, oldest first (kept by the fold): one row per customer
/// instead of every open invoice. Only the state at `as_of` when nothing is dated after it.
fn buckets_from_accounts(conn: &Connection, as_of: NaiveDate) -> Result<Vec<(i64, Buckets, i64)>> {
    // Dates compared as YYYYMMDD numbers. Days past due 1-30 means due from D-30 to D-1, and so on.
    let back = |days: u64| date_key(as_of - chrono::Days::new(days));
    let edges = [date_key(as_of), back(30), back(60), back(90)];
    let mut stmt = conn.prepare_cached("SELECT customer_id, open_dues FROM accounts WHERE open_items > 0")?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let mut b = Buckets::default();
        let mut oldest = None;
        for due in OpenDues::from_row(r, 1)?.iter() {
            let (due, owed) = due?;
            if oldest.is_none() {
                oldest = Some(date_of_key(due).ok_or_else(|| Error::Corrupt(format!("open dues: date {due}")))?);
            }
            let slot = if due >= edges[0] {
                &mut b.current
            } else if due >= edges[1] {
                &mut b.d1_30
            } else if due >= edges[2] {
                &mut b.d31_60
            } else if due >= edges[3] {
                &mut b.d61_90
            } else {
                &mut b.d91_plus
            };
            *slot += Money::from_minor(owed);
        }
        if let (Some(oldest), true) = (oldest, b.total().is_positive()) {
            out.push((id, b, (as_of - oldest).num_days()));
        }
    }
    Ok(out)
}

fn check_months(months: u32) -> Result<()> {
    if months == 0 || months > MAX_MONTHS {
        return Err(Error::Invalid { field: "months", reason: format!("{months}: use 1 to {MAX_MONTHS}") });
    }
    Ok(())
}

impl Store {
    /// Aging of every account at the end of `as_of`.
    pub fn aging(&self, as_of: NaiveDate) -> Result<AgingReport> {
        self.read(|conn| aging(conn, as_of))
    }

    /// DSO, countback DSO, best possible DSO, average days delinquent and CEI over the `months`
    /// calendar months ending with `as_of`'s month.
    pub fn kpis(&self, as_of: NaiveDate, months: u32) -> Result<Kpis> {
        self.read(|conn| {
            check_months(months)?;
            let (receivables, current) = receivables_at(conn, as_of)?;
            kpis_from(conn, as_of, months, receivables, current)
        })
    }

    /// The countback DSO (over `months` months) at the end of each of `ends`, which must be
    /// in ascending order: the owner's trend. Only the latest end's receivables are read from
    /// the ledger; each earlier one is stepped back from the next by the movements in between
    /// (per-day totals and cancellations), so a year of points costs about one report, not one
    /// walk of every invoice open at each past date.
    pub fn dso_trend(&self, ends: &[NaiveDate], months: u32) -> Result<Vec<Option<f64>>> {
        check_months(months)?;
        if ends.windows(2).any(|w| w[0] > w[1]) {
            return Err(Error::Invalid { field: "ends", reason: "dates must be in ascending order".into() });
        }
        self.read(|conn| {
            let Some(&last) = ends.last() else { return Ok(Vec::new()) };
            trend_from(conn, ends, months, receivables_at(conn, last)?.0)
        })
    }

    /// The owner's overview page in one read and one pass over the accounts: the aging's
    /// totals and the KPIs over `months` as of `as_of`, the KPIs of its month alone (what was collected),
    /// the countback DSO at each of `ends` (ascending, the last one `as_of`) and the `top`
    /// largest overdue accounts. Each equals its own call (`overview`, `kpis`, `dso_trend`,
    /// `overdue_accounts`), which would each read every account again.
    pub fn dashboard(&self, as_of: NaiveDate, months: u32, ends: &[NaiveDate], top: usize) -> Result<Dashboard> {
        check_months(months)?;
        if ends.windows(2).any(|w| w[0] > w[1]) || ends.last().is_some_and(|&l| l != as_of) {
            return Err(Error::Invalid { field: "ends", reason: format!("ascending dates ending with {as_of}") });
        }
        self.read(|conn| {
            let per = customer_buckets(conn, as_of)?;
            // The totals only: the page does not list every customer's aging (nor reads their
            // names, a third of the time).
            let mut buckets = Buckets::default();
            for p in &per {
                buckets.merge(&p.1);
            }
            let (total, current) = (buckets.total(), buckets.current);
            Ok(Dashboard {
                kpis: kpis_from(conn, as_of, months, total, current)?,
                month: kpis_from(conn, as_of, 1, total, current)?,
                trend: trend_from(conn, ends, months, total)?,
                debtors: overdue_of(conn, per, OverdueSort::Amount, top)?,
                receivables: total,
                buckets,
            })
        })
    }

    /// The owner's first screen: the aging and the KPIs as of one date, from one pass over
    /// what was open then (the KPIs take their receivables from the aging's totals).
    pub fn overview(&self, as_of: NaiveDate, months: u32) -> Result<(AgingReport, Kpis)> {
        self.read(|conn| {
            check_months(months)?;
            let aging = aging(conn, as_of)?;
            let kpis = kpis_from(conn, as_of, months, aging.total, aging.buckets.current)?;
            Ok((aging, kpis))
        })
    }

    /// Accounts with something overdue at the end of `as_of`, sorted as asked, at most `limit`.
    pub fn overdue_accounts(&self, as_of: NaiveDate, sort: OverdueSort, limit: usize) -> Result<Vec<OverdueAccount>> {
        self.read(|conn| overdue_of(conn, customer_buckets(conn, as_of)?, sort, limit))
    }

    /// The customer statement from `from` to `to`: the balance at the end of the day before,
    /// every movement dated in the period, the balance at the end, and what is overdue then.
    pub fn statement(&self, customer: &str, from: NaiveDate, to: NaiveDate) -> Result<Statement> {
        self.read(|conn| {
            if from > to {
                return Err(Error::Invalid { field: "period", reason: format!("{from} is after {to}") });
            }
            let (id, c) = by_reference(conn, customer)?;
            let opening: Option<i64> = conn
                .prepare_cached(
                    "SELECT sum(balance_effect) FROM entries WHERE customer_id = ?1 AND business_date < ?2",
                )?
                .query_row(params![id, from.to_string()], |r| r.get(0))?;
            let mut stmt = conn.prepare_cached(
                "SELECT business_date, kind, body, balance_effect, deposit_effect FROM entries
                 WHERE customer_id = ?1 AND business_date >= ?2 AND business_date <= ?3 ORDER BY order_key",
            )?;
            let mut movements = Vec::new();
            let mut rows = stmt.query(params![id, from.to_string(), to.to_string()])?;
            while let Some(r) = rows.next()? {
                let body: crate::entry::EntryBody = serde_json::from_str(&r.get::<_, String>(2)?)?;
                let (reference, description) = describe(conn, &body)?;
                movements.push(Movement {
                    date: date_of(&r.get::<_, String>(0)?)?,
                    kind: r.get(1)?,
                    reference,
                    description,
                    balance_effect: Money::from_minor(r.get(3)?),
                    deposit_effect: Money::from_minor(r.get(4)?),
                });
            }
            let overdue = open_at_for(conn, id, to)?
                .into_iter()
                .filter(|o| o.due_on < to)
                .map(|o| OverdueInvoice {
                    days_past_due: (to - o.due_on).num_days(),
                    reference: o.reference,
                    issued_on: o.issued_on,
                    due_on: o.due_on,
                    remaining: o.remaining,
                })
                .collect();
            let deposits: Option<i64> = conn
                .prepare_cached(
                    "SELECT sum(deposit_effect) FROM entries WHERE customer_id = ?1 AND business_date <= ?2",
                )?
                .query_row(params![id, to.to_string()], |r| r.get(0))?;
            Ok(Statement::build(
                c.reference,
                c.name,
                from,
                to,
                Money::from_minor(opening.unwrap_or(0)),
                movements,
                overdue,
                Money::from_minor(deposits.unwrap_or(0)),
            ))
        })
    }
}

/// One customer's items open at the end of `as_of` (a statement's overdue part).
fn open_at_for(conn: &Connection, customer_id: i64, as_of: NaiveDate) -> Result<Vec<OpenInvoiceAt>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT i.reference, i.issued_on, i.due_on, {}
         FROM items i WHERE i.customer_id = ?1 AND i.issued_on <= ?2 AND (i.open = 1 OR i.closed_on > ?2)
         ORDER BY i.due_on, i.issued_on",
        owed_at("?2")
    ))?;
    let mut rows = stmt.query(params![customer_id, as_of.to_string()])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let remaining = Money::from_minor(r.get(3)?);
        if remaining.is_positive() {
            out.push(OpenInvoiceAt {
                reference: r.get(0)?,
                issued_on: date_of(&r.get::<_, String>(1)?)?,
                due_on: date_of(&r.get::<_, String>(2)?)?,
                remaining,
            });
        }
    }
    Ok(out)
}

/// A movement's reference (the invoice it is or aims at) and words for the statement.
fn describe(conn: &Connection, body: &crate::entry::EntryBody) -> Result<(String, String)> {
    use crate::entry::EntryBody as B;
    let invoice_ref = |id: &Option<uuid::Uuid>| -> Result<String> {
        let Some(id) = id else { return Ok(String::new()) };
        Ok(conn
            .prepare_cached("SELECT reference FROM items WHERE entry_uuid = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?
            .unwrap_or_default())
    };
    Ok(match body {
        B::Sale { invoice_ref, due_on, .. } => (invoice_ref.clone(), format!("sale on account, due {due_on}")),
        B::Payment { method, invoice, .. } => (invoice_ref(invoice)?, format!("payment ({})", method.as_str())),
        B::DepositReceived { method, order_ref, .. } => {
            (order_ref.clone().unwrap_or_default(), format!("deposit received ({})", method.as_str()))
        }
        B::DepositApplied { invoice, .. } => (invoice_ref(invoice)?, "deposit applied".into()),
        B::DepositRefunded { method, .. } => (String::new(), format!("deposit refunded ({})", method.as_str())),
        B::CreditNote { reason, invoice, .. } => (invoice_ref(invoice)?, format!("credit note: {reason}")),
        B::Adjustment { reason, reference, .. } => (reference.clone(), format!("adjustment: {reason}")),
        B::WriteOff { reason, invoice, .. } => (invoice_ref(invoice)?, format!("write-off: {reason}")),
        B::Reversal { of, reason } => {
            let r: Option<String> = conn
                .prepare_cached("SELECT reference FROM items WHERE entry_uuid = ?1")?
                .query_row([of], |r| r.get(0))
                .optional()?;
            (r.unwrap_or_default(), format!("reversal: {reason}"))
        }
    })
}

/// Aging of every account at the end of `as_of`.
/// The overdue list from each customer's buckets (see [`Store::overdue_accounts`]).
fn overdue_of(
    conn: &Connection,
    mut per: Vec<(i64, Buckets, i64)>,
    sort: OverdueSort,
    limit: usize,
) -> Result<Vec<OverdueAccount>> {
    per.retain(|(_, b, _)| b.overdue().is_positive());
    // By amount or age, only the first `limit` (and those tied with the last of them,
    // which the reference orders) need their names and scores read.
    let key = |b: &Buckets, oldest: i64| match sort {
        OverdueSort::Amount => (b.overdue().minor(), b.overdue().minor()),
        OverdueSort::Age => (oldest, b.overdue().minor()),
        OverdueSort::Risk => (0, 0),
    };
    if sort != OverdueSort::Risk && per.len() > limit {
        per.sort_by_key(|p| std::cmp::Reverse(key(&p.1, p.2)));
        if let Some(last) = limit.checked_sub(1).map(|i| key(&per[i].1, per[i].2)) {
            per.retain(|p| key(&p.1, p.2) >= last);
        } else {
            per.clear();
        }
    }
    let ids: Vec<i64> = per.iter().map(|p| p.0).collect();
    let names = customer_names(conn, &ids)?;
    let risks = crate::store::owner::risk::stored_many(conn, &ids)?;
    let mut list: Vec<OverdueAccount> = per
        .into_iter()
        .map(|(id, buckets, oldest)| {
            let (customer_ref, name, phone, email) = names.get(&id).cloned().unwrap_or_default();
            let (risk, risk_reasons) = risks.get(&id).cloned().map_or((None, Vec::new()), |(s, r)| (Some(s), r));
            OverdueAccount {
                customer_ref,
                name,
                phone,
                email,
                owed: buckets.total(),
                overdue: buckets.overdue(),
                oldest_days: oldest,
                buckets,
                risk,
                risk_reasons,
            }
        })
        .collect();
    list.sort_by(|a, b| {
        let by = match sort {
            OverdueSort::Amount => b.overdue.cmp(&a.overdue),
            OverdueSort::Age => b.oldest_days.cmp(&a.oldest_days),
            OverdueSort::Risk => b.risk.unwrap_or(-1.0).total_cmp(&a.risk.unwrap_or(-1.0)),
        };
        by.then_with(|| b.overdue.cmp(&a.overdue)).then_with(|| a.customer_ref.cmp(&b.customer_ref))
    });
    list.truncate(limit);
    Ok(list)
}

/// Countback DSO at each of `ends` (ascending), owed `receivables` at the last of them: each
/// earlier end's receivables stepped back from the next one's.
fn trend_from(conn: &Connection, ends: &[NaiveDate], months: u32, receivables: Money) -> Result<Vec<Option<f64>>> {
    let Some(&last) = ends.last() else { return Ok(Vec::new()) };
    let (mut receivables, mut later) = (receivables, last);
    let mut out = Vec::with_capacity(ends.len());
    for &end in ends.iter().rev() {
        if end < later {
            let issued = issued_between(conn, end, later)?;
            receivables = receivables_before(conn, receivables, issued, end, later)?;
            later = end;
        }
        out.push(countback_at(conn, end, months, receivables)?);
    }
    out.reverse();
    Ok(out)
}

fn aging(conn: &Connection, as_of: NaiveDate) -> Result<AgingReport> {
    let mut per = customer_buckets(conn, as_of)?;
    per.sort_unstable_by_key(|p| p.0);
    let ids: Vec<i64> = per.iter().map(|p| p.0).collect();
    let names = names_in_order(conn, &ids)?;
    let customers = per
        .into_iter()
        .zip(names)
        .map(|((_, buckets, oldest), (customer_ref, name))| CustomerAging {
            customer_ref,
            name,
            total: buckets.total(),
            buckets,
            oldest_days: oldest.max(0),
        })
        .collect();
    Ok(AgingReport::new(as_of, customers))
}

/// Everything issued (fees included) after `from` up to `to`.
fn issued_between(conn: &Connection, from: NaiveDate, to: NaiveDate) -> Result<Money> {
    let issued: Option<i64> = conn
        .prepare_cached("SELECT sum(issued) FROM day_totals WHERE day > ?1 AND day <= ?2")?
        .query_row(params![from.to_string(), to.to_string()], |r| r.get(0))?;
    Ok(Money::from_minor(issued.unwrap_or(0)))
}

/// The countback DSO at the end of `as_of`, owed `receivables` then, reading the months'
/// credit sales only as far back as the countback walks (as [`kpis_from`] does).
fn countback_at(conn: &Connection, as_of: NaiveDate, months: u32, receivables: Money) -> Result<Option<f64>> {
    let mut sales = Vec::new();
    let mut left = receivables;
    for (i, (first, last)) in kpis::month_periods(as_of, months + COUNTBACK_MONTHS).into_iter().enumerate() {
        if i >= months as usize && !left.is_positive() {
            break;
        }
        let (sold, _) = month_sums(conn, first, last, as_of)?;
        left -= sold;
        sales.push(MonthSales { first, last, sales: sold });
    }
    Ok(kpis::countback(receivables, &sales))
}

fn kpis_from(conn: &Connection, as_of: NaiveDate, months: u32, receivables: Money, current: Money) -> Result<Kpis> {
    let periods = kpis::month_periods(as_of, months + COUNTBACK_MONTHS);
    let mut sales = Vec::new();
    let mut issued_in_period = Money::ZERO;
    let mut left = receivables;
    for (i, (first, last)) in periods.into_iter().enumerate() {
        // Earlier months are read only while the countback still needs them.
        if i >= months as usize && !left.is_positive() {
            break;
        }
        let (sold, issued) = month_sums(conn, first, last, as_of)?;
        if i < months as usize {
            issued_in_period += issued;
        }
        left -= sold;
        sales.push(MonthSales { first, last, sales: sold });
    }
    let start = sales[months as usize - 1].first.pred_opt().ok_or(Error::InvalidDate(as_of.to_string()))?;
    let receivables_start = receivables_before(conn, receivables, issued_in_period, start, as_of)?;
    Ok(Kpis::compute(&KpiInputs {
        as_of,
        months: sales,
        period_months: months,
        receivables,
        current,
        receivables_start,
    }))
}
