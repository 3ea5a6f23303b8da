//! The core's error type: every failure a caller can act on, typed; storage errors wrapped.

use crate::checkout::Verdict;
use crate::money::{Money, MoneyError};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Amount(#[from] MoneyError),
    #[error("{field} must be more than zero, got {amount}")]
    NotPositive { field: &'static str, amount: Money },
    #[error("invalid date {0:?}: expected YYYY-MM-DD")]
    InvalidDate(String),
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// The shop's identity lacks what a legal document must state: every missing field is named.
    #[error("the shop's identity is incomplete for a {document}: set {} (ardoise shop set)", .missing.join(", "))]
    IdentityIncomplete { document: &'static str, missing: Vec<&'static str> },
    #[error("unknown customer {0:?}")]
    UnknownCustomer(String),
    #[error("a customer with reference {0:?} already exists")]
    DuplicateCustomer(String),
    #[error("unknown invoice {0:?}")]
    UnknownInvoice(String),
    #[error("invoice {0:?} already exists")]
    DuplicateInvoice(String),
    #[error("invoice {invoice:?} is already settled")]
    InvoiceSettled { invoice: String },
    #[error("unknown entry {0:?}")]
    UnknownEntry(String),
    /// An unknown ladder, dispute, reminder...: `what` names the kind.
    #[error("unknown {what} {id:?}")]
    NotFound { what: &'static str, id: String },
    #[error("entry {0} cannot be reversed: {1}")]
    NotReversible(String, &'static str),
    #[error("{requested} of deposit requested but only {available} is available")]
    InsufficientDeposit { requested: Money, available: Money },
    #[error("sale on account refused: {}", .0.summary())]
    Refused(Box<Verdict>),
    #[error("could not open the database at {path}: {source} (the file was left untouched)")]
    Open {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    /// The file is empty, not SQLite, or SQLite written by something other than Ardoise: it is
    /// refused like a missing one, never taken for a new empty shop nor migrated.
    #[error("{path} is not an Ardoise database: {reason} (the file was left untouched)")]
    NotArdoise { path: String, reason: String },
    #[error(
        "the database has schema version {found}, newer than the {supported} this version of Ardoise knows; update the app (the file was left untouched)"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    /// A file to import has bad lines: all of them are listed, and nothing was written.
    #[error("{file} file not imported, nothing was written: {}", import_summary(errors))]
    Import { file: &'static str, errors: Vec<crate::import::LineError> },
    /// A penalty needs a rate for a half-year the rate tables do not cover yet: nothing is
    /// claimed on a guessed rate; the owner updates the tables first.
    #[error(
        "the {table} table does not cover {year} H{half} (checked through {checked_through}): update the rate tables before claiming penalties for it"
    )]
    StaleRates { table: &'static str, year: i32, half: u8, checked_through: chrono::NaiveDate },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    #[error("this till is not enrolled with a back office yet")]
    NotEnrolled,
    /// The back office answered with an error, or could not be reached. Nothing was lost:
    /// the events wait in the outbox.
    #[error("sync failed ({code}): {message}")]
    Sync { code: String, message: String, retryable: bool },
}

fn import_summary(errors: &[crate::import::LineError]) -> String {
    let shown: Vec<String> = errors.iter().take(5).map(|e| format!("line {}: {}", e.line, e.message)).collect();
    let more = errors.len().saturating_sub(5);
    if more > 0 { format!("{}; and {more} more", shown.join("; ")) } else { shown.join("; ") }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Corrupt(e.to_string())
    }
}

/// Parses an ISO date strictly (`2026-11-23`), the one form every API and CLI flag takes.
pub fn parse_date(input: &str) -> Result<chrono::NaiveDate> {
    let ok_shape = input.len() == 10 && input.as_bytes()[4] == b'-' && input.as_bytes()[7] == b'-';
    if !ok_shape {
        return Err(Error::InvalidDate(input.to_owned()));
    }
    chrono::NaiveDate::parse_from_str(input, "%Y-%m-%d").map_err(|_| Error::InvalidDate(input.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_strict_iso() {
        assert_eq!(parse_date("2024-02-29").unwrap().to_string(), "2024-02-29");
        for bad in ["2023-02-29", "23-11-2026", "2026-1-5", "2026/11/23", "", "2026-11-23T10:00", "tomorrow"] {
            assert!(matches!(parse_date(bad), Err(Error::InvalidDate(_))), "{bad}");
        }
    }
}
