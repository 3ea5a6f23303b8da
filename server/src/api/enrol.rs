//! `POST /v1/enrol`: a one-time code, created by the shop's operator, traded for a device
//! token. The code is spent only if the enrolment succeeds.

use ardoise_core::sync::protocol::{EnrolRequest, EnrolResponse};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::db::devices::{self, NewDevice};
use crate::db::{Db, now_ms, shops};
use crate::error::{ApiError, Result};
use crate::extract::JsonBody;
use crate::secret::{new_token, normalize_code, sha256_hex};
use crate::state::AppState;

/// A device's own name is only for the operator's listing; longer means a broken client.
const MAX_DEVICE_NAME: usize = 200;

/// The device name to store: trimmed, 1 to [`MAX_DEVICE_NAME`] characters, none of them a
/// control character (a NUL cannot be stored in a PostgreSQL text, a tab or a line break would
/// break the operator's listing).
fn device_name(raw: &str) -> Result<&str, ApiError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > MAX_DEVICE_NAME || name.chars().any(char::is_control) {
        return Err(ApiError::malformed(format!(
            "device_name must have 1 to {MAX_DEVICE_NAME} characters, without control characters"
        )));
    }
    Ok(name)
}

pub(crate) async fn enrol(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<EnrolRequest>,
) -> Result<Json<EnrolResponse>, ApiError> {
    Ok(Json(enrol_device(&state.db, &request).await?))
}

async fn enrol_device(db: &Db, request: &EnrolRequest) -> Result<EnrolResponse> {
    let name = device_name(&request.device_name)?;
    let bad_code = || ApiError::new(StatusCode::UNAUTHORIZED, "bad_code", "unknown, used or expired code");
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let code =
        devices::spend_code(&mut tx, &sha256_hex(&normalize_code(&request.code)), now).await?.ok_or_else(bad_code)?;
    let shop = code.shop;
    let token = new_token();
    let token_hash = sha256_hex(&token);
    let device = NewDevice { id: request.device_id, shop, name, token_hash: &token_hash, now };
    // Every refusal below drops the transaction: the code stays unspent and nothing changes.
    match (code.device, devices::shop_of(&mut tx, request.device_id).await?) {
        (_, Some(other)) if other != shop => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "wrong_device",
                "this device id is enrolled in another shop",
            )
            .into());
        }
        // The operator replaced this till (`replace-device`, which revoked its old token): the
        // new install gets a token and keeps the sequence, so its outbox carries on.
        (Some(bound), Some(_)) if bound == request.device_id => devices::renew(&mut tx, &device).await?,
        (Some(_), _) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "code_for_another_device",
                "this code was issued to replace another device: enrol with that device id",
            )
            .into());
        }
        // Every device of the shop sees the others' ids in the log: an ordinary code must not
        // let one of them take over a till, or lift its revocation.
        (None, Some(_)) => return Err(device_exists().into()),
        (None, None) => {
            if !devices::insert(&mut tx, &device).await? {
                return Err(device_exists().into());
            }
        }
    }
    let shop_row = shops::get(&mut tx, shop).await?;
    tx.commit().await?;
    tracing::Span::current().record("shop", tracing::field::display(shop));
    tracing::Span::current().record("device", tracing::field::display(request.device_id));
    Ok(EnrolResponse { shop_id: shop, shop_name: shop_row.name, token, epoch: shop_row.epoch })
}

fn device_exists() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "device_exists",
        "this device id is already enrolled: to re-enrol a lost till, the operator runs `ardoise-server replace-device`",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_name_is_trimmed_and_has_no_control_characters() {
        assert_eq!(device_name("  Caisse 1\t\n").unwrap(), "Caisse 1");
        assert_eq!(device_name(&"é".repeat(MAX_DEVICE_NAME)).unwrap().chars().count(), MAX_DEVICE_NAME);
        for bad in ["", " \u{3000}\t", "a\u{0}b", "Caisse\t1", "a\u{85}b", &"x".repeat(MAX_DEVICE_NAME + 1)] {
            assert_eq!(device_name(bad).unwrap_err().body.error, "malformed", "{bad:?}");
        }
    }
}
