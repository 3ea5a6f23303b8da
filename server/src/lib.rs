//! Ardoise back office: one log of events per shop, filled by the tills' pushes and read back
//! by their pulls (see `ardoise_core::sync::protocol` for the messages).

pub mod admin;
pub mod app;
pub mod auth;
pub mod changes;
pub mod db;
pub mod dispatch;
pub mod error;
pub mod extract;
pub mod limits;
pub mod push;
pub mod send;
pub mod tls;

pub use admin::DeviceInfo;
pub use app::{AppState, ServeConfig, Serving, Stopper, router, serve};
pub use auth::Caller;
pub use db::{Backend, Db, Shop, connect};
pub use error::{ApiError, Error, Result};
pub use limits::RateLimit;
pub use tls::TlsFiles;
