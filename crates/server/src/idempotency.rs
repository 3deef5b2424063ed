//! `Idempotency-Key` on POSTs: the first response (status, the headers that matter, body) is
//! kept for the configured TTL (24 h by default) and replayed with `Idempotent-Replayed: true`.
//!
//! - Keys are scoped per API token.
//! - The same key with another request (method, path, query or body differ) is a 422.
//! - Two requests with the same key at once run once: an in-process per-key lock makes the
//!   second wait for the first, then replay its response. A key recorded "in progress" by another
//!   instance (or by a process that died mid-request, until that record's short TTL runs out)
//!   is a 409; so is waiting longer than the configured wait.
//! - A response is kept when the provider may have been contacted (a success, a provider error,
//!   a timeout). Errors raised before anything was sent (invalid input, unknown account) are not
//!   kept, so the caller may fix the request and retry with the same key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::Caller;
use crate::clock::unix_now;
use crate::crypto::fingerprint;
use crate::envelope::ApiError;
use crate::state::AppState;
use crate::store::{IdempotencyBegin, StoredResponse};

/// The request header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The header marking a replayed response.
pub const REPLAYED: &str = "idempotent-replayed";
/// How long an in-progress record blocks its key if its request never finishes.
const IN_PROGRESS_SECS: i64 = 10 * 60;
/// The longest key accepted.
const MAX_KEY_LEN: usize = 255;
/// Marks, in a stored response, a body that was sent chunked.
const STREAM_MARKER: &str = "x-switchboard-stream";

/// A response extension set by handlers: whether the response is worth keeping for its key
/// (the provider may have been contacted). Without it, 4xx responses are not kept.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Remember(pub(crate) bool);

/// A response extension set by handlers whose body is streamed (sent chunked).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Streamed;

/// In-process locks, one per (token, key) in use.
#[derive(Default)]
pub(crate) struct KeyLocks {
    map: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl KeyLocks {
    fn get(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(key.to_owned()).or_default().clone()
    }

    /// Forgets the lock of `key` when no one else holds or waits for it.
    fn release(&self, key: &str, lock: Arc<tokio::sync::Mutex<()>>) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        // One reference in the map, one here: nobody else.
        if Arc::strong_count(&lock) <= 2 {
            map.remove(key);
        }
    }
}

/// Middleware over authenticated routes; only POSTs with an `Idempotency-Key` are affected.
pub(crate) async fn idempotency(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get(IDEMPOTENCY_KEY) else {
        return next.run(request).await;
    };
    let key = match key.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= MAX_KEY_LEN => k.to_owned(),
        _ => {
            return ApiError::bad_request(
                "invalid_idempotency_key",
                format!("`Idempotency-Key` must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
            )
            .into_response();
        }
    };
    let scope = request
        .extensions()
        .get::<Caller>()
        .map(|c| c.token_id.clone())
        .unwrap_or_default();
    let (parts, body) = request.into_parts();
    let limit = state.inner.body_limit;
    let bytes = match read_body(body, limit).await {
        Ok(bytes) => bytes,
        Err(error) => return error.into_response(),
    };
    let query = parts.uri.query().unwrap_or_default();
    let print = fingerprint(&[
        parts.method.as_str().as_bytes(),
        parts.uri.path().as_bytes(),
        query.as_bytes(),
        &bytes,
    ]);

    let lock_key = format!("{scope}\n{key}");
    let lock = state.inner.locks.get(&lock_key);
    let response = match tokio::time::timeout(state.inner.idempotency_wait, lock.lock()).await {
        Err(_) => in_progress(),
        Ok(_guard) => {
            let request = Request::from_parts(parts, Body::from(bytes));
            guarded(&state, &scope, &key, &print, request, next).await
        }
    };
    state.inner.locks.release(&lock_key, lock);
    response
}

/// With the key's lock held: replay, refuse, or run and keep.
async fn guarded(
    state: &AppState,
    scope: &str,
    key: &str,
    print: &str,
    request: Request,
    next: Next,
) -> Response {
    let store = state.inner.store.as_ref();
    let now = unix_now();
    let begin = match store
        .idempotency_begin(scope, key, print, now, now + IN_PROGRESS_SECS)
        .await
    {
        Ok(begin) => begin,
        Err(error) => return ApiError::from(error).into_response(),
    };
    match begin {
        IdempotencyBegin::Completed { fingerprint, .. }
        | IdempotencyBegin::InProgress { fingerprint }
            if fingerprint != print =>
        {
            reused()
        }
        IdempotencyBegin::Completed { response, .. } => replay(response),
        IdempotencyBegin::InProgress { .. } => in_progress(),
        IdempotencyBegin::Started => {
            let response = next.run(request).await;
            let status = response.status();
            let remember = response
                .extensions()
                .get::<Remember>()
                .map_or(!status.is_client_error(), |r| r.0);
            let streamed = response.extensions().get::<Streamed>().is_some();
            let (mut parts, body) = response.into_parts();
            let body = match axum::body::to_bytes(body, usize::MAX).await {
                Ok(body) => body,
                Err(error) => {
                    let _ = store.idempotency_abandon(scope, key).await;
                    return ApiError::internal(&error).into_response();
                }
            };
            let kept = if remember {
                let stored = StoredResponse {
                    status: status.as_u16(),
                    headers: kept_headers(&parts.headers, streamed),
                    body: body.to_vec(),
                };
                let expires = unix_now()
                    + i64::try_from(state.inner.idempotency_ttl.as_secs()).unwrap_or(i64::MAX / 2);
                store
                    .idempotency_complete(scope, key, &stored, expires)
                    .await
            } else {
                store.idempotency_abandon(scope, key).await
            };
            if let Err(error) = kept {
                tracing::warn!(%error, "could not record the idempotent response");
            }
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, body_of(body, streamed))
        }
    }
}

async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|error| {
        let too_large = std::error::Error::source(&error)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
        if too_large {
            ApiError::too_large(limit)
        } else {
            ApiError::bad_request("unreadable_body", "the request body could not be read")
        }
    })
}

/// A body, chunked when the original was streamed.
fn body_of(bytes: Bytes, streamed: bool) -> Body {
    if streamed {
        crate::routes::unified::chunked(bytes)
    } else {
        Body::from(bytes)
    }
}

/// The headers a replay repeats.
fn kept_headers(headers: &axum::http::HeaderMap, streamed: bool) -> Vec<(String, String)> {
    let mut kept: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            matches!(
                name,
                "content-type" | "retry-after" | "location" | "www-authenticate"
            ) || name.starts_with("x-switchboard-")
                || name.starts_with("x-ratelimit-")
                || name.starts_with("ratelimit")
        })
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    if streamed {
        kept.push((STREAM_MARKER.to_owned(), "1".to_owned()));
    }
    kept
}

fn replay(stored: StoredResponse) -> Response {
    let streamed = stored.headers.iter().any(|(name, _)| name == STREAM_MARKER);
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = Response::new(body_of(Bytes::from(stored.body), streamed));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    for (name, value) in stored
        .headers
        .iter()
        .filter(|(name, _)| name != STREAM_MARKER)
    {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    }
    headers.insert(
        HeaderName::from_static(REPLAYED),
        HeaderValue::from_static("true"),
    );
    response
}

fn reused() -> Response {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
        "this `Idempotency-Key` was already used with a different request (method, path, query or body); use a new key",
    )
    .into_response()
}

fn in_progress() -> Response {
    ApiError::new(
        StatusCode::CONFLICT,
        "idempotency_key_in_progress",
        "a request with this `Idempotency-Key` is still in progress; retry later",
    )
    .header(header::RETRY_AFTER, "1")
    .into_response()
}
