//! `Authorization: Bearer <token>` on every route but `/health` and `/ready`.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::envelope::ApiError;
use crate::state::AppState;
use crate::token;

/// The API token a request authenticated with (a request extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's id: idempotency keys are scoped to it.
    pub token_id: String,
    /// The token's name.
    pub token_name: String,
}

/// Middleware: rejects requests without a known bearer token (401), and records the [`Caller`].
pub(crate) async fn require_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return ApiError::unauthorized("missing `Authorization: Bearer <token>` header")
            .into_response();
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty());
    let Some(token) = token else {
        return ApiError::unauthorized("the `Authorization` header must be `Bearer <token>`")
            .into_response();
    };
    match token::authenticate(state.inner.store.as_ref(), token).await {
        Ok(Some(stored)) => {
            request.extensions_mut().insert(Caller {
                token_id: stored.id,
                token_name: stored.name,
            });
            next.run(request).await
        }
        Ok(None) => ApiError::unauthorized("unknown API token").into_response(),
        Err(error) => ApiError::from(error).into_response(),
    }
}
