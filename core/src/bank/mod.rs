//! Bank statements as the shop's bank sends them, read into one model whatever the format:
//! statements with their balances, and the transactions in them. Pure: bytes in, statements out.
//!
//! What the model guarantees, for every format read here:
//! - a statement is returned only if its opening balance plus its booked movements equals its
//!   closing balance, to the cent; otherwise the whole file is refused ([`BankError::Unbalanced`])
//!   so nothing of a file that does not add up is ever imported;
//! - amounts are [`Money`] in EUR with at most two decimals, never rounded: a file with another
//!   currency or more decimals is refused, naming the element;
//! - every transaction has a [`Transaction::bank_id`] that is the same each time the same
//!   statement (or one overlapping it) is read, so an importer can skip what it has seen;
//! - a batched entry (one booking for several transfers) gives one transaction per transfer,
//!   and their amounts add up to the booking.
//!
//! Formats: [`camt`] (ISO 20022 CAMT.053, versions .001.02 to .001.08).

pub mod camt;
pub mod matching;
mod xml;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::payref::{self, PaymentReference};

/// One account statement: a period of one account, from its opening to its closing balance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// The bank's identifier of the statement (CAMT `Stmt/Id`).
    pub id: String,
    pub account_iban: Option<String>,
    /// Always "EUR": statements in another currency are refused.
    pub currency: String,
    /// Signed: negative when the account was overdrawn.
    pub opening: Money,
    pub closing: Money,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// In the file's order; pending ones included (see [`Status`]).
    pub transactions: Vec<Transaction>,
}

impl Statement {
    /// Booked credits minus booked debits: what the balance check adds to the opening balance.
    pub fn movements(&self) -> Money {
        self.transactions.iter().filter(|t| t.status == Status::Booked).map(Transaction::signed).sum()
    }
}

/// Money in or out of the shop's account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    /// Money in: a customer's transfer.
    Credit,
    /// Money out: fees, a refund, a returned transfer.
    Debit,
}

/// Whether the bank has booked the transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// On the account: counted in the balance, safe to reconcile.
    Booked,
    /// Announced but not booked (CAMT `PDNG`, and `FUTR` or `INFO` from .08): kept so a person
    /// can see it coming, never counted in the balance, and to be imported only once booked,
    /// when a later statement brings it again as booked (with its own id).
    Pending,
}

/// Where a transaction's [`Transaction::bank_id`] comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IdSource {
    /// The bank's reference of the transaction itself (CAMT `TxDtls/Refs/AcctSvcrRef`).
    Transaction,
    /// The bank's reference of the booking (CAMT `Ntry/AcctSvcrRef`), with `/n` after it for
    /// the n-th transaction of a batched booking.
    Entry,
    /// The entry's reference in the statement (CAMT `NtryRef`), `/n` as above. Banks make it
    /// unique at least within the account; some only within one statement.
    EntryRef,
    /// No reference from the bank: `h:` and a hash of what the transaction says (see
    /// [`camt`]'s module documentation), the same each time the same day is read.
    Hash,
}

/// One transfer or payment on the account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// The key an importer deduplicates on; [`Transaction::id_source`] says how it was made.
    pub bank_id: String,
    pub id_source: IdSource,
    pub booking_date: Option<NaiveDate>,
    pub value_date: Option<NaiveDate>,
    /// Positive; the sign is in [`Transaction::direction`].
    pub amount: Money,
    pub direction: Direction,
    pub status: Status,
    /// The booking cancels an earlier one (CAMT `RvslInd`): a returned transfer is a debit.
    pub reversal: bool,
    /// The other party: who paid for a credit, who was paid for a debit.
    pub counterparty_name: Option<String>,
    pub counterparty_iban: Option<String>,
    /// The free-text remittance lines (CAMT `RmtInf/Ustrd`), joined with a space.
    pub remittance: Option<String>,
    /// The structured creditor reference (CAMT `RmtInf/Strd/CdtrRefInf/Ref`), as written.
    pub creditor_reference: Option<String>,
    /// The payer's end-to-end id, absent when the payer gave none ("NOTPROVIDED").
    pub end_to_end_id: Option<String>,
    /// The bank's own label (CAMT `TxDtls/AddtlTxInf`, else `Ntry/AddtlNtryInf`): often the
    /// only text of an entry without details, where banks copy the payer and the reason.
    pub bank_label: Option<String>,
}

impl Transaction {
    /// The amount with its sign: positive for money in.
    pub fn signed(&self) -> Money {
        match self.direction {
            Direction::Credit => self.amount,
            Direction::Debit => -self.amount,
        }
    }

    /// The valid RF references this transaction carries: the structured one first, then those
    /// found in the remittance text, then in the bank's label, each once. A matcher still checks they name a customer.
    pub fn payment_references(&self) -> Vec<PaymentReference> {
        let mut found: Vec<PaymentReference> =
            self.creditor_reference.iter().filter_map(|r| PaymentReference::parse(r).ok()).collect();
        for r in self.remittance.iter().chain(&self.bank_label).flat_map(|t| payref::find_in(t)) {
            if !found.contains(&r) {
                found.push(r);
            }
        }
        found
    }
}

/// Why a bank file is refused. A refused file yields nothing: no statement of it is returned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BankError {
    /// Not a document of a format read here (another message, another version).
    #[error("not a bank statement Ardoise reads: {found} (expected ISO 20022 camt.053.001.02 to .08)")]
    UnknownFormat { found: String },
    /// Not well formed, or an element missing or wrong: `element` is its path, as
    /// `Stmt[2]/Ntry[5]/Amt` (1-based positions), and `line` where it is in the file.
    #[error("{element} (line {line}): {reason}")]
    Malformed { element: String, line: usize, reason: String },
    /// An amount in another currency than the shop's.
    #[error("{element} (line {line}): amount in {currency}, the shop's account is in EUR")]
    Currency { element: String, line: usize, currency: String },
    /// A batched entry whose transactions do not add up to it.
    #[error("{entry}: the entry is {entry_amount} but its transactions add up to {details}")]
    BatchMismatch { entry: String, entry_amount: Money, details: Money },
    /// Opening balance plus booked movements is not the closing balance.
    #[error("statement {statement}: opening {opening} + movements {movements} is not the closing {closing}")]
    Unbalanced { statement: String, opening: Money, movements: Money, closing: Money },
}

#[cfg(test)]
mod tests;

/// What taking statements into a ledger did (`Store::import_statements`), as `ardoise bank
/// import --json` prints it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Import {
    /// Transactions read for the first time (pending ones excepted: they come again booked).
    pub imported: u32,
    /// Transactions an earlier import already took (the same or an overlapping statement).
    pub duplicates: u32,
    /// Credits recorded as payments now, certain by their rule.
    pub applied: Vec<Line>,
    /// Credits that may be a customer's, for a person to confirm.
    pub suggested: Vec<Line>,
    /// Everything else (debits, pending entries, credits naming nobody), with why.
    pub unmatched: Vec<Line>,
}

/// One bank transaction and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Line {
    /// The bank's id of the transaction ([`Transaction::bank_id`]): what `bank confirm` and
    /// `bank undo` take.
    pub transaction: String,
    /// The shop's account it is on (its IBAN, else the statement's id).
    pub account: String,
    /// Signed: a debit is negative.
    pub amount: Money,
    pub date: Option<NaiveDate>,
    /// What the payer and the bank wrote, joined.
    pub label: String,
    pub counterparty: Option<String>,
    pub state: LineState,
    /// The customer it was recorded for.
    pub customer: Option<String>,
    /// The invoices the payment settled (applied), or named (suggested).
    pub invoices: Vec<String>,
    pub rule: Option<matching::Rule>,
    /// Who recorded or confirmed it.
    pub by: Option<String>,
    /// The payment entry recorded.
    pub entry: Option<uuid::Uuid>,
    /// Why it was left, or undone.
    pub why: Option<String>,
    /// Best first.
    pub suggestions: Vec<matching::Suggestion>,
}

/// Where a bank transaction stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineState {
    Applied,
    Suggested,
    Unmatched,
}

impl LineState {
    pub fn as_str(self) -> &'static str {
        match self {
            LineState::Applied => "applied",
            LineState::Suggested => "suggested",
            LineState::Unmatched => "unmatched",
        }
    }

    pub fn parse(s: &str) -> Option<LineState> {
        [LineState::Applied, LineState::Suggested, LineState::Unmatched].into_iter().find(|x| x.as_str() == s)
    }
}

/// The id of the payment a bank transaction becomes: the same for the same transaction of
/// the same account, whoever imports it, however often, on whichever device. A ledger and a
/// shop's log hold an id once, so the money is never taken in twice.
pub fn entry_id(account: &str, bank_id: &str) -> uuid::Uuid {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new().chain_update(account).chain_update([0]).chain_update(bank_id).finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}
