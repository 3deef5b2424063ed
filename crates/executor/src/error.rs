//! Why a run stopped, in terms a caller can act on. Messages are lower-case and never hold
//! credentials, request headers or request bodies.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use serde_json::Value;
use switchboard_core::{HttpMethod, InputProblem, ProviderError, RunError, Warning};

use crate::exchange::Exchange;

/// Why [`Executor::run`](crate::Executor::run) or [`Executor::send`](crate::Executor::send)
/// failed. Variants that can happen after provider calls carry the exchanges made so far.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The unified input is invalid; nothing was sent.
    #[error("invalid input: {}", switchboard_core::summarize_problems(problems))]
    Input {
        /// Every problem found.
        problems: Vec<InputProblem>,
        /// Warnings found alongside.
        warnings: Vec<Warning>,
    },
    /// The provider answered with an error (after any retries the policy allowed).
    #[error("{0}")]
    Provider(Box<ProviderErrorResponse>),
    /// The provider answered, but not with what the mapping needs to continue.
    #[error("upstream error in step `{step}`: {message}")]
    Upstream {
        /// The step that found the problem.
        step: String,
        /// What was expected.
        message: String,
        /// The provider's body that was read.
        body: Value,
        /// The exchanges made so far.
        exchanges: Vec<Exchange>,
    },
    /// An expression failed while rendering a request or mapping a response, or a rendered
    /// request cannot be sent (an invalid header).
    #[error("mapping error at `{field}`: {message}")]
    Mapping {
        /// The mapping field at fault (`steps.apply.request.headers.x-id`).
        field: String,
        /// Why.
        message: String,
        /// The exchanges made so far.
        exchanges: Vec<Exchange>,
    },
    /// The provider could not be reached, or the connection failed.
    #[error("{0}")]
    Transport(Box<TransportError>),
    /// A file to upload could not be fetched, or was refused.
    #[error("{0}")]
    File(Box<FileError>),
    /// The account holds no credential for any of the integration's auth schemes; nothing was
    /// sent.
    #[error(
        "account `{account}` has no credentials for `{integration}`: set one of {}",
        switchboard_core::backticked(expected)
    )]
    NoCredentials {
        /// The integration's name.
        integration: String,
        /// The account's id.
        account: String,
        /// The context keys any of which would do (`api_key`, `access_token`).
        expected: Vec<String>,
    },
    /// The account is misconfigured: unknown environment, unusable base URL, a credential that
    /// cannot go in a header. Nothing was sent.
    #[error("account `{account}`: {message}")]
    Account {
        /// The account's id.
        account: String,
        /// What is wrong.
        message: String,
    },
    /// The account's rate limit would have held a call past its deadline; the call was not sent.
    #[error(
        "rate limit `{bucket}` of account `{account}` would hold step `{step}` longer than {} ms",
        deadline.as_millis()
    )]
    RateLimited {
        /// The step whose call was held.
        step: String,
        /// The account's id.
        account: String,
        /// The bucket that was empty.
        bucket: String,
        /// How long the call could have waited.
        deadline: Duration,
        /// The exchanges made so far.
        exchanges: Vec<Exchange>,
    },
    /// A provider URL's host is, or resolves to, a loopback, private, link-local, metadata or
    /// otherwise non-public address, which provider calls may not use unless the operator allows
    /// them; the call was not sent.
    #[error(
        "step `{step}` would call `{url}`, whose address `{address}` is not public: provider calls \
         may not use loopback, private, link-local or other non-public addresses unless the \
         operator allows them"
    )]
    ForbiddenAddress {
        /// The step whose call was refused.
        step: String,
        /// The URL without credentials, query or fragment.
        url: String,
        /// The refused address.
        address: IpAddr,
        /// The exchanges made so far.
        exchanges: Vec<Exchange>,
    },
    /// The run's deadline (over every step, retry and wait) passed before it finished.
    #[error(
        "the run did not finish within its deadline of {} ms: it stopped in step `{step}`; {}",
        deadline.as_millis(),
        if *may_have_reached_provider {
            "that step's request may have reached the provider"
        } else {
            "that step's request was not sent"
        }
    )]
    DeadlineExceeded {
        /// The step that was running or about to run.
        step: String,
        /// The run's deadline.
        deadline: Duration,
        /// Whether the step's request may have reached the provider.
        may_have_reached_provider: bool,
        /// The exchanges made so far (every one of them answered).
        exchanges: Vec<Exchange>,
    },
    /// The account's OAuth access token could not be had (its grant was refused, the token
    /// endpoint failed); the call it was for was not sent.
    #[error("{0}")]
    OAuth(Box<crate::oauth::OAuthError>),
    /// A bug or an environment failure (the HTTP client could not be built, the run was driven
    /// out of order).
    #[error("internal error: {message}")]
    Internal {
        /// What happened.
        message: String,
    },
}

/// A provider error: what the integration's error mapping read, plus the response headers.
#[derive(Debug, Clone)]
pub struct ProviderErrorResponse {
    /// Status, message, code, body and `Retry-After`, as core read them.
    pub error: ProviderError,
    /// The response headers, names in lower case (for forwarding rate-limit headers).
    pub headers: Vec<(String, String)>,
    /// The exchanges made, the failed one last.
    pub exchanges: Vec<Exchange>,
}

impl fmt::Display for ProviderErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "provider error in step `{}`: {} {}",
            self.error.step, self.error.status, self.error.message
        )
    }
}

/// How a provider call failed below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// The connection could not be made (refused, unreachable, DNS); nothing was sent.
    Connect,
    /// The TLS handshake failed; nothing was sent.
    Tls,
    /// No complete answer within the request timeout.
    Timeout,
    /// The connection closed or reset before a complete answer.
    Closed,
    /// The answer was larger than the executor accepts.
    ResponseTooLarge,
    /// Anything else below HTTP.
    Other,
}

impl TransportKind {
    /// A short lower-case name, for logs (`timeout`, `connect`).
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Connect => "connect",
            TransportKind::Tls => "tls",
            TransportKind::Timeout => "timeout",
            TransportKind::Closed => "closed",
            TransportKind::ResponseTooLarge => "response_too_large",
            TransportKind::Other => "other",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            TransportKind::Connect => "could not connect",
            TransportKind::Tls => "tls handshake failed",
            TransportKind::Timeout => "request timed out",
            TransportKind::Closed => "connection closed before a complete answer",
            TransportKind::ResponseTooLarge => "response too large",
            TransportKind::Other => "transport error",
        }
    }
}

/// A provider call that failed below HTTP.
#[derive(Debug, Clone)]
pub struct TransportError {
    /// The step whose call failed.
    pub step: String,
    /// The HTTP method.
    pub method: HttpMethod,
    /// The URL without credentials, query or fragment.
    pub url: String,
    /// What failed.
    pub kind: TransportKind,
    /// Whether the provider may have received (and acted on) the request. `false` only when the
    /// failure happened before anything was sent.
    pub may_have_reached_provider: bool,
    /// Attempts made, the failed one included.
    pub attempts: u32,
    /// The underlying cause, without URL.
    pub message: String,
    /// The exchanges made before this call.
    pub exchanges: Vec<Exchange>,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} in step `{}` ({} {}) after {} attempt{}: {}; ",
            self.kind.describe(),
            self.step,
            self.method.as_str(),
            self.url,
            self.attempts,
            if self.attempts == 1 { "" } else { "s" },
            self.message,
        )?;
        f.write_str(if self.may_have_reached_provider {
            "the request may have reached the provider"
        } else {
            "the request did not reach the provider"
        })
    }
}

/// Why a file to upload was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileErrorKind {
    /// The file is larger than the integration's `files.max_bytes`.
    TooLarge {
        /// The limit, in bytes.
        max_bytes: u64,
    },
    /// The URL's host is (or resolves to) a loopback, private, link-local or otherwise
    /// non-public address.
    ForbiddenAddress {
        /// The refused address.
        address: IpAddr,
    },
    /// The URL's scheme is not http or https.
    UnsupportedScheme {
        /// The scheme.
        scheme: String,
    },
    /// The URL cannot be parsed.
    InvalidUrl,
    /// The run has more files to upload than the executor fetches for one run.
    TooMany {
        /// The limit, in files per run.
        max_files: usize,
    },
    /// The file server failed or answered with an error.
    Fetch {
        /// The file server's status, when it answered.
        status: Option<u16>,
        /// Why.
        message: String,
    },
}

impl fmt::Display for FileErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileErrorKind::TooLarge { max_bytes } => {
                write!(f, "is larger than the limit of {max_bytes} bytes")
            }
            FileErrorKind::ForbiddenAddress { address } => write!(
                f,
                "points to the non-public address `{address}`, which file urls may not use"
            ),
            FileErrorKind::UnsupportedScheme { scheme } => {
                write!(f, "has scheme `{scheme}`; only http and https are fetched")
            }
            FileErrorKind::InvalidUrl => f.write_str("is not a valid url"),
            FileErrorKind::TooMany { max_files } => write!(
                f,
                "is one file too many: a run uploads at most {max_files} files"
            ),
            FileErrorKind::Fetch {
                status: Some(status),
                message,
            } => write!(f, "could not be fetched: http {status}: {message}"),
            FileErrorKind::Fetch {
                status: None,
                message,
            } => write!(f, "could not be fetched: {message}"),
        }
    }
}

/// A file to upload that was not sent.
#[derive(Debug, Clone)]
pub struct FileError {
    /// The step whose request carries the file.
    pub step: String,
    /// The file's URL without credentials, query or fragment.
    pub url: String,
    /// Why.
    pub kind: FileErrorKind,
    /// The exchanges made before this call.
    pub exchanges: Vec<Exchange>,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "file `{}` for step `{}` {}",
            self.url, self.step, self.kind
        )
    }
}

impl ExecError {
    /// Whether the provider answered with an error (its status, message and body are in
    /// [`ExecError::Provider`]).
    pub fn is_remote_error(&self) -> bool {
        matches!(self, ExecError::Provider(_))
    }

    /// The provider's error, when it answered with one.
    pub fn provider_error(&self) -> Option<&ProviderError> {
        match self {
            ExecError::Provider(failure) => Some(&failure.error),
            _ => None,
        }
    }

    /// Whether the account's OAuth grant was refused (`invalid_grant`): it must be authorised
    /// again, and the token store was told so.
    pub fn needs_reauth(&self) -> bool {
        matches!(self, ExecError::OAuth(error) if error.kind == crate::oauth::OAuthErrorKind::NeedsReauth)
    }

    /// The provider's `Retry-After`, when it answered with an error that carried one.
    pub fn retry_after(&self) -> Option<&str> {
        self.provider_error()?.retry_after.as_deref()
    }

    /// The provider exchanges made before the run stopped, the failed one last when it got an
    /// answer.
    pub fn exchanges(&self) -> &[Exchange] {
        match self {
            ExecError::Provider(failure) => &failure.exchanges,
            ExecError::Transport(error) => &error.exchanges,
            ExecError::File(error) => &error.exchanges,
            ExecError::OAuth(error) => &error.exchanges,
            ExecError::Upstream { exchanges, .. }
            | ExecError::Mapping { exchanges, .. }
            | ExecError::RateLimited { exchanges, .. }
            | ExecError::ForbiddenAddress { exchanges, .. }
            | ExecError::DeadlineExceeded { exchanges, .. } => exchanges,
            ExecError::Input { .. }
            | ExecError::NoCredentials { .. }
            | ExecError::Account { .. }
            | ExecError::Internal { .. } => &[],
        }
    }

    /// Attaches the exchanges made before this error to variants that carry them.
    pub(crate) fn with_exchanges(mut self, made: Vec<Exchange>) -> ExecError {
        let slot = match &mut self {
            ExecError::Provider(failure) => &mut failure.exchanges,
            ExecError::Transport(error) => &mut error.exchanges,
            ExecError::File(error) => &mut error.exchanges,
            ExecError::OAuth(error) => &mut error.exchanges,
            ExecError::Upstream { exchanges, .. }
            | ExecError::Mapping { exchanges, .. }
            | ExecError::RateLimited { exchanges, .. }
            | ExecError::ForbiddenAddress { exchanges, .. }
            | ExecError::DeadlineExceeded { exchanges, .. } => exchanges,
            ExecError::Input { .. }
            | ExecError::NoCredentials { .. }
            | ExecError::Account { .. }
            | ExecError::Internal { .. } => return self,
        };
        let mut all = made;
        all.append(slot);
        *slot = all;
        self
    }

    /// Converts core's run error, attaching the exchanges made; a provider error takes the
    /// headers of the last exchange (the failed one).
    pub(crate) fn from_run(error: RunError, exchanges: Vec<Exchange>) -> ExecError {
        match error {
            RunError::Input { problems, warnings } => ExecError::Input { problems, warnings },
            RunError::Provider(error) => {
                let headers = exchanges
                    .last()
                    .map(|exchange| exchange.headers.clone())
                    .unwrap_or_default();
                ExecError::Provider(Box::new(ProviderErrorResponse {
                    error: *error,
                    headers,
                    exchanges,
                }))
            }
            RunError::Upstream {
                step,
                message,
                body,
            } => ExecError::Upstream {
                step,
                message,
                body,
                exchanges,
            },
            RunError::Mapping { field, message } => ExecError::Mapping {
                field,
                message,
                exchanges,
            },
            RunError::Misuse(message) => ExecError::Internal { message },
        }
    }
}

/// A reqwest error's message and causes, without its URL: `error sending request: client error
/// (Connect): tcp connect error: Connection refused (os error 111)`.
pub(crate) fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut parts = vec![error.to_string()];
    let mut current = std::error::Error::source(&error);
    while let Some(cause) = current {
        let text = cause.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        current = cause.source();
    }
    parts.join(": ")
}
