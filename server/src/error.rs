//! Errors: the library's [`Error`] and the HTTP answer [`ApiError`], always an `ErrorBody`.

use ardoise_core::sync::protocol::ErrorBody;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("no {what} {id}")]
    NotFound { what: &'static str, id: String },
    /// A request the protocol refuses; carries the exact answer a device gets.
    #[error("{}: {}", .0.body.error, .0.body.message)]
    Refused(ApiError),
    /// Data in the database that cannot be read back (a corrupt uuid, a negative sequence).
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// The reminder dispatcher's merged ledger or its tasks failed.
    #[error("dispatcher: {0}")]
    Internal(String),
}

impl Error {
    pub(crate) fn not_found(what: &'static str, id: impl ToString) -> Error {
        Error::NotFound { what, id: id.to_string() }
    }

    /// The protocol code of a refusal (`sequence_gap`, `epoch_changed`...), if it is one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Refused(e) => Some(&e.body.error),
            _ => None,
        }
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Error {
        Error::Refused(e)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    /// Seconds to wait before trying again, with 429 (1 when not set).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: ErrorBody { error: code.to_owned(), message: message.into(), expected: None, epoch: None },
            retry_after: None,
        }
    }

    pub fn malformed(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed", message)
    }

    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    }

    /// The same answer for a missing, unknown or revoked token, so nothing is learnt from it.
    pub fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "missing, unknown or revoked token")
    }

    pub fn epoch_changed(epoch: Uuid) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::CONFLICT,
            "epoch_changed",
            "the server's history changed (restored from a backup): resync fully",
        );
        e.body.epoch = Some(epoch);
        e
    }

    /// The device read a log this server no longer holds: `after` beyond the head, or another
    /// event than `at` there. Only the asking device must resync (any device could forge the
    /// request), so the shop's epoch, unchanged, comes with the answer.
    pub fn history_lost(code: &str, message: impl Into<String>, epoch: Uuid) -> ApiError {
        let mut e = ApiError::new(StatusCode::CONFLICT, code, message);
        e.body.epoch = Some(epoch);
        e
    }

    pub fn sequence_gap(expected: u64, got: u64) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::CONFLICT,
            "sequence_gap",
            format!("expected sequence {expected} from this device, got {got}"),
        );
        e.body.expected = Some(expected);
        e
    }

    /// A device used up its quota: `events_per_day` (429, until the next UTC day) or the
    /// bytes its events may occupy (413), see `limits::Quota`.
    pub fn quota(code: &str, message: impl Into<String>, retry_after: Option<u64>) -> ApiError {
        let status = if retry_after.is_some() { StatusCode::TOO_MANY_REQUESTS } else { StatusCode::PAYLOAD_TOO_LARGE };
        let mut e = ApiError::new(status, code, message);
        e.retry_after = retry_after;
        e
    }

    pub fn internal() -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        match e {
            Error::Refused(e) => e,
            Error::NotFound { what, .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no such {what}"))
            }
            other => {
                tracing::error!(error = %other, "request failed");
                ApiError::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        tracing::Span::current().record("error", self.body.error.as_str());
        let (status, retry_after) = (self.status, self.retry_after);
        let mut response = (status, axum::Json(self.body)).into_response();
        let headers = response.headers_mut();
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            let wait = HeaderValue::from(retry_after.unwrap_or(1));
            headers.insert(header::RETRY_AFTER, wait);
        }
        response
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}
