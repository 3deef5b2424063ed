//! The meta document of one method plan: what one integration's method accepts and returns.
//!
//! `{method, integration, resource, documentation_link, query_schema,
//! request_body_schema, response_schema, schema, default_query, default_body,
//! conditionally_required_fields}`. The input schemas list only fields the integration carries,
//! each with `x-switchboard-support` (`supported` / `required`) and its note, and a `required`
//! array; `remote_query` / `remote_data` are always accepted. `response_schema` lists only the
//! fields the mapping fills; `schema` is the full unified schema.

use serde_json::{Map, Value, json};
use switchboard_core::{FieldSupport, MethodPlan, Support};

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
        .map(|r| {
            json!({
                "field": format!("{}.{}", r.location.as_str(), r.field),
                "when": r.condition.unwrap_or_default(),
                "because": r.reason,
            })
        })
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
                field.support.as_str()
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
