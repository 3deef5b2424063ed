//! What an embedder learns about provider calls as they happen: each call's end (its status or
//! why it failed, and how long it took, retries and waits included), each retry, and each wait
//! for a rate limit. The server turns these into metrics; the executor knows nothing of how
//! they are kept.
//!
//! Events carry the integration's and the step's names (mapping data) and never an account id
//! or anything from a request or an answer, so an observer may use them as metric labels.

use std::time::Duration;

use crate::error::{ExecError, ExecErrorKind};

/// How a provider call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallStatus {
    /// The provider answered with this HTTP status (after any retries).
    Answered(u16),
    /// No answer: a short lower-case name of why (`timeout`, `connect`, `rate_limited`,
    /// `deadline_exceeded`, …).
    Failed(&'static str),
}

impl CallStatus {
    /// The short name of why a call that got no answer failed.
    pub(crate) fn of_error(error: &ExecError) -> CallStatus {
        CallStatus::Failed(match error.kind() {
            ExecErrorKind::Transport(transport) => transport.kind.as_str(),
            ExecErrorKind::RateLimited { .. } => "rate_limited",
            ExecErrorKind::DeadlineExceeded { .. } => "deadline_exceeded",
            ExecErrorKind::ForbiddenAddress { .. } => "forbidden_address",
            ExecErrorKind::ProviderCallsRefused { .. } => "refused",
            ExecErrorKind::File(_) => "file",
            ExecErrorKind::Account { .. } | ExecErrorKind::OAuth(_) => "auth",
            ExecErrorKind::Run(_) | ExecErrorKind::Internal { .. } => "other",
        })
    }
}

/// Why a call is sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryReason {
    /// The provider answered with this retryable status.
    Status(u16),
    /// The attempt failed below HTTP (`timeout`, `connect`, `closed`, …).
    Transport(&'static str),
}

/// One provider call, reported when it ends.
#[derive(Debug, Clone, Copy)]
pub struct CallEvent<'a> {
    /// The integration's name.
    pub integration: &'a str,
    /// The mapping step that made the call.
    pub step: &'a str,
    /// How the call ended.
    pub status: CallStatus,
    /// From the call's start to its end: every attempt, retry wait and rate-limit wait.
    pub duration: Duration,
}

/// Receives the executor's events; every method does nothing unless implemented. Called on
/// the request path: implementations must be cheap and must not block.
pub trait Observer: Send + Sync {
    /// A provider call ended, answered or not.
    fn provider_call(&self, _event: &CallEvent<'_>) {}

    /// A call of `integration`'s `step` is about to be sent again.
    fn retry(&self, _integration: &str, _step: &str, _reason: RetryReason) {}

    /// A call of `integration` waited `waited` for its account's rate limit.
    fn rate_limit_wait(&self, _integration: &str, _waited: Duration) {}

    /// A call of `integration` was not sent: its rate limit would have held it too long.
    fn rate_limit_refused(&self, _integration: &str) {}
}

/// The observer of an executor given none: ignores everything.
pub(crate) struct Unobserved;

impl Observer for Unobserved {}
