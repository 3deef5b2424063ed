//! The last line of defence: a panic while handling a request becomes the standard 500
//! envelope and an error log line, never a dropped connection or a crashed task.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;

use crate::envelope::ApiError;

/// Middleware: a panic below it is answered 500 `internal_error`.
pub(crate) async fn catch_panic(request: Request, next: Next) -> Response {
    unwound(next.run(request)).await
}

/// Runs `work`; a panic in it becomes a 500 `internal_error` answer (the message is logged).
pub(crate) async fn unwound(work: impl Future<Output = Response>) -> Response {
    match AssertUnwindSafe(work).catch_unwind().await {
        Ok(response) => response,
        Err(payload) => {
            let detail = format!("a request handler panicked: {}", message(payload.as_ref()));
            ApiError::internal(&detail).into_response()
        }
    }
}

fn message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message")
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::middleware::from_fn;
    use axum::routing::get;
    use serde_json::Value;
    use tower::ServiceExt;

    use super::*;

    async fn boom() -> &'static str {
        panic!("boom")
    }

    #[tokio::test]
    async fn a_panicking_handler_is_a_500_envelope() {
        let app = Router::new()
            .route("/boom", get(boom))
            .layer(from_fn(catch_panic));
        let request = Request::builder()
            .uri("/boom")
            .body(Body::empty())
            .expect("request");
        let response = app.oneshot(request).await.expect("answered");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let body: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(body["code"], "internal_error");
        assert_eq!(body["statusCode"], 500);
    }
}
