//! A PostgreSQL schema of its own for one test server, dropped with it. Shared by these tests
//! and the server crate's own (`server/tests/common` includes this file by path: the server
//! cannot depend on this crate, which depends on it).

use sqlx::Connection;
use uuid::Uuid;

/// The PostgreSQL server the tests use (trust authentication).
pub fn pg_base_url() -> String {
    std::env::var("ARDOISE_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A schema named `{prefix}_{random}`; dropping the value drops the schema and all in it.
#[derive(Debug)]
pub struct PgSchema {
    name: String,
}

impl PgSchema {
    /// Creates the schema and returns the database URL whose connections use it.
    pub async fn create(prefix: &str) -> (String, PgSchema) {
        sqlx::any::install_default_drivers();
        let name = format!("{prefix}_{}", Uuid::new_v4().simple());
        let base = pg_base_url();
        let mut conn = sqlx::AnyConnection::connect(&base)
            .await
            .expect("PostgreSQL must run at ARDOISE_TEST_PG_URL or postgres://postgres@127.0.0.1:5432/test");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}"))).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        (format!("{base}{sep}options=-c%20search_path%3D{name}"), PgSchema { name })
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        // Drop may run inside a runtime, which cannot be blocked on: a thread of its own with
        // its own small runtime does the cleanup.
        let name = self.name.clone();
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            rt.block_on(async {
                let mut conn = sqlx::AnyConnection::connect(&pg_base_url()).await?;
                sqlx::query("SET lock_timeout = '10s'").execute(&mut conn).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {name} CASCADE")))
                    .execute(&mut conn)
                    .await?;
                conn.close().await
            })
            .map_err(std::io::Error::other)
        })
        .join();
        if !matches!(done, Ok(Ok(()))) {
            eprintln!("could not drop test schema {}", self.name);
        }
    }
}
