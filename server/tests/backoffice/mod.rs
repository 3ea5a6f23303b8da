//! What the back-office tests share: a shop on a SQLite server served on loopback, tills
//! enrolled in it, a dispatcher on a folder of its own, and a consumer with a sale on account.

// Each test binary uses part of it.
#![allow(dead_code)]

#[path = "../../../tests/src/pg.rs"]
pub mod pg;
pub mod provider;

use std::path::Path;
use std::sync::{Arc, Mutex};

use ardoise_core::Money;
use ardoise_core::customer::{CustomerKind, NewCustomer};
use ardoise_core::store::{Now, SaleRequest, Store};
use ardoise_core::sync::client::{Client, RetryPolicy};
use ardoise_server::dispatch::{DispatchConfig, Dispatcher};
use ardoise_server::send::TransportConfig;
use ardoise_server::{Db, RateLimit, ServeConfig, Serving};
use chrono::DateTime;
use uuid::Uuid;

pub fn at(s: &str) -> Now {
    DateTime::parse_from_rfc3339(s).unwrap()
}

pub fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

/// A shop on a SQLite server in `dir`, served without rate limit; `dispatcher` records what
/// payment providers report.
pub struct BackOffice {
    pub db: Db,
    pub shop: Uuid,
    pub serving: Serving,
    pub client: Client,
}

impl BackOffice {
    pub async fn open(dir: &Path) -> (Db, Uuid) {
        let url = format!("sqlite://{}?mode=rwc", dir.join("server.db").display());
        BackOffice::open_url(&url).await
    }

    /// The same shop on the server database at `url` (a PostgreSQL schema, for instance).
    pub async fn open_url(url: &str) -> (Db, Uuid) {
        let db = ardoise_server::connect(url).await.unwrap();
        let shop = db.create_shop("Épicerie du Marché").await.unwrap();
        (db, shop)
    }

    pub async fn serve(db: Db, shop: Uuid, dispatcher: Option<Arc<Dispatcher>>) -> BackOffice {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let config = ServeConfig { rate: RateLimit { per_second: 0, burst: 0 }, dispatcher, ..Default::default() };
        let serving = ardoise_server::serve(listener, db.clone(), config).await.unwrap();
        BackOffice { db, shop, serving, client: Client::new(RetryPolicy::default()).unwrap() }
    }

    pub async fn start(dir: &Path) -> BackOffice {
        let (db, shop) = BackOffice::open(dir).await;
        BackOffice::serve(db, shop, None).await
    }

    /// A till on `dir/{name}.db`, enrolled in the shop.
    pub async fn till(&self, dir: &Path, name: &str, now: Now) -> Mutex<Store> {
        let till = Mutex::new(Store::open(dir.join(format!("{name}.db"))).unwrap());
        let code = self.db.enrol_code(self.shop, chrono::Duration::hours(1)).await.unwrap();
        self.client.enrol(&till, &self.serving.base_url(), &code, "till", now).await.unwrap();
        till
    }

    pub async fn sync(&self, till: &Mutex<Store>, now: Now) {
        self.client.sync(till, &move || now).await.unwrap();
    }
}

/// A dispatcher whose merged copies live in `dir/{folder}` and whose emails and letters go to
/// folders under `dir`.
pub fn dispatcher(db: &Db, dir: &Path, folder: &str, run_ladder: bool) -> Dispatcher {
    let cfg = DispatchConfig {
        data_dir: dir.join(folder),
        grace_minutes: 10,
        run_ladder,
        transports: TransportConfig {
            smtp: None,
            mail_dir: Some(dir.join("mail")),
            sms: None,
            letters_dir: dir.join("letters"),
        },
    };
    Dispatcher::new(db.clone(), cfg).unwrap()
}

/// A consumer `reference` on 30 days, with a sale on account of `amount` at `now`.
pub fn customer_with_sale(s: &Store, reference: &str, name: &str, email: Option<&str>, amount: &str, now: Now) {
    let new = NewCustomer {
        reference: reference.into(),
        name: name.into(),
        email: email.map(str::to_owned),
        kind: CustomerKind::Consumer,
        terms: "30".parse().unwrap(),
        consent_email: email.is_some(),
        ..Default::default()
    };
    s.add_customer(new, now).unwrap();
    let sale =
        SaleRequest { customer: reference.into(), amount: m(amount), cashier: "Léa".into(), ..Default::default() };
    s.sell_on_account(sale, now).unwrap();
}
