//! The till API for Swift and Kotlin: a `Till` object over one SQLite file, exported with
//! uniffi. It converts arguments, delegates to `ardoise-core` and converts results and errors;
//! no business rule lives here. Reminders (`reminders.rs`) and account follow-up
//! (`followup.rs`) add their calls to the same `Till` in their own `impl` blocks, and so does
//! sync with the back office (`sync.rs`, async).

mod error;
mod followup;
mod lane;
mod owner;
mod reminders;
mod sync;
mod types;

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use ardoise_core::{EntryRequest, SaleRequest, Store};

pub use error::ArdoiseError;
use error::Result;
pub use followup::*;
pub use owner::*;
pub use reminders::*;
pub use sync::*;
pub use types::*;

uniffi::setup_scaffolding!("ardoise");

/// Longest query the till's search takes: a person types a name, not a page.
const MAX_QUERY: usize = 200;
/// Most rows one list call returns.
const MAX_PAGE: u32 = 1_000;

#[derive(Debug)]
enum State {
    /// Boxed: the store is large next to the other states.
    Open(Box<Store>),
    /// Closed by `suspend()` so iOS does not kill the app for holding a WAL lock.
    Suspended,
    Closed,
}

/// One till's database. Thread-safe: calls from several threads run at once, each read on its
/// own connection, so a checkout never waits for a reminder run, an import or a sync page.
#[derive(Debug, uniffi::Object)]
pub struct Till {
    path: String,
    /// Every call holds it shared for its duration; closing, suspending and resuming hold it
    /// alone, so they wait for the calls in progress and release every connection at once.
    state: RwLock<State>,
    /// Held for a whole `enrol()` or `sync()` (across its network calls), so that two syncs
    /// of one till run one after the other; the store itself is locked only call by call.
    syncing: tokio::sync::Mutex<()>,
}

impl Till {
    // A panic inside a call is caught at the FFI and its transaction rolled back by SQLite, so
    // the store behind a poisoned lock is still consistent.
    fn shared(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn alone(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn with<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        match &*self.shared() {
            State::Open(store) => f(store),
            State::Suspended => {
                Err(ArdoiseError::Closed { message: "the till is suspended; call resume() first".into() })
            }
            State::Closed => Err(ArdoiseError::Closed { message: "the till is closed".into() }),
        }
    }

    fn record(&self, customer: String, req: EntryRequest, ctx: WriteContext) -> Result<Recorded> {
        let now = types::instant(&ctx.now)?;
        let date = ctx.business_date.as_deref().map(types::date).transpose()?;
        self.with(|s| Ok(s.record(&customer, date, &ctx.cashier, req, now)?.into()))
    }
}

#[uniffi::export]
impl Till {
    /// Opens (or creates) the till database at `path`. A file that cannot be opened is
    /// reported as `Storage` and left untouched.
    #[uniffi::constructor]
    pub fn open(path: String) -> Result<Arc<Till>> {
        let store = Store::open(&path)?;
        Ok(Arc::new(Till { path, state: RwLock::new(State::Open(Box::new(store))), syncing: Default::default() }))
    }

    /// Closes the database now; every later call fails with `Closed`. Safe to call twice.
    /// (Kotlin's `close()` / `use {}` and Swift's deinit release the object itself, which also
    /// closes the database once no call is running.)
    pub fn close_database(&self) {
        *self.alone() = State::Closed;
    }

    /// Closes SQLite while the app is in the background; `resume()` reopens it.
    pub fn suspend(&self) -> Result<()> {
        let mut state = self.alone();
        match *state {
            State::Closed => Err(ArdoiseError::Closed { message: "the till is closed".into() }),
            _ => {
                *state = State::Suspended;
                Ok(())
            }
        }
    }

    pub fn resume(&self) -> Result<()> {
        let mut state = self.alone();
        match *state {
            State::Open(_) => Ok(()),
            State::Suspended => {
                *state = State::Open(Box::new(Store::open(&self.path)?));
                Ok(())
            }
            State::Closed => Err(ArdoiseError::Closed { message: "the till is closed".into() }),
        }
    }

    /// This device's id, as it signs every entry it records.
    pub fn device_id(&self) -> Result<String> {
        self.with(|s| Ok(s.device_id().to_string()))
    }

    pub fn add_customer(&self, customer: NewCustomer, now: String) -> Result<Customer> {
        let (new, now) = (customer.into_core()?, types::instant(&now)?);
        self.with(|s| Ok(s.add_customer(new, now)?.into()))
    }

    pub fn update_customer(&self, reference: String, patch: CustomerPatch, now: String) -> Result<Customer> {
        let (patch, now) = (patch.into_core()?, types::instant(&now)?);
        self.with(|s| Ok(s.update_customer(&reference, patch, now)?.into()))
    }

    pub fn customer(&self, reference: String) -> Result<Customer> {
        self.with(|s| Ok(s.customer(&reference)?.into()))
    }

    /// Customers in name order, a page at a time (at most 1,000).
    pub fn list_customers(&self, limit: u32, offset: u32) -> Result<Vec<Customer>> {
        let limit = limit.min(MAX_PAGE) as usize;
        self.with(|s| Ok(s.customers(limit, offset as usize)?.into_iter().map(Into::into).collect()))
    }

    /// Name prefix (any word, any case, with or without accents), phone or reference.
    pub fn search_customers(&self, query: String, limit: u32) -> Result<Vec<Customer>> {
        if query.chars().count() > MAX_QUERY {
            return Err(error::invalid(format!("search query longer than {MAX_QUERY} characters")));
        }
        let limit = limit.min(MAX_PAGE) as usize;
        self.with(|s| Ok(s.search_customers(&query, limit)?.into_iter().map(Into::into).collect()))
    }

    /// May this customer buy `cart_total` on account now, and why not.
    pub fn check(&self, customer: String, cart_total: String, now: String) -> Result<Verdict> {
        let (cart, now) = (types::money("cart total", &cart_total)?, types::instant(&now)?);
        self.with(|s| Ok(s.check(&customer, cart, now)?.into()))
    }

    /// The same verdict as `check`, with primitive arguments for the till's hot path: the cart
    /// in cents, `now` as Unix milliseconds and the till's UTC offset in minutes. Each string
    /// crossing JNA costs microseconds; integers cost almost nothing.
    pub fn check_minor(
        &self,
        customer: String,
        cart_total_minor: i64,
        now_unix_ms: i64,
        utc_offset_minutes: i32,
    ) -> Result<Verdict> {
        let cart = types::minor("cart total", cart_total_minor)?;
        let now = types::instant_ms(now_unix_ms, utc_offset_minutes)?;
        self.with(|s| Ok(s.check(&customer, cart, now)?.into()))
    }

    /// Records a manager's permission for a refused sale (today, this customer, up to this amount).
    pub fn override_checkout(
        &self,
        customer: String,
        cart_total: String,
        manager: String,
        reason: String,
        now: String,
    ) -> Result<Override> {
        let (cart, now) = (types::money("cart total", &cart_total)?, types::instant(&now)?);
        self.with(|s| Ok(s.override_checkout(&customer, cart, &manager, &reason, now)?.into()))
    }

    /// A sale on account; refused with `Refused` unless the checkout allows it or an override
    /// covers it. `deposit` pays part or all of it at once from deposits held (an order picked
    /// up); only the rest is on account.
    pub fn sell_on_account(
        &self,
        customer: String,
        amount: String,
        invoice_ref: Option<String>,
        deposit: Option<String>,
        ctx: WriteContext,
    ) -> Result<Recorded> {
        let amount = types::money("amount", &amount)?;
        let deposit = types::opt_money("deposit", deposit)?;
        let now = types::instant(&ctx.now)?;
        let date = ctx.business_date.as_deref().map(types::date).transpose()?;
        let req = SaleRequest { customer, amount, date, invoice_ref, cashier: ctx.cashier, deposit };
        self.with(|s| Ok(s.sell_on_account(req, now)?.into()))
    }

    /// A payment, to the oldest due invoice unless aimed at one (by reference).
    pub fn pay(
        &self,
        customer: String,
        amount: String,
        method: PaymentMethod,
        invoice: Option<String>,
        ctx: WriteContext,
    ) -> Result<Recorded> {
        let req = EntryRequest::Payment { amount: types::money("amount", &amount)?, method: method.into(), invoice };
        self.record(customer, req, ctx)
    }

    pub fn take_deposit(
        &self,
        customer: String,
        amount: String,
        method: PaymentMethod,
        order_ref: Option<String>,
        ctx: WriteContext,
    ) -> Result<Recorded> {
        let req =
            EntryRequest::DepositTake { amount: types::money("amount", &amount)?, method: method.into(), order_ref };
        self.record(customer, req, ctx)
    }

    pub fn apply_deposit(
        &self,
        customer: String,
        amount: String,
        invoice: Option<String>,
        ctx: WriteContext,
    ) -> Result<Recorded> {
        let req = EntryRequest::DepositApply { amount: types::money("amount", &amount)?, invoice };
        self.record(customer, req, ctx)
    }

    pub fn refund_deposit(
        &self,
        customer: String,
        amount: String,
        method: PaymentMethod,
        ctx: WriteContext,
    ) -> Result<Recorded> {
        let req = EntryRequest::DepositRefund { amount: types::money("amount", &amount)?, method: method.into() };
        self.record(customer, req, ctx)
    }

    pub fn credit_note(
        &self,
        customer: String,
        amount: String,
        reason: String,
        invoice: Option<String>,
        ctx: WriteContext,
    ) -> Result<Recorded> {
        let req = EntryRequest::CreditNote { amount: types::money("amount", &amount)?, reason, invoice };
        self.record(customer, req, ctx)
    }

    /// Signed: "5.00" charges the customer, "-5.00" reduces what they owe.
    pub fn adjust(&self, customer: String, amount: String, reason: String, ctx: WriteContext) -> Result<Recorded> {
        let req = EntryRequest::Adjustment { amount: types::money("amount", &amount)?, reason };
        self.record(customer, req, ctx)
    }

    pub fn write_off(
        &self,
        customer: String,
        amount: String,
        reason: String,
        invoice: Option<String>,
        ctx: WriteContext,
    ) -> Result<Recorded> {
        let req = EntryRequest::WriteOff { amount: types::money("amount", &amount)?, reason, invoice };
        self.record(customer, req, ctx)
    }

    /// Corrects an entry by recording its opposite; entries are never edited.
    pub fn reverse(&self, customer: String, entry_id: String, reason: String, ctx: WriteContext) -> Result<Recorded> {
        let req = EntryRequest::Reversal { entry: types::uuid("entry id", &entry_id)?, reason };
        self.record(customer, req, ctx)
    }

    /// The account as of `today` (ISO date): balance, overdue, limit, open invoices, deposits.
    pub fn account(&self, customer: String, today: String) -> Result<AccountSummary> {
        let today = types::date(&today)?;
        self.with(|s| Ok(s.account(&customer, today)?.into()))
    }

    /// The customer's entries, newest first.
    pub fn timeline(&self, customer: String, limit: u32) -> Result<Vec<TimelineEntry>> {
        let limit = limit.min(MAX_PAGE) as usize;
        self.with(|s| Ok(s.timeline(&customer, limit)?.into_iter().map(Into::into).collect()))
    }

    pub fn checkout_rules(&self) -> Result<CheckoutRules> {
        self.with(|s| Ok(s.settings().checkout.clone().into()))
    }

    pub fn set_checkout_rules(&self, rules: CheckoutRules, now: String) -> Result<()> {
        let (rules, now) = (rules.into_core()?, types::instant(&now)?);
        self.with(|s| {
            let mut settings = (*s.settings()).clone();
            settings.checkout = rules;
            Ok(s.set_settings(settings, now)?)
        })
    }

    /// Events recorded here and not yet pushed to the back office.
    pub fn pending_events(&self) -> Result<u64> {
        self.with(|s| Ok(s.outbox_len()?))
    }
}

/// The library's version, to show in an app's about screen and in support reports.
#[uniffi::export]
pub fn ardoise_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
