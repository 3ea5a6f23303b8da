//! The `devices` and `enrol_codes` tables: one-time enrolment codes, each device's row with
//! the hash of its token, and the next sequence the server expects from it.

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use uuid::Uuid;

use super::{Db, i64_of, time_of, u64_of, uuid};
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

/// A device row to create: `token_hash` is the hash of the token handed to the device.
#[derive(Debug)]
pub(crate) struct NewDevice<'a> {
    pub id: Uuid,
    pub shop: Uuid,
    pub name: &'a str,
    pub token_hash: &'a str,
    pub now: i64,
}

/// Who holds a token, and when it was last seen.
#[derive(Debug)]
pub(crate) struct TokenHolder {
    pub device: Uuid,
    pub shop: Uuid,
    pub last_seen_at: Option<i64>,
}

/// Where a device stands in its shop's log.
#[derive(Debug)]
pub(crate) struct Standing {
    pub expected_seq: u64,
    pub revoked: bool,
    pub usage: Usage,
}

/// What a device used of its quota: events taken on UTC day `day`, bytes its events occupy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    pub day: i64,
    pub events_today: u64,
    pub bytes_stored: u64,
}

/// Stores a code's hash. `device` binds it to one existing device (a replaced till); `None`
/// lets it enrol only a device id the server has never seen.
pub(crate) async fn insert_code(
    conn: &mut AnyConnection,
    code_hash: &str,
    shop: Uuid,
    device: Option<Uuid>,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO enrol_codes (code_hash, shop_id, expires_at, used_at, device_id) VALUES ($1, $2, $3, NULL, $4)",
    )
    .bind(code_hash)
    .bind(shop.to_string())
    .bind(expires_at)
    .bind(device.map(|d| d.to_string()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What a spent code allows: enrolling into `shop`, as `device` only when it is bound to one.
#[derive(Debug)]
pub(crate) struct SpentCode {
    pub shop: Uuid,
    pub device: Option<Uuid>,
}

/// Marks the code used and returns what it allows, if it is known, unused and not expired. In
/// the caller's transaction, so that the code stays unspent if the enrolment fails later.
pub(crate) async fn spend_code(conn: &mut AnyConnection, code_hash: &str, now: i64) -> Result<Option<SpentCode>> {
    let spent =
        sqlx::query("UPDATE enrol_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1")
            .bind(now)
            .bind(code_hash)
            .execute(&mut *conn)
            .await?;
    if spent.rows_affected() != 1 {
        return Ok(None);
    }
    let (shop, device): (String, Option<String>) =
        sqlx::query_as("SELECT shop_id, device_id FROM enrol_codes WHERE code_hash = $1")
            .bind(code_hash)
            .fetch_one(&mut *conn)
            .await?;
    Ok(Some(SpentCode { shop: uuid(&shop)?, device: device.as_deref().map(uuid).transpose()? }))
}

/// The shop a device id belongs to, if it is known.
pub(crate) async fn shop_of(conn: &mut AnyConnection, device: Uuid) -> Result<Option<Uuid>> {
    let shop: Option<String> = sqlx::query_scalar("SELECT shop_id FROM devices WHERE id = $1")
        .bind(device.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    shop.as_deref().map(uuid).transpose()
}

/// A new device; false when its id was taken meanwhile (two enrolments racing with one id,
/// which only PostgreSQL lets overlap).
pub(crate) async fn insert(conn: &mut AnyConnection, d: &NewDevice<'_>) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO devices (id, shop_id, name, token_hash, expected_seq, enrolled_at)
         VALUES ($1, $2, $3, $4, 1, $5) ON CONFLICT (id) DO NOTHING",
    )
    .bind(d.id.to_string())
    .bind(d.shop.to_string())
    .bind(d.name)
    .bind(d.token_hash)
    .bind(d.now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A device replaced by the operator (`replace-device`) enrolled again: a new name and token,
/// no longer revoked, and the same sequence, so its outbox carries on where it was.
pub(crate) async fn renew(conn: &mut AnyConnection, d: &NewDevice<'_>) -> Result<()> {
    sqlx::query("UPDATE devices SET name = $1, token_hash = $2, enrolled_at = $3, revoked_at = NULL WHERE id = $4")
        .bind(d.name)
        .bind(d.token_hash)
        .bind(d.now)
        .bind(d.id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The server's own device in a shop, created on first use with a token hash no token can
/// match; nothing happens if it exists.
pub(crate) async fn insert_server_device(
    conn: &mut AnyConnection,
    shop: Uuid,
    device: Uuid,
    token_hash: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO devices (id, shop_id, name, token_hash, expected_seq, enrolled_at)
         VALUES ($1, $2, 'server', $3, 1, $4) ON CONFLICT (id) DO NOTHING",
    )
    .bind(device.to_string())
    .bind(shop.to_string())
    .bind(token_hash)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The device whose token has this hash, unless it is revoked.
pub(crate) async fn by_token(conn: &mut AnyConnection, token_hash: &str) -> Result<Option<TokenHolder>> {
    let row: Option<(String, String, Option<i64>)> =
        sqlx::query_as("SELECT id, shop_id, last_seen_at FROM devices WHERE token_hash = $1 AND revoked_at IS NULL")
            .bind(token_hash)
            .fetch_optional(&mut *conn)
            .await?;
    row.map(|(device, shop, seen)| Ok(TokenHolder { device: uuid(&device)?, shop: uuid(&shop)?, last_seen_at: seen }))
        .transpose()
}

pub(crate) async fn set_last_seen(conn: &mut AnyConnection, device: Uuid, now: i64) -> Result<()> {
    sqlx::query("UPDATE devices SET last_seen_at = $1 WHERE id = $2")
        .bind(now)
        .bind(device.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Revokes the device's token; false when it is unknown or already revoked.
pub(crate) async fn revoke(conn: &mut AnyConnection, device: Uuid, now: i64) -> Result<bool> {
    let done = sqlx::query("UPDATE devices SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(device.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn exists(conn: &mut AnyConnection, device: Uuid) -> Result<bool> {
    let known: Option<i64> = sqlx::query_scalar("SELECT 1 FROM devices WHERE id = $1")
        .bind(device.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(known.is_some())
}

/// The shop's devices, revoked ones included, oldest first.
pub(crate) async fn list(conn: &mut AnyConnection, shop: Uuid) -> Result<Vec<DeviceInfo>> {
    type Row = (String, String, i64, i64, Option<i64>, Option<i64>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, name, expected_seq, enrolled_at, revoked_at, last_seen_at FROM devices
         WHERE shop_id = $1 ORDER BY enrolled_at, id",
    )
    .bind(shop.to_string())
    .fetch_all(&mut *conn)
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

/// The device's expected sequence and whether it is revoked, if it belongs to the shop.
pub(crate) async fn standing(conn: &mut AnyConnection, shop: Uuid, device: Uuid) -> Result<Option<Standing>> {
    let row: Option<(i64, Option<i64>, i64, i64, i64)> = sqlx::query_as(
        "SELECT expected_seq, revoked_at, quota_day, events_today, bytes_stored FROM devices
         WHERE id = $1 AND shop_id = $2",
    )
    .bind(device.to_string())
    .bind(shop.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|(expected, revoked, day, events, bytes)| {
        Ok(Standing {
            expected_seq: u64_of(expected)?,
            revoked: revoked.is_some(),
            usage: Usage { day, events_today: u64_of(events)?, bytes_stored: u64_of(bytes)? },
        })
    })
    .transpose()
}

/// The next sequence the server expects from a device of the shop, or `NotFound`.
pub(crate) async fn expected_seq(conn: &mut AnyConnection, shop: Uuid, device: Uuid) -> Result<u64> {
    let expected: Option<i64> = sqlx::query_scalar("SELECT expected_seq FROM devices WHERE id = $1 AND shop_id = $2")
        .bind(device.to_string())
        .bind(shop.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    u64_of(expected.ok_or_else(|| Error::not_found("device", device))?)
}

/// After a push: the next sequence expected from the device, and what it used of its quota.
pub(crate) async fn set_progress(conn: &mut AnyConnection, device: Uuid, expected: u64, usage: Usage) -> Result<()> {
    sqlx::query(
        "UPDATE devices SET expected_seq = $1, quota_day = $2, events_today = $3, bytes_stored = $4 WHERE id = $5",
    )
    .bind(i64_of(expected)?)
    .bind(usage.day)
    .bind(i64_of(usage.events_today)?)
    .bind(i64_of(usage.bytes_stored)?)
    .bind(device.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Db {
    /// The next sequence the server expects from a device of the shop.
    pub async fn expected_seq(&self, shop: Uuid, device: Uuid) -> Result<u64> {
        expected_seq(&mut *self.conn().await?, shop, device).await
    }
}
