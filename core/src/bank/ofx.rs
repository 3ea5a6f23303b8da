//! OFX (placeholder).
use super::{BankError, Statement};
pub fn parse(_input: &[u8]) -> Result<Vec<Statement>, BankError> {
    Err(BankError::UnknownFormat { found: "OFX".into() })
}
