//! Who is calling: enrolment (a one-time code traded for a bearer token) and the extractor that
//! turns `Authorization: Bearer` into the (shop, device) every other request is scoped to.

use ardoise_core::sync::protocol::{EnrolRequest, EnrolResponse};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use rand::Rng;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::app::AppState;
use crate::db::{Db, now_ms, uuid};
use crate::error::{ApiError, Error, Result};

/// No 0/O, 1/I/L: codes are read aloud and typed on a till.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = 10;
/// A device's own name is only for the operator's listing; longer means a broken client.
const MAX_DEVICE_NAME: usize = 200;
/// `last_seen_at` is refreshed at most this often, so reads do not all become writes.
const SEEN_EVERY_MS: i64 = 60_000;

pub(crate) fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

pub(crate) fn new_code() -> String {
    let mut rng = rand::rng();
    (0..CODE_LEN).map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char).collect()
}

/// People type codes with spaces, dashes or in lower case.
fn normalize_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

fn new_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// The bearer token of a request, if it carries one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

impl Db {
    /// Trades a one-time code for a token. The code is spent only if the enrolment succeeds.
    pub async fn enrol(&self, request: &EnrolRequest) -> Result<EnrolResponse> {
        let name = request.device_name.trim();
        if name.is_empty() || name.chars().count() > MAX_DEVICE_NAME {
            return Err(ApiError::malformed(format!("device_name must have 1 to {MAX_DEVICE_NAME} characters")).into());
        }
        let bad_code = || ApiError::new(StatusCode::UNAUTHORIZED, "bad_code", "unknown, used or expired code");
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let code_hash = sha256_hex(&normalize_code(&request.code));
        let spent = sqlx::query(
            "UPDATE enrol_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(&code_hash)
        .execute(&mut *tx)
        .await?;
        if spent.rows_affected() != 1 {
            return Err(bad_code().into());
        }
        let shop: String = sqlx::query_scalar("SELECT shop_id FROM enrol_codes WHERE code_hash = $1")
            .bind(&code_hash)
            .fetch_one(&mut *tx)
            .await?;
        let device = request.device_id.to_string();
        let token = new_token();
        let owner: Option<String> = sqlx::query_scalar("SELECT shop_id FROM devices WHERE id = $1")
            .bind(&device)
            .fetch_optional(&mut *tx)
            .await?;
        match owner {
            Some(other) if other != shop => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "wrong_device",
                    "this device id is enrolled in another shop",
                )
                .into());
            }
            // The operator issued a new code for a known till (a reinstall, a revoked token):
            // it gets a new token and keeps its sequence.
            Some(_) => {
                sqlx::query(
                    "UPDATE devices SET name = $1, token_hash = $2, enrolled_at = $3, revoked_at = NULL WHERE id = $4",
                )
                .bind(name)
                .bind(sha256_hex(&token))
                .bind(now)
                .bind(&device)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query(
                    "INSERT INTO devices (id, shop_id, name, token_hash, expected_seq, enrolled_at)
                     VALUES ($1, $2, $3, $4, 1, $5)",
                )
                .bind(&device)
                .bind(&shop)
                .bind(name)
                .bind(sha256_hex(&token))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        let (shop_name, epoch): (String, String) =
            sqlx::query_as("SELECT name, epoch FROM shops WHERE id = $1").bind(&shop).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        let shop_id = uuid(&shop)?;
        tracing::Span::current().record("shop", tracing::field::display(shop_id));
        tracing::Span::current().record("device", tracing::field::display(request.device_id));
        Ok(EnrolResponse { shop_id, shop_name, token, epoch: uuid(&epoch)? })
    }

    /// The (shop, device) a token belongs to, if it is known and not revoked.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Caller>> {
        let row: Option<(String, String, Option<i64>)> = sqlx::query_as(
            "SELECT id, shop_id, last_seen_at FROM devices WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(sha256_hex(token))
        .fetch_optional(self.pool())
        .await?;
        let Some((device, shop, seen)) = row else { return Ok(None) };
        let now = now_ms();
        if seen.is_none_or(|s| now - s >= SEEN_EVERY_MS) {
            sqlx::query("UPDATE devices SET last_seen_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&device)
                .execute(self.pool())
                .await?;
        }
        Ok(Some(Caller { shop: uuid(&shop)?, device: uuid(&device)? }))
    }
}

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
        let caller = state.db.authenticate(token).await.map_err(ApiError::from)?.ok_or_else(ApiError::unauthorized)?;
        let span = tracing::Span::current();
        span.record("shop", tracing::field::display(caller.shop));
        span.record("device", tracing::field::display(caller.device));
        Ok(caller)
    }
}

/// Refusal when the device row vanished or was revoked between authentication and use.
pub(crate) fn gone() -> Error {
    Error::Refused(ApiError::unauthorized())
}

pub(crate) async fn enrol(
    axum::extract::State(state): axum::extract::State<AppState>,
    crate::extract::JsonBody(request): crate::extract::JsonBody<EnrolRequest>,
) -> Result<axum::Json<EnrolResponse>, ApiError> {
    Ok(axum::Json(state.db.enrol(&request).await?))
}
