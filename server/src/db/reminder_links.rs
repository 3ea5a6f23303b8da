//! The `reminder_links` table: what each reminder's stable payment link (`/r/{token}`) was made
//! for, kept under the token's hash. Written when the dispatcher sends the reminder, read when
//! the customer opens the link; never changed, so a link leads somewhere for as long as the
//! customer owes something.

use sqlx::AnyConnection;
use uuid::Uuid;

use super::uuid;
use crate::error::Result;

/// What a reminder asked, as its link remembers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ReminderLink {
    pub shop: Uuid,
    pub customer: String,
    pub reminder: Uuid,
    pub amount_cents: i64,
    pub invoices: Vec<String>,
}

pub(crate) async fn add(conn: &mut AnyConnection, token_hash: &str, link: &ReminderLink, now_ms: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO reminder_links (token_hash, shop_id, customer_ref, reminder_id, amount_cents, invoices, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(token_hash)
    .bind(link.shop.to_string())
    .bind(&link.customer)
    .bind(link.reminder.to_string())
    .bind(link.amount_cents)
    .bind(link.invoices.join(","))
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn get(conn: &mut AnyConnection, token_hash: &str) -> Result<Option<ReminderLink>> {
    let row: Option<(String, String, String, i64, String)> = sqlx::query_as(
        "SELECT shop_id, customer_ref, reminder_id, amount_cents, invoices FROM reminder_links WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|(shop, customer, reminder, amount_cents, invoices)| {
        Ok(ReminderLink {
            shop: uuid(&shop)?,
            customer,
            reminder: uuid(&reminder)?,
            amount_cents,
            invoices: invoices.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        })
    })
    .transpose()
}
