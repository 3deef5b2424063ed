//! `GET /openapi.json`: the OpenAPI document [`crate::describe`] built at start.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::state::AppState;

/// `GET /openapi.json`: the document built at start.
pub(crate) async fn document(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.inner.documents.openapi.clone(),
    )
}
