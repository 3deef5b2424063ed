//! Lever-style error answers: a status and a `{"code", "message"}` JSON body.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered the way Lever answers: `{"code": "...", "message": "..."}`.
#[derive(Debug)]
pub(crate) struct LeverError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl LeverError {
    /// 400 `BadRequestError`.
    pub(crate) fn bad_request(message: impl Into<String>) -> LeverError {
        LeverError::new(StatusCode::BAD_REQUEST, "BadRequestError", message)
    }

    /// 401 `UnauthorizedError`.
    pub(crate) fn unauthorized(message: impl Into<String>) -> LeverError {
        LeverError::new(StatusCode::UNAUTHORIZED, "UnauthorizedError", message)
    }

    /// 404 `NotFoundError`.
    pub(crate) fn not_found(message: impl Into<String>) -> LeverError {
        LeverError::new(StatusCode::NOT_FOUND, "NotFoundError", message)
    }

    /// 405 `MethodNotAllowedError`.
    pub(crate) fn method_not_allowed(message: impl Into<String>) -> LeverError {
        LeverError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowedError",
            message,
        )
    }

    /// 413 `PayloadTooLargeError`.
    pub(crate) fn payload_too_large(message: impl Into<String>) -> LeverError {
        LeverError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLargeError",
            message,
        )
    }

    /// 500 `InternalServerError`.
    pub(crate) fn internal(message: impl Into<String>) -> LeverError {
        LeverError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            message,
        )
    }

    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> LeverError {
        LeverError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for LeverError {
    fn into_response(self) -> Response {
        let body = json!({ "code": self.code, "message": self.message });
        (self.status, Json(body)).into_response()
    }
}
