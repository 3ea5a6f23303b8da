//! The shop's log in the database: `events` (accepted, numbered by shop sequence),
//! `rejections` (consumed but refused) and `shop_customers` (the customers a shop has
//! sent). Written a whole batch per statement, read a page at a time.

use std::collections::{HashMap, HashSet};

use ardoise_core::sync::protocol::{Change, Event};
use sqlx::AnyConnection;
use uuid::Uuid;

use super::{Backend, ROWS_PER_STATEMENT, i64_of, placeholders, u64_of, uuid};
use crate::error::{Error, Result};

/// An event to store: its shop sequence, the event, and its payload as stored.
pub(crate) type Accepted<'a> = (u64, &'a Event, &'a str);

/// An event refused but consumed: the event, why, and its payload as stored.
pub(crate) type Refused<'a> = (&'a Event, &'a str, &'a str);

/// The ids of `events` the shop's log already holds, in one lookup per chunk.
pub(crate) async fn taken_ids(
    conn: &mut AnyConnection,
    backend: Backend,
    shop: Uuid,
    events: &[Event],
) -> Result<HashSet<Uuid>> {
    let mut taken = HashSet::new();
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        let list: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
        let sql = match backend {
            Backend::Sqlite => {
                format!("SELECT event_id FROM events WHERE shop_id = $1 AND event_id IN ({})", list.join(", "))
            }
            // With `IN (...)`, PostgreSQL's planner may scan the whole shop through the primary
            // key and test each row against the list (1.4 s per push of 500 at 100,000 events
            // when the table's statistics lag its growth). One probe of the (shop, event id)
            // unique index per id, forced by LATERAL ... LIMIT 1, stays a few milliseconds.
            Backend::Postgres => format!(
                "SELECT v.id FROM (VALUES ({})) AS v(id)
                 CROSS JOIN LATERAL (SELECT 1 FROM events e WHERE e.shop_id = $1 AND e.event_id = v.id LIMIT 1) AS hit",
                list.join("), (")
            ),
        };
        let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)).bind(shop.to_string());
        for event in chunk {
            q = q.bind(event.id.to_string());
        }
        for id in q.fetch_all(&mut *conn).await? {
            taken.insert(uuid(&id)?);
        }
    }
    Ok(taken)
}

/// For each of `ids` that is an entry of the shop's log: its customer and kind, read from the
/// entry as stored (an entry's event id is the entry's id).
pub(crate) async fn entries(
    conn: &mut AnyConnection,
    backend: Backend,
    shop: Uuid,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, (Uuid, String)>> {
    #[derive(serde::Deserialize)]
    struct Named {
        customer: Uuid,
        kind: String,
    }
    let mut found = HashMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let list: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
        let sql = match backend {
            Backend::Sqlite => format!(
                "SELECT event_id, payload FROM events WHERE shop_id = $1 AND kind = 'entry' AND event_id IN ({})",
                list.join(", ")
            ),
            // One probe of the (shop, event id) index per id; see `taken_ids`.
            Backend::Postgres => format!(
                "SELECT hit.event_id, hit.payload FROM (VALUES ({})) AS v(id)
                 CROSS JOIN LATERAL (SELECT e.event_id, e.payload FROM events e
                                     WHERE e.shop_id = $1 AND e.event_id = v.id AND e.kind = 'entry' LIMIT 1) AS hit",
                list.join("), (")
            ),
        };
        let mut q = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql)).bind(shop.to_string());
        for id in chunk {
            q = q.bind(id.to_string());
        }
        for (id, payload) in q.fetch_all(&mut *conn).await? {
            let named: Named = serde_json::from_str(&payload)
                .map_err(|e| Error::Corrupt(format!("entry {id} in the log of shop {shop}: {e}")))?;
            found.insert(uuid(&id)?, (named.customer, named.kind));
        }
    }
    Ok(found)
}

/// Registers customers with the shop; those already registered are left as they are.
pub(crate) async fn insert_customers(conn: &mut AnyConnection, shop: Uuid, customers: &[Uuid]) -> Result<()> {
    let shop_id = shop.to_string();
    for chunk in customers.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO shop_customers (shop_id, customer_id) VALUES {} ON CONFLICT DO NOTHING",
            placeholders(chunk.len(), 2)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for customer in chunk {
            q = q.bind(&shop_id).bind(customer.to_string());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Appends `device`'s accepted events to the shop's log.
pub(crate) async fn insert_events(
    conn: &mut AnyConnection,
    shop: Uuid,
    device: Uuid,
    accepted: &[Accepted<'_>],
    now: i64,
) -> Result<()> {
    let (shop_id, device_id) = (shop.to_string(), device.to_string());
    for chunk in accepted.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO events (shop_id, shop_seq, device_id, device_seq, event_id, kind, hlc, payload, received_at)
             VALUES {}",
            placeholders(chunk.len(), 9)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (shop_seq, event, payload) in chunk {
            q = q
                .bind(&shop_id)
                .bind(i64_of(*shop_seq)?)
                .bind(&device_id)
                .bind(i64_of(event.seq)?)
                .bind(event.id.to_string())
                .bind(&event.kind)
                .bind(&event.hlc)
                .bind(*payload)
                .bind(now);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Records `device`'s refused events, with why.
pub(crate) async fn insert_rejections(
    conn: &mut AnyConnection,
    shop: Uuid,
    device: Uuid,
    refused: &[Refused<'_>],
    now: i64,
) -> Result<()> {
    let (shop_id, device_id) = (shop.to_string(), device.to_string());
    for chunk in refused.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO rejections (shop_id, device_id, device_seq, event_id, kind, reason, payload, at)
             VALUES {}",
            placeholders(chunk.len(), 8)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (event, reason, payload) in chunk {
            q = q
                .bind(&shop_id)
                .bind(&device_id)
                .bind(i64_of(event.seq)?)
                .bind(event.id.to_string())
                .bind(&event.kind)
                .bind(*reason)
                .bind(*payload)
                .bind(now);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The shop's events with `after < shop sequence <= upto`, in order, at most `limit`; without
/// those of device `skip`.
pub(crate) async fn page(
    conn: &mut AnyConnection,
    shop: Uuid,
    after: u64,
    upto: u64,
    limit: u32,
    skip: Option<Uuid>,
) -> Result<Vec<Change>> {
    type Row = (i64, String, i64, String, String, String, String);
    let sql = match skip {
        None => {
            "SELECT shop_seq, device_id, device_seq, event_id, kind, hlc, payload FROM events
             WHERE shop_id = $1 AND shop_seq > $2 AND shop_seq <= $3 ORDER BY shop_seq LIMIT $4"
        }
        Some(_) => {
            "SELECT shop_seq, device_id, device_seq, event_id, kind, hlc, payload FROM events
             WHERE shop_id = $1 AND shop_seq > $2 AND shop_seq <= $3 AND device_id <> $5
             ORDER BY shop_seq LIMIT $4"
        }
    };
    // Values bind in call order: `skip` comes last, as `$5`.
    let mut query =
        sqlx::query_as(sql).bind(shop.to_string()).bind(i64_of(after)?).bind(i64_of(upto)?).bind(i64::from(limit));
    if let Some(device) = skip {
        query = query.bind(device.to_string());
    }
    let rows: Vec<Row> = query.fetch_all(&mut *conn).await?;
    rows.into_iter()
        .map(|(cursor, device, seq, id, kind, hlc, payload)| {
            Ok(Change {
                cursor: u64_of(cursor)?,
                device_id: uuid(&device)?,
                event: Event {
                    id: uuid(&id)?,
                    seq: u64_of(seq)?,
                    kind,
                    hlc,
                    payload: serde_json::from_str(&payload)
                        .map_err(|e| Error::Corrupt(format!("payload of event {cursor}: {e}")))?,
                },
            })
        })
        .collect()
}

/// The id of the event at shop sequence `seq`, if the log holds one there.
pub(crate) async fn id_at(conn: &mut AnyConnection, shop: Uuid, seq: u64) -> Result<Option<Uuid>> {
    let id: Option<String> = sqlx::query_scalar("SELECT event_id FROM events WHERE shop_id = $1 AND shop_seq = $2")
        .bind(shop.to_string())
        .bind(i64_of(seq)?)
        .fetch_optional(&mut *conn)
        .await?;
    id.as_deref().map(uuid).transpose()
}

/// An event the server consumed without storing it, for the owner: which device sent it, its
/// sequence and kind, why it was refused, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectionInfo {
    pub device: Uuid,
    pub seq: u64,
    pub kind: String,
    pub reason: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl super::Db {
    /// The events of shop `shop` refused by its rules, newest first, at most `limit`.
    pub async fn rejections(&self, shop: Uuid, limit: u32) -> Result<Vec<RejectionInfo>> {
        let rows: Vec<(String, i64, String, String, i64)> = sqlx::query_as(
            "SELECT device_id, device_seq, kind, reason, at FROM rejections WHERE shop_id = $1
             ORDER BY at DESC, device_id, device_seq DESC LIMIT $2",
        )
        .bind(shop.to_string())
        .bind(i64::from(limit))
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.into_iter()
            .map(|(device, seq, kind, reason, at)| {
                Ok(RejectionInfo { device: uuid(&device)?, seq: u64_of(seq)?, kind, reason, at: super::time_of(at) })
            })
            .collect()
    }
}
