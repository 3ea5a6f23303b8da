//! Ardoise back office: one log of events per shop, filled by the tills' pushes and read back
//! by their pulls (see `ardoise_core::sync::protocol` for the messages), and the reminder
//! dispatcher that works on it.
//!
//! Layers, each using only those below it (`tests/tests/module_cycles.rs` keeps it so):
//! `app` (routes, middleware, serving) over `api::*` (one module per endpoint) and `web` (the
//! owner's pages and the payment page); `dispatch`
//! and `admin` beside them; `log` (a shop's log as units of work) and `rules` (the checks on
//! events) under them; `db::*` (the SQL, one module per concern, on SQLite and PostgreSQL)
//! under those; `state`, `caller`, `extract`, `limits`, `secret`, `tls` and `error` as leaves.

pub mod admin;
mod api;
pub mod app;
pub mod caller;
pub mod db;
pub mod dispatch;
pub mod error;
pub mod extract;
pub mod limits;
mod log;
pub mod pay;
mod rules;
mod secret;
pub mod send;
pub mod state;
pub mod tls;
pub mod web;

pub use app::{Serving, Stopper, router, serve};
pub use caller::Caller;
pub use db::devices::DeviceInfo;
pub use db::events::RejectionInfo;
pub use db::shops::Shop;
pub use db::{Backend, Db, connect};
pub use error::{ApiError, Error, Result};
pub use limits::{Quota, RateLimit};
pub use state::{AppState, ServeConfig};
pub use tls::TlsFiles;
