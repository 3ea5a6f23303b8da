//! Administration, run by the operator through the CLI (never over HTTP): shops, enrolment
//! codes, revocation, and a new epoch after a restore.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::auth::{new_code, sha256_hex};
use crate::db::{Db, now_ms, time_of, u64_of, uuid};
use crate::error::{Error, Result};

/// A device of a shop, for the operator's listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    pub id: Uuid,
    pub name: String,
    /// The next sequence the server expects from it.
    pub expected_seq: u64,
    pub enrolled_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
}

impl Db {
    /// Creates a shop with an empty log and a fresh epoch; returns its id.
    pub async fn create_shop(&self, name: &str) -> Result<Uuid> {
        let id = Uuid::now_v7();
        sqlx::query("INSERT INTO shops (id, name, epoch, head, created_at) VALUES ($1, $2, $3, 0, $4)")
            .bind(id.to_string())
            .bind(name)
            .bind(Uuid::new_v4().to_string())
            .bind(now_ms())
            .execute(self.pool())
            .await?;
        tracing::info!(shop = %id, "shop created");
        Ok(id)
    }

    /// A one-time code that enrols one device into the shop until `ttl` from now. Only its
    /// hash is stored: the operator hands the printed code to the person at the till.
    pub async fn enrol_code(&self, shop: Uuid, ttl: chrono::Duration) -> Result<String> {
        self.shop(shop).await?;
        let code = new_code();
        sqlx::query("INSERT INTO enrol_codes (code_hash, shop_id, expires_at, used_at) VALUES ($1, $2, $3, NULL)")
            .bind(sha256_hex(&code))
            .bind(shop.to_string())
            .bind(now_ms().saturating_add(ttl.num_milliseconds()))
            .execute(self.pool())
            .await?;
        tracing::info!(shop = %shop, "enrolment code issued");
        Ok(code)
    }

    /// Revokes a device: its token stops working at once. Its events stay in the log.
    pub async fn revoke(&self, device: Uuid) -> Result<()> {
        let done = sqlx::query("UPDATE devices SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(device.to_string())
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 0 {
            let known: Option<i64> = sqlx::query_scalar("SELECT 1 FROM devices WHERE id = $1")
                .bind(device.to_string())
                .fetch_optional(self.pool())
                .await?;
            if known.is_none() {
                return Err(Error::not_found("device", device));
            }
        }
        tracing::info!(device = %device, "device revoked");
        Ok(())
    }

    /// Gives the shop a new epoch, so every device resyncs fully: to be run after restoring
    /// a backup, whose log may lack events the devices believe were stored.
    pub async fn new_epoch(&self, shop: Uuid) -> Result<Uuid> {
        let epoch = Uuid::new_v4();
        let done = sqlx::query("UPDATE shops SET epoch = $1 WHERE id = $2")
            .bind(epoch.to_string())
            .bind(shop.to_string())
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("shop", shop));
        }
        tracing::info!(shop = %shop, "new epoch");
        Ok(epoch)
    }

    /// The shop's devices, revoked ones included, oldest first.
    pub async fn devices(&self, shop: Uuid) -> Result<Vec<DeviceInfo>> {
        self.shop(shop).await?;
        type Row = (String, String, i64, i64, Option<i64>, Option<i64>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, name, expected_seq, enrolled_at, revoked_at, last_seen_at FROM devices
             WHERE shop_id = $1 ORDER BY enrolled_at, id",
        )
        .bind(shop.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(id, name, expected, enrolled, revoked, seen)| {
                Ok(DeviceInfo {
                    id: uuid(&id)?,
                    name,
                    expected_seq: u64_of(expected)?,
                    enrolled_at: time_of(enrolled),
                    revoked_at: revoked.map(time_of),
                    last_seen_at: seen.map(time_of),
                })
            })
            .collect()
    }
}
