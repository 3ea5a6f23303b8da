//! The `shops` table: a shop's name, its epoch, and the head of its log (the last shop
//! sequence given out).

use sqlx::AnyConnection;
use uuid::Uuid;

use super::{Db, i64_of, u64_of, uuid};
use crate::error::{Error, Result};

/// A shop as the server knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shop {
    pub id: Uuid,
    pub name: String,
    pub epoch: Uuid,
    pub head: u64,
}

/// A shop with an empty log and a fresh epoch; returns its id.
pub(crate) async fn create(conn: &mut AnyConnection, name: &str, now: i64) -> Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO shops (id, name, epoch, head, created_at) VALUES ($1, $2, $3, 0, $4)")
        .bind(id.to_string())
        .bind(name)
        .bind(Uuid::new_v4().to_string())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

/// The shop, or `NotFound`.
pub(crate) async fn get(conn: &mut AnyConnection, shop: Uuid) -> Result<Shop> {
    let row: Option<(String, String, i64)> = sqlx::query_as("SELECT name, epoch, head FROM shops WHERE id = $1")
        .bind(shop.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    let (name, epoch, head) = row.ok_or_else(|| Error::not_found("shop", shop))?;
    Ok(Shop { id: shop, name, epoch: uuid(&epoch)?, head: u64_of(head)? })
}

/// Every shop's id. A row whose id is not a uuid is left out: one corrupt shop must not stop
/// the others' reminders.
pub(crate) async fn ids(conn: &mut AnyConnection) -> Result<Vec<Uuid>> {
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM shops").fetch_all(&mut *conn).await?;
    Ok(ids.iter().filter_map(|id| Uuid::try_parse(id).ok()).collect())
}

/// Takes the shop row's lock and reads its epoch and head, inside the caller's transaction.
/// Locking first serialises the shop's appends (a row lock on PostgreSQL, the database lock
/// on SQLite), so shop sequences cannot collide. `None` when there is no such shop.
pub(crate) async fn lock(conn: &mut AnyConnection, shop: Uuid) -> Result<Option<(Uuid, u64)>> {
    let shop_id = shop.to_string();
    let locked = sqlx::query("UPDATE shops SET head = head WHERE id = $1").bind(&shop_id).execute(&mut *conn).await?;
    if locked.rows_affected() == 0 {
        return Ok(None);
    }
    let (epoch, head): (String, i64) =
        sqlx::query_as("SELECT epoch, head FROM shops WHERE id = $1").bind(&shop_id).fetch_one(&mut *conn).await?;
    Ok(Some((uuid(&epoch)?, u64_of(head)?)))
}

pub(crate) async fn set_head(conn: &mut AnyConnection, shop: Uuid, head: u64) -> Result<()> {
    sqlx::query("UPDATE shops SET head = $1 WHERE id = $2")
        .bind(i64_of(head)?)
        .bind(shop.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Sets the epoch whatever it was; false when there is no such shop.
pub(crate) async fn set_epoch(conn: &mut AnyConnection, shop: Uuid, epoch: Uuid) -> Result<bool> {
    let done = sqlx::query("UPDATE shops SET epoch = $1 WHERE id = $2")
        .bind(epoch.to_string())
        .bind(shop.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

impl Db {
    pub async fn shop(&self, shop: Uuid) -> Result<Shop> {
        get(&mut *self.conn().await?, shop).await
    }

    /// The shop's latest sequence number.
    pub async fn head(&self, shop: Uuid) -> Result<u64> {
        Ok(self.shop(shop).await?.head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_in_memory_database_is_one_database() {
        let db = Db::connect("sqlite::memory:").await.unwrap();
        let shop = create(&mut db.conn().await.unwrap(), "Mémoire", 0).await.unwrap();
        for _ in 0..3 {
            assert_eq!(db.shop(shop).await.unwrap().name, "Mémoire");
        }
        assert_eq!(db.head(shop).await.unwrap(), 0);
        // Migrating again is a no-op.
        db.migrate().await.unwrap();
    }
}
