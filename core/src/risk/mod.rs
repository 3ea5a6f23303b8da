//! Late-payment risk: the probability that a customer's next invoice is paid after its due date.
//!
//! Pure and time-injected: every function takes the date `as_of` and ignores whatever was recorded
//! after it, so a score computed today can be replayed later and gives the same answer (no
//! look-ahead). The model is a small logistic regression over a handful of named features of the
//! customer's own history, fitted on the device from the shop's own invoices ([`Model::train`]) and
//! shrunk toward a prior ([`Model::default_prior`]) while the shop has little history. Each score
//! comes with the two or three features that pushed it most, said in words ([`Risk::reasons`]).
//!
//! The timing feature needs the shop's settlement habits (how much later a disputed invoice is
//! settled, the spread of settlement days around a customer's own mean): they are estimated from
//! the shop's history known on the training date ([`Habits::estimate`]), like the weights, and kept
//! in the model. Training featurises each labelled invoice as of the day before its issue with one
//! chronological sweep per customer, O(n log n) in the number of invoices.
//!
//! Measured on the IBM accounts-receivable sample (see the `ibm_protocol` test): score every
//! invoice issued on or after 2013-06-09 with the state as of the day before its issue date,
//! label = paid after its due date. ROC AUC 0.878 (608 invoices; 0.874 through the store, which
//! scores the customer without the next invoice's amount), against 0.863 for the customer's past
//! late share alone and 0.883 published for a logistic regression; the target of 0.88 is
//! not reached (the difference is within the noise of 608 invoices: one standard error is about
//! 0.015). Features tried since were chosen on a validation inside the training period only
//! (invoices issued 2012-09-01 to 2013-05-08, each scored as of its eve, labels all known by
//! 2013-06-08): an empirical-Bayes late share (beta prior fitted by maximum likelihood), a
//! per-customer spread, an open invoice's days past the customer's usual settlement day, a
//! recency-weighted late share, the amount relative to the usual one: none moved the validation
//! AUC (0.8695) by more than 0.001. A shop-wide drift of settlement days (-4 days a year on the
//! IBM sample) improved the validation's log loss (0.441 to 0.428) and AUC (+0.002) but not the
//! evaluation's AUC, and took the weight off the late share, whose reason the cashier reads: not
//! kept. A third round of about 30 variants on the same validation (now the `ibm_validation` test;
//! docs/PERFORMANCE.md lists them) found one that cleared its bar, a timing risk from the last six
//! settlements, and it lost on the evaluation (0.868): not kept either. The scored invoice's own
//! dispute flag is never read.

mod features;
mod metrics;
mod model;
#[cfg(test)]
mod tests;

pub use features::{Features, Habits, InvoiceFact, Next, features};
pub use metrics::roc_auc;
pub use model::{FEATURE_NAMES, Model, Risk};
