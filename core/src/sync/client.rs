//! The till's sync client: enrols with a one-time code, pushes the outbox in batches, pulls the
//! shop's changes page by page until up to date, and retries with backoff and jitter. It never
//! drops an event: whatever fails, the outbox keeps it for the next attempt.

use std::time::Duration;

use rand::Rng;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::protocol::{
    ChangesResponse, EnrolRequest, EnrolResponse, ErrorBody, MAX_PAGE, MAX_PUSH_EVENTS, PROTOCOL_VERSION, PushRequest,
    PushResponse,
};
use crate::error::{Error, Result};
use crate::store::{Enrolment, Now, Store, SyncStatus};

/// Something that lends the store for a moment: the client never holds it across a network
/// call, so the till keeps selling while a sync runs.
pub trait StoreAccess: Send + Sync {
    fn with_store<R>(&self, f: impl FnOnce(&Store) -> Result<R>) -> Result<R>;
}

impl StoreAccess for Store {
    fn with_store<R>(&self, f: impl FnOnce(&Store) -> Result<R>) -> Result<R> {
        f(self)
    }
}

impl StoreAccess for std::sync::Mutex<Store> {
    fn with_store<R>(&self, f: impl FnOnce(&Store) -> Result<R>) -> Result<R> {
        f(&self.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

/// How hard one call tries before the sync gives up until next time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base: Duration,
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { attempts: 4, base: Duration::from_millis(200), max: Duration::from_secs(5) }
    }
}

impl RetryPolicy {
    /// Exponential backoff with full jitter: many tills coming back online at once do not
    /// all knock at the same moment.
    fn delay(&self, attempt: u32) -> Duration {
        let cap = self.base.saturating_mul(1u32 << attempt.min(16)).min(self.max);
        let ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(0..=ms))
    }
}

/// What one sync did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncReport {
    pub pushed: u32,
    /// Events the back office refused this time (see `SyncStatus.rejected`).
    pub rejected: u32,
    pub pulled: u32,
    pub applied: u32,
    /// The server was restored from a backup and this till resent its history.
    pub epoch_reset: bool,
    pub status: SyncStatus,
}

#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    policy: RetryPolicy,
}

enum Failure {
    /// The server answered with a protocol error.
    Answer(StatusCode, ErrorBody),
    Network(String),
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Error {
        match f {
            Failure::Answer(status, body) => Error::Sync {
                code: body.error,
                message: format!("{} ({status})", body.message),
                retryable: status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS,
            },
            Failure::Network(message) => Error::Sync { code: "network".into(), message, retryable: true },
        }
    }
}

impl Client {
    pub fn new(policy: RetryPolicy) -> Result<Client> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("ardoise-till/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Sync { code: "client".into(), message: e.to_string(), retryable: false })?;
        Ok(Client { http, policy })
    }

    /// Trades a one-time code from the shop's admin for this till's token, and remembers it.
    pub async fn enrol<S: StoreAccess>(
        &self,
        store: &S,
        server_url: &str,
        code: &str,
        device_name: &str,
        now: Now,
    ) -> Result<Enrolment> {
        let base = normalise(server_url)?;
        let device_id = store.with_store(|s| Ok(s.device_id()))?;
        let req = EnrolRequest { code: code.trim().to_owned(), device_id, device_name: device_name.to_owned() };
        let resp: EnrolResponse = self.call(|| self.http.post(format!("{base}/v1/enrol")).json(&req)).await?;
        let e = Enrolment { server_url: base, shop_id: resp.shop_id, token: resp.token, epoch: resp.epoch };
        store.with_store(|s| s.set_enrolment(&e, now))?;
        Ok(e)
    }

    /// Pushes everything waiting, then pulls until up to date. `clock` gives the till's time
    /// for each write, so that the status and the offline guard see when it happened.
    pub async fn sync<S: StoreAccess>(&self, store: &S, clock: &(dyn Fn() -> Now + Sync)) -> Result<SyncReport> {
        // Not enrolled is a state, not a failed sync: nothing to count.
        store.with_store(|s| s.enrolment())?.ok_or(Error::NotEnrolled)?;
        let outcome = self.sync_once(store, clock).await;
        let status = store.with_store(|s| {
            match &outcome {
                Ok(_) => s.record_sync(Ok(()), clock())?,
                Err(e) => s.record_sync(Err(&e.to_string()), clock())?,
            }
            s.sync_status()
        })?;
        outcome.map(|mut r| {
            r.status = status;
            r
        })
    }

    async fn sync_once<S: StoreAccess>(&self, store: &S, clock: &(dyn Fn() -> Now + Sync)) -> Result<SyncReport> {
        let mut report = SyncReport::default();
        // A new epoch restarts both halves; twice in one sync means something is wrong.
        for _ in 0..3 {
            let e = store.with_store(|s| s.enrolment())?.ok_or(Error::NotEnrolled)?;
            match self.push_all(store, &e, clock, &mut report).await {
                Err(Failure::Answer(StatusCode::CONFLICT, b)) if b.error == "epoch_changed" => {
                    self.new_epoch(store, b, &mut report)?;
                    continue;
                }
                Err(f) => return Err(f.into()),
                Ok(()) => {}
            }
            match self.pull_all(store, &e, clock, &mut report).await {
                Err(Failure::Answer(StatusCode::CONFLICT, b)) if b.error == "epoch_changed" => {
                    self.new_epoch(store, b, &mut report)?;
                    continue;
                }
                // This till read a history the server no longer holds (it was restored from a
                // backup): it alone starts over, under the same epoch, pulling everything and
                // pushing its whole outbox again (the server acknowledges what it still has).
                Err(Failure::Answer(StatusCode::CONFLICT, b))
                    if b.error == "cursor_ahead" || b.error == "history_differs" =>
                {
                    let epoch = b.epoch.unwrap_or(e.epoch);
                    self.new_epoch(store, ErrorBody { epoch: Some(epoch), ..b }, &mut report)?;
                    continue;
                }
                Err(f) => return Err(f.into()),
                Ok(()) => return Ok(report),
            }
        }
        Err(Error::Sync {
            code: "epoch_changed".into(),
            message: "the server changed epoch again during the resync".into(),
            retryable: true,
        })
    }

    fn new_epoch<S: StoreAccess>(&self, store: &S, b: ErrorBody, report: &mut SyncReport) -> Result<()> {
        let epoch = b.epoch.ok_or_else(|| Error::Sync {
            code: "epoch_changed".into(),
            message: "the server changed epoch without saying which".into(),
            retryable: false,
        })?;
        report.epoch_reset = true;
        store.with_store(|s| s.reset_epoch(epoch))
    }

    async fn push_all<S: StoreAccess>(
        &self,
        store: &S,
        e: &Enrolment,
        clock: &(dyn Fn() -> Now + Sync),
        report: &mut SyncReport,
    ) -> std::result::Result<(), Failure> {
        loop {
            let (device_id, events) =
                store.with_store(|s| Ok((s.device_id(), s.push_batch(MAX_PUSH_EVENTS)?))).map_err(local)?;
            let Some(last) = events.last().map(|ev| ev.seq) else { return Ok(()) };
            let acked_through = events[0].seq - 1;
            let req = PushRequest { epoch: e.epoch, device_id, events, acked_through };
            let url = format!("{}/v1/push", e.server_url);
            let resp: std::result::Result<PushResponse, Failure> =
                self.call(|| self.http.post(&url).bearer_auth(&e.token).json(&req)).await;
            match resp {
                Ok(r) => {
                    report.pushed += u32::try_from(r.acked_through.min(last).saturating_sub(req.events[0].seq) + 1)
                        .unwrap_or(u32::MAX);
                    report.rejected += u32::try_from(r.rejected.len()).unwrap_or(u32::MAX);
                    let progressed = r.acked_through >= req.events[0].seq;
                    store.with_store(|s| s.acknowledge(&r, clock())).map_err(local)?;
                    if !progressed {
                        return Err(Failure::Network("the server acknowledged nothing".into()));
                    }
                }
                // The server expects another sequence: it lost events (restored) or this till
                // did; either way, resume from where the server stands.
                Err(Failure::Answer(StatusCode::CONFLICT, b)) if b.error == "sequence_gap" => {
                    let Some(expected) = b.expected else { return Err(Failure::Answer(StatusCode::CONFLICT, b)) };
                    store.with_store(|s| s.rewind_ack(expected.saturating_sub(1))).map_err(local)?;
                    if expected > last + 1 {
                        return Err(Failure::Answer(StatusCode::CONFLICT, b));
                    }
                }
                Err(f) => return Err(f),
            }
        }
    }

    async fn pull_all<S: StoreAccess>(
        &self,
        store: &S,
        e: &Enrolment,
        clock: &(dyn Fn() -> Now + Sync),
        report: &mut SyncReport,
    ) -> std::result::Result<(), Failure> {
        loop {
            let (after, at) = store.with_store(|s| s.sync_position()).map_err(local)?;
            // This till's own events would only be skipped here: the server leaves them out (a
            // server without the option sends them, and `apply_changes` skips them).
            let mut url = format!(
                "{}/v1/changes?after={after}&limit={MAX_PAGE}&epoch={}&exclude_own=true",
                e.server_url, e.epoch
            );
            if let Some(at) = at {
                url.push_str(&format!("&at={at}"));
            }
            let page: ChangesResponse = self.call(|| self.http.get(&url).bearer_auth(&e.token)).await?;
            if page.epoch != e.epoch {
                return Err(Failure::Answer(
                    StatusCode::CONFLICT,
                    ErrorBody {
                        error: "epoch_changed".into(),
                        message: "the server answered from another epoch".into(),
                        expected: None,
                        epoch: Some(page.epoch),
                    },
                ));
            }
            report.pulled += u32::try_from(page.changes.len()).unwrap_or(u32::MAX);
            let applied = store
                .with_store(|s| s.apply_changes_at(&page.changes, page.next, page.next_event, clock()))
                .map_err(local)?;
            report.applied += applied.applied;
            // A page of only this till's events is empty but still moves `next`.
            if page.next >= page.head || (page.changes.is_empty() && page.next <= after) {
                return Ok(());
            }
        }
    }

    /// One request, retried on network errors (including a body cut or timed out while it
    /// was read), 5xx and 429 with backoff and jitter. Retrying a push is safe: the server
    /// acknowledges a repeated event without applying it again.
    async fn call<T: DeserializeOwned>(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> std::result::Result<T, Failure> {
        let mut attempt = 0;
        loop {
            let (outcome, retryable) =
                match build().header("Ardoise-Protocol", PROTOCOL_VERSION.to_string()).send().await {
                    Ok(resp) if resp.status().is_success() => match resp.bytes().await {
                        Ok(body) => match serde_json::from_slice::<T>(&body) {
                            Ok(v) => return Ok(v),
                            // The whole body arrived and is not what the protocol says: asking
                            // again would get the same.
                            Err(e) => (Failure::Network(format!("unreadable answer: {e}")), false),
                        },
                        Err(e) => (Failure::Network(format!("answer cut off: {}", chain(&e))), true),
                    },
                    Ok(resp) => {
                        let status = resp.status();
                        let body = resp.json::<ErrorBody>().await.unwrap_or_else(|_| ErrorBody {
                            error: "http".into(),
                            message: format!("the server answered {status}"),
                            expected: None,
                            epoch: None,
                        });
                        let retryable = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
                        (Failure::Answer(status, body), retryable)
                    }
                    Err(e) => (Failure::Network(chain(&e)), true),
                };
            attempt += 1;
            if !retryable || attempt >= self.policy.attempts {
                return Err(outcome);
            }
            tokio::time::sleep(self.policy.delay(attempt)).await;
        }
    }
}

/// An error with its causes: reqwest's own message ("error decoding response body") hides
/// whether it was a timeout or a reset.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

fn local(e: Error) -> Failure {
    Failure::Network(format!("local store: {e}"))
}

/// `https://host[:port]` without a trailing slash; plain http only for this machine (tests,
/// the demo): a till's token never crosses a network in clear.
fn normalise(url: &str) -> Result<String> {
    let url = url.trim().trim_end_matches('/');
    let local = ["http://127.0.0.1", "http://localhost", "http://[::1]"].iter().any(|p| {
        url.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with(':') || rest.starts_with('/'))
    });
    if (url.starts_with("https://") && url.len() > 8) || local {
        Ok(url.to_owned())
    } else {
        Err(Error::Invalid {
            field: "server url",
            reason: format!("{url:?}: use https://host (http only on localhost)"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_under_its_cap() {
        let p = RetryPolicy { attempts: 10, base: Duration::from_millis(100), max: Duration::from_secs(1) };
        for attempt in 0..40 {
            assert!(p.delay(attempt) <= Duration::from_secs(1));
        }
    }

    #[test]
    fn server_urls_are_https_except_on_this_machine() {
        assert_eq!(normalise("https://shop.example/").unwrap(), "https://shop.example");
        assert_eq!(normalise("http://127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080");
        assert!(normalise("http://shop.example").is_err());
        assert!(normalise("http://localhost.evil.example").is_err());
        assert!(normalise("ftp://x").is_err());
    }

    /// A local server that answers `200` with a body promised longer than it sends, then hangs
    /// up, for the first `cut` requests; then the whole body.
    async fn cutting_server(cut: u32) -> (String, std::sync::Arc<std::sync::atomic::AtomicU32>) {
        use std::sync::atomic::{AtomicU32, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let served = std::sync::Arc::new(AtomicU32::new(0));
        let count = served.clone();
        tokio::spawn(async move {
            loop {
                let (mut sock, _) = listener.accept().await.unwrap();
                let n = count.fetch_add(1, Ordering::SeqCst);
                let mut buf = vec![0u8; 8192];
                let _ = sock.read(&mut buf).await;
                let body = r#"{"ok":true}"#;
                let answer = if n < cut {
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n{}",
                        &body[..5]
                    )
                } else {
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    )
                };
                sock.write_all(answer.as_bytes()).await.unwrap();
                sock.shutdown().await.ok();
            }
        });
        (format!("http://{addr}/v1/status"), served)
    }

    fn quick(attempts: u32) -> Client {
        Client::new(RetryPolicy { attempts, base: Duration::from_millis(1), max: Duration::from_millis(5) }).unwrap()
    }

    #[tokio::test]
    async fn an_answer_cut_off_while_read_is_asked_again() {
        let (url, served) = cutting_server(2).await;
        let client = quick(4);
        let got = client.call::<serde_json::Value>(|| client.http.get(&url)).await;
        let Ok(v) = got else { panic!("three attempts should have read the whole answer") };
        assert_eq!(v, serde_json::json!({"ok": true}));
        assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_body_cut_on_every_attempt_fails_with_its_cause() {
        let (url, served) = cutting_server(u32::MAX).await;
        let client = quick(2);
        match client.call::<serde_json::Value>(|| client.http.get(&url)).await {
            Err(Failure::Network(message)) => {
                assert!(message.starts_with("answer cut off"), "{message}");
                // reqwest's own words and at least one cause below them.
                assert!(message.matches(": ").count() >= 2, "{message}");
            }
            Err(Failure::Answer(status, _)) => panic!("not an answer: {status}"),
            Ok(_) => panic!("no attempt had the whole body"),
        }
        assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
