//! Late-payment risk: the probability that a customer's next invoice is paid after its due date.
//!
//! Pure and time-injected: every function takes the date `as_of` and ignores whatever was recorded
//! after it, so a score computed today can be replayed later and gives the same answer (no
//! look-ahead). The model is a small logistic regression over a handful of named features of the
//! customer's own history, fitted on the device from the shop's own invoices ([`Model::train`]) and
//! shrunk toward a prior ([`Model::default_prior`]) while the shop has little history. Each score
//! comes with the two or three features that pushed it most, said in words ([`Risk::reasons`]).
//!
//! Measured on the IBM accounts-receivable sample (see the `ibm_protocol` test): score every
//! invoice issued on or after 2013-06-09 with the state as of the day before its issue date,
//! label = paid after its due date. ROC AUC 0.878 (608 invoices), against 0.863 for the
//! customer's past late share alone and 0.883 published for a logistic regression; the issue's
//! target of 0.88 is not reached (the difference is within the noise of 608 invoices: one
//! standard error is about 0.015). The scored invoice's own dispute flag is never read.

mod features;
mod metrics;
mod model;
#[cfg(test)]
mod tests;

pub use features::{Features, Habits, InvoiceFact, features};
pub use metrics::roc_auc;
pub use model::{FEATURE_NAMES, Model, Risk};
