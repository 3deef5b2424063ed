//! `GET /health` (the process answers) and `GET /ready` (mappings loaded, store reachable).
//! Neither needs a token.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::envelope::ApiError;
use crate::state::AppState;

/// `GET /health`: liveness.
pub(crate) async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /ready`: 200 when the store answers, else 503.
pub(crate) async fn ready(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let registry = &state.inner.registry;
    if let Err(error) = state.inner.store.ping().await {
        tracing::warn!(%error, "not ready: store unreachable");
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "the store is unreachable",
        ));
    }
    let integrations: Vec<&str> = registry.integrations().map(|i| i.name.as_str()).collect();
    Ok(Json(json!({
        "status": "ready",
        "integrations": integrations,
        "methods": registry.methods().count(),
        "store": "ok",
    })))
}
