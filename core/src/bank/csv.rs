//! CSV (placeholder).
use super::{BankError, Statement};
#[derive(Debug, Clone, serde::Deserialize)]
pub struct CsvMapping {}
pub fn parse(_input: &[u8], _m: &CsvMapping) -> Result<Vec<Statement>, BankError> {
    Err(BankError::UnknownFormat { found: "CSV".into() })
}
