//! Failed sign-ins to the web pages, counted in the database so that every server process on it
//! applies one limit: an attacker spreading tries over processes behind a load balancer gets
//! no more of them. Keys are hashed: the table names no email and no address.

use super::{Db, now_ms};
use crate::error::Result;
use crate::secret::sha256_hex;

impl Db {
    /// Whether any of `keys` failed `max` times or more since `window_ms` ago.
    pub async fn sign_in_blocked(&self, keys: &[String], max: i64, window_ms: i64) -> Result<bool> {
        let since = now_ms() - window_ms;
        let mut conn = self.conn().await?;
        for k in keys {
            let (n,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM web_sign_in_failures WHERE key_hash = $1 AND at > $2")
                    .bind(sha256_hex(k))
                    .bind(since)
                    .fetch_one(&mut *conn)
                    .await?;
            if n >= max {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Records a failed sign-in under each of `keys`; failures older than `window_ms` are
    /// dropped on the way, so the table holds one window's worth at most.
    pub async fn sign_in_failed(&self, keys: &[String], window_ms: i64) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM web_sign_in_failures WHERE at <= $1").bind(now - window_ms).execute(&mut *tx).await?;
        for k in keys {
            sqlx::query("INSERT INTO web_sign_in_failures (key_hash, at) VALUES ($1, $2)")
                .bind(sha256_hex(k))
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
