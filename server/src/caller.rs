//! Who is calling: the extractor that turns `Authorization: Bearer` into the (shop, device)
//! every request but enrolment is confined to, whatever ids its body carries.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use uuid::Uuid;

use crate::db::{Db, devices, now_ms};
use crate::error::{ApiError, Result};
use crate::secret::sha256_hex;
use crate::state::AppState;

/// `last_seen_at` is refreshed at most this often, so reads do not all become writes.
const SEEN_EVERY_MS: i64 = 60_000;

/// The authenticated caller: every query of the request is limited to `shop`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    pub shop: Uuid,
    pub device: Uuid,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let token = bearer(&parts.headers).ok_or_else(ApiError::unauthorized)?;
        let caller =
            authenticate(&state.db, token).await.map_err(ApiError::from)?.ok_or_else(ApiError::unauthorized)?;
        let span = tracing::Span::current();
        span.record("shop", tracing::field::display(caller.shop));
        span.record("device", tracing::field::display(caller.device));
        Ok(caller)
    }
}

/// The bearer token of a request, if it carries one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// The (shop, device) a token belongs to, if it is known and not revoked.
async fn authenticate(db: &Db, token: &str) -> Result<Option<Caller>> {
    let mut conn = db.conn().await?;
    let Some(holder) = devices::by_token(&mut conn, &sha256_hex(token)).await? else { return Ok(None) };
    let now = now_ms();
    if holder.last_seen_at.is_none_or(|s| now - s >= SEEN_EVERY_MS) {
        devices::set_last_seen(&mut conn, holder.device, now).await?;
    }
    Ok(Some(Caller { shop: holder.shop, device: holder.device }))
}
