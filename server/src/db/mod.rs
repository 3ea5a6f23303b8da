//! The data layer's base: connecting to SQLite or PostgreSQL through sqlx `Any`, migrations,
//! transactions, and the conversions both backends need (uuids as text, u64 as BIGINT, times
//! as ms). One module per concern beside it (`shops`, `devices`, `events`, `claims`, `providers`,
//! `reminder_links`, `web`) holds the SQL; its functions take a connection or a transaction, so
//! the caller decides what is atomic.

pub mod claims;
pub(crate) mod devices;
pub(crate) mod events;
pub(crate) mod providers;
pub(crate) mod reminder_links;
pub(crate) mod shops;
mod sign_in;
pub mod web;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, Connection, Executor, Transaction};
use uuid::Uuid;

use crate::error::{ApiError, Error, Result};

/// Embedded migrations, applied in order; `schema_version` holds the last one applied.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/0001_init.sql")),
    (2, include_str!("../../migrations/0002_enrol_code_device.sql")),
    (3, include_str!("../../migrations/0003_device_quotas.sql")),
    (4, include_str!("../../migrations/0004_claims.sql")),
    (5, include_str!("../../migrations/0005_payment_providers.sql")),
    (6, include_str!("../../migrations/0006_provider_payments.sql")),
    (7, include_str!("../../migrations/0007_web.sql")),
    (8, include_str!("../../migrations/0008_sign_in_failures.sql")),
    (9, include_str!("../../migrations/0009_reminder_links.sql")),
    (10, include_str!("../../migrations/0010_reversed_by.sql")),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

/// SQLite's SQLITE_BUSY ("database is locked"), or one of its extended codes.
fn is_locked(e: &sqlx::Error) -> bool {
    let code = e.as_database_error().and_then(|d| d.code()).and_then(|c| c.parse::<i64>().ok());
    code.is_some_and(|c| c & 0xff == 5) || e.to_string().contains("database is locked")
}

/// Opens the database named by `url` (`sqlite://file.db?mode=rwc`, `postgres://...`) and brings
/// its schema up to date.
pub async fn connect(url: &str) -> Result<Db> {
    Db::connect(url).await
}

impl Db {
    pub async fn connect(url: &str) -> Result<Db> {
        // Two processes opening a new SQLite file at the same moment: SQLite answers "database
        // is locked" without waiting in a few places the busy timeout does not cover (switching
        // the journal to WAL while the other sets it up). Nothing is written by a failed try,
        // so it is tried again, for a few seconds.
        let mut tries = 0;
        loop {
            match Db::connect_once(url).await {
                Err(Error::Database(e)) if tries < 50 && is_locked(&e) => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                other => return other,
            }
        }
    }

    async fn connect_once(url: &str) -> Result<Db> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(Error::Database(sqlx::Error::Configuration(
                "the database url must start with sqlite: or postgres:".into(),
            )));
        };
        // Each connection to `sqlite::memory:` opens a database of its own: one connection,
        // kept for the pool's life, is the only way to see one database.
        let memory = backend == Backend::Sqlite && (url.contains(":memory:") || url.contains("mode=memory"));
        if backend == Backend::Sqlite && !memory {
            // WAL lets readers (pulls) run while one push writes; the mode is stored in the
            // file, and switching needs an exclusive lock, so it is done once, before the pool.
            let mut conn = sqlx::AnyConnection::connect(url).await?;
            // Another process starting at the same moment may hold the lock (migrating): wait
            // for it as the pool's connections do, rather than fail with "database is locked".
            conn.execute("PRAGMA busy_timeout = 15000").await?;
            conn.execute("PRAGMA journal_mode = WAL").await?;
            conn.close().await?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                _ if memory => 1,
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .min_connections(u32::from(memory))
            .idle_timeout((!memory).then_some(Duration::from_secs(600)))
            .max_lifetime((!memory).then_some(Duration::from_secs(1800)))
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // Writers queue on the database lock instead of failing at once.
                        conn.execute("PRAGMA busy_timeout = 15000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        let db = Db { pool, backend };
        db.migrate().await?;
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for callers that need a query this crate does not offer (tests, reports).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    async fn migrate(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            // Several server processes may start together on one database: the first migrates,
            // the others wait here and then find nothing left to do. (On SQLite the write
            // transaction already holds the database's lock.)
            tx.execute("SELECT pg_advisory_xact_lock(4152684985)").await?;
        }
        tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)").await?;
        let current: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetch_one(&mut *tx).await?;
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
            sqlx::raw_sql(*sql).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO schema_version (version) VALUES ($1)").bind(*version).execute(&mut *tx).await?;
            tracing::info!(version, "database schema migrated");
        }
        tx.commit().await?;
        Ok(())
    }

    /// A connection for reads and single statements, each committed on its own. Hold it for
    /// one step only: an in-memory database has a single connection, and asking for a second
    /// while holding it waits forever.
    pub(crate) async fn conn(&self) -> Result<PoolConnection<Any>> {
        Ok(self.pool.acquire().await?)
    }

    /// A transaction that will write. On SQLite it takes the write lock at once, so that it
    /// waits (busy timeout) rather than failing when it later upgrades from a read.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(crate) fn uuid(text: &str) -> Result<Uuid> {
    Uuid::try_parse(text).map_err(|_| Error::Corrupt(format!("{text:?} is not a uuid")))
}

pub(crate) fn u64_of(n: i64) -> Result<u64> {
    u64::try_from(n).map_err(|_| Error::Corrupt(format!("negative sequence {n}")))
}

/// Sequences are u64 on the wire but BIGINT in the database.
pub(crate) fn i64_of(n: u64) -> Result<i64, ApiError> {
    i64::try_from(n).map_err(|_| ApiError::malformed(format!("sequence {n} is too large")))
}

pub(crate) fn time_of(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Rows per multi-row statement: 500 events of 9 columns stay far below SQLite's limit of
/// 32,766 bound parameters (and PostgreSQL's 65,535).
pub(crate) const ROWS_PER_STATEMENT: usize = 500;

/// `($1, $2), ($3, $4), ...`: `rows` tuples of `cols` numbered parameters. Only these
/// placeholders are formatted into the SQL (hence `AssertSqlSafe`); every value is bound.
pub(crate) fn placeholders(rows: usize, cols: usize) -> String {
    let mut sql = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..cols {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", r * cols + c + 1));
        }
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn other_databases_are_refused() {
        assert!(connect("mysql://localhost/x").await.is_err());
    }

    #[test]
    fn placeholders_are_numbered_row_by_row() {
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
