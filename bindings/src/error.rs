//! The public error of the FFI: a few kinds a till app can act on, mapped from the core's
//! errors in this one place. Every variant carries a message a cashier or developer can read.

use ardoise_core::Error as Core;

/// Crosses as a flat error: Kotlin and Swift get one exception class per variant whose message
/// is the readable text below (uniffi would otherwise print it as `message=...`).
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum ArdoiseError {
    /// Malformed amount or date, a field out of range, a value that must be positive.
    #[error("{message}")]
    InvalidInput { message: String },
    /// Unknown customer, invoice or entry.
    #[error("{message}")]
    NotFound { message: String },
    /// The request is well formed but the account does not allow it (duplicate reference,
    /// invoice already settled, deposit not available, entry not reversible).
    #[error("{message}")]
    Conflict { message: String },
    /// A sale on account the checkout refused; the message gives every reason (`check()` gives
    /// the full verdict).
    #[error("{message}")]
    Refused { message: String },
    /// The till was closed, or is suspended: call `resume()` or open it again.
    #[error("{message}")]
    Closed { message: String },
    /// The database could not be opened, read or written. The file is never deleted.
    #[error("{message}")]
    Storage { message: String },
    /// `sync()` before `enrol()`: this till does not belong to a back office yet.
    #[error("{message}")]
    NotEnrolled { message: String },
    /// The back office could not be reached, or is busy or failing (network down, timeout,
    /// server error, too many requests). Nothing was lost: the events wait here; sync later.
    #[error("{message}")]
    Unreachable { message: String },
    /// The back office refused: an unknown, expired or already used enrolment code, a revoked
    /// till, an incompatible version. Retrying will not help; the message says what will.
    #[error("{message}")]
    SyncRefused { message: String },
}

impl From<Core> for ArdoiseError {
    fn from(e: Core) -> Self {
        let message = e.to_string();
        match e {
            Core::Amount(_)
            | Core::NotPositive { .. }
            | Core::InvalidDate(_)
            | Core::Invalid { .. }
            | Core::Import { .. }
            | Core::IdentityIncomplete { .. } => ArdoiseError::InvalidInput { message },
            Core::UnknownCustomer(_) | Core::UnknownInvoice(_) | Core::UnknownEntry(_) | Core::NotFound { .. } => {
                ArdoiseError::NotFound { message }
            }
            Core::DuplicateCustomer(_)
            | Core::DuplicateInvoice(_)
            | Core::InvoiceSettled { .. }
            | Core::NotReversible(..)
            | Core::InsufficientDeposit { .. }
            | Core::StaleRates { .. } => ArdoiseError::Conflict { message },
            Core::Refused(_) => ArdoiseError::Refused { message },
            Core::Open { .. }
            | Core::NotArdoise { .. }
            | Core::SchemaTooNew { .. }
            | Core::Sqlite(_)
            | Core::Corrupt(_) => ArdoiseError::Storage { message },
            Core::NotEnrolled => ArdoiseError::NotEnrolled { message },
            Core::Sync { retryable: true, .. } => ArdoiseError::Unreachable { message },
            Core::Sync { retryable: false, .. } => ArdoiseError::SyncRefused { message },
        }
    }
}

pub(crate) fn invalid(message: impl Into<String>) -> ArdoiseError {
    ArdoiseError::InvalidInput { message: message.into() }
}

pub type Result<T, E = ArdoiseError> = std::result::Result<T, E>;
