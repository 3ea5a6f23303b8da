//! The owner's bank reconciliation on the phone (a statement file imported, its lines listed,
//! suggestions confirmed, matches undone) and the owner's day, where the credits to confirm
//! are listed with the calls to make. The records cross as the core keeps them.

use ardoise_core as core;
use core::bank::matching::Reason;
use core::bank::{Import, Line, LineState};
use core::store::Today;

use crate::{ArdoiseError, Result, Till, Timestamp};

/// A reason in the owner's words (English).
#[uniffi::export]
pub fn describe_bank_reason(reason: Reason) -> String {
    reason.to_string()
}

#[uniffi::export]
impl Till {
    /// Imports a bank statement file as the bank gives it (CAMT.053, CFONB 120, OFX, or a CSV
    /// export with its column mapping as JSON): certain credits become payments, once however
    /// often the file is imported; the others are suggested or left. A malformed or unbalanced
    /// file is refused whole, naming the element or line, and writes nothing.
    pub fn import_bank_statement(
        &self,
        file: Vec<u8>,
        csv_mapping: Option<String>,
        cashier: String,
        now: Timestamp,
    ) -> Result<Import> {
        let (_, statements) = core::bank::read_with_mapping(&file, csv_mapping.as_deref())
            .map_err(|e| ArdoiseError::invalid(e.to_string()))?;
        self.with(|st| st.import_statements(&statements, &cashier, now))
    }

    /// The bank transactions imported on this device, newest first; `state` filters.
    pub fn bank_lines(&self, state: Option<LineState>, limit: u32, offset: u32) -> Result<Vec<Line>> {
        self.with(|st| st.bank_lines(state, limit.min(crate::MAX_PAGE) as usize, offset as usize))
    }

    /// Records a suggested credit as `customer`'s payment (aimed at `invoice` if given),
    /// with who confirmed it.
    pub fn confirm_bank_match(
        &self,
        transaction: String,
        customer: String,
        invoice: Option<String>,
        by: String,
        now: Timestamp,
    ) -> Result<Line> {
        self.with(|st| st.confirm_bank_match(&transaction, &customer, invoice.as_deref(), &by, now))
    }

    /// Undoes a match: its payment is reversed, and it is never applied again by itself.
    pub fn undo_bank_match(&self, transaction: String, by: String, now: Timestamp) -> Result<Line> {
        self.with(|st| st.undo_bank_match(&transaction, &by, now))
    }
}

#[uniffi::export]
impl Till {
    /// The owner's day (see `Today`).
    pub fn today(&self, now: Timestamp) -> Result<Today> {
        self.with(|st| st.today(now))
    }
}
