//! A real ardoise-server on loopback, over SQLite (a file in a scratch directory) or PostgreSQL
//! (a fresh schema per server, dropped afterwards), that a test can stop, restart on the same
//! database, back up and restore; and reads of the shop's log straight from its database.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use uuid::Uuid;

use crate::pg::PgSchema;
use ardoise_server::{Db, DeviceInfo, RateLimit, ServeConfig, Serving};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A scratch directory, on tmpfs when the machine has one: the tills and the SQLite server
/// sync to disk on every commit, which tmpfs makes free.
pub fn scratch_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::Builder::new().prefix("ardoise-tests-").tempdir_in(shm) {
            return dir;
        }
    }
    tempfile::Builder::new().prefix("ardoise-tests-").tempdir().expect("a temporary directory")
}

#[derive(Debug)]
enum Data {
    Sqlite { file: PathBuf, _dir: tempfile::TempDir },
    Postgres { _schema: PgSchema },
}

/// One event as the shop's log holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logged {
    pub shop_seq: u64,
    pub device: Uuid,
    pub device_seq: u64,
    pub id: Uuid,
    pub kind: String,
}

/// A running (or stopped) server and its database.
#[derive(Debug)]
pub struct Server {
    pub backend: Backend,
    db: Db,
    url: String,
    addr: SocketAddr,
    serving: Option<Serving>,
    // Last: the data goes after the server has stopped using it.
    data: Data,
}

impl Server {
    pub async fn start(backend: Backend) -> Server {
        let (url, data) = match backend {
            Backend::Sqlite => {
                let dir = scratch_dir();
                let file = dir.path().join("server.db");
                (format!("sqlite://{}?mode=rwc", file.display()), Data::Sqlite { file, _dir: dir })
            }
            Backend::Postgres => {
                let (url, schema) = PgSchema::create("e2e").await;
                (url, Data::Postgres { _schema: schema })
            }
        };
        let db = ardoise_server::connect(&url).await.expect("the server's database");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let serving = ardoise_server::serve(listener, db.clone(), config()).await.unwrap();
        Server { backend, db, url, addr, serving: Some(serving), data }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// `http://127.0.0.1:port`, the same across restarts.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn is_running(&self) -> bool {
        self.serving.is_some()
    }

    /// Kills the server: stops accepting, drops every request in flight at once (their
    /// handlers are cancelled wherever they are, transactions included), and closes the
    /// database pool.
    pub async fn stop(&mut self) {
        if let Some(serving) = self.serving.take() {
            serving.shutdown(Duration::ZERO).await.expect("the server task");
        }
        let closed = tokio::time::timeout(Duration::from_secs(20), self.db.pool().close()).await;
        assert!(closed.is_ok(), "the database pool did not close");
    }

    /// Starts again on the same database and the same port.
    pub async fn restart(&mut self) {
        assert!(self.serving.is_none(), "stop the server first");
        self.db = ardoise_server::connect(&self.url).await.expect("the server's database, again");
        let mut tries = 0;
        let listener = loop {
            match tokio::net::TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if tries < 100 => {
                    tries += 1;
                    eprintln!("rebinding {}: {e}", self.addr);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("cannot listen on {} again: {e}", self.addr),
            }
        };
        self.serving = Some(ardoise_server::serve(listener, self.db.clone(), config()).await.unwrap());
    }

    /// The SQLite file, for backups and restores.
    pub fn sqlite_file(&self) -> &Path {
        match &self.data {
            Data::Sqlite { file, .. } => file,
            Data::Postgres { .. } => panic!("a PostgreSQL server has no file"),
        }
    }

    /// A consistent copy of the SQLite database as it is now, taken while it serves.
    pub async fn backup_sqlite(&self, to: &Path) {
        let to = to.display().to_string();
        assert!(!to.contains('\''), "{to}");
        sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM INTO '{to}'"))).execute(self.db.pool()).await.unwrap();
    }

    /// Puts a backup in place of the database; the server must be stopped.
    pub fn restore_sqlite(&self, from: &Path) {
        assert!(self.serving.is_none(), "stop the server before restoring");
        let file = self.sqlite_file();
        for suffix in ["-wal", "-shm"] {
            let side = PathBuf::from(format!("{}{suffix}", file.display()));
            match std::fs::remove_file(&side) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => panic!("removing {}: {e}", side.display()),
            }
        }
        std::fs::copy(from, file).unwrap();
    }

    pub async fn shop(&self, name: &str) -> Uuid {
        self.db.create_shop(name).await.unwrap()
    }

    pub async fn code(&self, shop: Uuid) -> String {
        self.db.enrol_code(shop, chrono::Duration::hours(1)).await.unwrap()
    }

    pub async fn head(&self, shop: Uuid) -> u64 {
        self.db.head(shop).await.unwrap()
    }

    pub async fn devices(&self, shop: Uuid) -> Vec<DeviceInfo> {
        self.db.devices(shop).await.unwrap()
    }

    /// The shop's log, in shop sequence order.
    pub async fn log(&self, shop: Uuid) -> Vec<Logged> {
        let rows: Vec<(i64, String, i64, String, String)> = sqlx::query_as(
            "SELECT shop_seq, device_id, device_seq, event_id, kind FROM events WHERE shop_id = $1 ORDER BY shop_seq",
        )
        .bind(shop.to_string())
        .fetch_all(self.db.pool())
        .await
        .unwrap();
        rows.into_iter()
            .map(|(shop_seq, device, device_seq, id, kind)| Logged {
                shop_seq: u64::try_from(shop_seq).unwrap(),
                device: Uuid::parse_str(&device).unwrap(),
                device_seq: u64::try_from(device_seq).unwrap(),
                id: Uuid::parse_str(&id).unwrap(),
                kind,
            })
            .collect()
    }

    /// The events the server consumed without storing them, as (device, sequence, kind, why).
    pub async fn rejections(&self, shop: Uuid) -> Vec<(Uuid, u64, String, String)> {
        let rows: Vec<(String, i64, String, String)> = sqlx::query_as(
            "SELECT device_id, device_seq, kind, reason FROM rejections WHERE shop_id = $1 ORDER BY device_id, device_seq",
        )
        .bind(shop.to_string())
        .fetch_all(self.db.pool())
        .await
        .unwrap();
        rows.into_iter()
            .map(|(d, seq, kind, reason)| (Uuid::parse_str(&d).unwrap(), u64::try_from(seq).unwrap(), kind, reason))
            .collect()
    }

    /// How many rows of `table` belong to the shop (`events`, `rejections`, `devices`...).
    pub async fn count(&self, table: &str, shop: Uuid) -> i64 {
        assert!(table.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{table}");
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table} WHERE shop_id = $1")))
            .bind(shop.to_string())
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(serving) = &self.serving {
            serving.stopper().stop(Duration::ZERO);
        }
    }
}

fn config() -> ServeConfig {
    ServeConfig { tls: None, rate: RateLimit { per_second: 0, burst: 0 }, ..Default::default() }
}
