//! The owner's calls: aging, KPIs, the overdue list, risk, statements, imports, exports and the
//! customer's GDPR rights. Converts and delegates to `ardoise-core`'s reports.

use ardoise_core as core;
use ardoise_core::report;

use crate::Till;
use crate::error::{Result, invalid};
use crate::types::{self, s};

/// Receivables by days past due; "current" is not yet due.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct AgingBuckets {
    pub current: String,
    pub days_1_to_30: String,
    pub days_31_to_60: String,
    pub days_61_to_90: String,
    pub days_91_plus: String,
}

impl From<report::Buckets> for AgingBuckets {
    fn from(b: report::Buckets) -> Self {
        AgingBuckets {
            current: s(b.current),
            days_1_to_30: s(b.d1_30),
            days_31_to_60: s(b.d31_60),
            days_61_to_90: s(b.d61_90),
            days_91_plus: s(b.d91_plus),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct CustomerAging {
    pub customer_ref: String,
    pub name: String,
    pub total: String,
    pub buckets: AgingBuckets,
    pub oldest_days: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct AgingReport {
    pub as_of: String,
    pub total: String,
    pub buckets: AgingBuckets,
    /// Largest balance first.
    pub customers: Vec<CustomerAging>,
}

impl From<report::AgingReport> for AgingReport {
    fn from(a: report::AgingReport) -> Self {
        AgingReport {
            as_of: a.as_of.to_string(),
            total: s(a.total),
            buckets: a.buckets.into(),
            customers: a
                .customers
                .into_iter()
                .map(|c| CustomerAging {
                    customer_ref: c.customer_ref,
                    name: c.name,
                    total: s(c.total),
                    buckets: c.buckets.into(),
                    oldest_days: c.oldest_days,
                })
                .collect(),
        }
    }
}

/// Collection figures; a ratio is null when there were no credit sales in the period.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Kpis {
    pub as_of: String,
    pub months: u32,
    pub receivables: String,
    pub current: String,
    pub receivables_start: String,
    pub credit_sales: String,
    pub days: i64,
    pub dso_simple: Option<f64>,
    pub dso_countback: Option<f64>,
    pub best_possible_dso: Option<f64>,
    pub average_days_delinquent: Option<f64>,
    pub cei_pct: Option<f64>,
}

impl From<report::Kpis> for Kpis {
    fn from(k: report::Kpis) -> Self {
        Kpis {
            as_of: k.as_of.to_string(),
            months: k.months,
            receivables: s(k.receivables),
            current: s(k.current),
            receivables_start: s(k.receivables_start),
            credit_sales: s(k.credit_sales),
            days: k.days,
            dso_simple: k.dso_simple,
            dso_countback: k.dso_countback,
            best_possible_dso: k.best_possible_dso,
            average_days_delinquent: k.average_days_delinquent,
            cei_pct: k.cei_pct,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum OverdueSort {
    Amount,
    Age,
    Risk,
}

/// The aging and the KPIs as of one date.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Overview {
    pub aging: AgingReport,
    pub kpis: Kpis,
}

#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct OverdueAccount {
    pub customer_ref: String,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub owed: String,
    pub overdue: String,
    pub oldest_days: i64,
    pub buckets: AgingBuckets,
    /// Probability (0 to 1) that the next invoice is paid late, when scored.
    pub risk: Option<f64>,
    pub risk_reasons: Vec<String>,
}

impl From<core::store::OverdueAccount> for OverdueAccount {
    fn from(a: core::store::OverdueAccount) -> Self {
        OverdueAccount {
            customer_ref: a.customer_ref,
            name: a.name,
            phone: a.phone,
            email: a.email,
            owed: s(a.owed),
            overdue: s(a.overdue),
            oldest_days: a.oldest_days,
            buckets: a.buckets.into(),
            risk: a.risk,
            risk_reasons: a.risk_reasons,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct StatementLine {
    pub date: String,
    pub kind: String,
    pub reference: String,
    pub description: String,
    pub debit: String,
    pub credit: String,
    pub balance: String,
    pub deposit: String,
}

#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct OverdueInvoice {
    pub reference: String,
    pub issued_on: String,
    pub due_on: String,
    pub days_past_due: i64,
    pub remaining: String,
}

/// The relevé de compte.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Statement {
    pub customer_ref: String,
    pub name: String,
    pub from: String,
    pub to: String,
    pub opening_balance: String,
    pub lines: Vec<StatementLine>,
    pub total_debit: String,
    pub total_credit: String,
    pub closing_balance: String,
    pub overdue: String,
    pub overdue_invoices: Vec<OverdueInvoice>,
    pub deposits_held: String,
}

impl From<report::Statement> for Statement {
    fn from(st: report::Statement) -> Self {
        Statement {
            customer_ref: st.customer_ref,
            name: st.name,
            from: st.from.to_string(),
            to: st.to.to_string(),
            opening_balance: s(st.opening_balance),
            lines: st
                .lines
                .into_iter()
                .map(|l| StatementLine {
                    date: l.date.to_string(),
                    kind: l.kind,
                    reference: l.reference,
                    description: l.description,
                    debit: s(l.debit),
                    credit: s(l.credit),
                    balance: s(l.balance),
                    deposit: s(l.deposit),
                })
                .collect(),
            total_debit: s(st.total_debit),
            total_credit: s(st.total_credit),
            closing_balance: s(st.closing_balance),
            overdue: s(st.overdue),
            overdue_invoices: st
                .overdue_invoices
                .into_iter()
                .map(|o| OverdueInvoice {
                    reference: o.reference,
                    issued_on: o.issued_on.to_string(),
                    due_on: o.due_on.to_string(),
                    days_past_due: o.days_past_due,
                    remaining: s(o.remaining),
                })
                .collect(),
            deposits_held: s(st.deposits_held),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ImportReport {
    pub rows: u64,
    pub customers_created: u64,
    pub customers_updated: u64,
    pub invoices_created: u64,
    pub payments_recorded: u64,
    pub disputes_recorded: u64,
    pub unchanged: u64,
}

impl From<core::import::ImportReport> for ImportReport {
    fn from(r: core::import::ImportReport) -> Self {
        ImportReport {
            rows: r.rows as u64,
            customers_created: r.customers_created as u64,
            customers_updated: r.customers_updated as u64,
            invoices_created: r.invoices_created as u64,
            payments_recorded: r.payments_recorded as u64,
            disputes_recorded: r.disputes_recorded as u64,
            unchanged: r.unchanged as u64,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum ExportKind {
    Accounts,
    Ledger,
    Reminders,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum ExportFormat {
    Csv,
    Json,
}

#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Erasure {
    pub customer_ref: String,
    pub reminders_scrubbed: u64,
    pub reminders_cancelled: u64,
    pub notes_scrubbed: u64,
    pub disputes_scrubbed: u64,
    pub entries_kept: u64,
}

/// A customer's probability of paying the next invoice late, and the main reasons.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct CustomerRisk {
    pub customer_ref: String,
    pub name: String,
    pub score: f64,
    pub reasons: Vec<String>,
}

/// How dates are written in an invoices file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum DateStyle {
    /// 2013-01-02
    Iso,
    /// 1/2/2013
    MonthDayYear,
}

/// The largest file the import takes through the FFI (a whole shop's history fits).
const MAX_IMPORT_BYTES: usize = 512 * 1024 * 1024;

fn csv_bytes(data: &str) -> Result<&[u8]> {
    if data.len() > MAX_IMPORT_BYTES {
        return Err(invalid(format!(
            "file of {} bytes is larger than the {MAX_IMPORT_BYTES} an import takes",
            data.len()
        )));
    }
    Ok(data.as_bytes())
}

#[uniffi::export]
impl Till {
    /// Aging of every account at the end of `as_of` (YYYY-MM-DD), from what was recorded
    /// with dates up to then.
    pub fn aging(&self, as_of: String) -> Result<AgingReport> {
        let d = types::date(&as_of)?;
        self.with(|st| Ok(st.aging(d)?.into()))
    }

    /// DSO, countback DSO, best possible DSO, average days delinquent and CEI over the
    /// `months` calendar months ending with `as_of`'s month.
    pub fn kpis(&self, as_of: String, months: u32) -> Result<Kpis> {
        let d = types::date(&as_of)?;
        self.with(|st| Ok(st.kpis(d, months)?.into()))
    }

    /// The owner's first screen: [`Till::aging`] and [`Till::kpis`] in one call that reads the
    /// open invoices once.
    pub fn overview(&self, as_of: String, months: u32) -> Result<Overview> {
        let d = types::date(&as_of)?;
        self.with(|st| {
            let (aging, kpis) = st.overview(d, months)?;
            Ok(Overview { aging: aging.into(), kpis: kpis.into() })
        })
    }

    /// Accounts with something overdue at the end of `as_of`, at most `limit`.
    pub fn overdue_accounts(&self, as_of: String, sort: OverdueSort, limit: u32) -> Result<Vec<OverdueAccount>> {
        let d = types::date(&as_of)?;
        let sort = match sort {
            OverdueSort::Amount => core::store::OverdueSort::Amount,
            OverdueSort::Age => core::store::OverdueSort::Age,
            OverdueSort::Risk => core::store::OverdueSort::Risk,
        };
        self.with(|st| Ok(st.overdue_accounts(d, sort, limit as usize)?.into_iter().map(Into::into).collect()))
    }

    /// The customer statement from `from` to `to` (inclusive).
    pub fn statement(&self, customer: String, from: String, to: String) -> Result<Statement> {
        let (f, t) = (types::date(&from)?, types::date(&to)?);
        self.with(|st| Ok(st.statement(&customer, f, t)?.into()))
    }

    /// Each customer's probability (0 to 1) of paying the next invoice late, as known at the
    /// end of `as_of`, with the model fitted on the shop's own history then. Riskiest first.
    pub fn risk_report(&self, as_of: String) -> Result<Vec<CustomerRisk>> {
        let d = types::date(&as_of)?;
        self.with(|st| {
            Ok(st
                .risk_report(d)?
                .into_iter()
                .map(|r| CustomerRisk {
                    customer_ref: r.customer_ref,
                    name: r.name,
                    score: r.score,
                    reasons: r.reasons,
                })
                .collect())
        })
    }

    /// Computes today's risk scores and keeps them for the checkout verdict and the overdue
    /// list; run it once a day. Returns how many customers were scored.
    pub fn refresh_risk(&self, now: String) -> Result<u64> {
        let now = types::instant(&now)?;
        self.with(|st| Ok(st.refresh_risk(now)? as u64))
    }

    /// Imports a customers CSV (`ref,name,email,phone,kind,credit_limit,terms`). All or
    /// nothing: a bad line fails it with every bad line numbered in the message.
    pub fn import_customers(&self, csv: String, now: String) -> Result<ImportReport> {
        let now = types::instant(&now)?;
        let data = csv_bytes(&csv)?;
        self.with(|st| Ok(st.import_customers(data, now)?.into()))
    }

    /// Imports an invoice history CSV (`customer_ref,invoice_ref,issued_on,due_on,amount,paid_on`
    /// and optionally `disputed`). Importing the same file again changes nothing.
    pub fn import_invoices(&self, csv: String, dates: DateStyle, now: String) -> Result<ImportReport> {
        let now = types::instant(&now)?;
        let data = csv_bytes(&csv)?;
        let dates = match dates {
            DateStyle::Iso => core::import::DateStyle::Iso,
            DateStyle::MonthDayYear => core::import::DateStyle::MonthDayYear,
        };
        self.with(|st| Ok(st.import_invoices(data, dates, now)?.into()))
    }

    /// Accounts, ledger or reminders as CSV (formulas neutralised) or JSON.
    pub fn export(&self, kind: ExportKind, format: ExportFormat) -> Result<String> {
        let kind = match kind {
            ExportKind::Accounts => core::store::ExportKind::Accounts,
            ExportKind::Ledger => core::store::ExportKind::Ledger,
            ExportKind::Reminders => core::store::ExportKind::Reminders,
        };
        let format = match format {
            ExportFormat::Csv => report::export::Format::Csv,
            ExportFormat::Json => report::export::Format::Json,
        };
        self.with(|st| Ok(st.export(kind, format)?))
    }

    /// Everything this till holds about one customer, as JSON (GDPR access and portability).
    pub fn customer_data(&self, customer: String, now: String) -> Result<String> {
        let now = types::instant(&now)?;
        self.with(|st| Ok(st.customer_data(&customer, now)?.to_string()))
    }

    /// Erases a customer's personal data and keeps the accounting entries; syncs like any write.
    pub fn erase_customer(&self, customer: String, author: String, now: String) -> Result<Erasure> {
        let now = types::instant(&now)?;
        self.with(|st| {
            let e = st.erase_customer(&customer, &author, now)?;
            Ok(Erasure {
                customer_ref: e.customer_ref,
                reminders_scrubbed: e.reminders_scrubbed as u64,
                reminders_cancelled: e.reminders_cancelled as u64,
                notes_scrubbed: e.notes_scrubbed as u64,
                disputes_scrubbed: e.disputes_scrubbed as u64,
                entries_kept: e.entries_kept as u64,
            })
        })
    }
}
