//! Executor errors as error envelopes: which status, which fields, which headers, and whether
//! the provider may have been contacted (so the response is kept for its idempotency key).

use axum::http::{HeaderName, StatusCode, header};
use serde_json::{Value, json};
use switchboard_executor::{
    ExecError, FileError, FileErrorKind, ProviderErrorResponse, TransportError, TransportKind,
};

use crate::envelope::ApiError;

/// The envelope for `error`, and whether the provider may have been contacted.
///
/// When earlier steps succeeded before the failure (a candidate created, then attaching it to a
/// job failed), the envelope lists them under `completed_steps` with the provider's answers, so
/// the caller can find what already exists instead of creating it again.
pub(crate) fn for_error(error: &ExecError) -> (ApiError, bool) {
    let (api, contacted) = envelope(error);
    let exchanges = error.exchanges();
    let completed = match error {
        // The last exchange is the call that failed.
        ExecError::Provider(_) | ExecError::Upstream { .. } | ExecError::Mapping { .. } => {
            &exchanges[..exchanges.len().saturating_sub(1)]
        }
        _ => exchanges,
    };
    if completed.is_empty() {
        return (api, contacted);
    }
    let steps = completed
        .iter()
        .map(|e| json!({"step": e.step, "status": e.status, "response": e.body_value()}))
        .collect();
    (api.with("completed_steps", Value::Array(steps)), contacted)
}

fn envelope(error: &ExecError) -> (ApiError, bool) {
    match error {
        ExecError::Input { problems, warnings } => {
            (ApiError::invalid_input(problems, warnings), false)
        }
        ExecError::Provider(failure) => (provider_envelope(failure), true),
        ExecError::Upstream {
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
            .with("raw_response", body.clone()),
            true,
        ),
        ExecError::Mapping { exchanges, .. } if exchanges.is_empty() => {
            (ApiError::internal(error), false)
        }
        ExecError::Mapping { field, message, .. } => (
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "mapping_error",
                format!("the provider's answer could not be mapped at `{field}`: {message}"),
            ),
            true,
        ),
        ExecError::Transport(transport) => transport_envelope(transport),
        ExecError::File(file) => file_envelope(file),
        ExecError::NoCredentials { .. } | ExecError::Account { .. } => (
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
        ExecError::ForbiddenAddress {
            step,
            address,
            exchanges,
            ..
        } => (
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "provider_address_forbidden",
                error.to_string(),
            )
            .with("remote_step", Value::from(step.clone()))
            .with("address", Value::from(address.to_string())),
            !exchanges.is_empty(),
        ),
        ExecError::DeadlineExceeded {
            step,
            may_have_reached_provider,
            exchanges,
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
            *may_have_reached_provider || !exchanges.is_empty(),
        ),
        ExecError::RateLimited { exchanges, .. } => (
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                error.to_string(),
            )
            .with("is_remote_error", Value::Bool(false))
            .header(header::RETRY_AFTER, "1"),
            !exchanges.is_empty(),
        ),
        other => (ApiError::internal(other), false),
    }
}

/// A provider's error answer: its status (or the mapping's unified status), message, body and
/// rate-limit headers.
fn provider_envelope(failure: &ProviderErrorResponse) -> ApiError {
    let remote = failure.error.status;
    let status = failure
        .error
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
            json!({"description": "The provider rate-limited the call; retry after `Retry-After`", "value": failure.error.retry_after}),
        );
    }
    let message = if failure.error.message.is_empty() {
        format!("the provider answered with HTTP {remote}")
    } else {
        failure.error.message.clone()
    };
    let mut api = ApiError::new(status, "remote_error", message)
        .with("is_remote_error", Value::Bool(true))
        .with("truto_is_remote_error", Value::Bool(true))
        .with("remote_status", Value::from(remote))
        .with("remote_step", Value::from(failure.error.step.clone()))
        .with("raw_response", failure.error.body.clone())
        .with("truto_error_insight", Value::Object(insight));
    if let Some(code) = &failure.error.code {
        api = api.with("remote_code", Value::from(code.clone()));
    }
    if let Some(retry_after) = &failure.error.retry_after {
        api = api
            .with("retry_after", Value::from(retry_after.clone()))
            .header(header::RETRY_AFTER, retry_after);
    }
    for (name, value) in &failure.headers {
        let name = name.to_ascii_lowercase();
        if (name.starts_with("x-ratelimit-") || name.starts_with("ratelimit"))
            && let Ok(name) = HeaderName::try_from(name)
        {
            api = api.header(name, value);
        }
    }
    api
}

/// The provider could not be reached: a timeout or an unreachable upstream, and whether the
/// request may have reached it.
fn transport_envelope(transport: &TransportError) -> (ApiError, bool) {
    let (status, code) = match transport.kind {
        TransportKind::Timeout => (StatusCode::GATEWAY_TIMEOUT, "upstream_timeout"),
        _ => (StatusCode::BAD_GATEWAY, "upstream_unreachable"),
    };
    let api = ApiError::new(status, code, transport.to_string())
        .with("transport_error", Value::from(transport.kind.as_str()))
        .with("remote_step", Value::from(transport.step.clone()))
        .with(
            "may_have_reached_provider",
            Value::Bool(transport.may_have_reached_provider),
        );
    (
        api,
        transport.may_have_reached_provider || !transport.exchanges.is_empty(),
    )
}

/// A file to upload could not be fetched or was refused.
fn file_envelope(file: &FileError) -> (ApiError, bool) {
    let status = match &file.kind {
        FileErrorKind::Fetch { status: None, .. } => StatusCode::BAD_GATEWAY,
        FileErrorKind::Fetch {
            status: Some(s), ..
        } if *s >= 500 => StatusCode::BAD_GATEWAY,
        _ => StatusCode::BAD_REQUEST,
    };
    let api = ApiError::new(status, "file_error", file.to_string())
        .with("remote_step", Value::from(file.step.clone()))
        .with("file_url", Value::from(file.url.clone()));
    (api, !file.exchanges.is_empty())
}

/// The status a provider error is answered with: the provider's own for 4xx and 502–504,
/// 502 for any other 5xx or unexpected status (so our own 500 always means our own bug).
fn remote_status(status: u16) -> StatusCode {
    match status {
        400..=499 | 502..=504 => StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
        _ => StatusCode::BAD_GATEWAY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;

    #[test]
    fn provider_statuses_are_kept_or_become_502() {
        assert_eq!(remote_status(422), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(remote_status(429), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(remote_status(503), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(remote_status(500), StatusCode::BAD_GATEWAY);
        assert_eq!(remote_status(200), StatusCode::BAD_GATEWAY);
    }

    #[test]
    fn a_mapped_status_wins_over_the_providers() {
        let failure = |unified_status| {
            ExecError::Provider(Box::new(switchboard_executor::ProviderErrorResponse {
                error: switchboard_core::ProviderError {
                    step: "create".into(),
                    status: 200,
                    message: "Request payload is malformed".into(),
                    code: Some("invalid_input".into()),
                    body: json!({"success": false}),
                    retry_after: None,
                    unified_status,
                },
                headers: Vec::new(),
                exchanges: Vec::new(),
            }))
        };
        let status = |error: &ExecError| for_error(error).0.into_response().status();
        assert_eq!(
            status(&failure(Some(422))),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(status(&failure(None)), StatusCode::BAD_GATEWAY);
    }
}
