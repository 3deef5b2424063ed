//! Structured logs and the request log: a request id per call (`x-request-id`, generated when
//! absent, echoed back), one span per request, and one request-log entry per unified call.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::clock;
use crate::config::LogFormat;
use crate::state::AppState;
use crate::store::{LogEntry, LogExchange};

/// The request-id header.
pub const REQUEST_ID: &str = "x-request-id";

/// Installs the global tracing subscriber (`RUST_LOG` filters; `info` by default). Does nothing
/// when one is installed already.
pub fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
}

/// What a unified handler tells the request log (a response extension).
#[derive(Debug, Clone, Default)]
pub(crate) struct LogDetails {
    pub(crate) integration: Option<String>,
    pub(crate) account_id: Option<String>,
    pub(crate) resource: Option<String>,
    pub(crate) method: Option<String>,
    pub(crate) exchanges: Vec<LogExchange>,
}

fn request_id(request: &Request) -> String {
    request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// Middleware (outermost): request id, span, access log line, request-log entry.
pub(crate) async fn observe(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let time = clock::now_rfc3339();
    let id = request_id(&request);
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let span = tracing::info_span!("request", request_id = %id, method = %method, path = %path);
    let mut response = next.run(request).instrument(span.clone()).await;
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let status = response.status().as_u16();
    span.in_scope(|| {
        if response.status().is_server_error() {
            tracing::warn!(status, duration_ms, "request failed");
        } else {
            tracing::info!(status, duration_ms, "request finished");
        }
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID), value);
    }
    if path.starts_with("/unified/") {
        let details = response
            .extensions()
            .get::<LogDetails>()
            .cloned()
            .unwrap_or_default();
        let entry = LogEntry {
            id: 0,
            time,
            request_id: id,
            method,
            path,
            integration: details.integration,
            integrated_account_id: details.account_id,
            resource: details.resource,
            unified_method: details.method,
            status,
            duration_ms,
            exchanges: details.exchanges,
        };
        if let Err(error) = state.inner.store.insert_log(&entry).await {
            tracing::warn!(%error, "could not write the request log");
        }
    }
    response
}
