//! One JSON envelope for every error: `{statusCode, error, code, message, ...}`, plus headers
//! (`Retry-After`, forwarded rate-limit headers). Errors are responses; internal details are
//! logged, never sent.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use switchboard_core::{
    InputLocation, InputProblem, ProblemKind, Warning, backticked, summarize_problems,
};

/// An error response. Boxed inside, so `Result<_, ApiError>` stays small.
#[derive(Debug, Clone)]
pub struct ApiError(Box<Inner>);

#[derive(Debug, Clone)]
struct Inner {
    status: StatusCode,
    code: &'static str,
    message: String,
    fields: Map<String, Value>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    /// An error with `status`, a machine-readable `code` and a human message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError(Box::new(Inner {
            status,
            code,
            message: message.into(),
            fields: Map::new(),
            headers: Vec::new(),
        }))
    }

    /// Adds a top-level field to the body (`details`, `raw_response`, …).
    pub fn with(mut self, key: &str, value: Value) -> ApiError {
        self.0.fields.insert(key.to_owned(), value);
        self
    }

    /// Adds a response header; values that cannot be a header are dropped.
    pub fn header(mut self, name: HeaderName, value: &str) -> ApiError {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.0.headers.push((name, value));
        }
        self
    }

    /// The same error answered as `status` with `code` and `message`: the first status, code and
    /// message move under `failure`, every other field stays, and `Retry-After` (header and
    /// `retry_after` field) is dropped: the new status does not invite a retry.
    pub(crate) fn reclassify(
        self,
        status: StatusCode,
        code: &'static str,
        message: String,
    ) -> ApiError {
        let Inner {
            status: first_status,
            code: first_code,
            message: first_message,
            mut fields,
            headers,
        } = *self.0;
        fields.remove("retry_after");
        fields.insert(
            "failure".into(),
            json!({"status": first_status.as_u16(), "code": first_code, "message": first_message}),
        );
        let headers = headers
            .into_iter()
            .filter(|(name, _)| name != header::RETRY_AFTER)
            .collect();
        ApiError(Box::new(Inner {
            status,
            code,
            message,
            fields,
            headers,
        }))
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The machine-readable code (`invalid_input`, `remote_error`, …).
    pub fn code(&self) -> &'static str {
        self.0.code
    }

    /// The human message.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The body as JSON.
    pub fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("statusCode".into(), Value::from(self.0.status.as_u16()));
        body.insert(
            "error".into(),
            Value::from(self.0.status.canonical_reason().unwrap_or("Error")),
        );
        body.insert("code".into(), Value::from(self.0.code));
        body.insert("message".into(), Value::from(self.0.message.clone()));
        for (key, value) in &self.0.fields {
            body.insert(key.clone(), value.clone());
        }
        Value::Object(body)
    }

    /// 400: a malformed request (bad JSON, bad query string, bad header).
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 400: required query parameters are missing.
    pub fn missing_query(names: &[&str]) -> ApiError {
        let list = backticked(names);
        let names: Vec<Value> = names.iter().map(|n| Value::from(*n)).collect();
        ApiError::bad_request(
            "invalid_input",
            format!("missing required query parameter {list}"),
        )
        .with("details", input_details(names.clone(), Vec::new()))
        .with(
            "truto_error_insight",
            json!({"missing_required_query_parameters": {
                "description": "Required query parameters that were not sent",
                "value": names,
            }}),
        )
    }

    /// 400: the unified input is invalid; every problem is listed.
    pub fn invalid_input(problems: &[InputProblem], warnings: &[Warning]) -> ApiError {
        let names = |location: InputLocation| -> Vec<Value> {
            problems
                .iter()
                .filter(|p| p.kind == ProblemKind::Missing && p.location == location)
                .map(|p| Value::from(pointer_name(&p.pointer)))
                .collect()
        };
        let (query, body, context) = (
            names(InputLocation::Query),
            names(InputLocation::Body),
            names(InputLocation::Context),
        );
        let invalid: Vec<Value> = problems
            .iter()
            .filter(|p| p.kind != ProblemKind::Missing)
            .map(|p| json!({"location": p.location, "pointer": p.pointer, "kind": p.kind, "message": p.message}))
            .collect();
        let failures: Vec<Value> = problems
            .iter()
            .map(|p| json!({"location": p.location, "pointer": p.pointer, "kind": p.kind, "message": p.message}))
            .collect();
        let mut insight = Map::new();
        if !query.is_empty() {
            insight.insert(
                "missing_required_query_parameters".into(),
                json!({"description": "Required query parameters that were not sent", "value": query}),
            );
        }
        if !body.is_empty() {
            insight.insert(
                "missing_required_body_fields".into(),
                json!({"description": "Required body fields that were not sent", "value": body}),
            );
        }
        if !context.is_empty() {
            insight.insert(
                "missing_required_context_fields".into(),
                json!({"description": "Values the integrated account's context (or remote_query) must hold", "value": context}),
            );
        }
        let mut details = input_details(query, invalid);
        details["missing_required_body_fields"] = Value::Array(body);
        details["failures"] = Value::Array(failures);
        if !context.is_empty() {
            details["missing_required_context_fields"] = Value::Array(context);
        }
        if !warnings.is_empty() {
            details["warnings"] = json!(warnings);
        }
        ApiError::bad_request(
            "invalid_input",
            format!("invalid input: {}", summarize_problems(problems)),
        )
        .with("details", details)
        .with("truto_error_insight", Value::Object(insight))
    }

    /// 401: no bearer token, or an unknown one.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
            .header(header::WWW_AUTHENTICATE, "Bearer")
    }

    /// 404: nothing with that id, or no such route.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 413: the body is over the limit.
    pub fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than the limit of {limit} bytes"),
        )
        .with("limit_bytes", Value::from(limit))
    }

    /// 500: something broke inside; the detail is logged, not sent.
    pub fn internal(detail: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "internal error; see the server log",
        )
    }

    /// 503: the store is unreachable.
    pub fn unavailable(detail: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "store unavailable");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "the store is unavailable; retry later",
        )
        .header(header::RETRY_AFTER, "1")
    }
}

/// The `details` every 400 about the unified input carries: the query parameters that are
/// missing, the body fields that are missing (none unless the caller adds them), and what is
/// invalid.
pub(crate) fn input_details(missing_query: Vec<Value>, invalid: Vec<Value>) -> Value {
    json!({
        "missing_required_query_parameters": missing_query,
        "missing_required_body_fields": [],
        "invalid": invalid,
    })
}

/// `/a~1b` → `a/b`: the field name a one-segment JSON pointer names.
fn pointer_name(pointer: &str) -> String {
    pointer
        .trim_start_matches('/')
        .replace("~1", "/")
        .replace("~0", "~")
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body().to_string();
        let mut response = (
            self.0.status,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
        for (name, value) in self.0.headers {
            response.headers_mut().append(name, value);
        }
        response
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(error: crate::store::StoreError) -> ApiError {
        ApiError::unavailable(&error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_problems_are_all_listed() {
        let problems = vec![
            InputProblem::new(
                InputLocation::Query,
                "/job_id",
                ProblemKind::Missing,
                "`job_id` is required by Acme ATS",
            ),
            InputProblem::new(
                InputLocation::Body,
                "/emails/0/email",
                ProblemKind::Invalid,
                "1 is not of type \"string\"",
            ),
        ];
        let body = ApiError::invalid_input(&problems, &[]).body();
        assert_eq!(body["statusCode"], 400);
        assert_eq!(body["error"], "Bad Request");
        assert_eq!(
            body["details"]["missing_required_query_parameters"],
            json!(["job_id"])
        );
        assert_eq!(body["details"]["invalid"][0]["pointer"], "/emails/0/email");
        assert_eq!(
            body["truto_error_insight"]["missing_required_query_parameters"]["value"],
            json!(["job_id"])
        );
    }
}
