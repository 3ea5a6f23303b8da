//! The till: customers, the ledger's validation and fold, and the account reads behind the
//! checkout verdict.

pub(in crate::store) mod accounts;
pub(in crate::store) mod customer_rows;
pub(in crate::store) mod customers;
pub(in crate::store) mod ledger;
#[cfg(test)]
mod props;
pub(in crate::store) mod sale;
#[cfg(test)]
pub(in crate::store) mod tests;
pub(in crate::store) mod verdict;
