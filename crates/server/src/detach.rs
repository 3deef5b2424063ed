//! Work that must finish even when its client leaves: a create that may have reached a provider
//! has to store its answer under its idempotency key. The work runs in a task of its own; the
//! request awaits it, and dropping the request (the client left, the request timed out) leaves
//! the task running to its end.

use std::future::Future;

use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::envelope::ApiError;
use crate::panic::unwound;

/// Runs `work` in its own task, inside the caller's span (so its log lines keep the request id),
/// and answers its response; a panic in it is a 500.
pub(crate) async fn detached(work: impl Future<Output = Response> + Send + 'static) -> Response {
    let work = unwound(work).instrument(tracing::Span::current());
    match tokio::spawn(work).await {
        Ok(response) => response,
        // Only when the runtime shuts down under it.
        Err(error) => ApiError::internal(&error).into_response(),
    }
}
