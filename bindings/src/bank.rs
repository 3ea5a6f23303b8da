//! The owner's bank reconciliation on the phone (a statement file imported, its lines listed,
//! suggestions confirmed, matches undone) and the owner's day, where the credits to confirm
//! are listed with the calls to make. The records cross as the core keeps them.

use ardoise_core as core;
use core::bank::matching::{Reason, Rule, Suggestion};
use core::bank::{Import, Line, LineState};
use core::store::{BrokenPromise, Task, Today};
use core::{Money, Uuid};

use crate::Till;
use crate::error::{Result, invalid};
use crate::values::{IsoDate, Timestamp};

/// Where a bank transaction stands.
#[uniffi::remote(Enum)]
#[uniffi(name = "BankLineState")]
pub enum LineState {
    Applied,
    Suggested,
    Unmatched,
}

/// Why a payment was recorded: the customer's RF reference, open invoices adding up to the
/// amount, or a person's confirmation.
#[uniffi::remote(Enum)]
#[uniffi(name = "BankMatchRule")]
pub enum Rule {
    Reference,
    Invoices,
    Confirmed,
}

/// One thing that points to a customer (`SharedAccount` and `MistypedReference` are warnings);
/// `describeBankReason` says it in words.
#[uniffi::remote(Enum)]
#[uniffi(name = "BankReason")]
pub enum Reason {
    KnownAccount { iban: String },
    Name { payer: String },
    Partial { invoices: Vec<String>, open: Money },
    Overpaid { invoices: Vec<String>, open: Money },
    FeeGap { invoices: Vec<String>, gap: Money },
    AmountIsInvoice { invoice: String },
    AmountIsBalance,
    SeveralReferences,
    MistypedReference { written: String },
    SharedAccount { customers: u32 },
}

/// A customer a credit may be from, with what points to them.
#[uniffi::remote(Record)]
#[uniffi(name = "BankSuggestion")]
pub struct Suggestion {
    pub customer: String,
    pub invoices: Vec<String>,
    pub reasons: Vec<Reason>,
}

/// One bank transaction and what became of it; `transaction` is what confirm and undo take.
#[uniffi::remote(Record)]
#[uniffi(name = "BankLine")]
pub struct Line {
    pub transaction: String,
    pub account: String,
    pub amount: Money,
    pub date: Option<IsoDate>,
    pub label: String,
    pub counterparty: Option<String>,
    pub state: LineState,
    pub customer: Option<String>,
    pub invoices: Vec<String>,
    pub rule: Option<Rule>,
    pub by: Option<String>,
    pub entry: Option<Uuid>,
    pub why: Option<String>,
    pub suggestions: Vec<Suggestion>,
}

/// What importing a statement did.
#[uniffi::remote(Record)]
#[uniffi(name = "BankImport")]
pub struct Import {
    pub imported: u32,
    pub duplicates: u32,
    pub applied: Vec<Line>,
    pub suggested: Vec<Line>,
    pub unmatched: Vec<Line>,
}

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
        let (_, statements) =
            core::bank::read_with_mapping(&file, csv_mapping.as_deref()).map_err(|e| invalid(e.to_string()))?;
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

/// A reminder that needs a person (a call, a letter to post, one held for approval).
#[uniffi::remote(Record)]
#[uniffi(name = "OwnerTask")]
pub struct Task {
    pub reminder: Uuid,
    pub customer_ref: String,
    pub customer_name: String,
    pub phone: Option<String>,
    pub step: String,
    pub channel: String,
    pub amount_due: Money,
    pub since: IsoDate,
    pub note: Option<String>,
}

/// A promise to pay whose day passed without the money.
#[uniffi::remote(Record)]
pub struct BrokenPromise {
    pub customer_ref: String,
    pub customer_name: String,
    pub phone: Option<String>,
    pub promised_on: IsoDate,
    pub amount: Money,
}

/// What needs a person today: calls, letters, held reminders, broken promises, bank credits
/// to confirm.
#[uniffi::remote(Record)]
pub struct Today {
    pub as_of: IsoDate,
    pub calls: Vec<Task>,
    pub letters: Vec<Task>,
    pub held: Vec<Task>,
    pub broken_promises: Vec<BrokenPromise>,
    pub bank_to_confirm: Vec<Line>,
}

#[uniffi::export]
impl Till {
    /// The owner's day (see `Today`).
    pub fn today(&self, now: Timestamp) -> Result<Today> {
        self.with(|st| st.today(now))
    }
}
