//! Executor errors as error envelopes: which status, which fields, which headers, and whether
//! the provider may have been contacted (so the response is kept for its idempotency key).

use std::time::SystemTime;

use axum::http::{HeaderName, StatusCode, header};
use serde_json::{Value, json};
use switchboard_core::{ProviderError, RunError, backticked};
use switchboard_executor::{
    Exchange, ExecError, ExecErrorKind, FileError, FileErrorKind, OAuthError, OAuthErrorKind,
    TransportError, TransportKind,
};

use crate::envelope::ApiError;
use crate::rate_limit_headers;

/// The envelope for `error`, and whether the provider may have been contacted.
///
/// When earlier steps succeeded before the failure (a candidate created, then attaching it to a
/// job failed), the envelope lists them under `completed_steps` with the provider's answers, so
/// the caller can find what already exists instead of creating it again. When one of them created
/// something, the answer is [`partially_completed`], whatever the failure was.
pub(crate) fn for_error(error: &ExecError) -> (ApiError, bool) {
    let (api, contacted) = envelope(error);
    let mut api = with_rate_limit_headers(api, error.exchanges());
    let exchanges = error.exchanges();
    let completed = match error.kind() {
        // The last exchange is the call that failed.
        ExecErrorKind::Run(
            RunError::Provider(_) | RunError::Upstream { .. } | RunError::Mapping { .. },
        ) => &exchanges[..exchanges.len().saturating_sub(1)],
        _ => exchanges,
    };
    if !completed.is_empty() {
        let steps = completed
            .iter()
            .map(|e| json!({"step": e.step, "status": e.status, "response": e.body_value()}))
            .collect();
        api = api.with("completed_steps", Value::Array(steps));
    }
    let created = created(error);
    if created.is_empty() {
        return (api, contacted);
    }
    (partially_completed(api, created), true)
}

/// The calls that created something: POST and PATCH calls the provider answered with a 2xx. A
/// provider error's own call is left out (a 2xx there was read as an error); the call whose
/// answer could not be used or mapped is kept, since the provider acted on it all the same.
fn created(error: &ExecError) -> Vec<Value> {
    let exchanges = error.exchanges();
    let answered = match error.provider_error() {
        Some(_) => &exchanges[..exchanges.len().saturating_sub(1)],
        None => exchanges,
    };
    answered
        .iter()
        .filter(|e| !e.method.is_idempotent() && (200..300).contains(&e.status))
        .map(|e| json!({"step": e.step, "status": e.status, "ids": ids(&e.body_value())}))
        .collect()
}

/// The identifiers in a provider's answer, by JSON pointer: fields named `id` or ending in `Id`
/// or `_id` holding a string or number, at the top level or under `data`.
fn ids(body: &Value) -> Value {
    let mut found = serde_json::Map::new();
    let mut scan = |object: &Value, prefix: &str| {
        let Some(object) = object.as_object() else {
            return;
        };
        for (key, value) in object {
            let named = key == "id" || key.ends_with("Id") || key.ends_with("_id");
            if named && (value.is_string() || value.is_number()) {
                let key = key.replace('~', "~0").replace('/', "~1");
                found.insert(format!("{prefix}/{key}"), value.clone());
            }
        }
    };
    scan(body, "");
    scan(&body["data"], "/data");
    Value::Object(found)
}

/// A failure after something was created: 424 `partially_completed`, never a status a client
/// retries by itself (408, 409, 425, 429, 502, 503, 504), so a retry cannot create it twice.
/// The failure's own status, code and message move under `failure`; `created` lists the calls
/// that created something, with the identifiers their answers carry.
fn partially_completed(api: ApiError, created: Vec<Value>) -> ApiError {
    let steps: Vec<&str> = created.iter().filter_map(|c| c["step"].as_str()).collect();
    let message = format!(
        "step {} created something at the provider before the run failed ({}); sending the \
         request again would create it again: see `created` and `completed_steps`",
        backticked(&steps),
        api.message()
    );
    api.reclassify(
        StatusCode::FAILED_DEPENDENCY,
        "partially_completed",
        message,
    )
    .with("created", Value::Array(created))
}

/// Adds the provider's rate-limit state as `ratelimit-*` headers.
fn with_rate_limit_headers(mut api: ApiError, exchanges: &[Exchange]) -> ApiError {
    for (name, value) in rate_limit_headers::from_exchanges(exchanges, SystemTime::now()) {
        api = api.header(name, &value);
    }
    api
}

/// An account's OAuth token could not be had: a refused grant is the account's `401
/// needs_reauth`; a failing token endpoint is the provider's (`502`); a missing OAuth app is the
/// operator's configuration (`422`); a renewal held elsewhere or a store failure is `503`.
fn oauth_envelope(failure: &OAuthError, error: &ExecError) -> ApiError {
    let (status, code) = match failure.kind {
        OAuthErrorKind::NeedsReauth => (StatusCode::UNAUTHORIZED, "needs_reauth"),
        OAuthErrorKind::TokenEndpoint { .. } => (StatusCode::BAD_GATEWAY, "oauth_token_error"),
        OAuthErrorKind::NoApp => (StatusCode::UNPROCESSABLE_ENTITY, "oauth_app_not_configured"),
        OAuthErrorKind::Busy => (StatusCode::SERVICE_UNAVAILABLE, "oauth_renewal_busy"),
        OAuthErrorKind::Store => (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable"),
    };
    let remote = matches!(
        failure.kind,
        OAuthErrorKind::NeedsReauth | OAuthErrorKind::TokenEndpoint { .. }
    );
    ApiError::new(status, code, error.to_string())
        .with("is_remote_error", Value::Bool(remote))
        .with("truto_is_remote_error", Value::Bool(remote))
}

/// `truto_error_insight` with one key.
fn insight(key: &str, description: &str, value: Value) -> Value {
    json!({ key: {"description": description, "value": value} })
}

fn envelope(error: &ExecError) -> (ApiError, bool) {
    let contacted = !error.exchanges().is_empty();
    match error.kind() {
        ExecErrorKind::Run(run) => run_envelope(error, run),
        ExecErrorKind::Transport(transport) => {
            (transport_envelope(transport), transport.may_have_reached_provider || contacted)
        }
        ExecErrorKind::File(file) => (file_envelope(file), contacted),
        ExecErrorKind::OAuth(failure) => (oauth_envelope(failure, error), contacted),
        ExecErrorKind::Account { .. } => (
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "account_misconfigured",
                error.to_string(),
            ),
            false,
        ),
        // The account's base URL points where the gateway may not call: a setting of the account
        // (like `account_misconfigured`), not a fault of the provider or of this server, and
        // sending the request again will not help.
        ExecErrorKind::ForbiddenAddress { step, address, .. } => (
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "provider_address_forbidden",
                error.to_string(),
            )
            .with("remote_step", Value::from(step.clone()))
            .with("address", Value::from(address.to_string())),
            contacted,
        ),
        // The operator told this server to call no provider (`serve --refuse-provider-calls`):
        // the request is fine, the server refuses to carry it out, and nothing was sent.
        ExecErrorKind::ProviderCallsRefused { step } => (
            ApiError::new(
                StatusCode::FORBIDDEN,
                "provider_calls_refused",
                error.to_string(),
            )
            .with("remote_step", Value::from(step.clone()))
            .with("is_remote_error", Value::Bool(false)),
            contacted,
        ),
        ExecErrorKind::DeadlineExceeded {
            step,
            may_have_reached_provider,
            ..
        } => (
            ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "deadline_exceeded",
                error.to_string(),
            )
            .with("remote_step", Value::from(step.clone()))
            .with(
                "may_have_reached_provider",
                Value::Bool(*may_have_reached_provider),
            ),
            *may_have_reached_provider || contacted,
        ),
        ExecErrorKind::RateLimited { .. } => (
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                error.to_string(),
            )
            .with("is_remote_error", Value::Bool(false))
            .with(
                "truto_error_insight",
                insight(
                    "rate_limit_error",
                    "The account's rate limit for the provider held the call; retry after `Retry-After`",
                    Value::from("1"),
                ),
            )
            .header(header::RETRY_AFTER, "1"),
            contacted,
        ),
        _ => (ApiError::internal(error), false),
    }
}

/// Core's run errors: invalid input, a provider error, an unusable answer, a mapping error.
fn run_envelope(error: &ExecError, run: &RunError) -> (ApiError, bool) {
    let contacted = !error.exchanges().is_empty();
    match run {
        RunError::Input {
            problems, warnings, ..
        } => (ApiError::invalid_input(problems, warnings), contacted),
        RunError::Provider(provider) => {
            (provider_envelope(provider, error.provider_headers()), true)
        }
        RunError::Upstream {
            step,
            message,
            body,
            ..
        } => (
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "upstream_error",
                format!("step `{step}`: {message}"),
            )
            .with("is_remote_error", Value::Bool(true))
            .with("truto_is_remote_error", Value::Bool(true))
            .with("remote_step", Value::from(step.clone()))
            .with("raw_response", body.clone())
            .with(
                "truto_error_insight",
                insight(
                    "remote_error",
                    "The provider answered, but not with what the mapping needs",
                    Value::from(step.clone()),
                ),
            ),
            true,
        ),
        RunError::Mapping { field, message, .. } if contacted => (
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "mapping_error",
                format!("the provider's answer could not be mapped at `{field}`: {message}"),
            ),
            true,
        ),
        _ => (ApiError::internal(error), false),
    }
}

/// A provider's error answer: its status (or the mapping's unified status), message, body and
/// rate-limit headers.
fn provider_envelope(failure: &ProviderError, headers: &[(String, String)]) -> ApiError {
    let remote = failure.status;
    let status = failure
        .unified_status
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or_else(|| remote_status(remote));
    let mut insight = serde_json::Map::new();
    insight.insert(
        "remote_error".into(),
        json!({"description": "The provider answered with an error", "value": remote}),
    );
    if remote == 429 {
        insight.insert(
            "rate_limit_error".into(),
            json!({"description": "The provider rate-limited the call; retry after `Retry-After`", "value": failure.retry_after}),
        );
    }
    if remote == 403 {
        insight.insert(
            "forbidden_error".into(),
            json!({"description": "The provider refused the credentials access; an empty list means it did not say which scopes are missing", "value": {"missing_scopes": []}}),
        );
    }
    let message = if failure.message.is_empty() {
        format!("the provider answered with HTTP {remote}")
    } else {
        failure.message.clone()
    };
    let mut api = ApiError::new(status, "remote_error", message)
        .with("is_remote_error", Value::Bool(true))
        .with("truto_is_remote_error", Value::Bool(true))
        .with("remote_status", Value::from(remote))
        .with("remote_step", Value::from(failure.step.clone()))
        .with("raw_response", failure.body.clone())
        .with("truto_error_insight", Value::Object(insight));
    if let Some(code) = &failure.code {
        api = api.with("remote_code", Value::from(code.clone()));
    }
    if let Some(details) = &failure.details {
        api = api.with("details", details.clone());
    }
    if let Some(retry_after) = &failure.retry_after {
        api = api
            .with("retry_after", Value::from(retry_after.clone()))
            .header(header::RETRY_AFTER, retry_after);
    }
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        if (name.starts_with("x-ratelimit-") || name.starts_with("x-rate-limit-"))
            && let Ok(name) = HeaderName::try_from(name)
        {
            api = api.header(name, value);
        }
    }
    api
}

/// The provider could not be reached: a timeout or an unreachable upstream, and whether the
/// request may have reached it.
fn transport_envelope(transport: &TransportError) -> ApiError {
    let (status, code) = match transport.kind {
        TransportKind::Timeout => (StatusCode::GATEWAY_TIMEOUT, "upstream_timeout"),
        _ => (StatusCode::BAD_GATEWAY, "upstream_unreachable"),
    };
    ApiError::new(status, code, transport.to_string())
        .with(
            "truto_error_insight",
            insight(
                "remote_error",
                "The provider could not be reached or did not answer in time",
                Value::from(transport.kind.as_str()),
            ),
        )
        .with("transport_error", Value::from(transport.kind.as_str()))
        .with("remote_step", Value::from(transport.step.clone()))
        .with(
            "may_have_reached_provider",
            Value::Bool(transport.may_have_reached_provider),
        )
}

/// A file to upload could not be fetched or was refused.
fn file_envelope(file: &FileError) -> ApiError {
    let status = match &file.kind {
        FileErrorKind::Fetch { status: None, .. } => StatusCode::BAD_GATEWAY,
        FileErrorKind::Fetch {
            status: Some(s), ..
        } if *s >= 500 => StatusCode::BAD_GATEWAY,
        _ => StatusCode::BAD_REQUEST,
    };
    ApiError::new(status, "file_error", file.to_string())
        .with("remote_step", Value::from(file.step.clone()))
        .with("file_url", Value::from(file.url.clone()))
}

/// The status a provider error is answered with, as in the reference's table: provider
/// validation (400, 422) is 422; a provider timeout (408, 504) is 504; other 4xx (401, 403, 404,
/// 409 uniqueness conflict, 429) are kept; 502 and any other 5xx or unexpected status are 502
/// (503 included: ours means "account blocked", and our own 500 always means our own bug).
fn remote_status(status: u16) -> StatusCode {
    match status {
        400 | 422 => StatusCode::UNPROCESSABLE_ENTITY,
        408 | 504 => StatusCode::GATEWAY_TIMEOUT,
        400..=499 => StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
        _ => StatusCode::BAD_GATEWAY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;

    #[test]
    fn provider_statuses_follow_the_reference_table() {
        assert_eq!(remote_status(400), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(remote_status(422), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(remote_status(409), StatusCode::CONFLICT);
        assert_eq!(remote_status(401), StatusCode::UNAUTHORIZED);
        assert_eq!(remote_status(429), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(remote_status(408), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(remote_status(503), StatusCode::BAD_GATEWAY);
        assert_eq!(remote_status(500), StatusCode::BAD_GATEWAY);
        assert_eq!(remote_status(200), StatusCode::BAD_GATEWAY);
    }

    #[test]
    fn a_mapped_status_wins_over_the_providers() {
        let failure = |unified_status| {
            ExecError::from(ExecErrorKind::Run(RunError::Provider(Box::new(
                ProviderError {
                    step: "create".into(),
                    status: 200,
                    message: "Request payload is malformed".into(),
                    code: Some("invalid_input".into()),
                    body: json!({"success": false}),
                    retry_after: None,
                    unified_status,
                    details: None,
                },
            ))))
        };
        let status = |error: &ExecError| for_error(error).0.into_response().status();
        assert_eq!(
            status(&failure(Some(422))),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(status(&failure(None)), StatusCode::BAD_GATEWAY);
    }

    #[test]
    fn the_mappings_error_details_become_the_unified_errors_details() {
        let details = json!([{"pointer": "/data/attributes/email", "detail": "email - has already been taken"}]);
        let failure = |details| {
            ExecError::from(ExecErrorKind::Run(RunError::Provider(Box::new(
                ProviderError {
                    step: "candidate".into(),
                    status: 422,
                    message: "/data/attributes/email: email - has already been taken".into(),
                    code: None,
                    body: json!({"errors": []}),
                    retry_after: None,
                    unified_status: None,
                    details,
                },
            ))))
        };
        let body = |error: &ExecError| for_error(error).0.body();
        assert_eq!(body(&failure(Some(details.clone())))["details"], details);
        assert!(body(&failure(None)).get("details").is_none());
    }

    #[test]
    fn oauth_failures_answer_with_the_status_of_whose_fault_it_is() {
        let failure = |kind| {
            ExecError::from(ExecErrorKind::OAuth(Box::new(OAuthError {
                integration: "example".into(),
                account: "acct-1".into(),
                kind,
                message: "http 400 `invalid_grant`".into(),
            })))
        };
        let answer = |kind| for_error(&failure(kind)).0.into_response().status();
        assert_eq!(
            answer(OAuthErrorKind::NeedsReauth),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            answer(OAuthErrorKind::TokenEndpoint { status: Some(500) }),
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            answer(OAuthErrorKind::NoApp),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            answer(OAuthErrorKind::Busy),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert!(failure(OAuthErrorKind::NeedsReauth).needs_reauth());
        assert!(!failure(OAuthErrorKind::Busy).needs_reauth());
    }
}
