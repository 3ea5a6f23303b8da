//! Sync with the back office across the FFI: enrol with a one-time code, sync, and the status
//! the shop sees. `enrol` and `sync` are async (Kotlin `suspend`, Swift `async`) and run on
//! uniffi's tokio runtime; the protocol, retries and merge rules live in `ardoise_core::sync`.
//!
//! The store is lent to the core's client one short call at a time (`StoreAccess`), never
//! across a network call: the till keeps selling while a sync waits on the network. The
//! device token stays inside the till's database; nothing here returns it.

use std::sync::atomic::{AtomicBool, Ordering};

use ardoise_core as core;
use core::Uuid;
use core::store::SyncStatus;
use core::sync::client::{Client, RetryPolicy, StoreAccess, SyncReport};

use crate::{ArdoiseError, Result, State, Till};

/// The back office this till now belongs to (the core's enrolment less its token, which never
/// leaves the till's database).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Enrolment {
    pub shop_id: Uuid,
    pub server_url: String,
}

/// The till's store, lent to the client for one short call at a time. Remembers whether the
/// till was found closed or suspended, so that the caller gets `Closed` rather than a
/// sync error.
struct Lent<'a> {
    till: &'a Till,
    closed: AtomicBool,
}

impl StoreAccess for Lent<'_> {
    fn with_store<R>(&self, f: impl FnOnce(&core::Store) -> core::Result<R>) -> core::Result<R> {
        match &*self.till.shared() {
            State::Open(store) => f(store),
            State::Suspended | State::Closed => {
                self.closed.store(true, Ordering::Relaxed);
                Err(core::Error::Sync {
                    code: "closed".into(),
                    message: "the till was closed or suspended".into(),
                    retryable: true,
                })
            }
        }
    }
}

impl<'a> Lent<'a> {
    /// Lends an open till; `Closed` at once, before any network call, when it is not.
    fn new(till: &'a Till) -> Result<Self> {
        till.with(|_| Ok(()))?;
        Ok(Lent { till, closed: AtomicBool::new(false) })
    }

    /// The outcome of a call that had the store lent: `Closed` when the till was closed or
    /// suspended meanwhile (the events stay in the outbox either way).
    fn finish<T>(&self, outcome: core::Result<T>) -> Result<T> {
        outcome.map_err(|e| {
            if self.closed.load(Ordering::Relaxed) {
                ArdoiseError::Closed {
                    message: "the till was closed or suspended during the sync; resume() and sync again".into(),
                }
            } else {
                e.into()
            }
        })
    }
}

fn client() -> Result<Client> {
    Ok(Client::new(RetryPolicy::default())?)
}

/// The till's clock, for the writes a sync makes (its status, the offline guard).
fn now() -> core::Now {
    chrono::Local::now().fixed_offset()
}

#[uniffi::export(async_runtime = "tokio")]
impl Till {
    /// Joins the back office at `server_url` (https://..., plain http only on localhost) with
    /// a one-time code from the shop's admin. Everything recorded so far will be pushed at the
    /// next `sync()`, and the shop's data pulled. A used or expired code fails with
    /// `SyncRefused`; no network, with `Unreachable`.
    pub async fn enrol(&self, server_url: String, code: String, device_name: String) -> Result<Enrolment> {
        let _one_at_a_time = self.syncing.lock().await;
        let lent = Lent::new(self)?;
        let outcome = client()?.enrol(&lent, &server_url, &code, &device_name, now()).await;
        let enrolment = lent.finish(outcome)?;
        Ok(Enrolment { shop_id: enrolment.shop_id, server_url: enrolment.server_url })
    }

    /// Pushes every event waiting here, then pulls the shop's changes until up to date. The
    /// store is not locked while waiting on the network. On failure nothing is lost: the
    /// events wait, `syncStatus().failures` grows, and the error says why (`Unreachable`: try
    /// later; `SyncRefused`: it needs someone; `NotEnrolled`: call `enrol()` first). Calls on
    /// one till run one after the other.
    pub async fn sync(&self) -> Result<SyncReport> {
        let _one_at_a_time = self.syncing.lock().await;
        let lent = Lent::new(self)?;
        let outcome = client()?.sync(&lent, &now).await;
        lent.finish(outcome)
    }
}

#[uniffi::export]
impl Till {
    /// Whether this till is enrolled, when it last synced, what waits and whether it is stuck.
    pub fn sync_status(&self) -> Result<SyncStatus> {
        self.with(|s| s.sync_status())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn till() -> (tempfile::TempDir, std::sync::Arc<Till>) {
        let dir = tempfile::tempdir().unwrap();
        let till = Till::open(dir.path().join("till.db").display().to_string()).unwrap();
        (dir, till)
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    }

    #[test]
    fn a_till_must_be_enrolled_and_open_to_sync() {
        let (_dir, till) = till();
        assert!(matches!(block_on(till.sync()), Err(ArdoiseError::NotEnrolled { .. })));
        let status = till.sync_status().unwrap();
        assert!(!status.enrolled && status.server_url.is_none() && status.last_success.is_none());
        till.suspend().unwrap();
        assert!(matches!(block_on(till.sync()), Err(ArdoiseError::Closed { .. })));
        let enrol = till.enrol("http://127.0.0.1:9".into(), "CODE".into(), "Till".into());
        assert!(matches!(block_on(enrol), Err(ArdoiseError::Closed { .. })));
        assert!(matches!(till.sync_status(), Err(ArdoiseError::Closed { .. })));
    }

    #[test]
    fn enrolling_needs_https_away_from_this_machine_and_a_reachable_server() {
        let (_dir, till) = till();
        let plain = till.enrol("http://shop.example".into(), "CODE".into(), "Till".into());
        assert!(matches!(block_on(plain), Err(ArdoiseError::InvalidInput { .. })));
        // A loopback port nobody listens on: refused at once, retried, then `Unreachable`.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let down = till.enrol(format!("http://127.0.0.1:{port}"), "CODE".into(), "Till".into());
        let err = block_on(down).unwrap_err();
        assert!(matches!(err, ArdoiseError::Unreachable { .. }), "{err:?}");
        assert!(!till.sync_status().unwrap().enrolled);
    }
}
