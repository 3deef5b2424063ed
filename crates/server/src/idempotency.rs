//! POSTs run detached, and `Idempotency-Key` on them: the first response (status, the headers
//! that matter, body) is kept for the configured TTL (24 h by default) and replayed with
//! `Idempotent-Replayed: true`.
//!
//! - Every POST runs to its end in a task of its own (see [`crate::detach`]), even when its
//!   client leaves or its request times out: a create that may have reached the provider always
//!   stores its answer, and the same key then replays it.
//! - Keys are scoped per API token.
//! - The same key with another request (method, path, query or body differ) is a 422.
//! - Two requests with the same key at once run once: an in-process per-key lock makes the
//!   second wait for the first, then replay its response. A key recorded "in progress" by another
//!   instance sharing the database (the record is inserted with `INSERT … ON CONFLICT DO
//!   NOTHING`, so exactly one instance starts it) is waited for too, by reading the record again
//!   every few tens of milliseconds, then replayed. Waiting longer than the configured wait is a
//!   409 `idempotency_key_in_progress` with `Retry-After`. A record still "in progress" longer
//!   than the request timeout after it started was
//!   left by a process that stopped mid-run: it is a 409 `idempotency_outcome_unknown` (the
//!   create may have reached the provider; check there), never run again, until the record
//!   expires with the TTL.
//! - A unified response is kept when the provider may have been contacted (a success, a
//!   provider error, a timeout). Errors raised before anything was sent (invalid input, unknown
//!   account) are not kept, so the caller may fix the request and retry with the same key.
//!   Other POSTs (`/integrated-account`) keep only successes: a 4xx is fixed by changing the
//!   request, and a 5xx (store unavailable) is worth retrying with the same key.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::time::Instant;

use crate::auth::Caller;
use crate::clock::unix_now;
use crate::concurrency::InFlight;
use crate::crypto::fingerprint;
use crate::detach::detached;
use crate::envelope::ApiError;
use crate::handoff::{Remember, Streamed, chunked};
use crate::state::AppState;
use crate::store::{IdempotencyBegin, StoredResponse};

/// The request header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The header marking a replayed response.
pub const REPLAYED: &str = "idempotent-replayed";
/// The longest key accepted.
const MAX_KEY_LEN: usize = 255;
/// Marks, in a stored response, a body that was sent chunked.
const STREAM_MARKER: &str = "x-switchboard-stream";
/// The first pause between two readings of a record another instance has in progress.
const FIRST_POLL: std::time::Duration = std::time::Duration::from_millis(20);
/// The longest pause between two readings of a record another instance has in progress.
const MAX_POLL: std::time::Duration = std::time::Duration::from_millis(500);

/// Middleware over authenticated routes: every POST reads its body, then runs detached; one
/// with an `Idempotency-Key` is replayed, refused or run and kept.
pub(crate) async fn idempotency(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let key = match key_of(&request) {
        Ok(key) => key,
        Err(error) => return error.into_response(),
    };
    let scope = request
        .extensions()
        .get::<Caller>()
        .map(|c| c.token_id.clone())
        .unwrap_or_default();
    let (parts, body) = request.into_parts();
    let bytes = match read_body(body, state.inner.body_limit).await {
        Ok(bytes) => bytes,
        Err(error) => return error.into_response(),
    };
    // Only a keyed request is fingerprinted or touches the store; one without a key just runs.
    let print = key.as_ref().map(|_| {
        fingerprint(&[
            parts.method.as_str().as_bytes(),
            parts.uri.path().as_bytes(),
            parts.uri.query().unwrap_or_default().as_bytes(),
            &bytes,
        ])
    });
    let in_flight = parts.extensions.get::<InFlight>().cloned();
    let request = Request::from_parts(parts, Body::from(bytes));
    detached(async move {
        let _in_flight = in_flight;
        match key.zip(print) {
            None => next.run(request).await,
            Some((key, print)) => keyed(&state, &scope, &key, &print, request, next).await,
        }
    })
    .await
}

/// The request's `Idempotency-Key`, if any; 400 when it is not 1 to 255 visible characters.
fn key_of(request: &Request) -> Result<Option<String>, ApiError> {
    let Some(key) = request.headers().get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    match key.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= MAX_KEY_LEN => Ok(Some(k.to_owned())),
        _ => Err(ApiError::bad_request(
            "invalid_idempotency_key",
            format!("`Idempotency-Key` must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
        )),
    }
}

/// Takes the key's in-process lock (or answers 409 after the configured wait), then runs.
async fn keyed(
    state: &AppState,
    scope: &str,
    key: &str,
    print: &str,
    request: Request,
    next: Next,
) -> Response {
    // The wait ends well before the request's own timeout: a client told 409 with Retry-After
    // may retry; one told 504 cannot know whether its create ran.
    let wait = state
        .inner
        .idempotency_wait
        .min(state.inner.request_timeout / 2);
    let give_up = Instant::now() + wait;
    let user = state.inner.locks.enter(&format!("{scope}\n{key}"));
    match tokio::time::timeout_at(give_up, user.lock()).await {
        Err(_) => in_progress(),
        Ok(_guard) => guarded(state, scope, key, print, give_up, request, next).await,
    }
}

/// With the key's lock held: replay, refuse, or run and keep; a record another instance has in
/// progress is read again until it completes, or until `give_up`.
async fn guarded(
    state: &AppState,
    scope: &str,
    key: &str,
    print: &str,
    give_up: Instant,
    request: Request,
    next: Next,
) -> Response {
    let store = state.inner.store.as_ref();
    let mut pause = FIRST_POLL;
    loop {
        let now = unix_now();
        let begin = match store
            .idempotency_begin(scope, key, print, now, now + ttl_secs(state))
            .await
        {
            Ok(begin) => begin,
            Err(error) => return ApiError::from(error).into_response(),
        };
        match begin {
            IdempotencyBegin::Completed { fingerprint, .. }
            | IdempotencyBegin::InProgress { fingerprint, .. }
                if fingerprint != print =>
            {
                return reused();
            }
            IdempotencyBegin::Completed { response, .. } => return replay(response),
            IdempotencyBegin::Started => {
                return run_and_keep(state, scope, key, request, next).await;
            }
            IdempotencyBegin::InProgress { started_at, .. } => {
                if abandoned(state, now, started_at) {
                    return outcome_unknown(started_at);
                }
                if Instant::now() + pause > give_up {
                    return in_progress();
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_POLL);
            }
        }
    }
}

/// Whether a record in progress (while this process holds the key's lock) was left by a process
/// that stopped mid-run rather than run by another instance: taken for granted once the request
/// timeout has passed since it started.
fn abandoned(state: &AppState, now: i64, started_at: i64) -> bool {
    let unknown_after = i64::try_from(state.inner.request_timeout.as_secs()).unwrap_or(i64::MAX);
    now.saturating_sub(started_at) >= unknown_after
}

/// Runs the request, then keeps its response under the key (or forgets the key).
async fn run_and_keep(
    state: &AppState,
    scope: &str,
    key: &str,
    request: Request,
    next: Next,
) -> Response {
    let store = state.inner.store.as_ref();
    let response = next.run(request).await;
    let status = response.status();
    let remember = response
        .extensions()
        .get::<Remember>()
        .map_or(status.is_success(), |r| r.0);
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
        let expires = unix_now() + ttl_secs(state);
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

/// The idempotency TTL in seconds.
fn ttl_secs(state: &AppState) -> i64 {
    i64::try_from(state.inner.idempotency_ttl.as_secs()).unwrap_or(i64::MAX / 2)
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
        chunked(bytes)
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

/// A record left "in progress" by a process that stopped mid-run: whether the provider was
/// reached is unknown, so the request is not run again.
fn outcome_unknown(started_at: i64) -> Response {
    let started = time::OffsetDateTime::from_unix_timestamp(started_at)
        .map(crate::clock::rfc3339)
        .unwrap_or_else(|_| started_at.to_string());
    ApiError::new(
        StatusCode::CONFLICT,
        "idempotency_outcome_unknown",
        format!(
            "the request with this `Idempotency-Key` started at {started} and never finished (the server stopped mid-run): it may have reached the provider; check there, then send it with a new key if needed"
        ),
    )
    .with("details", json!({"started_at": started}))
    .into_response()
}
