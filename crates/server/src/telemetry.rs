//! Structured logs and the request log: a request id per call (`x-request-id`, generated when
//! absent, echoed back), one span per request, and one request-log entry per authenticated
//! unified call, handed to the [`crate::log_writer`] queue (never written on the request path).
//! Paths are cut to [`MAX_LOGGED_PATH`] bytes; the request log keeps entries for
//! [`LogRetention`]'s age and row count, pruned after every batch written and periodically.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::account::redact_userinfo;
use crate::auth::Caller;
use crate::clock;
use crate::config::{LogFormat, LogRetention};
use crate::handoff::LogDetails;
use crate::state::AppState;
use crate::store::{LogEntry, LogExchange, Store};

/// The most bytes of a request path kept in the request log and in log lines.
pub(crate) const MAX_LOGGED_PATH: usize = 512;

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
    let path = truncated(request.uri().path(), MAX_LOGGED_PATH).to_owned();
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
    // Only authenticated requests are logged: anyone can send unauthenticated ones.
    if path.starts_with("/unified/") && response.extensions().get::<Caller>().is_some() {
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
            exchanges: details
                .exchanges
                .into_iter()
                .map(|e| LogExchange {
                    url: redact_userinfo(&e.url),
                    ..e
                })
                .collect(),
        };
        state.inner.log.push(entry);
    }
    response
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn truncated(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let end = (0..=max)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    &text[..end]
}

/// Deletes request-log entries `retention` no longer keeps; failures are logged.
pub(crate) async fn prune_log(store: &dyn Store, retention: &LogRetention) {
    let cutoff = time::OffsetDateTime::now_utc() - retention.max_age;
    match store
        .prune_log(&clock::rfc3339(cutoff), retention.max_rows)
        .await
    {
        Ok(0) => {}
        Ok(pruned) => tracing::debug!(pruned, "request log pruned"),
        Err(error) => tracing::warn!(%error, "could not prune the request log"),
    }
}

/// Prunes the request log now and every `retention.prune_every` (a second at least), so entries
/// age out on an idle server too. Runs until dropped.
pub(crate) async fn prune_log_periodically(
    store: std::sync::Arc<dyn Store>,
    retention: LogRetention,
) {
    let period = retention.prune_every.max(std::time::Duration::from_secs(1));
    let mut ticks = tokio::time::interval(period);
    loop {
        ticks.tick().await;
        prune_log(store.as_ref(), &retention).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_cut_on_a_character_boundary() {
        assert_eq!(truncated("/unified/x", 512), "/unified/x");
        assert_eq!(truncated("abcdef", 3), "abc");
        // `é` is two bytes: cutting inside it keeps the byte before.
        assert_eq!(truncated("aé", 2), "a");
        assert_eq!(truncated(&"é".repeat(600), 512).len(), 512);
    }
}
