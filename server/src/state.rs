//! What every request shares (the database, the rate limiter) and how the server is run (TLS,
//! the rate limit): built once at start, read by the handlers and the middleware.

use std::sync::Arc;

use crate::db::Db;
use crate::dispatch::Dispatcher;
use crate::limits::{Limiter, Quota, RateLimit};
use crate::tls::TlsFiles;

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub(crate) limiter: Arc<Limiter>,
    pub(crate) quota: Quota,
    /// Records what payment providers report, through the shops' merged copies; `None` on a
    /// process run without the dispatcher, which then answers provider webhooks 503 (the
    /// provider retries, and the load balancer finds another process).
    pub(crate) dispatcher: Option<Arc<Dispatcher>>,
}

impl AppState {
    pub fn new(db: Db, rate: RateLimit) -> AppState {
        AppState { db, limiter: Arc::new(Limiter::new(rate)), quota: Quota::default(), dispatcher: None }
    }

    /// Another quota per device than the default.
    pub fn with_quota(self, quota: Quota) -> AppState {
        AppState { quota, ..self }
    }

    /// The dispatcher that records payments reported by providers' webhooks.
    pub fn with_dispatcher(self, dispatcher: Option<Arc<Dispatcher>>) -> AppState {
        AppState { dispatcher, ..self }
    }
}

/// How to serve: TLS or plain (behind a terminating proxy, or in tests), the rate limit and
/// the quota per device.
#[derive(Clone, Debug, Default)]
pub struct ServeConfig {
    pub tls: Option<TlsFiles>,
    pub rate: RateLimit,
    pub quota: Quota,
    /// Records payments reported by providers' webhooks (the process's reminder dispatcher).
    pub dispatcher: Option<Arc<Dispatcher>>,
}
