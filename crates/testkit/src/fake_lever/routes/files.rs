//! `GET /files/{name}`: plain files registered by tests (no auth), e.g. attachments to fetch.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;

use super::super::error::LeverError;
use super::super::state::Shared;
use super::file_response;

/// Serves a file registered with `FakeLever::serve_file`.
pub(super) async fn serve(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Result<Response, LeverError> {
    let file = shared
        .file(&name)
        .ok_or_else(|| LeverError::not_found(format!("file `{name}` not found")))?;
    Ok(file_response(Some(&file.content_type), file.bytes))
}
