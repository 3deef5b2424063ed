//! `Authorization: Bearer <token>` on every route but `/health` and `/ready`, and what the
//! token's scope allows: an `admin` token every route; a `unified` token the unified routes,
//! their meta documents and `/openapi.json`, and — when restricted — only its accounts.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::envelope::ApiError;
use crate::query::{self, ACCOUNT_PARAM};
use crate::state::AppState;
use crate::store::StoredToken;
use crate::token::{self, TokenScope};

/// The API token a request authenticated with (a request extension, and a response extension
/// on every answer to an authenticated request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's id: idempotency keys are scoped to it.
    pub token_id: String,
    /// The token's name.
    pub token_name: String,
    /// What the token may do.
    pub scope: TokenScope,
    /// The only integrated accounts it may use (empty: every account).
    pub accounts: Vec<String>,
}

impl From<StoredToken> for Caller {
    fn from(token: StoredToken) -> Caller {
        Caller {
            token_id: token.id,
            token_name: token.name,
            scope: token.scope,
            accounts: token.accounts,
        }
    }
}

/// Middleware: rejects requests without a known bearer token (401) and requests the token's
/// scope does not allow (403, or 404 for an account a restricted token does not hold), and
/// records the [`Caller`].
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
    let caller = match token::authenticate(state.inner.store.as_ref(), token).await {
        Ok(Some(stored)) => Caller::from(stored),
        Ok(None) => return ApiError::unauthorized("unknown API token").into_response(),
        Err(error) => return ApiError::from(error).into_response(),
    };
    let mut response = match authorize(&caller, &request) {
        Ok(()) => {
            request.extensions_mut().insert(caller.clone());
            next.run(request).await
        }
        Err(error) => error.into_response(),
    };
    response.extensions_mut().insert(caller);
    response
}

/// Whether `caller` may make `request`.
fn authorize(caller: &Caller, request: &Request) -> Result<(), ApiError> {
    if caller.scope == TokenScope::Admin {
        return Ok(());
    }
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or_default();
    if route == "/openapi.json" {
        return Ok(());
    }
    if !route.starts_with("/unified/") {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "a `unified` token may call only the unified routes; `{route}` needs an `admin` token"
            ),
        ));
    }
    if caller.accounts.is_empty() {
        return Ok(());
    }
    // The same parser and parameter the unified handlers read the account from; anything else
    // (an unparsable query, no account) is theirs to refuse.
    let Ok(query) = query::parse(request.uri().query().unwrap_or_default()) else {
        return Ok(());
    };
    match query.get(ACCOUNT_PARAM) {
        Some(Value::String(id)) if !caller.accounts.contains(id) => Err(ApiError::not_found(
            "account_not_found",
            format!("no integrated account `{id}`"),
        )),
        _ => Ok(()),
    }
}
