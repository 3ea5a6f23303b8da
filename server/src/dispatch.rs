//! The back office's reminder dispatcher. For each shop it keeps a merged copy of every till's
//! ledger (an ardoise-core store fed from the shop's log, acting as the server's own device),
//! runs the reminder ladder once a day, and after a grace period re-checks each queued
//! reminder against that merged ledger before sending it: a payment synced from any till
//! cancels it. Delivery results go back into the log, so every device sees them.
//!
//! Several server processes may share one database, each with its own merged copies (and so
//! its own server device per shop): before a day's run or a send, the process claims it in the
//! shared database (`db::claims`), so each happens once whichever process gets there first.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use ardoise_core::bank::{Import as BankImport, Line, LineState, Statement};
use ardoise_core::dunning::ladder::{Channel as StepChannel, StepKind};
use ardoise_core::dunning::penalty::RateTables;
use ardoise_core::store::{AccountSummary, Enrolment, Now, ReminderRecord, ReminderState, Store};
use ardoise_core::{EntryRequest, Money, PaymentMethod, PaymentReference, Recorded};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::db::claims::{self, Claim, Outcome};
use crate::db::reminder_links::{self, ReminderLink};
use crate::db::{Db, now_ms, providers, shops};
use crate::error::{Error, Result};
use crate::log;
use crate::pay::{self, PayApis, Provider, Session, SessionRequest};
use crate::secret::{new_link_token, sha256_hex};
use crate::send::{Channel, Outgoing, SendError, TransportConfig, Transports};

/// How the dispatcher works; read from the server's configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DispatchConfig {
    /// Where the merged copies live (derived data: rebuilt from the log when missing).
    pub data_dir: PathBuf,
    /// A reminder waits this long after it was queued, so that a payment taken at a till
    /// that was offline has a chance to arrive first.
    pub grace_minutes: i64,
    /// Run the shop's reminder ladder once a day on the merged ledger.
    pub run_ladder: bool,
    pub transports: TransportConfig,
}

/// What one round did for one shop.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchReport {
    pub applied: u32,
    pub queued_by_ladder: u32,
    pub sent: u32,
    pub cancelled: u32,
    pub failed: u32,
    /// Still queued: not due yet, in their grace period, a transient failure, or a task for
    /// a person (phone call, word at the till).
    pub waiting: u32,
    /// Held back at the last check for the owner: the rate tables do not cover a half-year
    /// their penalties need (`ardoise-server rates set`).
    #[serde(default)]
    pub held: u32,
    /// Customers the daily run could not process (a reminder that cannot be written, a debt
    /// the rate tables cannot price): each is logged with its reason; nothing is queued for
    /// them until the owner acts.
    #[serde(default)]
    pub not_processed: u32,
    /// Sent or failed by another server process on the same database: only its outcome was
    /// recorded here.
    #[serde(default)]
    pub done_elsewhere: u32,
}

impl DispatchReport {
    fn add(&mut self, o: &DispatchReport) {
        self.applied += o.applied;
        self.queued_by_ladder += o.queued_by_ladder;
        self.sent += o.sent;
        self.cancelled += o.cancelled;
        self.failed += o.failed;
        self.waiting += o.waiting;
        self.held += o.held;
        self.not_processed += o.not_processed;
        self.done_elsewhere += o.done_elsewhere;
    }
}

struct ShopCopy {
    store: Arc<RwLock<Store>>,
    /// The copy's own device id: this process's name in the shop's log, and in its claims.
    device: Uuid,
    epoch: Uuid,
    ladder_ran: Option<NaiveDate>,
    /// The log's head when this copy last had all of it: while the log's head is still that,
    /// a write through `on_copy` needs no catch-up (a burst of webhooks does it once).
    seen_head: Option<u64>,
}

/// How long a claim holds off the other processes: longer than any send takes (the SMTP and
/// SMS timeouts are 30 s and 15 s), short enough that a process that died holding claims
/// does not delay its reminders much.
pub const DEFAULT_CLAIM_LEASE: Duration = Duration::from_secs(300);

#[derive(Debug)]
pub struct Dispatcher {
    db: Db,
    cfg: DispatchConfig,
    transports: Transports,
    lease_ms: i64,
    shops: tokio::sync::Mutex<HashMap<Uuid, ShopCopyHandle>>,
    /// Where the payment providers' APIs are, for the sessions a reminder links to.
    pay: PayApis,
    /// Answers of [`Dispatcher::read_merged_cached`], by shop and name.
    answers: Mutex<HashMap<(Uuid, &'static str), Answer>>,
}

/// A page's answer, good while its copy is the same store at the same revision on the same day.
/// The weak reference keeps the store's allocation, so a copy opened later is never taken for it.
struct Answer {
    store: std::sync::Weak<RwLock<Store>>,
    revision: u64,
    day: NaiveDate,
    value: Arc<dyn std::any::Any + Send + Sync>,
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer").field("revision", &self.revision).field("day", &self.day).finish_non_exhaustive()
    }
}

/// The per-shop state behind its own lock, so that shops are served independently.
#[derive(Clone)]
struct ShopCopyHandle(Arc<tokio::sync::Mutex<ShopCopy>>, Arc<AtomicUsize>, Arc<Mutex<Vec<PaidJob>>>);

/// A provider's payment waiting to be written with the others of its burst
/// ([`Dispatcher::record_paid`]), and where its outcome goes.
struct PaidJob {
    paid: Paid,
    answer: tokio::sync::oneshot::Sender<Result<PaidOutcome>>,
}

impl std::fmt::Debug for ShopCopyHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShopCopy")
    }
}

fn core(e: ardoise_core::Error) -> Error {
    Error::Internal(format!("merged ledger: {e}"))
}

/// Runs a store operation off the async threads: catching up can take a while.
async fn blocking<R: Send + 'static>(
    store: &Arc<RwLock<Store>>,
    f: impl FnOnce(&mut Store) -> ardoise_core::Result<R> + Send + 'static,
) -> Result<R> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || {
        let mut s = store.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut s)
    })
    .await
    .map_err(|e| Error::Internal(format!("dispatcher task: {e}")))?
    .map_err(core)
}

/// A payment the back office received, for [`Dispatcher::record_payment_once`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    /// The customer's reference, or their payment reference (RF...).
    pub customer: String,
    pub amount: Money,
    pub method: PaymentMethod,
    /// The invoice's reference, as printed.
    pub invoice: Option<String>,
    /// The day it was paid, if not today.
    pub date: Option<NaiveDate>,
}

/// [`blocking`] for an owner's action: what the core refuses (an unknown customer, an amount
/// a till would refuse) is the caller's mistake, told as such, not the dispatcher's failure.
async fn blocking_typed<R: Send + 'static>(
    store: &Arc<RwLock<Store>>,
    f: impl FnOnce(&mut Store) -> ardoise_core::Result<R> + Send + 'static,
) -> Result<R> {
    let store = Arc::clone(store);
    let r = tokio::task::spawn_blocking(move || {
        let mut s = store.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut s)
    })
    .await
    .map_err(|e| Error::Internal(format!("dispatcher task: {e}")))?;
    r.map_err(typed)
}

/// What the core refuses, as the caller's mistake (see [`blocking_typed`]).
fn typed(e: ardoise_core::Error) -> Error {
    match e {
        ardoise_core::Error::UnknownCustomer(id) => Error::not_found("customer", id),
        ardoise_core::Error::UnknownEntry(id) | ardoise_core::Error::UnknownInvoice(id) => {
            Error::not_found("invoice", id)
        }
        e @ (ardoise_core::Error::Invalid { .. }
        | ardoise_core::Error::NotPositive { .. }
        | ardoise_core::Error::InvalidDate(_)) => Error::Refused(crate::error::ApiError::malformed(e.to_string())),
        other => core(other),
    }
}

/// A payment a provider reported, for [`Dispatcher::record_paid`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paid {
    /// The provider and its id of the payment, remembered with whose it is
    /// (`provider_payments`) for its later refunds and disputes.
    pub provider: &'static str,
    pub payment: String,
    /// The entry's id, derived from the provider's.
    pub entry: Uuid,
    /// The customer's reference, or their payment reference (RF...).
    pub customer: String,
    pub amount: Money,
    /// The invoices the payment was asked for.
    pub invoices: Vec<String>,
}

/// What recording a [`Paid`] did: whether it was new, and the customer's reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaidOutcome {
    pub recorded: bool,
    pub customer: String,
}

/// Writes a burst of provider payments in one unit of work on the shop's copy: each aimed at
/// the one invoice it was asked for when it settles exactly what is left on it, else at the
/// oldest invoices first (the ledger's rule), any excess kept as credit.
fn record_burst(s: &Store, burst: Vec<Paid>, now: Now) -> ardoise_core::Result<Vec<ardoise_core::Result<PaidOutcome>>> {
    let mut out: Vec<Option<ardoise_core::Result<PaidOutcome>>> = Vec::with_capacity(burst.len());
    let mut items = Vec::new();
    let mut whose = Vec::new();
    for p in burst {
        let prepared = customer_reference(s, p.customer.clone()).and_then(|reference| {
            let invoice = aimed(s, &reference, &p.invoices, p.amount, now)?;
            Ok((reference, invoice))
        });
        match prepared {
            Ok((reference, invoice)) => {
                let req = EntryRequest::Payment { amount: p.amount, method: PaymentMethod::Online, invoice };
                items.push((p.entry, reference.clone(), req));
                whose.push((out.len(), reference));
                out.push(None);
            }
            Err(e) => out.push(Some(Err(e))),
        }
    }
    let recorded = s.record_once_each(items, "back office", now)?;
    for ((slot, customer), r) in whose.into_iter().zip(recorded) {
        out[slot] = Some(r.map(|r| PaidOutcome { recorded: r.is_some(), customer }));
    }
    Ok(out.into_iter().map(|r| r.expect("every slot filled")).collect())
}

/// The customer's reference from what a provider's metadata names: their reference or their
/// payment reference (RF...).
fn customer_reference(s: &Store, who: String) -> ardoise_core::Result<String> {
    match PaymentReference::parse(&who) {
        Ok(rf) => match s.customer_by_payment_reference(&rf)? {
            Some(c) => Ok(c.reference),
            None => Err(ardoise_core::Error::UnknownCustomer(who)),
        },
        Err(_) => Ok(who),
    }
}

/// The one invoice a payment was asked for, when it settles exactly what is left on it.
fn aimed(
    s: &Store,
    customer: &str,
    invoices: &[String],
    amount: Money,
    now: Now,
) -> ardoise_core::Result<Option<String>> {
    let [one] = invoices else { return Ok(None) };
    let account = s.account(customer, now.date_naive())?;
    Ok(account.open_invoices.iter().find(|i| &i.reference == one && i.remaining == amount).map(|i| i.reference.clone()))
}

impl Dispatcher {
    pub fn new(db: Db, cfg: DispatchConfig) -> Result<Dispatcher> {
        let transports =
            Transports::new(cfg.transports.clone()).map_err(|e| Error::Internal(e.message().to_owned()))?;
        std::fs::create_dir_all(&cfg.data_dir)
            .map_err(|e| Error::Internal(format!("{}: {e}", cfg.data_dir.display())))?;
        let lease_ms = lease_ms(DEFAULT_CLAIM_LEASE);
        Ok(Dispatcher {
            db,
            cfg,
            transports,
            lease_ms,
            shops: tokio::sync::Mutex::new(HashMap::new()),
            pay: PayApis::from_env(),
            answers: Mutex::new(HashMap::new()),
        })
    }

    /// Where the payment providers' APIs are, for this process.
    pub fn pay_apis(&self) -> &PayApis {
        &self.pay
    }

    /// Other addresses for the payment providers' APIs than the environment's (a stand-in in
    /// tests, `serve --stripe-api`).
    #[must_use]
    pub fn with_pay_apis(mut self, pay: PayApis) -> Dispatcher {
        self.pay = pay;
        self
    }

    /// How long this process's claims hold off the others (`DEFAULT_CLAIM_LEASE` otherwise).
    #[must_use]
    pub fn with_claim_lease(mut self, lease: Duration) -> Dispatcher {
        self.lease_ms = lease_ms(lease);
        self
    }

    /// One round over every shop.
    pub async fn run_once(&self, now: Now) -> Result<DispatchReport> {
        let ids = shops::ids(&mut *self.db.conn().await?).await?;
        let mut total = DispatchReport::default();
        for shop in ids {
            match self.run_shop(shop, now).await {
                Ok(r) => total.add(&r),
                // One shop's trouble must not stop the others' reminders.
                Err(e) => tracing::error!(%shop, error = %e, "reminder round failed"),
            }
        }
        Ok(total)
    }

    /// Runs rounds every `every` until the task is aborted.
    pub fn spawn(self: Arc<Self>, every: Duration, clock: fn() -> Now) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                match self.run_once(clock()).await {
                    Ok(r) if r.not_processed > 0 => tracing::warn!(
                        sent = r.sent,
                        cancelled = r.cancelled,
                        failed = r.failed,
                        not_processed = r.not_processed,
                        "reminders: some customers could not be processed (see the errors above)"
                    ),
                    Ok(r) if r.sent + r.cancelled + r.failed + r.done_elsewhere > 0 => tracing::info!(
                        sent = r.sent,
                        cancelled = r.cancelled,
                        failed = r.failed,
                        done_elsewhere = r.done_elsewhere,
                        "reminders"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "reminder round failed"),
                }
            }
        })
    }

    async fn copy_of(&self, shop: Uuid) -> Result<ShopCopyHandle> {
        let mut shops = self.shops.lock().await;
        if let Some(h) = shops.get(&shop) {
            return Ok(h.clone());
        }
        let mut copy = self.open_copy(shop).await?;
        // This process died during a day's run and another took the day over: what its copy
        // did not yet put into the log (that run's reminders and fees) must never reach it.
        let unpushed = !blocking(&copy.store, |s| s.push_batch(1)).await?.is_empty();
        if unpushed && claims::ladder_run_taken_from(&mut *self.db.conn().await?, shop, copy.device).await? {
            self.supersede(&mut copy, shop).await?;
        }
        let h = ShopCopyHandle(
            Arc::new(tokio::sync::Mutex::new(copy)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(Mutex::new(Vec::new())),
        );
        shops.insert(shop, h.clone());
        Ok(h)
    }

    async fn open_copy(&self, shop: Uuid) -> Result<ShopCopy> {
        let path = self.copy_path(shop);
        let store = tokio::task::spawn_blocking(move || Store::open(path))
            .await
            .map_err(|e| Error::Internal(e.to_string()))?
            .map_err(core)?;
        let store = Arc::new(RwLock::new(store));
        let (device, epoch) = blocking(&store, |s| Ok((s.device_id(), s.enrolment()?.map(|e| e.epoch)))).await?;
        Ok(ShopCopy { store, device, epoch: epoch.unwrap_or(Uuid::nil()), ladder_ran: None, seen_head: None })
    }

    fn copy_path(&self, shop: Uuid) -> PathBuf {
        self.cfg.data_dir.join(format!("{shop}.db"))
    }

    /// Sets a copy aside (renamed, kept for whoever wants to look) and starts a new one, a new
    /// device of the shop, which the next catch-up fills from the log. The copy is derived
    /// data: everything in it that counts is in the log or in the claims, except the events it
    /// never pushed, which are exactly what must be dropped.
    async fn supersede(&self, copy: &mut ShopCopy, shop: Uuid) -> Result<()> {
        let old = copy.device;
        // Closes the file before it is moved.
        copy.store = Arc::new(RwLock::new(Store::open_in_memory().map_err(core)?));
        let path = self.copy_path(shop);
        let aside = self.cfg.data_dir.join(format!("{shop}.superseded-{}.db", chrono::Utc::now().timestamp_millis()));
        for suffix in ["", "-wal", "-shm"] {
            let from = PathBuf::from(format!("{}{suffix}", path.display()));
            let to = PathBuf::from(format!("{}{suffix}", aside.display()));
            match std::fs::rename(&from, &to) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::Internal(format!("setting {} aside: {e}", from.display()))),
            }
        }
        *copy = self.open_copy(shop).await?;
        tracing::warn!(
            %shop,
            old_device = %old,
            new_device = %copy.device,
            aside = %aside.display(),
            "another process took over a reminder run of this one: its merged copy is set aside and rebuilt from the log"
        );
        Ok(())
    }

    /// Puts rate tables into the log of one shop, or of every shop, through each one's merged
    /// copy: every till receives them at its next sync (the settings row `rates`), so a new
    /// half-year reaches all tills without a release, and reminders held for want of it are
    /// queued again. Tables checked less recently than a shop's are refused for that shop.
    /// Returns the shops updated.
    pub async fn set_rates(&self, shop: Option<Uuid>, rates: &RateTables, now: Now) -> Result<Vec<Uuid>> {
        let ids = match shop {
            Some(s) => vec![s],
            None => shops::ids(&mut *self.db.conn().await?).await?,
        };
        for shop in &ids {
            let h = self.copy_of(*shop).await?;
            let mut copy = h.0.lock().await;
            self.join_epoch(&mut copy, *shop, now).await?;
            self.catch_up(&copy.store, *shop, now).await?;
            let rates = rates.clone();
            blocking(&copy.store, move |s| s.set_rates(&rates, now)).await?;
            self.push_outcomes(&copy.store, *shop, now).await?;
        }
        Ok(ids)
    }

    /// The back office records a payment it received (a bank transfer, an online payment) as
    /// an entry of its own device in the shop, through the same write path as a till: the
    /// merged copy first takes in everything the log holds, then records the payment (which
    /// rewrites the customer's queued reminders in the same transaction), and the entry goes
    /// into the log like any device's, to reach every till by sync once. If the log cannot be
    /// written now, the entry waits in the copy's outbox and goes with the next round: it is
    /// never lost nor recorded twice. `customer` is the customer's reference or their payment
    /// reference (RF...), `invoice` the invoice's reference as printed; a bad one, an unknown invoice or an amount a till would refuse
    /// changes nothing.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_payment(
        &self,
        shop: Uuid,
        customer: &str,
        amount: Money,
        method: PaymentMethod,
        invoice: Option<String>,
        date: Option<NaiveDate>,
        now: Now,
    ) -> Result<Recorded> {
        let payment = Payment { customer: customer.to_owned(), amount, method, invoice, date };
        let recorded = self.record_payment_once(shop, payment, None, now).await?;
        recorded.ok_or_else(|| Error::Internal("a payment under a new id was taken for a repeat".into()))
    }

    /// [`Dispatcher::record_payment`] under an id derived from where the payment comes from
    /// (a provider's session): `None` when that payment is already in the ledger, recorded by
    /// this process, another, or an earlier delivery of the same notification.
    pub async fn record_payment_once(
        &self,
        shop: Uuid,
        payment: Payment,
        id: Option<Uuid>,
        now: Now,
    ) -> Result<Option<Recorded>> {
        let Payment { customer, amount, method, invoice, date } = payment;
        let h = self.copy_of(shop).await?;
        let mut copy = h.0.lock().await;
        self.join_epoch(&mut copy, shop, now).await?;
        self.catch_up(&copy.store, shop, now).await?;
        let who = customer;
        let recorded = blocking_typed(&copy.store, move |s| {
            let reference = match PaymentReference::parse(&who) {
                Ok(rf) => match s.customer_by_payment_reference(&rf)? {
                    Some(c) => c.reference,
                    None => return Err(ardoise_core::Error::UnknownCustomer(who)),
                },
                Err(_) => who,
            };
            let req = EntryRequest::Payment { amount, method, invoice };
            match id {
                Some(id) => s.record_once(id, &reference, date, "back office", req, now),
                None => s.record(&reference, date, "back office", req, now).map(Some),
            }
        })
        .await?;
        self.push_outcomes(&copy.store, shop, now).await?;
        Ok(recorded)
    }

    /// Runs `f` on the shop's merged copy caught up with the log, then puts whatever it wrote
    /// into the log, as [`Dispatcher::record_payment_once`] does: the write path of what
    /// payment providers report (`pay::apply`). What the core refuses is the caller's mistake
    /// (`blocking_typed`).
    pub(crate) async fn on_copy<R: Send + 'static>(
        &self,
        shop: Uuid,
        now: Now,
        f: impl FnOnce(&mut Store) -> ardoise_core::Result<R> + Send + 'static,
    ) -> Result<R> {
        let h = self.copy_of(shop).await?;
        // The writes of `on_copy` waiting for this copy (a burst of webhooks).
        let waiting = Arc::clone(&h.1);
        waiting.fetch_add(1, Ordering::SeqCst);
        let mut copy = h.0.lock().await;
        waiting.fetch_sub(1, Ordering::SeqCst);
        let head = self.join_epoch(&mut copy, shop, now).await?;
        if copy.seen_head != Some(head) {
            self.catch_up(&copy.store, shop, now).await?;
            copy.seen_head = Some(head);
        }
        let r = blocking_typed(&copy.store, f).await;
        // Group commit: while other writes wait for the copy, what this one wrote stays in the
        // copy's outbox (on the disk already, never lost) and the last of them puts everything
        // into the log in one append; each push takes all that is unpushed. Even after a
        // refusal: what an earlier step of `f` wrote goes too.
        if waiting.load(Ordering::SeqCst) == 0 {
            // The log moves on by these events (and maybe a till's): the next write catches up.
            copy.seen_head = None;
            self.push_outcomes(&copy.store, shop, now).await?;
        }
        r
    }

    /// Records a payment a provider reported, once (`recorded: false` when its entry is
    /// already there). The payments of a burst are written together: each caller leaves its
    /// payment in the shop's queue, and whoever holds the copy next writes all that is queued in
    /// one unit of work (one commit instead of one per payment), answers each, and, the last
    /// of the burst, puts them into the log at once.
    pub(crate) async fn record_paid(&self, shop: Uuid, paid: Paid, now: Now) -> Result<PaidOutcome> {
        let h = self.copy_of(shop).await?;
        let (answer, outcome) = tokio::sync::oneshot::channel();
        h.2.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(PaidJob { paid, answer });
        let waiting = Arc::clone(&h.1);
        waiting.fetch_add(1, Ordering::SeqCst);
        let mut copy = h.0.lock().await;
        waiting.fetch_sub(1, Ordering::SeqCst);
        let jobs = std::mem::take(&mut *h.2.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        if !jobs.is_empty() {
            let (burst, answers): (Vec<Paid>, Vec<_>) = jobs.into_iter().map(|j| (j.paid, j.answer)).unzip();
            let written = match self.join_epoch(&mut copy, shop, now).await {
                Ok(head) if copy.seen_head == Some(head) => Ok(()),
                Ok(head) => self.catch_up(&copy.store, shop, now).await.map(|_| copy.seen_head = Some(head)),
                Err(e) => Err(e),
            };
            let asked = burst.clone();
            let written = match written {
                Ok(()) => blocking(&copy.store, move |s| record_burst(s, burst, now)).await,
                Err(e) => Err(e),
            };
            // Whose each payment is, in one transaction for the burst; until it is there a
            // refund of it is answered 409, so the answer waits for it.
            let written = match written {
                Ok(each) => self.remember_paid(shop, &asked, &each).await.map(|()| each),
                Err(e) => Err(e),
            };
            match written {
                Ok(each) => {
                    for (answer, r) in answers.into_iter().zip(each) {
                        // A caller that went away (its client hung up) is not waiting for it.
                        let _ = answer.send(r.map_err(typed));
                    }
                }
                Err(e) => {
                    for answer in answers {
                        let _ = answer.send(Err(Error::Internal(e.to_string())));
                    }
                }
            }
        }
        if waiting.load(Ordering::SeqCst) == 0 {
            copy.seen_head = None;
            self.push_outcomes(&copy.store, shop, now).await?;
        }
        drop(copy);
        // Answered by this caller above, or by the one that held the copy before it.
        outcome.await.map_err(|_| Error::Internal("a queued payment was dropped".into()))?
    }

    async fn remember_paid(
        &self,
        shop: Uuid,
        asked: &[Paid],
        each: &[ardoise_core::Result<PaidOutcome>],
    ) -> Result<()> {
        let mut tx = self.db.begin_write().await?;
        for (p, r) in asked.iter().zip(each) {
            if let Ok(o) = r {
                let known = providers::ProviderPayment {
                    customer: o.customer.clone(),
                    invoices: p.invoices.clone(),
                    amount_cents: p.amount.minor(),
                };
                providers::remember_payment(&mut tx, shop, p.provider, &p.payment, &known).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The shop's provider account that makes payment sessions (Stripe first, then Mollie), and
    /// its key.
    /// Whether the shop has an online payment provider's account (its payment page then
    /// offers to pay).
    pub async fn takes_online_payments(&self, shop: Uuid) -> Result<bool> {
        Ok(self.provider_of(shop).await?.is_some())
    }

    async fn provider_of(&self, shop: Uuid) -> Result<Option<(Provider, String)>> {
        let mut conn = self.db.conn().await?;
        for p in Provider::ALL {
            if let Some(key) = providers::secret_key(&mut conn, shop, p.as_str()).await? {
                return Ok(Some((p, key)));
            }
        }
        Ok(None)
    }

    /// A payment session for what `customer` owes now (`ardoise-server pay-link`), with the
    /// amount: the balance, for the open invoices. The same request on the same day gives the
    /// same session.
    pub async fn payment_session(&self, shop: Uuid, customer: &str, now: Now) -> Result<(Session, Money)> {
        let who = customer.to_owned();
        let (account, shop_name) = self
            .on_copy(shop, now, move |s| Ok((s.account(&who, now.date_naive())?, s.settings().shop_name.clone())))
            .await?;
        if !account.balance.is_positive() {
            return Err(Error::Refused(crate::error::ApiError::malformed(format!(
                "{customer} owes nothing (balance {} EUR)",
                account.balance
            ))));
        }
        let (provider, key) =
            self.provider_of(shop).await?.ok_or_else(|| Error::not_found("payment provider account for shop", shop))?;
        let invoices: Vec<String> = account.open_invoices.iter().map(|i| i.reference.clone()).collect();
        let key_of_day =
            format!("pay-link-{}-{}-{}", account.customer.reference, account.balance.minor(), now.date_naive());
        let req = session_request(shop, &account, &shop_name, invoices, account.balance, key_of_day);
        let session = pay::create_session(&self.pay, provider, &key, &req)
            .await
            .map_err(|e| Error::Internal(format!("payment session: {e}")))?;
        Ok((session, account.balance))
    }

    /// The payment link reminder `r` carries, when the shop has a provider account: its words
    /// are written again with it, and it is returned. By email or SMS a session is made for
    /// exactly what `r` asks (its principal, and for a formal notice what it claims on top),
    /// as the reminder leaves. With a public address the reminder then carries the back
    /// office's own link to it (`/r/{token}`, see [`Dispatcher::reminder_link`]) rather than
    /// the session's page, which the provider lets expire within a day while a reminder is
    /// read days later; a posted letter, read later still, gets that link and no session.
    /// When the provider cannot make the session (down, slow, refusing), the reminder goes as
    /// it was written, with the shop's link template or its "pay at the shop" words, and the
    /// log says so: a provider never holds a reminder back.
    async fn payment_link_for(
        &self,
        store: &Arc<RwLock<Store>>,
        shop: Uuid,
        r: &mut ReminderRecord,
        today: NaiveDate,
    ) -> Result<Option<String>> {
        let online = matches!(r.channel, StepChannel::Email | StepChannel::Sms);
        let posted = r.channel == StepChannel::Letter && self.pay.public_url.is_some();
        // Nobody to send it to: it will fail, and a session or a link made for it would be lost.
        if (!online && !posted) || r.recipient.as_deref().is_none_or(|to| to.trim().is_empty()) {
            return Ok(None);
        }
        let Some((provider, key)) = self.provider_of(shop).await? else { return Ok(None) };
        let amount = match r.kind {
            StepKind::Reminder => r.amount_due,
            StepKind::FormalNotice | StepKind::CourtFile => r.amount_due + r.penalties + r.indemnity,
        };
        if !amount.is_positive() {
            return Ok(None);
        }
        let session = if online {
            let who = r.customer_ref.clone();
            let (reference, shop_name) = blocking(store, move |s| {
                Ok((s.account(&who, today)?.payment_reference.as_str().to_owned(), s.settings().shop_name.clone()))
            })
            .await?;
            let req = SessionRequest {
                shop,
                customer: r.customer_ref.clone(),
                payment_reference: reference,
                invoices: r.invoices.clone(),
                amount,
                description: description(&shop_name, &r.invoices),
                // The amount in the key: a reminder rewritten after a part payment asks anew.
                idempotency_key: format!("reminder-{}-{}", r.id, amount.minor()),
            };
            match pay::create_session(&self.pay, provider, &key, &req).await {
                Ok(s) => Some(s),
                // With a stable link of ours, the session is made when the customer opens it:
                // a provider down at sending time costs the customer nothing.
                Err(e) if self.pay.public_url.is_some() => {
                    tracing::warn!(%shop, reminder = %r.id, provider = provider.as_str(), error = %e,
                        "no payment session yet: the reminder's link makes one when opened");
                    None
                }
                Err(e) => {
                    tracing::warn!(%shop, reminder = %r.id, provider = provider.as_str(), error = %e,
                        "no payment session: the reminder goes with the shop's own payment link (or its pay-at-the-shop words)");
                    return Ok(None);
                }
            }
        } else {
            None
        };
        let link = match (&self.pay.public_url, &session) {
            (Some(base), _) => {
                let token = new_link_token();
                let row = ReminderLink {
                    shop,
                    customer: r.customer_ref.clone(),
                    reminder: r.id,
                    amount_cents: amount.minor(),
                    invoices: r.invoices.clone(),
                };
                reminder_links::add(&mut *self.db.conn().await?, &sha256_hex(&token), &row, now_ms()).await?;
                format!("{base}/r/{token}")
            }
            (None, Some(s)) => s.url.clone(),
            (None, None) => return Ok(None),
        };
        let (id, words_link) = (r.id, link.clone());
        match blocking(store, move |s| s.reminder_words_with_link(id, &words_link, today)).await {
            Ok((subject, body)) => {
                r.subject = subject;
                r.body = body;
                let session = session.map(|s| s.id).unwrap_or_default();
                tracing::info!(%shop, reminder = %r.id, provider = provider.as_str(), %session, %amount, "payment link made for the reminder");
                Ok(Some(link))
            }
            Err(e) => {
                tracing::warn!(%shop, reminder = %r.id, error = %e, "the reminder could not be written with its payment link: it goes as it was");
                Ok(None)
            }
        }
    }

    /// Where a reminder's stable link (`/r/{token}`) leads now: `None` for a token no reminder
    /// was sent with; nothing to pay when the customer owes nothing any more; else a session
    /// of the shop's provider for what the reminder asked, or what is still owed when that is
    /// less (a part payment since). The session's key holds the reminder, the amount and the
    /// day: the link opened twice in a day gives the same session, the next day a fresh one
    /// (the provider's has expired by then). Nothing is written here.
    pub async fn reminder_link(&self, token: &str, now: Now) -> Result<Option<ReminderPay>> {
        let Some(link) = reminder_links::get(&mut *self.db.conn().await?, &sha256_hex(token)).await? else {
            return Ok(None);
        };
        let (who, today) = (link.customer.clone(), now.date_naive());
        let (account, shop_name) = self
            .read_merged(link.shop, now, move |s| Ok((s.account(&who, today)?, s.settings().shop_name.clone())))
            .await?;
        let amount = account.balance.min(Money::from_minor(link.amount_cents));
        if !amount.is_positive() {
            return Ok(Some(ReminderPay::NothingOwed { shop_name, language: account.customer.language }));
        }
        let (provider, key) = self
            .provider_of(link.shop)
            .await?
            .ok_or_else(|| Error::not_found("payment provider account for shop", link.shop))?;
        let open: Vec<String> = account.open_invoices.iter().map(|i| i.reference.clone()).collect();
        // The reminder's invoices still open; all that are open if those are all settled.
        let mut invoices: Vec<String> = link.invoices.iter().filter(|i| open.contains(i)).cloned().collect();
        if invoices.is_empty() {
            invoices = open;
        }
        let key_of_day = format!("reminder-link-{}-{}-{today}", link.reminder, amount.minor());
        let req = session_request(link.shop, &account, &shop_name, invoices, amount, key_of_day);
        let session = pay::create_session(&self.pay, provider, &key, &req)
            .await
            .map_err(|e| Error::Internal(format!("payment session: {e}")))?;
        Ok(Some(ReminderPay::Pay { session, amount }))
    }

    /// Takes in bank statements already read and checked, on the shop's merged copy caught up
    /// with the log (`Store::import_statements`: a certain credit becomes the customer's
    /// payment, once; the others are kept as suggestions or left), then puts the payments into
    /// the log: every till receives them once, and a statement imported again, by this process
    /// or another, records nothing twice.
    pub async fn import_statements(&self, shop: Uuid, statements: &[Statement], now: Now) -> Result<BankImport> {
        let statements = statements.to_vec();
        self.write_merged(shop, now, move |s| s.import_statements(&statements, "bank", now)).await
    }

    /// The shop's bank transactions as the back office imported them, newest first.
    pub async fn bank_lines(&self, shop: Uuid, state: Option<LineState>, limit: usize, now: Now) -> Result<Vec<Line>> {
        self.read_merged(shop, now, move |s| s.bank_lines(state, limit, 0)).await
    }

    /// The owner confirms whose payment a credit is (`Store::confirm_bank_match`); the
    /// payment reaches every till by sync.
    pub async fn confirm_bank_match(
        &self,
        shop: Uuid,
        transaction: String,
        customer: String,
        invoice: Option<String>,
        by: String,
        now: Now,
    ) -> Result<Line> {
        self.write_merged(shop, now, move |s| {
            s.confirm_bank_match(&transaction, &customer, invoice.as_deref(), &by, now)
        })
        .await
    }

    /// The owner undoes a match (`Store::undo_bank_match`): the reversal reaches every till.
    pub async fn undo_bank_match(&self, shop: Uuid, transaction: String, by: String, now: Now) -> Result<Line> {
        self.write_merged(shop, now, move |s| s.undo_bank_match(&transaction, &by, now)).await
    }

    /// First round, or the server was restored from a backup: the copy's cursors start over
    /// (events it already has are recognised and skipped).
    /// Returns the log's head as read.
    async fn join_epoch(&self, copy: &mut ShopCopy, shop: Uuid, now: Now) -> Result<u64> {
        let row = shops::get(&mut *self.db.conn().await?, shop).await?;
        let current = row.epoch;
        if copy.epoch != current {
            let e = Enrolment { server_url: "internal:".into(), shop_id: shop, token: String::new(), epoch: current };
            blocking(&copy.store, move |s| s.set_enrolment(&e, now)).await?;
            copy.epoch = current;
            copy.seen_head = None;
        }
        Ok(row.head)
    }

    /// This process's own device in a shop: the merged copy's device id, made when the copy
    /// was first created in this process's data folder. Two processes with their own folders
    /// are two devices of the shop, each numbering its own events; what they must not both do
    /// (send a reminder, run a day's ladder) they claim in the database first.
    pub async fn device_of(&self, shop: Uuid) -> Result<Uuid> {
        let h = self.copy_of(shop).await?;
        let copy = h.0.lock().await;
        Ok(copy.device)
    }

    /// One round for one shop: catch up with the log, run the ladder (once a day), send what
    /// is due, and put the outcomes back into the log.
    pub async fn run_shop(&self, shop: Uuid, now: Now) -> Result<DispatchReport> {
        let clock = ClaimClock::new(now);
        let h = self.copy_of(shop).await?;
        let mut copy = h.0.lock().await;
        let mut report = DispatchReport::default();
        self.join_epoch(&mut copy, shop, now).await?;
        // A process killed after writing to its copy left those events unpushed: they go
        // first, so that a day's reminder run this process did is in the log for the others.
        self.push_outcomes(&copy.store, shop, now).await?;
        let queued_before: Vec<Uuid> =
            blocking(&copy.store, |s| s.reminders(Some(ReminderState::Queued), None, 100_000))
                .await?
                .into_iter()
                .map(|r| r.id)
                .collect();
        report.applied += self.catch_up(&copy.store, shop, now).await?;
        // A payment synced since the last round may have cancelled some already.
        for id in queued_before {
            if blocking(&copy.store, move |s| s.reminder(id)).await?.state == ReminderState::Cancelled {
                report.cancelled += 1;
            }
        }
        if self.cfg.run_ladder
            && copy.ladder_ran != Some(now.date_naive())
            && !self.run_ladder(&mut copy, shop, now, clock, &mut report).await?
        {
            return Ok(report);
        }
        let queued = blocking(&copy.store, |s| s.reminders(Some(ReminderState::Queued), None, 100_000)).await?;
        let grace = chrono::Duration::minutes(self.cfg.grace_minutes);
        for r in queued {
            let created = blocking(&copy.store, {
                let id = r.id;
                move |s| s.reminder_created_at(id)
            })
            .await?;
            let in_grace = created.is_some_and(|c| c + grace > now.to_utc());
            if r.not_before > now
                || in_grace
                || !matches!(r.channel, StepChannel::Email | StepChannel::Sms | StepChannel::Letter)
            {
                report.waiting += 1;
                continue;
            }
            self.send_one(&copy, shop, r.id, now, clock, &mut report).await?;
        }
        self.push_outcomes(&copy.store, shop, now).await?;
        Ok(report)
    }

    /// The day's reminder run, by the one process that claims it: it queues reminders and
    /// charges fees, which two processes running it on their own copies would both do under
    /// different ids. The others get its reminders through the log.
    ///
    /// False when the copy was set aside (another process took the day over): the round stops
    /// there, and the next one starts the new copy from the log.
    async fn run_ladder(
        &self,
        copy: &mut ShopCopy,
        shop: Uuid,
        now: Now,
        clock: ClaimClock,
        report: &mut DispatchReport,
    ) -> Result<bool> {
        let day = now.date_naive().to_string();
        let claim =
            claims::claim_ladder_run(&mut *self.db.conn().await?, shop, &day, copy.device, clock.ms(), self.lease_ms)
                .await?;
        match claim {
            Claim::Won => {}
            Claim::Done(()) => {
                copy.ladder_ran = Some(now.date_naive());
                return Ok(true);
            }
            // Another process is running it; its reminders arrive with a later round.
            Claim::Busy { .. } => return Ok(true),
        }
        let run = blocking(&copy.store, move |s| s.run_dunning(now)).await?;
        // The run took longer than the lease and another process took the day over: its run,
        // not this one, is the day's.
        let still_ours =
            claims::renew_ladder_run(&mut *self.db.conn().await?, shop, &day, copy.device, clock.ms(), self.lease_ms)
                .await?;
        if !still_ours {
            self.supersede(copy, shop).await?;
            return Ok(false);
        }
        report.queued_by_ladder = u32::try_from(run.queued.len()).unwrap_or(u32::MAX);
        report.not_processed = u32::try_from(run.errors.len()).unwrap_or(u32::MAX);
        for e in &run.errors {
            // The error begins with the customer's reference (see RunReport::errors).
            tracing::error!(%shop, error = %e, "a customer could not be processed by the reminder run");
        }
        // Done only once the run is in the log: a process dying before that leaves the claim
        // to run out, and whoever takes it over runs the day on a copy that has the rest.
        self.push_outcomes(&copy.store, shop, now).await?;
        claims::finish_ladder_run(&mut *self.db.conn().await?, shop, &day, clock.ms()).await?;
        copy.ladder_ran = Some(now.date_naive());
        Ok(true)
    }

    /// Claims one due reminder, checks it again, sends it and records the outcome: first in the
    /// shared claim (so no process sends it again, this one after a restart included), then in
    /// the copy, which puts it into the log. A reminder another process finished is only
    /// recorded.
    async fn send_one(
        &self,
        copy: &ShopCopy,
        shop: Uuid,
        id: Uuid,
        now: Now,
        clock: ClaimClock,
        report: &mut DispatchReport,
    ) -> Result<()> {
        let claim =
            claims::claim_reminder(&mut *self.db.conn().await?, shop, id, copy.device, clock.ms(), self.lease_ms)
                .await?;
        match claim {
            Claim::Won => {}
            Claim::Busy { holder, .. } => {
                tracing::debug!(%shop, reminder = %id, %holder, "reminder being sent by another process");
                report.waiting += 1;
                return Ok(());
            }
            Claim::Done(outcome) => {
                report.done_elsewhere += 1;
                return self.record(&copy.store, id, &outcome, now).await;
            }
        }
        // Anything synced since the last look could have paid it.
        report.applied += self.catch_up(&copy.store, shop, now).await?;
        let r = blocking(&copy.store, move |s| s.recheck_reminder(id, now)).await?;
        match r.state {
            ReminderState::Queued => {}
            ReminderState::Held => {
                tracing::warn!(%shop, reminder = %id, reason = r.state_note.as_deref().unwrap_or(""), "reminder held for the owner");
                report.held += 1;
                claims::release_reminder(&mut *self.db.conn().await?, shop, id, copy.device).await?;
                return Ok(());
            }
            // Cancelled here, so on every copy that catches up: nobody will claim it again.
            _ => {
                report.cancelled += 1;
                claims::release_reminder(&mut *self.db.conn().await?, shop, id, copy.device).await?;
                return Ok(());
            }
        }
        let mut r = r;
        let link = self.payment_link_for(&copy.store, shop, &mut r, now.date_naive()).await?;
        let sent = match self.outgoing(&copy.store, &r, now.date_naive(), link).await? {
            Ok(o) => self.transports.send(&o).await,
            Err(e) => Err(e),
        };
        let outcome = match sent {
            Ok(d) => {
                report.sent += 1;
                Outcome::Sent {
                    at_ms: d.at.timestamp_millis(),
                    detail: format!("sent {}: {}", d.at.format("%Y-%m-%d %H:%M UTC"), d.detail),
                }
            }
            Err(SendError::Permanent(m)) => {
                report.failed += 1;
                Outcome::Failed { at_ms: clock.ms(), reason: format!("not delivered: {m}") }
            }
            Err(SendError::Transient(m)) => {
                tracing::warn!(%shop, reminder = %id, error = %m, "reminder delivery will be retried");
                report.waiting += 1;
                claims::release_reminder(&mut *self.db.conn().await?, shop, id, copy.device).await?;
                return Ok(());
            }
        };
        // Should this fail, the claim stays open: when its lease ends the reminder is sent
        // again with the same idempotency key, which the receiving side recognises.
        let earlier = claims::finish_reminder(&mut *self.db.conn().await?, shop, id, &outcome).await?;
        if let Some(earlier) = &earlier {
            // Our lease ran out during a slow send and another process sent it too, under the
            // same idempotency key; the first outcome recorded is the one every copy shows.
            tracing::warn!(%shop, reminder = %id, "reminder finished by another process while this one sent it");
            return self.record(&copy.store, id, earlier, now).await;
        }
        self.record(&copy.store, id, &outcome, now).await
    }

    /// Writes a reminder's outcome into the copy (and from there into the log), unless the
    /// copy already moved it on (another process's record arrived through the log).
    async fn record(&self, store: &Arc<RwLock<Store>>, id: Uuid, outcome: &Outcome, now: Now) -> Result<()> {
        let (state, note) = match outcome {
            Outcome::Sent { detail, .. } => (ReminderState::Sent, detail.clone()),
            Outcome::Failed { reason, .. } => (ReminderState::Failed, reason.clone()),
        };
        blocking(store, move |s| {
            if s.reminder(id)?.state != ReminderState::Queued {
                return Ok(());
            }
            s.set_reminder_state(id, state, Some(&note), now).map(|_| ())
        })
        .await
    }

    /// What goes out for `r`, or why nothing can: no recipient, or a formal notice whose
    /// document cannot be written (the shop's identity is incomplete), a fault to fix and not
    /// to retry blindly.
    async fn outgoing(
        &self,
        store: &Arc<RwLock<Store>>,
        r: &ReminderRecord,
        today: chrono::NaiveDate,
        link: Option<String>,
    ) -> Result<std::result::Result<Outgoing, SendError>> {
        let no_recipient =
            || SendError::Permanent(r.state_note.clone().unwrap_or_else(|| "no recipient for this channel".into()));
        let Some(recipient) = r.recipient.clone() else { return Ok(Err(no_recipient())) };
        let channel = match r.channel {
            StepChannel::Email => Channel::Email,
            StepChannel::Sms => Channel::Sms,
            StepChannel::Letter => Channel::Letter,
            _ => return Ok(Err(no_recipient())),
        };
        let settings = blocking(store, |s| Ok(s.settings().clone())).await?;
        let document = if channel == Channel::Sms {
            None
        } else {
            let id = r.id;
            let built = blocking(store, move |s| Ok(s.reminder_document(id, today))).await?;
            match built {
                Ok(mut doc) => {
                    // The button and the page's link: the session made for this reminder.
                    if link.is_some() {
                        doc.payment_link = link;
                    }
                    Some(doc)
                }
                Err(e) if r.kind != StepKind::Reminder => {
                    return Ok(Err(SendError::Permanent(format!("the {} cannot be written: {e}", r.step))));
                }
                Err(e) => {
                    // A plain reminder still goes as its text; only the table and button are lost.
                    tracing::warn!(reminder = %r.id, error = %e, "reminder sent without its document");
                    None
                }
            }
        };
        Ok(Ok(Outgoing {
            reminder_id: r.id,
            channel,
            recipient,
            customer_name: r.customer_name.clone(),
            shop_name: settings.shop_name.clone(),
            shop_email: settings.shop_email.clone(),
            subject: r.subject.clone(),
            body: r.body.clone(),
            amount_due: r.amount_due.to_string(),
            penalties: r.penalties.to_string(),
            indemnity: r.indemnity.to_string(),
            formal_notice: r.kind == StepKind::FormalNotice,
            date: today,
            document,
        }))
    }

    /// Applies the shop's log to the merged copy, page by page.
    async fn catch_up(&self, store: &Arc<RwLock<Store>>, shop: Uuid, now: Now) -> Result<u32> {
        let mut applied = 0;
        loop {
            let (after, at) = blocking(store, |s| s.sync_position()).await?;
            let checked = match at.filter(|_| after > 0) {
                Some(at) => log::check_continuity(&self.db, shop, after, at).await,
                None => Ok(()),
            };
            let page = match checked {
                Ok(()) => log::page(&self.db, shop, after, 1000, None).await,
                Err(e) => Err(e),
            };
            let page = match page {
                // The log no longer holds what the copy read (the database was restored from a
                // backup): the copy starts over under the same epoch, recognising by id what it
                // already has and pushing its own events again.
                Err(Error::Refused(e)) if e.body.error == "cursor_ahead" || e.body.error == "history_differs" => {
                    let epoch = e.body.epoch.ok_or_else(|| Error::Corrupt("history refusal without epoch".into()))?;
                    tracing::warn!(%shop, after, "the log lost what the merged copy read: rebuilding it");
                    blocking(store, move |s| s.reset_epoch(epoch)).await?;
                    continue;
                }
                other => other?,
            };
            let next = page.next;
            // Nothing new: no write (a page view would otherwise commit the same cursor again,
            // with its fsync, and change the copy's revision).
            if page.changes.is_empty() && next <= after {
                return Ok(applied);
            }
            let more = !page.changes.is_empty() && next < page.head;
            let report = blocking(store, move |s| s.apply_changes(&page.changes, next, now)).await?;
            applied += report.applied;
            if !more {
                return Ok(applied);
            }
        }
    }

    /// Puts what the merged copy recorded (reminders queued, sent, cancelled) into the log.
    async fn push_outcomes(&self, store: &Arc<RwLock<Store>>, shop: Uuid, now: Now) -> Result<()> {
        loop {
            let (device, batch) = blocking(store, |s| Ok((s.device_id(), s.push_batch(500)?))).await?;
            if batch.is_empty() {
                return Ok(());
            }
            let resp = log::append_server_events(&self.db, shop, device, &batch).await?;
            blocking(store, move |s| s.acknowledge(&resp, now)).await?;
        }
    }
}

/// The time claims are taken and finished at: the round's `now`, moved on by the time the
/// round has taken so far. A round that sends many reminders lasts minutes; a lease counted from
/// its start would already have run out for the last ones, and another process would send them
/// too.
#[derive(Clone, Copy, Debug)]
struct ClaimClock {
    round: Now,
    started: std::time::Instant,
}

impl ClaimClock {
    fn new(round: Now) -> ClaimClock {
        ClaimClock { round, started: std::time::Instant::now() }
    }

    fn ms(self) -> i64 {
        let elapsed = i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.round.timestamp_millis().saturating_add(elapsed)
    }
}

/// A payment session for `amount` of `account`'s invoices `invoices`.
fn session_request(
    shop: Uuid,
    account: &AccountSummary,
    shop_name: &str,
    invoices: Vec<String>,
    amount: Money,
    idempotency_key: String,
) -> SessionRequest {
    SessionRequest {
        shop,
        customer: account.customer.reference.clone(),
        payment_reference: account.payment_reference.as_str().to_owned(),
        description: description(shop_name, &invoices),
        invoices,
        amount,
        idempotency_key,
    }
}

/// What the customer reads on the provider's payment page.
fn description(shop_name: &str, invoices: &[String]) -> String {
    let shop = if shop_name.trim().is_empty() { "Ardoise" } else { shop_name.trim() };
    match invoices {
        [] => shop.to_owned(),
        list => format!("{shop} – {}", list.join(", ")),
    }
}

fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX)
}

/// Where a reminder's stable payment link leads (`Dispatcher::reminder_link`).
#[derive(Clone, Debug)]
pub enum ReminderPay {
    /// To this session, for `amount`.
    Pay { session: Session, amount: Money },
    /// Nowhere: the customer owes nothing now.
    NothingOwed { shop_name: String, language: ardoise_core::dunning::template::Language },
}

/// What the web pages read and write (issue 19): always on the merged copy caught up with the
/// log, so a page and a synced till's report agree to the cent.
impl Dispatcher {
    /// Runs `f` on the shop's merged copy once it holds everything in the log. Only the
    /// catching up is one at a time: the read itself runs beside other pages' reads (the
    /// store reads through its own connections), so a slow page does not queue the others.
    pub async fn read_merged<R: Send + 'static>(
        &self,
        shop: Uuid,
        now: Now,
        f: impl FnOnce(&Store) -> ardoise_core::Result<R> + Send + 'static,
    ) -> Result<R> {
        let store = self.caught_up(shop, now).await?;
        read_on(store, f).await
    }

    /// [`Dispatcher::read_merged`] for a page many owners open (the overview, the overdue
    /// list): its answer, by `name`, is kept and given again while the merged copy has written
    /// nothing since (its [`Store::revision`]) and the day is the same. A sale synced from a
    /// till, a payment, any action: the next one reads anew.
    pub async fn read_merged_cached<R: Clone + Send + Sync + 'static>(
        &self,
        shop: Uuid,
        name: &'static str,
        now: Now,
        f: impl FnOnce(&Store) -> ardoise_core::Result<R> + Send + 'static,
    ) -> Result<R> {
        let day = now.date_naive();
        let store = self.caught_up(shop, now).await?;
        let revision = revision_of(&store).await?;
        let key = (shop, name);
        let kept = {
            let answers = self.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            answers
                .get(&key)
                .filter(|a| a.store.ptr_eq(&Arc::downgrade(&store)) && (a.revision, a.day) == (revision, day))
                .and_then(|a| a.value.downcast_ref::<R>().cloned())
        };
        if let Some(value) = kept {
            return Ok(value);
        }
        // The copy was just caught up: read it as it is, without asking the log again.
        let value = read_on(Arc::clone(&store), f).await?;
        // Kept only if nothing was written while it was read.
        if revision_of(&store).await? == revision {
            let answer = Answer { store: Arc::downgrade(&store), revision, day, value: Arc::new(value.clone()) };
            self.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key, answer);
        }
        Ok(value)
    }

    /// The shop's merged copy once it holds everything in the log.
    async fn caught_up(&self, shop: Uuid, now: Now) -> Result<Arc<RwLock<Store>>> {
        let h = self.copy_of(shop).await?;
        let mut copy = h.0.lock().await;
        self.join_epoch(&mut copy, shop, now).await?;
        self.catch_up(&copy.store, shop, now).await?;
        Ok(Arc::clone(&copy.store))
    }

    /// Runs an owner's or a customer's action on the shop's merged copy caught up with the
    /// log, then puts what it wrote into the log: every till gets it by sync.
    pub async fn write_merged<R: Send + 'static>(
        &self,
        shop: Uuid,
        now: Now,
        f: impl FnOnce(&mut Store) -> ardoise_core::Result<R> + Send + 'static,
    ) -> Result<R> {
        let h = self.copy_of(shop).await?;
        let mut copy = h.0.lock().await;
        self.join_epoch(&mut copy, shop, now).await?;
        self.catch_up(&copy.store, shop, now).await?;
        let out = on_page(&copy.store, f).await?;
        self.push_outcomes(&copy.store, shop, now).await?;
        Ok(out)
    }
}

/// [`blocking_typed`] for a page: also what the core did not find by another name (a bank
/// transaction, a dispute) is the caller's mistake, answered as not found.
async fn on_page<R: Send + 'static>(
    store: &Arc<RwLock<Store>>,
    f: impl FnOnce(&mut Store) -> ardoise_core::Result<R> + Send + 'static,
) -> Result<R> {
    blocking_typed(store, move |s| f(s).map_err(page_error)).await
}

/// The copy's revision, read once no write holds it.
/// Runs `f` on a merged copy, beside the other reads, off the async threads.
async fn read_on<R: Send + 'static>(
    store: Arc<RwLock<Store>>,
    f: impl FnOnce(&Store) -> ardoise_core::Result<R> + Send + 'static,
) -> Result<R> {
    let read = tokio::task::spawn_blocking(move || {
        let s = store.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&s)
    })
    .await
    .map_err(|e| Error::Internal(format!("dispatcher task: {e}")))?;
    read.map_err(|e| typed(page_error(e)))
}

async fn revision_of(store: &Arc<RwLock<Store>>) -> Result<u64> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || store.read().unwrap_or_else(std::sync::PoisonError::into_inner).revision())
        .await
        .map_err(|e| Error::Internal(format!("dispatcher task: {e}")))
}

/// What the core did not find by another name (a bank transaction, a dispute) is, for a page,
/// the caller's mistake: answered as not found.
fn page_error(e: ardoise_core::Error) -> ardoise_core::Error {
    match e {
        ardoise_core::Error::NotFound { what, id } => ardoise_core::Error::UnknownEntry(format!("{what} {id}")),
        other => other,
    }
}
