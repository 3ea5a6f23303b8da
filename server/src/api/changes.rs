//! `GET /v1/changes` and `GET /v1/status`: reading the shop's log from a cursor, and where the
//! calling device stands. Neither writes: a cursor the log cannot continue is refused (409
//! `cursor_ahead`, `history_differs`) and only the asking device resyncs.

use ardoise_core::sync::protocol::{ChangesResponse, MAX_PAGE, StatusResponse};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use uuid::Uuid;

use crate::caller::Caller;
use crate::db::{devices, shops};
use crate::error::ApiError;
use crate::extract::QueryParams;
use crate::log;
use crate::state::AppState;

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
        let shop = shops::get(&mut *state.db.conn().await?, caller.shop).await?;
        if epoch != shop.epoch {
            return Err(ApiError::epoch_changed(shop.epoch));
        }
    }
    if let (Some(at), true) = (query.at, query.after > 0) {
        log::check_continuity(&state.db, caller.shop, query.after, at).await?;
    }
    let limit = query.limit.unwrap_or(MAX_PAGE);
    let skip = query.exclude_own.then_some(caller.device);
    let page = log::page(&state.db, caller.shop, query.after, limit, skip).await?;
    tracing::Span::current().record("events", page.changes.len());
    Ok(Json(page))
}

pub(crate) async fn status(State(state): State<AppState>, caller: Caller) -> Result<Json<StatusResponse>, ApiError> {
    let mut conn = state.db.conn().await?;
    let shop = shops::get(&mut conn, caller.shop).await?;
    let expected = devices::expected_seq(&mut conn, caller.shop, caller.device).await?;
    Ok(Json(StatusResponse {
        shop_id: shop.id,
        epoch: shop.epoch,
        head: shop.head,
        expected,
        server_time: chrono::Utc::now(),
    }))
}
