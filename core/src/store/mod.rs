//! The SQLite store: one file per till, WAL, one writer and readers beside it (`handle`), every
//! write one unit of work (`write`) with its outbox rows. Its folders follow the sections of
//! docs/ARCHITECTURE.md: `till`, `sync`, `reminders`, `owner`, over the data-access layer `db`.
//! Inside the store, items are imported from the module that defines them, never through the
//! re-exports below, so that no module imports in a circle (a test checks it).

mod audit;
mod check;
mod db;
mod handle;
mod owner;
mod reminders;
mod sync;
mod till;
mod write;

pub use crate::shop::ShopSettings;
pub use check::{CheckReport, check_database};
pub use db::schema::VERSION as SCHEMA_VERSION;
pub use db::values::Now;
pub use handle::Store;
pub use owner::export::ExportKind;
pub use owner::privacy::Erasure;
pub use owner::reports::{Dashboard, OverdueAccount, OverdueSort};
pub use owner::risk::CustomerRisk;
pub use owner::today::{BrokenPromise, Task, Today};
pub use reminders::followup::{CallOutcome, Dispute, DisputeResolution, PlanView, Promise, ReminderHold, TimelineItem};
pub use reminders::queue::{ReminderRecord, ReminderState};
pub use reminders::run::RunReport;
pub use sync::incoming::{Incoming, Reference, check_event};
pub use sync::outbox::OutboxEvent;
pub use sync::state::{ApplyReport, Enrolment, STUCK_AFTER, SyncStatus};
pub use till::accounts::{AccountSummary, DepositHeld, OpenInvoice, Override, TimelineEvent};
pub use till::ledger::{EntryRequest, Recorded, SaleRequest};
