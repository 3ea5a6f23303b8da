//! The owner's view: reports as of any date, risk scores, imports, exports and GDPR requests.

pub(in crate::store) mod bank;
pub(in crate::store) mod export;
pub(in crate::store) mod import;
pub(in crate::store) mod privacy;
pub(in crate::store) mod reports;
pub(in crate::store) mod risk;
#[cfg(test)]
mod tests;
pub(in crate::store) mod today;
