//! Meta endpoints: what one integration's method accepts and returns (the documents are built
//! at start by [`crate::describe`]).
//!
//! - `GET /unified/{model}/{resource}/{integration}/meta/{method}`
//! - `GET /unified/{model}/{resource}/meta/{method}?integrated_account_id=…` (the account's
//!   integration, whose id the answer repeats)

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use switchboard_core::{MethodPlan, Registry};

use crate::describe::{MetaDocument, method_meta};
use crate::envelope::ApiError;
use crate::query::{self, ACCOUNT_PARAM};
use crate::state::AppState;

/// `GET /unified/{model}/{resource}/{integration}/meta/{method}`: the document serialised at
/// start, sent as it is.
pub(crate) async fn by_integration(
    State(state): State<AppState>,
    Path((model, resource, integration, method)): Path<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    let plan = find(
        &state.inner.registry,
        &integration,
        &format!("{model}/{resource}"),
        &method,
    )?;
    let serialized = built(&state, plan).map_or_else(
        || Bytes::from(method_meta(plan).to_string()),
        |document| document.serialized.clone(),
    );
    Ok(([(header::CONTENT_TYPE, "application/json")], serialized).into_response())
}

/// `GET /unified/{model}/{resource}/meta/{method}?integrated_account_id=…`.
pub(crate) async fn by_account(
    State(state): State<AppState>,
    Path((model, resource, method)): Path<(String, String, String)>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let query = query::read(&uri)?;
    let Some(Value::String(id)) = query.get(ACCOUNT_PARAM) else {
        return Err(ApiError::missing_query(&[ACCOUNT_PARAM]));
    };
    let account = state.inner.store.get_account(id).await?.ok_or_else(|| {
        ApiError::not_found("account_not_found", format!("no integrated account `{id}`"))
    })?;
    let plan = find(
        &state.inner.registry,
        &account.integration,
        &format!("{model}/{resource}"),
        &method,
    )?;
    let mut meta =
        built(&state, plan).map_or_else(|| method_meta(plan), |document| document.value.clone());
    meta["integrated_account_id"] = Value::from(id.clone());
    Ok(Json(meta))
}

/// The meta document built at start for `plan` (every plan has one).
fn built<'a>(state: &'a AppState, plan: &MethodPlan) -> Option<&'a MetaDocument> {
    let key = (
        plan.integration.clone(),
        plan.resource.clone(),
        plan.method.clone(),
    );
    state.inner.documents.meta.get(&key)
}

fn find<'a>(
    registry: &'a Registry,
    integration: &str,
    resource: &str,
    method: &str,
) -> Result<&'a MethodPlan, ApiError> {
    if registry.integration(integration).is_err() {
        return Err(ApiError::not_found(
            "unknown_integration",
            format!("no integration `{integration}`"),
        ));
    }
    if registry.schema(resource).is_none() {
        return Err(ApiError::not_found(
            "unknown_resource",
            format!("no unified resource `{resource}`"),
        ));
    }
    registry
        .method(integration, resource, method)
        .map(|p| p.as_ref())
        .map_err(|_| {
            ApiError::not_found(
                "method_not_mapped",
                format!("`{integration}` has no mapping for `{resource}` method `{method}`"),
            )
        })
}
