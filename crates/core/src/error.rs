//! What can go wrong while a plan runs, in terms a caller can act on.

use serde::Serialize;
use serde_json::Value;

/// Where in the unified input a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InputLocation {
    /// A query parameter.
    Query,
    /// The request body.
    Body,
    /// The integrated account's context.
    Context,
    /// The record id in the URL path (`GET /unified/{model}/{resource}/{id}`).
    Path,
}

/// What kind of input problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProblemKind {
    /// A required value is absent.
    Missing,
    /// A value has the wrong type or shape.
    Invalid,
    /// A field is not part of the unified schema or not supported by the integration (strict mode).
    Unsupported,
}

/// One problem with the unified input.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct InputProblem {
    /// Query, body or context.
    pub location: InputLocation,
    /// A JSON pointer into that location (`/emails/0/email`).
    pub pointer: String,
    /// What kind of problem.
    pub kind: ProblemKind,
    /// Why, in one sentence.
    pub message: String,
}

/// A field the caller sent that the integration cannot carry, or a value it dropped.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Warning {
    /// Query or body.
    pub location: InputLocation,
    /// A JSON pointer into that location.
    pub pointer: String,
    /// Why, in one sentence.
    pub message: String,
}

/// The provider answered with an error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderError {
    /// The step whose call failed.
    pub step: String,
    /// The provider's HTTP status.
    pub status: u16,
    /// The message read from the provider's body by the integration's error mapping.
    pub message: String,
    /// The provider's error code, when it has one.
    pub code: Option<String>,
    /// The provider's body as received.
    pub body: Value,
    /// The provider's `Retry-After` header, when present.
    pub retry_after: Option<String>,
    /// The status the unified API should answer with, when the integration's error mapping
    /// says (400–599); otherwise the provider's status decides.
    pub unified_status: Option<u16>,
    /// Structured details read by the integration's error mapping (`errors.details`): for
    /// example each JSON:API error's pointer and detail. Absent when the mapping reads none or
    /// the provider's body has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

/// Why a run stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RunError {
    /// The unified input is invalid; nothing was sent.
    #[error("invalid input: {}", summarize_problems(problems))]
    Input {
        /// Every problem found.
        problems: Vec<InputProblem>,
        /// Warnings found alongside.
        warnings: Vec<Warning>,
    },
    /// The provider answered with an error.
    #[error("provider error in step `{}`: {} {}", .0.step, .0.status, .0.message)]
    Provider(Box<ProviderError>),
    /// The provider answered, but not with what the mapping needs to continue (for example a
    /// lookup that found nothing).
    #[error("upstream error in step `{step}`: {message}")]
    Upstream {
        /// The step that found the problem.
        step: String,
        /// What was expected.
        message: String,
        /// The provider's body that was read.
        body: Value,
    },
    /// An expression failed while rendering a request or mapping a response.
    #[error("mapping error at `{field}`: {message}")]
    Mapping {
        /// The mapping field whose expression failed (`steps.apply.request.body`).
        field: String,
        /// Why.
        message: String,
    },
    /// The driver called the run out of order: a response with no request pending, or one
    /// after the run ended (an error ends a run).
    #[error("run misuse: {0}")]
    Misuse(String),
}

impl InputProblem {
    /// A problem at `pointer` in `location`.
    pub fn new(
        location: InputLocation,
        pointer: impl Into<String>,
        kind: ProblemKind,
        message: impl Into<String>,
    ) -> InputProblem {
        InputProblem {
            location,
            pointer: pointer.into(),
            kind,
            message: message.into(),
        }
    }
}

impl Warning {
    /// A warning about the value at `pointer` in `location`.
    pub fn new(
        location: InputLocation,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Warning {
        Warning {
            location,
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

impl InputLocation {
    /// `query`, `body`, `context` or `path`.
    pub fn as_str(self) -> &'static str {
        match self {
            InputLocation::Query => "query",
            InputLocation::Body => "body",
            InputLocation::Context => "context",
            InputLocation::Path => "path",
        }
    }
}

/// The problems in one line, for logs and error messages:
/// ``query `/job_id`: `job_id` is required; body `/emails`: …``.
pub fn summarize_problems(problems: &[InputProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("{} `{}`: {}", p.location.as_str(), p.pointer, p.message))
        .collect::<Vec<_>>()
        .join("; ")
}
