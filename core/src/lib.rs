//! Ardoise core: customers' credit accounts at the till, offline first.
//!
//! The API is the [`Store`] (one SQLite file per device) and the pure domain types it takes and
//! returns. Rules take the current time as an argument, so aging and verdicts are testable.

pub mod account;
pub mod bank;
pub mod checkout;
pub mod customer;
pub mod document;
pub mod dunning;
pub mod entry;
pub mod error;
#[cfg(feature = "uniffi")]
pub mod ffi;
pub mod identity;
pub mod import;
pub mod money;
pub mod payref;
pub mod report;
pub mod risk;
pub mod search;
pub mod shop;
pub mod store;
pub mod sync;
pub(crate) mod text;

pub use checkout::{CheckoutRules, Decision, Reason, Verdict};
pub use customer::{Customer, CustomerKind, CustomerPatch, NewCustomer, Terms};
pub use entry::{Effect, Entry, EntryBody, PaymentMethod};
pub use error::{Error, Result, parse_date};
pub use identity::{LegalDocument, ShopIdentity};
pub use money::{Money, MoneyError};
pub use payref::PaymentReference;
pub use shop::ReminderSettings;
pub use store::{
    AccountSummary, DepositHeld, EntryRequest, Now, OpenInvoice, OutboxEvent, Override, Recorded, SaleRequest,
    ShopSettings, Store, TimelineEvent,
};
/// Entry and customer ids, re-exported so callers need no uuid dependency of their own.
pub use uuid::Uuid;

// The types that cross the FFI as they are derive uniffi where they are defined, into this
// namespace (`ardoise_core`); the bindings' `Till` and calls are in theirs.
#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("ardoise_core");
