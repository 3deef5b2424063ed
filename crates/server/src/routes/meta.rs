//! Meta endpoints: what one integration's method accepts and returns, generated from its plan.
//!
//! - `GET /unified/{model}/{resource}/{integration}/meta/{method}`
//! - `GET /unified/{model}/{resource}/meta/{method}?integrated_account_id=…` (the account's
//!   integration)
//!
//! Answer: `{method, integration, resource, documentation_link, query_schema,
//! request_body_schema, response_schema, schema, default_query, default_body,
//! conditionally_required_fields}`. The input schemas list only fields the integration carries,
//! each with `x-switchboard-support` (`supported` / `required`) and its note, and a `required`
//! array; `remote_query` / `remote_data` are always accepted. `response_schema` lists only the
//! fields the mapping fills; `schema` is the full unified schema.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use serde_json::{Map, Value, json};
use switchboard_core::{FieldSupport, MethodPlan, Registry, Support};

use crate::envelope::ApiError;
use crate::query;
use crate::routes::unified::ACCOUNT_PARAM;
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
    if registry.integration(integration).is_none() {
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
        .ok_or_else(|| {
            ApiError::not_found(
                "method_not_mapped",
                format!("`{integration}` has no mapping for `{resource}` method `{method}`"),
            )
        })
}

/// The meta document of one method plan.
pub fn method_meta(plan: &MethodPlan) -> Value {
    let schema = plan.schema();
    let input = |declared: Option<&Value>, fields: &[FieldSupport], passthrough: &str| {
        let declared = declared
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        schema.standalone(input_schema(&declared, fields, passthrough))
    };
    let query_schema = input(
        schema.query_schema(&plan.method),
        plan.query_fields(),
        "remote_query",
    );
    let body_schema = input(
        schema.body_schema(&plan.method),
        plan.body_fields(),
        "remote_data",
    );
    let defaults = |fields: &[FieldSupport]| -> Map<String, Value> {
        fields
            .iter()
            .filter_map(|f| Some((f.name.clone(), f.default.clone()?)))
            .collect()
    };
    let mut response = Map::new();
    for name in plan.response_fields() {
        if let Some(field) = schema.record_field(name) {
            response.insert(name.to_owned(), field.clone());
        }
    }
    let response_schema = schema.standalone(object_schema(response, None));
    let conditional: Vec<Value> = plan
        .conditional_requirements()
        .into_iter()
        .map(|(field, when, because)| json!({"field": field, "when": when, "because": because}))
        .collect();
    json!({
        "method": plan.method,
        "integration": plan.integration,
        "resource": plan.resource,
        "documentation_link": plan.documentation.clone().or_else(|| plan.integration_plan().documentation.clone()),
        "query_schema": query_schema,
        "request_body_schema": body_schema,
        "response_schema": response_schema,
        "schema": schema.document,
        "default_query": defaults(plan.query_fields()),
        "default_body": defaults(plan.body_fields()),
        "conditionally_required_fields": conditional,
    })
}

fn input_schema(
    declared: &Map<String, Value>,
    fields: &[FieldSupport],
    passthrough: &str,
) -> Map<String, Value> {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in fields {
        let passes = field.name == passthrough;
        if field.support == Support::Unsupported && !passes {
            continue;
        }
        let mut schema = declared
            .get(&field.name)
            .cloned()
            .unwrap_or_else(|| json!({}));
        if let Value::Object(map) = &mut schema {
            let support = if field.support == Support::Unsupported {
                "passthrough"
            } else {
                support_name(field.support)
            };
            map.insert("x-switchboard-support".into(), Value::from(support));
            if let Some(default) = &field.default {
                map.insert("default".into(), default.clone());
            }
            if let Some(note) = &field.note {
                map.insert("x-switchboard-note".into(), Value::from(note.clone()));
            }
        }
        if field.support == Support::Required {
            required.push(Value::from(field.name.clone()));
        }
        properties.insert(field.name.clone(), schema);
    }
    object_schema(properties, Some(required))
}

/// `{"type": "object", "properties": …, "required": …}`.
fn object_schema(
    properties: Map<String, Value>,
    required: Option<Vec<Value>>,
) -> Map<String, Value> {
    let mut schema = Map::new();
    schema.insert("type".into(), Value::from("object"));
    schema.insert("properties".into(), Value::Object(properties));
    if let Some(required) = required {
        schema.insert("required".into(), Value::Array(required));
    }
    schema
}

fn support_name(support: Support) -> &'static str {
    match support {
        Support::Supported => "supported",
        Support::Required => "required",
        Support::Unsupported => "unsupported",
    }
}
