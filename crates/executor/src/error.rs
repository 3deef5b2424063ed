//! Why a run stopped, in terms a caller can act on. Messages are lower-case and never hold
//! credentials, request headers or request bodies.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use switchboard_core::{AccountError, HttpMethod, ProviderError, RunError};

use crate::exchange::Exchange;

/// Why [`Executor::run`](crate::Executor::run) or [`Executor::send`](crate::Executor::send)
/// failed: what went wrong ([`ExecError::kind`]) and every provider exchange made before the run
/// stopped ([`ExecError::exchanges`]), whatever the kind.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct ExecError {
    kind: ExecErrorKind,
    exchanges: Vec<Exchange>,
}

/// What went wrong in a run the executor drove.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecErrorKind {
    /// The run itself failed, as core reports it: invalid input (nothing sent), a provider
    /// error (after any retries the policy allowed), an answer the mapping cannot use, a mapping
    /// error (a rendered request that cannot be sent included).
    #[error(transparent)]
    Run(RunError),
    /// The provider could not be reached, or the connection failed.
    #[error(transparent)]
    Transport(TransportError),
    /// A file to upload could not be fetched, or was refused.
    #[error(transparent)]
    File(FileError),
    /// The account cannot be addressed or authenticated: no credential for any of the
    /// integration's auth schemes, an unknown environment, an unusable base URL or credential.
    /// Nothing was sent.
    #[error("account `{account}`: {error}")]
    Account {
        /// The account's id.
        account: String,
        /// What is wrong.
        error: AccountError,
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
    },
    /// The executor refuses every provider call
    /// ([`crate::ExecutorOptions::refuse_provider_calls`]); nothing was sent.
    #[error("step `{step}` was not sent: this server refuses every provider call")]
    ProviderCallsRefused {
        /// The step whose call was refused (`authorization_code` for a connect exchange).
        step: String,
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
    },
    /// The account's OAuth access token could not be had (its grant was refused, the token
    /// endpoint failed); the call it was for was not sent.
    #[error("{0}")]
    OAuth(Box<crate::oauth::OAuthError>),
    /// A bug or an environment failure (the HTTP client could not be built, the mapping work
    /// stopped).
    #[error("internal error: {message}")]
    Internal {
        /// What happened.
        message: String,
    },
}

impl From<ExecErrorKind> for ExecError {
    fn from(kind: ExecErrorKind) -> ExecError {
        ExecError {
            kind,
            exchanges: Vec::new(),
        }
    }
}

impl ExecError {
    /// What went wrong.
    pub fn kind(&self) -> &ExecErrorKind {
        &self.kind
    }

    /// The provider exchanges made before the run stopped, in order; when the provider
    /// answered the failed call (a provider error, an answer the mapping could not use), that
    /// exchange is last.
    pub fn exchanges(&self) -> &[Exchange] {
        &self.exchanges
    }

    /// The kind and the exchanges, owned.
    pub fn into_parts(self) -> (ExecErrorKind, Vec<Exchange>) {
        (self.kind, self.exchanges)
    }

    /// Whether the provider answered with an error (see [`ExecError::provider_error`]).
    pub fn is_remote_error(&self) -> bool {
        self.provider_error().is_some()
    }

    /// The provider's error, when it answered with one.
    pub fn provider_error(&self) -> Option<&ProviderError> {
        match &self.kind {
            ExecErrorKind::Run(RunError::Provider(error)) => Some(error),
            _ => None,
        }
    }

    /// The headers of the provider's error answer (names in lower case), when it answered with
    /// one: the last exchange's.
    pub fn provider_headers(&self) -> &[(String, String)] {
        match (self.provider_error(), self.exchanges.last()) {
            (Some(_), Some(exchange)) => &exchange.headers,
            _ => &[],
        }
    }

    /// Whether the account's OAuth grant was refused (`invalid_grant`): it must be authorised
    /// again, and the token store was told so.
    pub fn needs_reauth(&self) -> bool {
        matches!(&self.kind, ExecErrorKind::OAuth(error) if error.kind == crate::oauth::OAuthErrorKind::NeedsReauth)
    }

    /// The provider's `Retry-After`, when it answered with an error that carried one.
    pub fn retry_after(&self) -> Option<&str> {
        self.provider_error()?.retry_after.as_deref()
    }

    /// Puts the exchanges made before this error in front of those it carries.
    pub(crate) fn after(mut self, mut made: Vec<Exchange>) -> ExecError {
        made.append(&mut self.exchanges);
        self.exchanges = made;
        self
    }

    /// Core's run error, with the exchanges made.
    pub(crate) fn from_run(error: RunError, exchanges: Vec<Exchange>) -> ExecError {
        ExecError {
            kind: ExecErrorKind::Run(error),
            exchanges,
        }
    }

    /// An internal error.
    pub(crate) fn internal(message: impl Into<String>) -> ExecError {
        ExecErrorKind::Internal {
            message: message.into(),
        }
        .into()
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

impl std::error::Error for TransportError {}

impl std::error::Error for FileError {}

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
