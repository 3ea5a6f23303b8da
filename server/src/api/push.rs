//! `POST /v1/push`: a device's events join the shop's log, in one transaction, with gapless
//! shop sequences; repeats are acknowledged, business refusals consumed and reported.

use ardoise_core::sync::protocol::{MAX_PUSH_EVENTS, PushRequest, PushResponse};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::caller::Caller;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::log;
use crate::rules::{check_batch, too_many};
use crate::state::AppState;

pub(crate) async fn push(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    let span = tracing::Span::current();
    span.record("events", request.events.len());
    if request.events.len() > MAX_PUSH_EVENTS {
        return Err(too_many(request.events.len()));
    }
    if request.device_id != caller.device {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "wrong_device", "device_id is not the device of this token"));
    }
    // Before the shop's lock: a bad batch costs no transaction.
    let checked = check_batch(&request.events, caller.device, Some(chrono::Utc::now()))?;
    // `acked_through` is not read: what this server holds decides, never what a device says
    // it was told (a forged value must not be able to change the shop's epoch).
    let appended = log::append(
        &state.db,
        caller.shop,
        caller.device,
        Some(request.epoch),
        &request.events,
        &checked,
        Some(state.quota),
    )
    .await?;
    span.record("repeats", appended.repeats);
    span.record("rejected", appended.response.rejected.len());
    Ok(Json(appended.response))
}
