//! Per-request limits: how many requests are handled at once (further ones get a 503 with
//! `Retry-After`; `/health` is exempt) and how long one request may take (then a 504).
//!
//! `/health` skips the concurrency limit: it is a liveness probe that does no work, and a busy
//! server is alive — failing it would get a loaded instance restarted, cutting off every create
//! in flight. `/ready` does count: a full instance is rightly "not ready", so a load balancer
//! sends traffic elsewhere.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::envelope::ApiError;
use crate::state::AppState;

/// The route exempt from the concurrency limit.
const LIVENESS: &str = "/health";

/// Middleware: takes a place for the request, or answers 503 `server_busy` with `Retry-After`.
pub(crate) async fn limit_concurrency(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if request.uri().path() == LIVENESS {
        return next.run(request).await;
    }
    let concurrency = &state.inner.concurrency;
    let Some(in_flight) = concurrency.try_enter() else {
        return busy(concurrency.max()).into_response();
    };
    // Extractors may drop the request's extensions before the handler ends: hold a clone here.
    request.extensions_mut().insert(in_flight.clone());
    let response = next.run(request).await;
    drop(in_flight);
    response
}

/// Middleware: answers 504 `request_timeout` when the request (body read and handling) takes
/// longer than the configured request timeout. Detached work (a create) goes on.
pub(crate) async fn limit_time(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let limit = state.inner.request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => timed_out(limit).into_response(),
    }
}

fn busy(max: u32) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "server_busy",
        format!("the server is handling its limit of {max} requests at once; retry later"),
    )
    .header(header::RETRY_AFTER, "1")
}

fn timed_out(limit: Duration) -> ApiError {
    ApiError::new(
        StatusCode::GATEWAY_TIMEOUT,
        "request_timeout",
        format!(
            "the request did not finish within {} s; a create goes on and keeps its answer: send it again with the same `Idempotency-Key` to get it",
            limit.as_secs()
        ),
    )
}
