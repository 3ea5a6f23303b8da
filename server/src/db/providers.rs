//! The `payment_providers` table: each shop's provider account, its API key and the secrets
//! its webhooks are signed with. Read by the webhook endpoint, written by the operator.

use sqlx::AnyConnection;
use uuid::Uuid;

use super::Db;
use crate::error::Result;

pub(crate) async fn webhook_secrets(
    conn: &mut AnyConnection,
    shop: Uuid,
    provider: &str,
) -> Result<Option<Vec<String>>> {
    let row: Option<String> =
        sqlx::query_scalar("SELECT webhook_secrets FROM payment_providers WHERE shop_id = $1 AND provider = $2")
            .bind(shop.to_string())
            .bind(provider)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.map(|s| s.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect()))
}

impl Db {
    /// Sets a shop's provider account: its API key and its webhook secrets, the current one
    /// first (and the previous one while a rotation is under way).
    pub async fn set_payment_provider(
        &self,
        shop: Uuid,
        provider: &str,
        secret_key: &str,
        webhook_secrets: &[String],
    ) -> Result<()> {
        let secrets = webhook_secrets.join("\n");
        sqlx::query(
            "INSERT INTO payment_providers (shop_id, provider, secret_key, webhook_secrets) VALUES ($1, $2, $3, $4)
             ON CONFLICT (shop_id, provider) DO UPDATE SET secret_key = excluded.secret_key,
             webhook_secrets = excluded.webhook_secrets",
        )
        .bind(shop.to_string())
        .bind(provider)
        .bind(secret_key)
        .bind(secrets)
        .execute(&mut *self.conn().await?)
        .await?;
        Ok(())
    }
}
