//! The owner's calls: aging, KPIs, the overdue list, risk, statements, imports, exports and the
//! customer's GDPR rights. The reports, import reports and erasures cross as `ardoise-core`
//! computes them.

use ardoise_core as core;
use core::import::{DateStyle, ImportReport};
use core::report::aging::AgingReport;
use core::report::export::Format;
use core::report::kpis::Kpis;
use core::report::statement::Statement;
use core::store::{CustomerRisk, Erasure, ExportKind, OverdueAccount, OverdueSort};

use crate::{ArdoiseError, IsoDate, Result, Till, Timestamp};

/// The aging and the KPIs as of one date.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Overview {
    pub aging: AgingReport,
    pub kpis: Kpis,
}

/// The largest file the import takes through the FFI (a whole shop's history fits).
const MAX_IMPORT_BYTES: usize = 512 * 1024 * 1024;

fn csv_bytes(data: &str) -> Result<&[u8]> {
    if data.len() > MAX_IMPORT_BYTES {
        return Err(ArdoiseError::invalid(format!(
            "file of {} bytes is larger than the {MAX_IMPORT_BYTES} an import takes",
            data.len()
        )));
    }
    Ok(data.as_bytes())
}

#[uniffi::export]
impl Till {
    /// Aging of every account at the end of `as_of`, from what was recorded with dates up to
    /// then.
    pub fn aging(&self, as_of: IsoDate) -> Result<AgingReport> {
        self.with(|st| st.aging(as_of))
    }

    /// DSO, countback DSO, best possible DSO, average days delinquent and CEI over the
    /// `months` calendar months ending with `as_of`'s month.
    pub fn kpis(&self, as_of: IsoDate, months: u32) -> Result<Kpis> {
        self.with(|st| st.kpis(as_of, months))
    }

    /// The owner's first screen: [`Till::aging`] and [`Till::kpis`] in one call that reads the
    /// open invoices once.
    pub fn overview(&self, as_of: IsoDate, months: u32) -> Result<Overview> {
        let (aging, kpis) = self.with(|st| st.overview(as_of, months))?;
        Ok(Overview { aging, kpis })
    }

    /// Accounts with something overdue at the end of `as_of`, at most `limit`.
    pub fn overdue_accounts(&self, as_of: IsoDate, sort: OverdueSort, limit: u32) -> Result<Vec<OverdueAccount>> {
        self.with(|st| st.overdue_accounts(as_of, sort, limit as usize))
    }

    /// The customer statement from `from` to `to` (inclusive).
    pub fn statement(&self, customer: String, from: IsoDate, to: IsoDate) -> Result<Statement> {
        self.with(|st| st.statement(&customer, from, to))
    }

    /// Each customer's probability (0 to 1) of paying the next invoice late, as known at the
    /// end of `as_of`, with the model fitted on the shop's own history then. Riskiest first.
    pub fn risk_report(&self, as_of: IsoDate) -> Result<Vec<CustomerRisk>> {
        self.with(|st| st.risk_report(as_of))
    }

    /// Computes today's risk scores and keeps them for the checkout verdict and the overdue
    /// list; run it once a day. Returns how many customers were scored.
    pub fn refresh_risk(&self, now: Timestamp) -> Result<u64> {
        self.with(|st| Ok(st.refresh_risk(now)? as u64))
    }

    /// Imports a customers CSV (`ref,name,email,phone,kind,credit_limit,terms`). All or
    /// nothing: a bad line fails it with every bad line numbered in the message.
    pub fn import_customers(&self, csv: String, now: Timestamp) -> Result<ImportReport> {
        let data = csv_bytes(&csv)?;
        self.with(|st| st.import_customers(data, now))
    }

    /// Imports an invoice history CSV (`customer_ref,invoice_ref,issued_on,due_on,amount,paid_on`
    /// and optionally `disputed`). Importing the same file again changes nothing.
    pub fn import_invoices(&self, csv: String, dates: DateStyle, now: Timestamp) -> Result<ImportReport> {
        let data = csv_bytes(&csv)?;
        self.with(|st| st.import_invoices(data, dates, now))
    }

    /// Accounts, ledger or reminders as CSV (formulas neutralised) or JSON.
    pub fn export(&self, kind: ExportKind, format: Format) -> Result<String> {
        self.with(|st| st.export(kind, format))
    }

    /// Everything this till holds about one customer, as JSON (GDPR access and portability).
    pub fn customer_data(&self, customer: String, now: Timestamp) -> Result<String> {
        self.with(|st| Ok(st.customer_data(&customer, now)?.to_string()))
    }

    /// Erases a customer's personal data and keeps the accounting entries; syncs like any write.
    pub fn erase_customer(&self, customer: String, author: String, now: Timestamp) -> Result<Erasure> {
        self.with(|st| st.erase_customer(&customer, &author, now))
    }
}
