//! `GET /v1/changes` and `GET /v1/status`: reading the shop's log from a cursor, and where the
//! calling device stands.

use ardoise_core::sync::protocol::{Change, ChangesResponse, Event, MAX_PAGE, StatusResponse};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Caller;
use crate::db::{Db, i64_of, u64_of, uuid};
use crate::error::{ApiError, Error, Result};
use crate::extract::QueryParams;

#[derive(Debug, Deserialize)]
pub(crate) struct ChangesQuery {
    #[serde(default)]
    after: u64,
    limit: Option<u32>,
    /// The epoch the device last saw; when it is not the shop's, the device must resync.
    epoch: Option<Uuid>,
    /// The id of the event the device holds at `after`.
    at: Option<Uuid>,
    /// Leave the caller's own events out of the page: it recorded them, and would only skip
    /// them. They still advance `next`.
    #[serde(default)]
    exclude_own: bool,
}

pub(crate) async fn changes(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<ChangesQuery>,
) -> Result<Json<ChangesResponse>, ApiError> {
    if let Some(epoch) = query.epoch {
        let shop = state.db.shop(caller.shop).await?;
        if epoch != shop.epoch {
            return Err(ApiError::epoch_changed(shop.epoch));
        }
    }
    if let (Some(at), true) = (query.at, query.after > 0) {
        state.db.check_continuity(caller.shop, query.after, at).await?;
    }
    let limit = query.limit.unwrap_or(MAX_PAGE);
    let page = if query.exclude_own {
        state.db.changes_for(caller.shop, query.after, limit, Some(caller.device)).await?
    } else {
        state.db.changes(caller.shop, query.after, limit).await?
    };
    tracing::Span::current().record("events", page.changes.len());
    Ok(Json(page))
}

pub(crate) async fn status(State(state): State<AppState>, caller: Caller) -> Result<Json<StatusResponse>, ApiError> {
    let shop = state.db.shop(caller.shop).await?;
    let expected = state.db.expected_seq(caller.shop, caller.device).await?;
    Ok(Json(StatusResponse {
        shop_id: shop.id,
        epoch: shop.epoch,
        head: shop.head,
        expected,
        server_time: chrono::Utc::now(),
    }))
}

impl Db {
    /// The shop's events after cursor `after`, at most `limit` (capped to [`MAX_PAGE`]). A
    /// cursor beyond the head means the log lost events the reader had seen (the server was
    /// restored from an older backup): the shop gets a new epoch and the reader is refused
    /// with `epoch_changed`, so every device resyncs.
    pub async fn changes(&self, shop: Uuid, after: u64, limit: u32) -> Result<ChangesResponse> {
        self.changes_for(shop, after, limit, None).await
    }

    /// [`Db::changes`] without the events of device `skip`. The page still covers every event
    /// up to its `next`: when fewer than `limit` events of other devices remain, `next` is the
    /// head, and `next_event` names the event there for the device's continuity check.
    pub async fn changes_for(&self, shop: Uuid, after: u64, limit: u32, skip: Option<Uuid>) -> Result<ChangesResponse> {
        let current = self.shop(shop).await?;
        if after > current.head {
            let epoch = self.bump_epoch(shop, current.epoch).await?;
            tracing::warn!(shop = %shop, after, head = current.head, "cursor beyond the head: new epoch");
            return Err(ApiError::epoch_changed(epoch).into());
        }
        type Row = (i64, String, i64, String, String, String, String);
        let limit = limit.clamp(1, MAX_PAGE);
        // Bounded by the head read above, so that `next` never passes the `head` answered.
        // Every event up to that head is committed with it, so none can appear below it later.
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
        let mut query = sqlx::query_as(sql)
            .bind(shop.to_string())
            .bind(i64_of(after)?)
            .bind(i64_of(current.head)?)
            .bind(i64::from(limit));
        if let Some(device) = skip {
            query = query.bind(device.to_string());
        }
        let rows: Vec<Row> = query.fetch_all(self.pool()).await?;
        let changes = rows
            .into_iter()
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
            .collect::<Result<Vec<_>>>()?;
        let (next, next_event) = match skip {
            // Fewer than a page of the others' events: the rest up to the head is the caller's.
            Some(_) if changes.len() < limit as usize && current.head > after => {
                let at = changes.last().filter(|c| c.cursor == current.head).map(|c| c.event.id);
                let at = match at {
                    Some(id) => Some(id),
                    None => Some(self.event_at(shop, current.head).await?),
                };
                (current.head, at)
            }
            // A full page (the rest may hold more of the others' events), or all events.
            _ => (changes.last().map_or(after, |c| c.cursor), None),
        };
        Ok(ChangesResponse { epoch: current.epoch, changes, next, head: current.head, next_event })
    }

    /// The id of the event at shop sequence `seq`, which must be in the log.
    async fn event_at(&self, shop: Uuid, seq: u64) -> Result<Uuid> {
        let id: Option<String> = sqlx::query_scalar("SELECT event_id FROM events WHERE shop_id = $1 AND shop_seq = $2")
            .bind(shop.to_string())
            .bind(i64_of(seq)?)
            .fetch_optional(self.pool())
            .await?;
        uuid(&id.ok_or_else(|| Error::Corrupt(format!("no event at sequence {seq}, below the head")))?)
    }

    /// A device that holds event `at` at sequence `after` while this log holds another (or
    /// none) there has seen a history this server lost: it was restored from a backup.
    pub async fn check_continuity(&self, shop: Uuid, after: u64, at: Uuid) -> Result<()> {
        let held: Option<String> =
            sqlx::query_scalar("SELECT event_id FROM events WHERE shop_id = $1 AND shop_seq = $2")
                .bind(shop.to_string())
                .bind(i64_of(after)?)
                .fetch_optional(self.pool())
                .await?;
        if held.as_deref() == Some(at.to_string().as_str()) {
            return Ok(());
        }
        let current = self.shop(shop).await?;
        if held.is_none() && after > current.head {
            // Beyond the head: `changes` bumps the epoch itself.
            return Ok(());
        }
        let epoch = self.bump_epoch(shop, current.epoch).await?;
        tracing::warn!(%shop, after, "the device's history differs from the log: new epoch");
        Err(ApiError::epoch_changed(epoch).into())
    }

    /// Replaces the epoch unless someone else already did since it was read, and returns the
    /// shop's epoch either way: concurrent readers past the head cause a single bump.
    pub(crate) async fn bump_epoch(&self, shop: Uuid, seen: Uuid) -> Result<Uuid> {
        let fresh = Uuid::new_v4();
        sqlx::query("UPDATE shops SET epoch = $1 WHERE id = $2 AND epoch = $3")
            .bind(fresh.to_string())
            .bind(shop.to_string())
            .bind(seen.to_string())
            .execute(self.pool())
            .await?;
        Ok(self.shop(shop).await?.epoch)
    }
}
