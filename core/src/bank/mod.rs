//! Bank statements as the shop's bank sends them, read into one model whatever the format:
//! statements with their balances, and the transactions in them. Pure: bytes in, statements out.
//!
//! What the model guarantees, for every format read here:
//! - a statement is returned only if its opening balance plus its booked movements equals its
//!   closing balance, to the cent; otherwise the whole file is refused ([`BankError::Unbalanced`])
//!   so nothing of a file that does not add up is ever imported. Where the format gives no
//!   opening balance (OFX, a CSV export without a balance column) the opening is derived so the
//!   statement adds up: such a file cannot be checked, and its module says so;
//! - amounts are [`Money`] in EUR with at most two decimals, never rounded: a file with another
//!   currency or more decimals is refused, naming the element;
//! - every transaction has a [`Transaction::bank_id`] that is the same each time the same
//!   statement (or one overlapping it) is read, so an importer can skip what it has seen;
//! - a batched entry (one booking for several transfers) gives one transaction per transfer,
//!   and their amounts add up to the booking.
//!
//! Formats: [`camt`] (ISO 20022 CAMT.053, versions .001.02 to .001.08), [`cfonb`] (the French
//! CFONB 120 "relevé de compte"), [`ofx`] (OFX 1.x in SGML and 2.x in XML) and [`csv`] (a bank's
//! CSV export, read through a [`csv::CsvMapping`]). [`read`] tells them apart by their content.
//! What each format cannot give (OFX has no opening balance, a CSV export may have no balance at
//! all) is said in its module, and in `docs/bank-formats.md`.

pub mod camt;
pub mod cfonb;
pub mod csv;
pub mod matching;
pub mod ofx;
mod xml;

use std::borrow::Cow;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::payref::{self, PaymentReference};

/// One account statement: a period of one account, from its opening to its closing balance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// The bank's identifier of the statement (CAMT `Stmt/Id`); made from the account and the
    /// dates by formats that have none (CFONB, OFX, CSV: see their modules).
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
    #[error(
        "not a bank statement Ardoise reads: {found} (expected ISO 20022 camt.053.001.02 to .08, \
         CFONB 120, OFX 1.x or 2.x, or a CSV export with its column mapping)"
    )]
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

/// The formats [`read`] recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Format {
    /// ISO 20022 CAMT.053, see [`camt`].
    Camt053,
    /// CFONB 120 "relevé de compte", see [`cfonb`].
    Cfonb120,
    /// OFX 1.x (SGML) or 2.x (XML), see [`ofx`].
    Ofx,
    /// A CSV export read with a [`csv::CsvMapping`], see [`csv`].
    Csv,
}

/// Reads a bank file whatever its format, told by its content, not its name: an XML document
/// in a camt.053 namespace is CAMT; `OFXHEADER:`, `<?OFX` or `<OFX>` is OFX; lines (or one
/// stream) of 120 characters starting with a record code `01`, `04`, `05` or `07` are CFONB;
/// anything else is read as CSV when a mapping is given (a CSV export has no signature), and
/// refused as [`BankError::UnknownFormat`] otherwise. The guarantees of this module hold for
/// every format, within what the format says (see each reader).
pub fn read(input: &[u8], csv: Option<&self::csv::CsvMapping>) -> Result<(Format, Vec<Statement>), BankError> {
    read_any(input, csv)
}

/// [`read`] for a command line: a mapping given as the text of its JSON file. A mapping that
/// does not parse is refused before the statement is read.
pub fn read_with_mapping(input: &[u8], mapping: Option<&str>) -> Result<(Format, Vec<Statement>), BankError> {
    let mapping = mapping
        .map(|m| {
            self::csv::CsvMapping::from_json(m).map_err(|e| BankError::Malformed {
                element: "CSV mapping".into(),
                line: e.line(),
                reason: e.to_string(),
            })
        })
        .transpose()?;
    read_any(input, mapping.as_ref())
}

fn read_any(input: &[u8], csv: Option<&self::csv::CsvMapping>) -> Result<(Format, Vec<Statement>), BankError> {
    let bytes = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let head = &bytes[start..bytes.len().min(start + 4096)];
    let head_upper = head.to_ascii_uppercase();
    let contains = |needle: &[u8]| head_upper.windows(needle.len()).any(|w| w == needle);
    if head_upper.starts_with(b"OFXHEADER") || contains(b"<?OFX") || contains(b"<OFX>") {
        return Ok((Format::Ofx, ofx::parse(input)?));
    }
    if head.starts_with(b"<") {
        return Ok((Format::Camt053, camt::parse(input)?));
    }
    if cfonb::looks_like(input) {
        return Ok((Format::Cfonb120, cfonb::parse(input)?));
    }
    if let Some(mapping) = csv {
        return Ok((Format::Csv, self::csv::parse(input, mapping)?));
    }
    let first_line = String::from_utf8_lossy(head.split(|&b| b == b'\n').next().unwrap_or_default());
    let shown: String = first_line.trim_end().chars().take(40).collect();
    Err(BankError::UnknownFormat {
        found: if shown.is_empty() { "an empty file".to_owned() } else { format!("a file starting {shown:?}") },
    })
}

/// A text file's content: UTF-8 when it is valid UTF-8 (a byte-order mark skipped), else
/// Windows-1252, the superset of Latin-1 that French banks' "ISO-8859-1" files really are.
/// A Latin-1 text that happens to be valid UTF-8 would need sequences like "Ã©": not seen in
/// bank files, so no declared charset is trusted over the bytes.
pub(crate) fn decode_text(input: &[u8]) -> Cow<'_, str> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    match std::str::from_utf8(input) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(input).0,
    }
}

/// Whether `text` has the shape of an IBAN (country, check digits, up to 30 letters or digits)
/// and its check digits are right (ISO 13616, mod 97).
pub(crate) fn is_iban(text: &str) -> bool {
    let b = text.as_bytes();
    (15..=34).contains(&b.len())
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..4].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && iban_mod97(&text[4..], &text[..4]) == 1
}

/// The remainder by 97 of `body` then `tail` with letters as numbers (A = 10 ... Z = 35).
fn iban_mod97(body: &str, tail: &str) -> u32 {
    body.chars().chain(tail.chars()).fold(0u32, |acc, c| {
        let v = c.to_digit(36).unwrap_or(0);
        if v >= 10 { (acc * 100 + v) % 97 } else { (acc * 10 + v) % 97 }
    })
}

/// The French IBAN of a RIB (bank code, branch code, account number as French statements give
/// them), with the RIB key computed, or `None` when the parts do not have the RIB's shape.
/// The key is 97 - (89 bank + 15 branch + 3 account) mod 97, letters of the account counted
/// as the RIB counts them (A and J as 1, B, K and S as 2 ...).
pub(crate) fn french_iban(bank: &str, branch: &str, account: &str) -> Option<String> {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(bank, 5) || !digits(branch, 5) || account.len() != 11 {
        return None;
    }
    let mut acct = 0u64;
    for c in account.chars() {
        let v = match c {
            '0'..='9' => c as u64 - '0' as u64,
            'A'..='I' => c as u64 - 'A' as u64 + 1,
            'J'..='R' => c as u64 - 'J' as u64 + 1,
            'S'..='Z' => c as u64 - 'S' as u64 + 2,
            _ => return None,
        };
        acct = acct * 10 + v;
    }
    let (b, g): (u64, u64) = (bank.parse().ok()?, branch.parse().ok()?);
    let key = 97 - (89 * b + 15 * g + 3 * acct) % 97;
    let bban = format!("{bank}{branch}{account}{key:02}");
    let check = 98 - iban_mod97(&bban, "FR00");
    Some(format!("FR{check:02}{bban}"))
}

/// Turns the hash contents left in `bank_id` by a reader (transactions with [`IdSource::Hash`])
/// into ids: `h:` and the hash of the account, the content and how many transactions before it
/// in the statement say all the same, as [`camt`] does, so two identical fees of one day stay two.
pub(crate) fn finish_hash_ids(account: Option<&str>, transactions: &mut [Transaction]) {
    let mut seen = std::collections::HashMap::new();
    for t in transactions.iter_mut().filter(|t| t.id_source == IdSource::Hash) {
        let n = seen.entry(t.bank_id.clone()).or_insert(0u32);
        t.bank_id = camt::hash_id(account, &t.bank_id, *n);
        *n += 1;
    }
}

/// Joins the non-empty texts with a space, `None` when there is none.
pub(crate) fn join_texts<'a>(parts: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let parts: Vec<&str> = parts.into_iter().map(str::trim).filter(|p| !p.is_empty()).collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

#[cfg(test)]
mod tests;

/// What taking statements into a ledger did (`Store::import_statements`), as `ardoise bank
/// import --json` prints it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record), uniffi(name = "BankImport"))]
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
#[cfg_attr(feature = "uniffi", derive(uniffi::Record), uniffi(name = "BankLine"))]
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
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum), uniffi(name = "BankLineState"))]
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

/// The id of a bank transaction kept in a shop's ledger: the same on every device that imports
/// it or receives it by sync, so one transaction is one line everywhere.
pub fn line_id(account: &str, bank_id: &str) -> uuid::Uuid {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update("bank line")
        .chain_update([0])
        .chain_update(account)
        .chain_update([0])
        .chain_update(bank_id)
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
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
