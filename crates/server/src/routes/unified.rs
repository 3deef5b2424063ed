//! `POST /unified/{model}/{resource}` (method `create`), `POST /unified/{model}/{resource}/{method}`
//! (custom methods), `GET /unified/{model}/{resource}` (`list`) and
//! `GET /unified/{model}/{resource}/{id}` (`get`): whatever the registry holds is routed, with no
//! code per resource.
//!
//! A create answers 201 with the unified record itself (no wrapper), as the contract's clients
//! expect; core's warnings go in the `X-Switchboard-Warnings` header as a JSON array so the body
//! keeps the contract's shape.

use std::time::SystemTime;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use switchboard_core::{GET_METHOD, LIST_METHOD, Warning};
use switchboard_executor::{Exchange, Outcome};

use crate::envelope::ApiError;
use crate::format::{ResponseFormat, ResponseOptions};
use crate::handoff::{LogDetails, Remember, Streamed, chunked};
use crate::list::{self, CursorScope, ListOptions};
use crate::query::{self, ACCOUNT_PARAM};
use crate::state::AppState;
use crate::store::{AccountStatus, LogExchange, Store};
use crate::{account, exec_envelope, rate_limit_headers};

/// The header carrying core's warnings (fields not carried, and why) as a JSON array.
pub const WARNINGS_HEADER: &str = "x-switchboard-warnings";
/// The header carrying the provider's status of the exchange a `raw` / `stream` body comes from.
pub const REMOTE_STATUS_HEADER: &str = "x-switchboard-remote-status";

/// `POST /unified/{model}/{resource}`.
pub(crate) async fn create(
    State(state): State<AppState>,
    Path((model, resource)): Path<(String, String)>,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Some(refusal) = unmapped_on_collection(&state, &model, &resource, "create") {
        return refusal.into_response();
    }
    handle(&state, &model, &resource, "create", &uri, body).await
}

/// `POST /unified/{model}/{resource}/{method}`.
pub(crate) async fn custom(
    State(state): State<AppState>,
    Path((model, resource, method)): Path<(String, String, String)>,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    handle(&state, &model, &resource, &method, &uri, body).await
}

/// `GET /unified/{model}/{resource}`: one page of records.
pub(crate) async fn list(
    State(state): State<AppState>,
    Path((model, resource)): Path<(String, String)>,
    uri: Uri,
) -> Response {
    if let Some(refusal) = unmapped_on_collection(&state, &model, &resource, LIST_METHOD) {
        return refusal.into_response();
    }
    read(&state, &model, &resource, LIST_METHOD, None, &uri).await
}

/// `405` with `Allow` when `method` (`create` or `list`) is served on a unified resource's path
/// but no integration maps it there, as the OpenAPI document (which lists only mapped methods)
/// says; `None` otherwise, unknown resources included (those are a `404` later).
fn unmapped_on_collection(
    state: &AppState,
    model: &str,
    resource: &str,
    method: &str,
) -> Option<ApiError> {
    let name = format!("{model}/{resource}");
    let registry = &state.inner.registry;
    if registry.schema(&name).is_none() || is_mapped(state, &name, method) {
        return None;
    }
    let verb = if method == LIST_METHOD { "GET" } else { "POST" };
    Some(
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!(
                "`{verb}` is not allowed on `/unified/{name}`: no integration maps `{method}` for it"
            ),
        )
        .header(header::ALLOW, &allowed(state, &name, None).join(", ")),
    )
}

/// Whether any integration maps `method` on the unified resource `name`.
fn is_mapped(state: &AppState, name: &str, method: &str) -> bool {
    state
        .inner
        .registry
        .methods()
        .any(|plan| plan.resource == name && plan.method == method)
}

/// The HTTP methods a unified path answers, as the OpenAPI document lists them: on the
/// resource (`last` = `None`), `GET` for a mapped `list` and `POST` for a mapped `create`;
/// below it, `GET` for a mapped `get` (`last` is a record id) and `POST` when `last` names a
/// mapped custom method. `HEAD` goes with `GET`.
fn allowed(state: &AppState, name: &str, last: Option<&str>) -> Vec<&'static str> {
    let (read, write) = match last {
        None => (LIST_METHOD, "create"),
        Some(method) => (GET_METHOD, method),
    };
    let mut verbs = Vec::new();
    if is_mapped(state, name, read) {
        verbs.extend(["GET", "HEAD"]);
    }
    if is_mapped(state, name, write) && write != LIST_METHOD && write != GET_METHOD {
        verbs.push("POST");
    }
    verbs
}

/// The `Allow` header value of a unified path (`/unified/{model}/{resource}[/{x}]`) whose
/// resource exists, for the `405` of a method the router does not serve there; `None` for any
/// other path (the router's own `Allow` stands).
pub(crate) fn allow_header(state: &AppState, path: &str) -> Option<String> {
    let segments: Vec<&str> = path.strip_prefix("/unified/")?.split('/').collect();
    let (name, last) = match segments.as_slice() {
        [model, resource] => (format!("{model}/{resource}"), None),
        [model, resource, last] => (format!("{model}/{resource}"), Some(*last)),
        _ => return None,
    };
    state.inner.registry.schema(&name)?;
    Some(allowed(state, &name, last).join(", "))
}

/// `GET /unified/{model}/{resource}/{id}`: one record.
pub(crate) async fn get_one(
    State(state): State<AppState>,
    Path((model, resource, id)): Path<(String, String, String)>,
    uri: Uri,
) -> Response {
    read(&state, &model, &resource, GET_METHOD, Some(id), &uri).await
}

async fn read(
    state: &AppState,
    model: &str,
    resource: &str,
    method: &str,
    id: Option<String>,
    uri: &Uri,
) -> Response {
    let call = Call {
        model,
        resource,
        method,
        id,
    };
    respond(state, call, uri, Ok(Bytes::new())).await
}

/// What a unified call names: the resource, the method, and for a `get` the record id.
struct Call<'a> {
    model: &'a str,
    resource: &'a str,
    method: &'a str,
    id: Option<String>,
}

async fn handle(
    state: &AppState,
    model: &str,
    resource: &str,
    method: &str,
    uri: &Uri,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let call = Call {
        model,
        resource,
        method,
        id: None,
    };
    respond(state, call, uri, body).await
}

async fn respond(
    state: &AppState,
    call: Call<'_>,
    uri: &Uri,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (model, resource, method) = (call.model, call.resource, call.method);
    let mut details = LogDetails {
        resource: Some(format!("{model}/{resource}")),
        method: Some(method.to_owned()),
        ..LogDetails::default()
    };
    let (mut response, remember) = match run(state, call, uri, body, &mut details).await {
        Ok(response) => (response, true),
        Err((error, remember)) => (error.into_response(), remember),
    };
    response.extensions_mut().insert(Remember(remember));
    response.extensions_mut().insert(details);
    response
}

/// An error response, and whether idempotency keeps it ([`Remember`]): true once the provider
/// may have been contacted.
type ErrorAnswer = (ApiError, bool);

fn early(error: ApiError) -> ErrorAnswer {
    (error, false)
}

async fn run(
    state: &AppState,
    call: Call<'_>,
    uri: &Uri,
    body: Result<Bytes, BytesRejection>,
    details: &mut LogDetails,
) -> Result<Response, ErrorAnswer> {
    let (model, resource, method) = (call.model, call.resource, call.method);
    let body =
        body.map_err(|rejection| early(body_rejection(&rejection, state.inner.body_limit)))?;
    let mut query = query::read(uri).map_err(early)?;
    let options = ResponseOptions::take(&mut query).map_err(early)?;
    let strict = query::take_strict(&mut query).map_err(early)?;
    let list_options = if method == LIST_METHOD {
        Some(ListOptions::take(&mut query).map_err(early)?)
    } else {
        None
    };
    let account_id = match query.remove(ACCOUNT_PARAM) {
        Some(Value::String(id)) if !id.trim().is_empty() => id,
        _ => return Err(early(ApiError::missing_query(&[ACCOUNT_PARAM]))),
    };
    details.account_id = Some(account_id.clone());
    let body = parse_json(&body).map_err(early)?;

    let store = state.inner.store.as_ref();
    let stored = store
        .get_account(&account_id)
        .await
        .map_err(|e| early(e.into()))?
        .ok_or_else(|| {
            early(ApiError::not_found(
                "account_not_found",
                format!("no integrated account `{account_id}`"),
            ))
        })?;
    details.integration = Some(stored.integration.clone());
    let registry = &state.inner.registry;
    let name = format!("{model}/{resource}");
    if registry.schema(&name).is_none() {
        return Err(early(ApiError::not_found(
            "unknown_resource",
            format!("no unified resource `{name}`"),
        )));
    }
    let plan = registry
        .method(&stored.integration, &name, method)
        .map_err(|_| {
            early(ApiError::not_found(
                "method_not_mapped",
                format!(
                    "`{}` has no mapping for `{name}` method `{method}`",
                    stored.integration
                ),
            ))
        })?;
    if stored.status == AccountStatus::NeedsReauth {
        return Err(early(needs_reauth(&account_id)));
    }
    let account =
        account::open(&state.inner.cipher, &stored).map_err(|e| early(ApiError::internal(&e)))?;
    let cursor_scope = CursorScope {
        account: &account_id,
        integration: &stored.integration,
        resource: &name,
    };
    let mut input = query::run_input(plan, query, body);
    input.id = call.id;
    input.strict = strict;
    if let Some(text) = list_options.as_ref().and_then(|l| l.cursor.as_deref()) {
        input.cursor = Some(
            cursor_scope
                .open(&state.inner.cipher, text)
                .map_err(early)?,
        );
    }

    match state.inner.executor.run(plan, input, &account).await {
        Ok(mut outcome) => {
            details.exchanges = log_exchanges(&outcome.exchanges);
            let status = if method == "create" {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            if let Some(list_options) = &list_options {
                let next_cursor = match outcome.output.next_cursor.take() {
                    Some(cursor) => Some(
                        cursor_scope
                            .seal(&state.inner.cipher, &cursor)
                            .map_err(|e| (e, false))?,
                    ),
                    None => None,
                };
                let records = std::mem::take(&mut outcome.output.record);
                outcome.output.record =
                    list::envelope(records, next_cursor, &options, list_options);
                return Ok(success(
                    status,
                    &options.for_envelope(),
                    outcome,
                    &plan.primary_steps(),
                ));
            }
            Ok(success(status, &options, outcome, &plan.primary_steps()))
        }
        Err(error) => {
            details.exchanges = log_exchanges(error.exchanges());
            let (mut api, remember) = exec_envelope::for_error(&error);
            if error.provider_error().is_some_and(|e| e.status == 401) || error.needs_reauth() {
                mark_needs_reauth(store, &account_id).await;
                api = api.with(
                    "account_status",
                    Value::from(AccountStatus::NeedsReauth.as_str()),
                );
            }
            if api.status().is_server_error() {
                tracing::warn!(error = %error, "unified call failed");
            } else {
                tracing::info!(error = %error, "unified call refused");
            }
            Err((api, remember))
        }
    }
}

/// 401 for an account the provider refused: nothing is sent until its credentials are updated.
fn needs_reauth(account_id: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "needs_reauth",
        format!(
            "the provider refused the credentials of account `{account_id}`; update them \
             (`PATCH /integrated-account/{account_id}`) before using it again"
        ),
    )
    .with("is_remote_error", Value::Bool(true))
    .with("truto_is_remote_error", Value::Bool(true))
    .with(
        "account_status",
        Value::from(AccountStatus::NeedsReauth.as_str()),
    )
}

/// Records that the provider refused an account's credentials; a store failure is logged, as
/// the answer to this call does not depend on it.
async fn mark_needs_reauth(store: &dyn Store, account_id: &str) {
    if let Err(error) = store
        .set_account_status(account_id, AccountStatus::NeedsReauth)
        .await
    {
        tracing::warn!(error = %error, "could not mark the account as needing re-authentication");
    }
}

fn body_rejection(rejection: &BytesRejection, limit: usize) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(limit)
    } else {
        ApiError::bad_request("unreadable_body", "the request body could not be read")
    }
}

/// The body as JSON: null when empty, 400 when malformed.
pub(crate) fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(
            "malformed_json",
            format!("the request body is not valid JSON: {e}"),
        )
        .with(
            "details",
            serde_json::json!({"line": e.line(), "column": e.column()}),
        )
    })
}

fn success(
    status: StatusCode,
    options: &ResponseOptions,
    outcome: Outcome,
    primary_steps: &[&str],
) -> Response {
    let Outcome { output, exchanges } = outcome;
    let answer = primary_answer(&exchanges, primary_steps);
    let mut response = match (options.format, answer) {
        (ResponseFormat::Raw, Some(exchange)) => raw(status, exchange, false),
        (ResponseFormat::Stream, Some(exchange)) => raw(status, exchange, true),
        _ => {
            let body = options.shape(output.record).to_string();
            (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
    };
    if let Some(value) = warnings_header(&output.warnings) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(WARNINGS_HEADER), value);
    }
    for (name, value) in rate_limit_headers::from_exchanges(&exchanges, SystemTime::now()) {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// The exchange `raw` and `stream` answer with: the last call of a step the mapping marks
/// `primary` (the create itself), else the last call.
fn primary_answer<'a>(exchanges: &'a [Exchange], primary_steps: &[&str]) -> Option<&'a Exchange> {
    exchanges
        .iter()
        .rev()
        .find(|e| primary_steps.contains(&e.step.as_str()))
        .or_else(|| exchanges.last())
}

/// The provider's body as it came, with its content type and status; chunked when `stream`.
fn raw(status: StatusCode, exchange: &Exchange, stream: bool) -> Response {
    let content_type = exchange
        .content_type
        .as_deref()
        .unwrap_or("application/octet-stream");
    let body = if stream {
        chunked(exchange.body.clone())
    } else {
        Body::from(exchange.body.clone())
    };
    let mut response = Response::new(body);
    // As the provider sent it: its (success) status, not the unified one.
    *response.status_mut() = StatusCode::from_u16(exchange.status)
        .ok()
        .filter(StatusCode::is_success)
        .unwrap_or(status);
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(
        HeaderName::from_static(REMOTE_STATUS_HEADER),
        HeaderValue::from(exchange.status),
    );
    if stream {
        response.extensions_mut().insert(Streamed);
    }
    response
}

/// Core's warnings as a header value: a JSON array, non-ASCII escaped as `\uXXXX`.
fn warnings_header(warnings: &[Warning]) -> Option<HeaderValue> {
    if warnings.is_empty() {
        return None;
    }
    let json = serde_json::to_string(warnings).ok()?;
    let mut ascii = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() && !c.is_ascii_control() {
            ascii.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                ascii.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    HeaderValue::from_str(&ascii).ok()
}

fn log_exchanges(exchanges: &[Exchange]) -> Vec<LogExchange> {
    exchanges
        .iter()
        .map(|e| LogExchange {
            step: e.step.clone(),
            method: e.method.as_str().to_owned(),
            // The query string can hold personal data (a lookup by email): the log keeps the path.
            url: e.url.split('?').next().unwrap_or_default().to_owned(),
            status: Some(e.status),
            duration_ms: Some(e.duration_ms),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use switchboard_core::InputLocation;

    use super::*;

    #[test]
    fn warnings_are_an_ascii_json_header() {
        let warnings = vec![Warning::new(
            InputLocation::Body,
            "/title",
            "`title` was not sent: no field — “none”",
        )];
        let value = warnings_header(&warnings).expect("header");
        let text = value.to_str().expect("ascii");
        let parsed: Value = serde_json::from_str(text).expect("json");
        assert_eq!(parsed[0]["pointer"], "/title");
        assert_eq!(
            parsed[0]["message"],
            "`title` was not sent: no field — “none”"
        );
    }

    #[test]
    fn empty_bodies_are_null_and_bad_json_is_400() {
        assert_eq!(parse_json(b"  ").expect("empty"), Value::Null);
        let error = parse_json(b"{\"a\":").expect_err("bad");
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert_eq!(error.code(), "malformed_json");
    }
}
