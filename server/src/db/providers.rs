//! The `payment_providers` table: each shop's provider account, its API key and the secrets
//! its webhooks are signed with. Read by the webhook endpoint, written by the operator. And
//! `provider_payments`: each payment a provider reported and the back office recorded, whose
//! it was, and what reverses it (its first chargeback or its full refund).

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

/// A shop's API key with `provider`, to create payment sessions and (Mollie) read payments.
/// Never logged, never sent to a device.
pub(crate) async fn secret_key(conn: &mut AnyConnection, shop: Uuid, provider: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT secret_key FROM payment_providers WHERE shop_id = $1 AND provider = $2")
        .bind(shop.to_string())
        .bind(provider)
        .fetch_optional(&mut *conn)
        .await?)
}

/// A payment a provider reported, as recorded: whose, for which invoices, how much.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ProviderPayment {
    pub customer: String,
    pub invoices: Vec<String>,
    pub amount_cents: i64,
}

pub(crate) async fn payment(
    conn: &mut AnyConnection,
    shop: Uuid,
    provider: &str,
    payment: &str,
) -> Result<Option<ProviderPayment>> {
    let row: Option<(String, String, i64)> = sqlx::query_as(
        "SELECT customer, invoices, amount_cents FROM provider_payments WHERE shop_id = $1 AND provider = $2 AND payment = $3",
    )
    .bind(shop.to_string())
    .bind(provider)
    .bind(payment)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(customer, invoices, amount_cents)| ProviderPayment {
        customer,
        invoices: invoices.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        amount_cents,
    }))
}

/// Remembers a recorded payment; a second report of the same payment changes nothing.
pub(crate) async fn remember_payment(
    conn: &mut AnyConnection,
    shop: Uuid,
    provider: &str,
    payment: &str,
    p: &ProviderPayment,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO provider_payments (shop_id, provider, payment, customer, invoices, amount_cents)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (shop_id, provider, payment) DO NOTHING",
    )
    .bind(shop.to_string())
    .bind(provider)
    .bind(payment)
    .bind(&p.customer)
    .bind(p.invoices.join(","))
    .bind(p.amount_cents)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What reverses a provider's payment (see migration 10): `claim` (`dispute:{id}` for its
/// first chargeback, `refund:{id}` for its full refund) when nothing was named before and the
/// shop's log holds no entry `reversal` (the payment's reversal) yet, else whatever was named,
/// if anything. One conditional statement, so two processes asking at once for two facts of
/// the same payment get the same answer.
pub(crate) async fn reversed_by(
    conn: &mut AnyConnection,
    shop: Uuid,
    provider: &str,
    payment: &str,
    claim: &str,
    reversal: Uuid,
) -> Result<Option<String>> {
    sqlx::query(
        "UPDATE provider_payments SET reversed_by = $4
         WHERE shop_id = $1 AND provider = $2 AND payment = $3 AND reversed_by IS NULL
           AND NOT EXISTS (SELECT 1 FROM events WHERE shop_id = $1 AND event_id = $5)",
    )
    .bind(shop.to_string())
    .bind(provider)
    .bind(payment)
    .bind(claim)
    .bind(reversal.to_string())
    .execute(&mut *conn)
    .await?;
    reversal_of(conn, shop, provider, payment).await
}

/// What was named as reversing a provider's payment, if anything (see [`reversed_by`]).
pub(crate) async fn reversal_of(
    conn: &mut AnyConnection,
    shop: Uuid,
    provider: &str,
    payment: &str,
) -> Result<Option<String>> {
    let named: Option<Option<String>> = sqlx::query_scalar(
        "SELECT reversed_by FROM provider_payments WHERE shop_id = $1 AND provider = $2 AND payment = $3",
    )
    .bind(shop.to_string())
    .bind(provider)
    .bind(payment)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(named.flatten())
}
