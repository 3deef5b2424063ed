//! An integration's settings as plans hold them: rate limits, retry policy, timeouts and size
//! limits, and a field's support. These are the run-time forms, not the file format: they grow
//! without breaking callers (`#[non_exhaustive]`), and their defaults live here.

use serde::Serialize;

use crate::model;

/// A token bucket: sustained calls per second and the largest burst.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: f64,
    /// Bucket size (the largest burst).
    pub burst: u32,
}

impl RateLimit {
    /// A bucket of `burst` calls refilled at `per_second`.
    pub fn new(per_second: f64, burst: u32) -> RateLimit {
        RateLimit { per_second, burst }
    }
}

/// When and how a driver retries a call. See the crate's driver contract: retries happen
/// before [`Run::resume`](crate::Run::resume), which sees only the final answer.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The first backoff, doubled each retry.
    pub initial_backoff_ms: u64,
    /// The largest backoff.
    pub max_backoff_ms: u64,
    /// The longest `Retry-After` honoured; longer waits fail instead.
    pub max_retry_after_secs: u64,
    /// Statuses retried for idempotent methods (GET, PUT, DELETE).
    pub idempotent_statuses: Vec<u16>,
    /// Statuses retried for POST and PATCH: a 429 as listed; any other only when the answer
    /// carries `Retry-After` (a bare 503 may come from a load balancer after the provider
    /// processed the request, and sending it again would create a duplicate).
    pub non_idempotent_statuses: Vec<u16>,
    /// A header holding when the rate-limit window resets (epoch second, epoch millisecond, or
    /// seconds left), read when a 429 has no `Retry-After`.
    pub reset_header: Option<String>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff_ms: 250,
            max_backoff_ms: 8_000,
            max_retry_after_secs: 60,
            idempotent_statuses: vec![429, 502, 503, 504],
            non_idempotent_statuses: vec![429, 503],
            reset_header: None,
        }
    }
}

/// Timeouts of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// Whole-request timeout, in seconds.
    pub request_secs: u64,
    /// Connect timeout, in seconds.
    pub connect_secs: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            request_secs: 30,
            connect_secs: 10,
        }
    }
}

/// Limits on files fetched for uploads.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileLimits {
    /// The largest file fetched for an upload, in bytes.
    pub max_bytes: u64,
}

impl Default for FileLimits {
    fn default() -> Self {
        FileLimits {
            max_bytes: 10 * 1024 * 1024,
        }
    }
}

/// Limits on provider answers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseLimits {
    /// The largest provider answer read, in bytes; a larger one fails the call unread.
    pub max_bytes: u64,
}

impl Default for ResponseLimits {
    fn default() -> Self {
        ResponseLimits {
            max_bytes: 8 * 1024 * 1024,
        }
    }
}

/// Whether an integration can carry a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Support {
    /// Carried when given (it may still be required under a condition: see
    /// [`MethodPlan::requirements_on`](crate::MethodPlan::requirements_on)).
    Supported,
    /// Carried, and must be given.
    Required,
    /// Not carried; a caller who sends it gets a warning.
    Unsupported,
}

impl Support {
    /// `supported`, `required` or `unsupported`, as the mapping files and the meta documents
    /// spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Support::Supported => "supported",
            Support::Required => "required",
            Support::Unsupported => "unsupported",
        }
    }
}

impl From<model::RateLimitSpec> for RateLimit {
    fn from(spec: model::RateLimitSpec) -> RateLimit {
        RateLimit::new(spec.per_second, spec.burst)
    }
}

// The file's types are filled by serde over defaults taken from the types above (see their
// `Default` impls in `model`), so every default has one home and converting is a copy.

impl From<model::RetrySpec> for RetryPolicy {
    fn from(spec: model::RetrySpec) -> RetryPolicy {
        RetryPolicy {
            max_attempts: spec.max_attempts,
            initial_backoff_ms: spec.initial_backoff_ms,
            max_backoff_ms: spec.max_backoff_ms,
            max_retry_after_secs: spec.max_retry_after_secs,
            idempotent_statuses: spec.idempotent_statuses,
            non_idempotent_statuses: spec.non_idempotent_statuses,
            reset_header: spec.reset_header,
        }
    }
}

impl From<model::TimeoutSpec> for Timeouts {
    fn from(spec: model::TimeoutSpec) -> Timeouts {
        Timeouts {
            request_secs: spec.request_secs,
            connect_secs: spec.connect_secs,
        }
    }
}

impl From<model::FilesSpec> for FileLimits {
    fn from(spec: model::FilesSpec) -> FileLimits {
        FileLimits {
            max_bytes: spec.max_bytes,
        }
    }
}

impl From<model::ResponsesSpec> for ResponseLimits {
    fn from(spec: model::ResponsesSpec) -> ResponseLimits {
        ResponseLimits {
            max_bytes: spec.max_bytes,
        }
    }
}

impl From<model::Support> for Support {
    fn from(spec: model::Support) -> Support {
        match spec {
            model::Support::Supported => Support::Supported,
            model::Support::Required => Support::Required,
            model::Support::Unsupported => Support::Unsupported,
        }
    }
}
