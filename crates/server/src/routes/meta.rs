//! Meta endpoints: what one integration's method accepts and returns (the documents are built
//! at start by [`crate::describe`]).
//!
//! - `GET /unified/{model}/{resource}/{integration}/meta/{method}`
//! - `GET /unified/{model}/{resource}/meta/{method}?integrated_account_id=…` (the account's
//!   integration, whose id the answer repeats)

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use serde_json::Value;
use switchboard_core::{MethodPlan, Registry};

use crate::describe::method_meta;
use crate::envelope::ApiError;
use crate::query::{self, ACCOUNT_PARAM};
use crate::state::AppState;

/// `GET /unified/{model}/{resource}/{integration}/meta/{method}`.
pub(crate) async fn by_integration(
    State(state): State<AppState>,
    Path((model, resource, integration, method)): Path<(String, String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let plan = find(
        &state.inner.registry,
        &integration,
        &format!("{model}/{resource}"),
        &method,
    )?;
    Ok(Json(built(&state, plan)))
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
    let mut meta = built(&state, plan);
    meta["integrated_account_id"] = Value::from(id.clone());
    Ok(Json(meta))
}

/// The meta document built at start for `plan`.
fn built(state: &AppState, plan: &MethodPlan) -> Value {
    let key = (
        plan.integration.clone(),
        plan.resource.clone(),
        plan.method.clone(),
    );
    state
        .inner
        .documents
        .meta
        .get(&key)
        .cloned()
        .unwrap_or_else(|| method_meta(plan))
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
