//! The OpenAPI 3.1 document generated from the registry — one operation per mapped (resource,
//! method), the unified schemas and their definitions as components — plus the server's own
//! routes.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use switchboard_core::{GET_METHOD, LIST_METHOD, Registry, Support, UnifiedSchema};

mod connect;

use crate::account::BASE_URL_PATTERN;
use crate::format::ResponseFormat;

/// (resource, method) → the integrations that map it, each with its query fields' support.
type Operations = BTreeMap<(String, String), Vec<(String, Vec<(String, Support)>)>>;

/// The component name prefix of a unified resource: `ats/candidates` → `ats.candidates`.
fn prefix(resource: &str) -> String {
    resource.replace('/', ".")
}

fn component(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// Points references to a schema's definitions at its components: `x` →
/// `#/components/schemas/<prefix>.x`.
fn rewrite_refs(value: &mut Value, prefix: &str) {
    UnifiedSchema::relink_definitions(value, &|name| {
        format!("#/components/schemas/{prefix}.{name}")
    });
}

/// The OpenAPI 3.1 document for everything `registry` holds.
pub fn openapi(registry: &Registry) -> Value {
    let mut schemas = schema_components(registry);
    schemas.extend(server_components());
    schemas.insert("NewIntegratedAccount".to_owned(), new_account(registry));
    let mut paths = Map::new();
    for ((resource, method), integrations) in &operations(registry) {
        let Some(schema) = registry.schema(resource) else {
            continue;
        };
        let names: Vec<&str> = integrations.iter().map(|(i, _)| i.as_str()).collect();
        let (path, verb) = route(resource, method);
        let operation = unified_operation(schema, method, integrations);
        match paths.get_mut(&path).and_then(Value::as_object_mut) {
            Some(existing) => {
                existing.insert(verb.to_owned(), operation);
            }
            None => {
                paths.insert(path, json!({verb: operation}));
            }
        }
        paths.extend(meta_paths(resource, method, &names));
    }
    paths.extend(server_paths());
    paths.extend(connect::connect_paths(registry));
    for item in paths.values_mut() {
        declare_common_errors(item);
    }
    let links = account_links(&paths);
    if let Some(created) = paths
        .get_mut("/integrated-account")
        .and_then(|item| item.pointer_mut("/post/responses/201"))
    {
        created["links"] = links;
    }

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Switchboard unified API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Unified API generated from the loaded mappings and unified schemas. Every route but /health and /ready needs `Authorization: Bearer <token>`. Errors share one envelope (`Error`).",
        },
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
    })
}

/// Each unified schema's record and definitions as components, named `<prefix>` and
/// `<prefix>.<definition>`.
fn schema_components(registry: &Registry) -> Map<String, Value> {
    let mut schemas = Map::new();
    for schema in registry.schemas() {
        let prefix = prefix(&schema.name);
        let mut root = schema.record_schema();
        rewrite_refs(&mut root, &prefix);
        schemas.insert(prefix.clone(), root);
        for (name, mut def) in schema.definitions() {
            rewrite_refs(&mut def, &prefix);
            schemas.insert(format!("{prefix}.{name}"), def);
        }
    }
    schemas
}

/// Every mapped (resource, method), with the integrations that map it.
fn operations(registry: &Registry) -> Operations {
    let mut operations = Operations::new();
    for plan in registry.methods() {
        let support = plan
            .query_fields()
            .iter()
            .map(|f| (f.name.clone(), f.support))
            .collect();
        operations
            .entry((plan.resource.clone(), plan.method.clone()))
            .or_default()
            .push((plan.integration.clone(), support));
    }
    operations
}

/// Where a unified method is served: `create` and `list` on the resource, `get` below it by
/// id, custom methods below it by name (POST).
fn route(resource: &str, method: &str) -> (String, &'static str) {
    match method {
        "create" => (format!("/unified/{resource}"), "post"),
        LIST_METHOD => (format!("/unified/{resource}"), "get"),
        GET_METHOD => (format!("/unified/{resource}/{{id}}"), "get"),
        _ => (format!("/unified/{resource}/{method}"), "post"),
    }
}

/// The answer of a `list`: the envelope around one page of records.
fn list_response(prefix: &str) -> Value {
    json!({
        "description": "One page of unified records; pass `next_cursor` back unchanged for the next page (null at the last). `raw` and `stream` formats answer the provider's page as it came",
        "headers": {"X-Switchboard-Warnings": {
            "description": "Fields that were not carried, and why: a JSON array of {location, pointer, message}",
            "schema": {"type": "string"}}},
        "content": {"application/json": {"schema": {"type": "object",
            "required": ["result", "next_cursor", "prev_cursor", "result_count"],
            "properties": {
                "result": {"description": "The records; an object keyed by the `truto_key_by` field when given",
                           "oneOf": [{"type": "array", "items": component(prefix)},
                                     {"type": "object", "additionalProperties": component(prefix)}]},
                "next_cursor": {"type": ["string", "null"], "description": "Opaque; sealed by the server"},
                "prev_cursor": {"type": "null"},
                "result_count": {"type": "integer", "minimum": 0}}}}},
    })
}

/// The query parameters only a `list` reads.
fn list_parameters() -> Vec<Value> {
    vec![
        json!({"name": "next_cursor", "in": "query", "required": false,
               "description": "The `next_cursor` of the previous page, unchanged (a changed one is a 400 `invalid_cursor`)",
               "schema": {"type": "string"}}),
        json!({"name": "truto_key_by", "in": "query", "required": false,
               "description": "Answer `result` as an object keyed by this record field",
               "schema": {"type": "string", "minLength": 1}}),
        json!({"name": "truto_ignore_limit", "in": "query", "required": false,
               "description": "Send no `limit` to the provider: it pages as it does by default",
               "schema": {"type": "boolean"}}),
    ]
}

/// The operation of one unified method.
fn unified_operation(
    schema: &UnifiedSchema,
    method: &str,
    integrations: &[(String, Vec<(String, Support)>)],
) -> Value {
    let resource = &schema.name;
    let prefix = prefix(resource);
    let names: Vec<&str> = integrations.iter().map(|(i, _)| i.as_str()).collect();
    let mut parameters = unified_parameters();
    if method != "create" && schema.body_definition_name(method).is_none() {
        parameters.retain(|p| p["name"] != "Idempotency-Key");
    }
    parameters.extend(query_parameters(schema, method, integrations));
    if method == LIST_METHOD {
        parameters.extend(list_parameters());
    }
    if method == GET_METHOD {
        parameters.push(json!({"name": "id", "in": "path", "required": true,
            "description": "The record's identifier", "schema": {"type": "string", "minLength": 1}}));
    }
    let status = if method == "create" { "201" } else { "200" };
    let mut responses = error_responses();
    if method == LIST_METHOD {
        responses.insert(status.to_owned(), list_response(&prefix));
    } else {
        responses.insert(
        status.to_owned(),
        json!({
            "description": "The unified record, itself (no wrapper); `raw` and `stream` formats answer the provider's answer to the primary step (the create itself), with its status",
            "headers": {"X-Switchboard-Warnings": {
                "description": "Fields that were not carried, and why: a JSON array of {location, pointer, message}",
                "schema": {"type": "string"}}},
            "content": {"application/json": {"schema": component(&prefix)}},
        }),
    );
    }
    let mut operation = json!({
        "operationId": format!("{}_{method}", prefix.replace('.', "_")),
        "summary": format!("{method} {resource}"),
        "description": format!("Mapped for: {}", names.join(", ")),
        "tags": [resource],
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(body) = schema.body_definition_name(method) {
        operation["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {"schema": component(&format!("{prefix}.{body}"))}},
        });
    }
    operation
}

/// The method's own query parameters, each saying which integrations support it.
fn query_parameters(
    schema: &UnifiedSchema,
    method: &str,
    integrations: &[(String, Vec<(String, Support)>)],
) -> Vec<Value> {
    let prefix = prefix(&schema.name);
    let declared = schema
        .query_schema(method)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut parameters = Vec::new();
    for (name, mut field) in declared {
        if name == "remote_query" {
            continue;
        }
        rewrite_refs(&mut field, &prefix);
        let mut by = Vec::new();
        for (integration, fields) in integrations {
            match fields.iter().find(|(n, _)| *n == name).map(|(_, s)| *s) {
                Some(Support::Required) => by.push(format!("{integration} (required)")),
                Some(Support::Supported) => by.push(integration.clone()),
                _ => {}
            }
        }
        let description = field
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        parameters.push(json!({
            "name": name,
            "in": "query",
            "required": false,
            "description": format!("{description}. Supported by: {}", if by.is_empty() { "none".to_owned() } else { by.join(", ") }),
            "schema": field,
        }));
    }
    parameters
}

/// The two meta routes of one unified method: by integration, and by account.
fn meta_paths(resource: &str, method: &str, names: &[&str]) -> Map<String, Value> {
    let prefix = prefix(resource);
    let meta = json!({
        "summary": format!("What `{method}` on `{resource}` accepts and returns for one integration"),
        "tags": [resource],
        "responses": {"200": {"description": "The method's meta document",
            "content": {"application/json": {"schema": component("MethodMeta")}}}},
    });
    let mut by_integration = meta.clone();
    by_integration["operationId"] =
        Value::from(format!("{}_{method}_meta", prefix.replace('.', "_")));
    by_integration["parameters"] = json!([{"name": "integration", "in": "path", "required": true,
        "schema": {"type": "string", "enum": names}}]);
    let mut by_account = meta;
    by_account["operationId"] = Value::from(format!(
        "{}_{method}_account_meta",
        prefix.replace('.', "_")
    ));
    by_account["parameters"] = json!([{"name": "integrated_account_id", "in": "query", "required": true,
        "schema": {"type": "string", "minLength": 1, "pattern": "\\S"}}]);
    let mut paths = Map::new();
    paths.insert(
        format!("/unified/{resource}/{{integration}}/meta/{method}"),
        json!({"get": by_integration}),
    );
    paths.insert(
        format!("/unified/{resource}/meta/{method}"),
        json!({"get": by_account}),
    );
    paths
}

fn unified_parameters() -> Vec<Value> {
    vec![
        json!({"name": "integrated_account_id", "in": "query", "required": true,
               "description": "The integrated account to act for", "schema": {"type": "string", "minLength": 1, "pattern": "\\S"}}),
        json!({"name": "truto_response_format", "in": "query", "required": false,
               "description": "unified (default): mapped record with remote_data; raw: the provider's answer to the call's primary step (the create itself) as received, with its status; normalized: mapped fields only, no nulls; stream: the same as raw, chunked",
               "schema": {"type": "string", "enum": ResponseFormat::NAMES, "default": "unified"}}),
        json!({"name": "switchboard_strict", "in": "query", "required": false,
               "description": "Strict mode: a field that is not unified, not supported by the integration, or that no provider request would carry is a 400 (`unsupported`) before anything is sent, instead of a warning in `X-Switchboard-Warnings`",
               "schema": {"type": "boolean", "default": false}}),
        json!({"name": "truto_ignore_remote_data", "in": "query", "required": false,
               "description": "Leave `remote_data` out of the answer", "schema": {"type": "boolean"}}),
        json!({"name": "truto_exclude_fields[]", "in": "query", "required": false, "style": "form", "explode": true,
               "description": "Fields to leave out; dotted paths reach into nested objects and arrays (`emails.email`)",
               "schema": {"type": "array", "items": {"type": "string"}}}),
        json!({"name": "remote_query", "in": "query", "required": false, "style": "deepObject", "explode": true,
               "description": "Query parameters passed to the provider untouched: `remote_query[foo]=bar` (a list as `remote_query[foo][]=a&remote_query[foo][]=b`). A name holds no brackets, and one name is either a value, a list or nested names, never two of them (`remote_query[]`, or `remote_query[a]` with `remote_query[a][b]`, is a 400 `invalid_query`)",
               "schema": remote_query_schema()}),
        json!({"name": "Idempotency-Key", "in": "header", "required": false,
               "description": "Replays the first response for 24 h; the same key with another request is a 422",
               "schema": {"type": "string", "maxLength": 255}}),
    ]
}

/// The links of a created account (OpenAPI `links`): its `id` is the `integrated_account_id` of
/// every operation that takes one, and the `{id}` of the account routes.
fn account_links(paths: &Map<String, Value>) -> Value {
    let mut links = Map::new();
    for (path, item) in paths {
        let Some(operations) = item.as_object() else {
            continue;
        };
        for operation in operations.values() {
            let Some(id) = operation["operationId"].as_str() else {
                continue;
            };
            let takes_account = operation["parameters"].as_array().is_some_and(|ps| {
                ps.iter()
                    .any(|p| p["name"] == "integrated_account_id" && p["required"] == true)
            });
            let parameter = if takes_account {
                "integrated_account_id"
            } else if path == "/integrated-account/{id}" {
                "id"
            } else {
                continue;
            };
            links.insert(
                id.to_owned(),
                json!({"operationId": id, "parameters": {parameter: "$response.body#/id"}}),
            );
        }
    }
    Value::Object(links)
}

/// `remote_query` as the query string carries it: provider parameter names (non-empty, no
/// brackets, short enough for the server's key limit in any script) to string values.
fn remote_query_schema() -> Value {
    // The longest key the server reads is 256 bytes, `remote_query[…]` included: 60 characters
    // of up to 4 bytes each fit.
    json!({"type": "object",
           "propertyNames": {"type": "string", "minLength": 1, "maxLength": 60, "pattern": "^[^\\[\\]]+$"},
           "additionalProperties": {"type": "string"}})
}

/// Adds to each operation of a path item the error statuses every route of its kind can
/// answer, with the error envelope: `401`/`403` behind a token, `400` with query parameters or
/// a body (`invalid_query`, `invalid_json`), `404` with path parameters or an account id,
/// `413` with a body, and
/// `500`/`503` (overloaded)/`504` (request timeout) everywhere.
fn declare_common_errors(item: &mut Value) {
    let path_params = item.get("parameters").is_some_and(|p| {
        p.as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["in"] == "path"))
    });
    let Some(operations) = item.as_object_mut() else {
        return;
    };
    for (method, operation) in operations.iter_mut() {
        if method == "parameters" {
            continue;
        }
        let params = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut codes = vec![
            ("500", "An unexpected server error"),
            ("503", "The server is overloaded or not ready"),
            (
                "504",
                "The request took longer than the server's request timeout",
            ),
        ];
        if operation.get("security") != Some(&json!([])) {
            codes.push(("401", "Missing or unknown API token"));
            codes.push(("403", "The token's scope does not allow this route"));
        }
        if params.iter().any(|p| p["in"] == "query") || operation.get("requestBody").is_some() {
            codes.push(("400", "An invalid query parameter or body"));
        }
        let names_account = params.iter().any(|p| p["name"] == "integrated_account_id");
        if path_params || names_account || params.iter().any(|p| p["in"] == "path") {
            codes.push(("404", "Nothing with this identifier"));
        }
        if operation.get("requestBody").is_some() {
            codes.push(("413", "Request body over the size limit"));
        }
        let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        for (code, description) in codes {
            responses.entry(code).or_insert_with(|| {
                json!({"description": description, "content": {"application/json": {"schema": component("Error")}}})
            });
        }
    }
}

fn error_responses() -> Map<String, Value> {
    let describe = [
        (
            "400",
            "Invalid input: every missing or invalid query parameter and body field is listed",
        ),
        (
            "401",
            "Missing or unknown API token; with `truto_is_remote_error`, the provider refused the \
             account's credentials and the account is `needs_reauth` until they are updated",
        ),
        (
            "403",
            "The token's scope does not allow the route, the provider refused the account \
             access (`truto_error_insight.forbidden_error`), or this server calls no provider \
             (`provider_calls_refused`, `serve --refuse-provider-calls`)",
        ),
        ("404", "Unknown integrated account, resource or method"),
        (
            "409",
            "A request with this Idempotency-Key is in progress, or a provider uniqueness conflict",
        ),
        ("413", "Request body over the size limit"),
        (
            "422",
            "Idempotency-Key reused with another request, or a provider validation error",
        ),
        (
            "424",
            "`partially_completed`: a step created something at the provider before a later one \
             failed; `created` and `completed_steps` say what exists. Do not retry as is",
        ),
        (
            "429",
            "Rate limited (by the provider when `is_remote_error`)",
        ),
        (
            "502",
            "The provider answered with an error, or an answer that could not be used",
        ),
        ("504", "The provider did not answer in time"),
    ];
    describe
        .iter()
        .map(|(status, description)| {
            (
                (*status).to_owned(),
                json!({"description": description, "content": {"application/json": {"schema": component("Error")}}}),
            )
        })
        .collect()
}

/// A new account: for each integration, its environments, and a context holding its known
/// keys only — credentials as non-empty strings, one of its auth schemes' among them, and the
/// values its base URL is built from (unless `base_url` is given).
fn new_account(registry: &Registry) -> Value {
    let variants: Vec<Value> = registry
        .integrations()
        .map(|plan| {
            let mut environments: Vec<Value> = plan.environments().map(Value::from).collect();
            environments.push(Value::Null);
            let credentials: Vec<Value> = plan
                .auth
                .iter()
                .map(|scheme| {
                    let keys: Vec<String> = scheme
                        .required_keys()
                        .into_iter()
                        .map(str::to_owned)
                        .collect();
                    given(&keys)
                })
                .collect();
            let url_keys = crate::account::base_url_keys(plan);
            // A null value is as good as no value (the server leaves it out): every key may be
            // null, an unknown one only null.
            let mut keys = Map::new();
            for field in plan.context_fields.keys() {
                keys.insert(field.clone(), json!({}));
            }
            for key in &url_keys {
                keys.insert(
                    key.clone(),
                    json!({"type": ["string", "null"], "pattern": crate::account::URL_PART_PATTERN}),
                );
            }
            for secret in &plan.secret_keys {
                keys.insert(
                    secret.clone(),
                    json!({"type": ["string", "null"], "minLength": 1,
                           "pattern": crate::account::CREDENTIAL_PATTERN}),
                );
            }
            let mut context = json!({"type": "object", "additionalProperties": {"type": "null"},
                                     "properties": keys});
            if !credentials.is_empty() {
                context["anyOf"] = Value::Array(credentials);
            }
            json!({
                "properties": {
                    "integration": {"const": plan.name},
                    "environment": {"enum": environments},
                    "context": context,
                },
                "anyOf": [
                    {"required": ["base_url"], "properties": {"base_url": {"type": "string"}}},
                    {"properties": {"context": given(&url_keys)}},
                ],
            })
        })
        .collect();
    json!({"type": "object", "additionalProperties": false, "required": ["integration", "context"],
        "properties": {
            "integration": {"type": "string"},
            "environment": {"type": ["string", "null"]},
            "base_url": {"type": ["string", "null"], "pattern": BASE_URL_PATTERN,
                         "description": "`http(s)://host[:port][/path]`: the host a DNS name, a dotted IPv4 address or a bracketed IPv6 address; no query, fragment or user:password@. Provider calls to loopback and private addresses are refused unless the server allows them"},
            "context": {"type": "object", "description": "Context values and credentials (credentials are encrypted at rest); a null value is left out, as if absent"}},
        "oneOf": variants})
}

/// An object in which each of `keys` is present and not null (a string: the keys an account
/// needs are credentials and URL parts).
fn given(keys: &[String]) -> Value {
    let properties: Map<String, Value> = keys
        .iter()
        .map(|key| (key.clone(), json!({"type": "string"})))
        .collect();
    json!({"required": keys, "properties": properties})
}

fn server_components() -> Map<String, Value> {
    let account_view = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "integration": {"type": "string"},
        "environment": {"type": ["string", "null"]}, "base_url": {"type": ["string", "null"]},
        "context": {"type": "object", "description": "Context values; credentials are never returned"},
        "secret_keys": {"type": "array", "items": {"type": "string"}, "description": "Names of the credentials held"},
        "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "enum": ["active", "needs_reauth"],
                   "description": "`needs_reauth` after the provider refused the credentials (a 401): unified calls answer 401 without calling it until new credentials are set"}},
        "required": ["id", "integration", "context", "secret_keys", "created_at", "updated_at", "status"]});
    let patch = json!({"type": "object", "additionalProperties": false, "properties": {
        "environment": {"type": ["string", "null"]},
        "base_url": {"type": ["string", "null"], "pattern": BASE_URL_PATTERN,
                     "description": "As in `NewIntegratedAccount`; null clears it"},
        "context": {"type": ["object", "null"], "description": "Merged key by key; null removes a key (a null context changes nothing). A change of `environment`, `base_url` or the context values the base URL is built from must carry the credentials again (400 `credentials_required`): what the context may hold depends on the account's integration"}}});
    let error = json!({"type": "object", "required": ["statusCode", "error", "code", "message"], "properties": {
        "statusCode": {"type": "integer"}, "error": {"type": "string"}, "code": {"type": "string"},
        "message": {"type": "string"}, "details": {"type": "object"},
        "is_remote_error": {"type": "boolean"}, "truto_is_remote_error": {"type": "boolean"},
        "remote_status": {"type": "integer"}, "raw_response": {}, "truto_error_insight": {"type": "object"}}});
    let meta = json!({"type": "object", "properties": {
        "method": {"type": "string"}, "integration": {"type": "string"}, "resource": {"type": "string"},
        "documentation_link": {"type": ["string", "null"]}, "query_schema": {"type": "object"},
        "request_body_schema": {"type": "object"}, "response_schema": {"type": "object"}, "schema": {"type": "object"}}});
    let log = json!({"type": "object", "properties": {
        "id": {"type": "integer"}, "time": {"type": "string"}, "request_id": {"type": "string"},
        "method": {"type": "string"}, "path": {"type": "string"}, "integration": {"type": ["string", "null"]},
        "integrated_account_id": {"type": ["string", "null"]}, "status": {"type": "integer"}, "duration_ms": {"type": "integer"},
        "exchanges": {"type": "array", "items": {"type": "object"}}}});
    [
        ("IntegratedAccount", account_view),
        ("IntegratedAccountPatch", patch),
        ("Error", error),
        ("MethodMeta", meta),
        ("LogEntry", log),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn server_paths() -> Map<String, Value> {
    let json_of = |schema: Value| json!({"application/json": {"schema": schema}});
    let error = json!({"description": "Error", "content": json_of(component("Error"))});
    let account = json_of(component("IntegratedAccount"));
    let id = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}]);
    let paths = [
        (
            "/integrated-account",
            json!({
                "get": {"operationId": "list_integrated_accounts", "tags": ["integrated accounts"],
                    "responses": {"200": {"description": "`{result: [...]}`", "content": json_of(json!({"type": "object",
                        "properties": {"result": {"type": "array", "items": component("IntegratedAccount")}}}))}}},
                "post": {"operationId": "create_integrated_account", "tags": ["integrated accounts"],
                    "requestBody": {"required": true, "content": json_of(component("NewIntegratedAccount"))},
                    "responses": {"201": {"description": "Created", "content": account}, "400": error}},
            }),
        ),
        (
            "/integrated-account/{id}",
            json!({
                "parameters": id,
                "get": {"operationId": "get_integrated_account", "tags": ["integrated accounts"],
                    "responses": {"200": {"description": "The account, without credentials", "content": account}, "404": error}},
                "patch": {"operationId": "update_integrated_account", "tags": ["integrated accounts"],
                    "requestBody": {"required": true, "content": json_of(component("IntegratedAccountPatch"))},
                    "responses": {"200": {"description": "Updated", "content": account}, "400": error, "404": error}},
                "delete": {"operationId": "delete_integrated_account", "tags": ["integrated accounts"],
                    "responses": {"200": {"description": "`{id}`"}, "404": error}},
            }),
        ),
        (
            "/log",
            json!({"get": {"operationId": "list_log", "tags": ["operations"],
            "parameters": [
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                {"name": "next_cursor", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"}},
                {"name": "integrated_account_id", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "Newest first", "content": json_of(json!({"type": "object", "properties": {
                "result": {"type": "array", "items": component("LogEntry")}, "next_cursor": {"type": ["string", "null"]}}}))}}}}),
        ),
        (
            "/metrics",
            json!({"get": {"operationId": "metrics", "tags": ["operations"],
            "description": "Prometheus text exposition format (0.0.4): requests by route template, method and status with latency histograms; provider calls by integration, step and status with latency histograms; retries; rate-limit waits and refusals; idempotent replays; dropped request-log entries. Needs an `admin` token; labels hold no account ids.",
            "responses": {"200": {"description": "Every metric", "content": {"text/plain; version=0.0.4": {"schema": {"type": "string"}}}}, "403": error}}}),
        ),
        (
            "/health",
            json!({"get": {"operationId": "health", "tags": ["operations"], "security": [],
            "responses": {"200": {"description": "The process answers"}}}}),
        ),
        (
            "/ready",
            json!({"get": {"operationId": "ready", "tags": ["operations"], "security": [],
            "responses": {"200": {"description": "Mappings loaded and store reachable"}, "503": error}}}),
        ),
        (
            "/openapi.json",
            json!({"get": {"operationId": "openapi", "tags": ["operations"],
            "responses": {"200": {"description": "This document"}}}}),
        ),
    ];
    paths.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}
