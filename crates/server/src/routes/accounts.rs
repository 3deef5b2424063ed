//! `/integrated-account`: create, list, read, change and delete integrated accounts. Answers
//! never hold credentials: `context` leaves them out and `secret_keys` names them.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::account::{self, AccountError, AccountPatch, AccountView, NewAccount};
use crate::envelope::ApiError;
use crate::routes::unified::parse_json;
use crate::state::AppState;

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> ApiError {
        match error {
            AccountError::UnknownIntegration { .. } => {
                ApiError::bad_request("unknown_integration", error.to_string())
            }
            AccountError::Invalid(problems) => {
                let message = format!("invalid integrated account: {}", problems.join("; "));
                ApiError::bad_request("invalid_account", message)
                    .with("details", json!({"failures": problems}))
            }
            AccountError::CredentialsRequired { .. } => {
                ApiError::bad_request("credentials_required", error.to_string())
            }
            AccountError::NotFound(_) => {
                ApiError::not_found("account_not_found", error.to_string())
            }
            AccountError::Store(e) => ApiError::from(e),
            AccountError::Crypto(e) => ApiError::internal(&e),
        }
    }
}

fn body<T: DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<T, ApiError> {
    let bytes = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(limit)
        } else {
            ApiError::bad_request("unreadable_body", "the request body could not be read")
        }
    })?;
    let value = parse_json(&bytes)?;
    // serde would also read a struct from an array (`[null, null]`): only an object is a body.
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "invalid_account",
            "invalid integrated account: the body must be a JSON object",
        ));
    }
    serde_json::from_value(value).map_err(|e| {
        ApiError::bad_request(
            "invalid_account",
            format!("invalid integrated account: {e}"),
        )
    })
}

/// `POST /integrated-account`.
pub(crate) async fn create(
    State(state): State<AppState>,
    payload: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    let new: NewAccount = body(payload, state.inner.body_limit)?;
    let s = &state.inner;
    let view = account::create_account(s.store.as_ref(), &s.registry, &s.cipher, new).await?;
    tracing::info!(account = %view.id, integration = %view.integration, "integrated account created");
    Ok((StatusCode::CREATED, Json(view)))
}

/// `GET /integrated-account`: `{result: [...]}`, oldest first.
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let accounts = account::list_accounts(state.inner.store.as_ref()).await?;
    let count = accounts.len();
    Ok(Json(json!({"result": accounts, "result_count": count})))
}

/// `GET /integrated-account/{id}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AccountView>, ApiError> {
    Ok(Json(
        account::get_account(state.inner.store.as_ref(), &id).await?,
    ))
}

/// `PATCH /integrated-account/{id}`.
pub(crate) async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    payload: Result<Bytes, BytesRejection>,
) -> Result<Json<AccountView>, ApiError> {
    let patch: AccountPatch = body(payload, state.inner.body_limit)?;
    let s = &state.inner;
    Ok(Json(
        account::update_account(s.store.as_ref(), &s.registry, &s.cipher, &id, patch).await?,
    ))
}

/// `DELETE /integrated-account/{id}`: `{id}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    account::delete_account(state.inner.store.as_ref(), &id).await?;
    Ok(Json(json!({"id": id})))
}
