//! What handlers hand to the middleware around them. A handler's only way to talk outward is a
//! response extension, so every one of them is declared here, with who sets it and who reads it:
//!
//! | extension      | set by                              | read by                          |
//! |----------------|-------------------------------------|----------------------------------|
//! | [`Remember`]   | the unified handler                 | idempotency: keep the response?  |
//! | [`Streamed`]   | the unified handler (`stream`)      | idempotency: replay it chunked   |
//! | [`LogDetails`] | the unified handler                 | telemetry: the request-log entry |
//!
//! Middleware also hands things to middleware: the auth layer puts the
//! [`Caller`](crate::auth::Caller) on the request and the response (idempotency scopes keys by
//! it, telemetry logs only authenticated calls), and the concurrency limit puts its
//! [`InFlight`](crate::concurrency::InFlight) guard on the request.

use std::convert::Infallible;

use axum::body::{Body, Bytes};

use crate::store::LogExchange;

/// The size of the chunks of a streamed body.
const CHUNK: usize = 16 * 1024;

/// Whether the response is worth keeping for its idempotency key (the provider may have been
/// contacted). Without it, only successes are kept.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Remember(pub(crate) bool);

/// The response's body is streamed ([`chunked`]); a replay sends it the same way.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Streamed;

/// What a unified handler tells the request log.
#[derive(Debug, Clone, Default)]
pub(crate) struct LogDetails {
    pub(crate) integration: Option<String>,
    pub(crate) account_id: Option<String>,
    pub(crate) resource: Option<String>,
    pub(crate) method: Option<String>,
    pub(crate) exchanges: Vec<LogExchange>,
}

/// A body sent in chunks, with no `Content-Length` (chunked transfer encoding on HTTP/1.1).
pub(crate) fn chunked(bytes: Bytes) -> Body {
    let chunks: Vec<Result<Bytes, Infallible>> = (0..bytes.len())
        .step_by(CHUNK)
        .map(|at| Ok(bytes.slice(at..bytes.len().min(at + CHUNK))))
        .collect();
    Body::from_stream(futures_util::stream::iter(chunks))
}
