//! Switchboard's executor: drives a compiled plan's sans-IO runs over HTTP for an integrated
//! account. Everything provider-specific comes from the plan — base URLs, auth schemes, retry
//! policy, timeouts, rate limits, file limits — and from the account's context.
//!
//! - **the request as core prepares it**: the account's endpoint (base URL and credential
//!   header, from the integration's first auth scheme whose credential the account holds) is
//!   resolved once per run by `IntegrationPlan::endpoint`, and every request is sent exactly as
//!   `Endpoint::prepare` produces it — the same step an embedder with its own client uses. No
//!   credential, no call. OAuth 2.0 access tokens are fetched or refreshed before they expire
//!   and once on a provider 401, one renewal at a time per account even across instances
//!   sharing a [`TokenStore`]; the token goes into the context the endpoint is resolved from.
//! - **errors** are one [`ExecError`]: what went wrong ([`ExecErrorKind`], core's `RunError`
//!   carried as is) and every exchange made before the run stopped.
//! - **retries** that never duplicate a create: idempotent methods are retried on connection
//!   failures, timeouts and the policy's statuses; POST and PATCH only on a 429, on another of
//!   the policy's statuses (503) when the provider sent `Retry-After`, and on failures before
//!   anything was sent. `Retry-After` is honoured up to the policy's cap, and so is, on a 429
//!   without one, the rate-limit reset in the policy's `reset_header`.
//! - **rate limits**: token buckets per account, shared by every run; calls wait for a token. The
//!   buckets live in this process unless [`ExecutorOptions::rate_limiter`] names a shared
//!   [`RateLimiter`] (several processes calling the same accounts).
//! - **a deadline per run** over every step, retry and wait; a wait that would end past it is
//!   not made.
//! - **addresses**: provider and file URLs may use public addresses only, unless the operator
//!   allows private ones (or names provider hosts); proxy variables of the environment are never
//!   read.
//! - **limits**: each answer is read up to the integration's `responses.max_bytes`; files are
//!   fetched size-limited, at most [`ExecutorOptions::max_files_per_run`] per run, and streamed
//!   into the upload.
//! - **observing**: an [`Observer`] in [`ExecutorOptions::observer`] hears of every provider
//!   call's end (status or failure, duration), every retry and every rate-limit wait, labelled by
//!   integration and step only (the server's `GET /metrics` is built on it).
//! - **mapping work** (validation, rendering, mapping answers) runs on tokio's blocking pool, off
//!   the async workers.
//!
//! ```no_run
//! use std::path::Path;
//! use std::sync::Arc;
//! use switchboard_core::{Registry, RunInput};
//! use switchboard_executor::{Account, ExecError, Executor, ExecutorOptions};
//!
//! # async fn example() -> Result<(), ExecError> {
//! let registry = Registry::load_dirs(Path::new("mappings"), Path::new("schemas"))
//!     .unwrap_or_else(|problems| panic!("{problems}"));
//! let plan = registry.method("example", "ats/candidates", "create").expect("mapped");
//! let executor = Executor::new(ExecutorOptions::default())?;
//! let account = Account::new("account-1").with("api_key", "…");
//! let input = RunInput {
//!     query: serde_json::from_value(serde_json::json!({"job_id": "posting-1"})).expect("object"),
//!     body: serde_json::json!({"first_name": "Ada", "emails": [{"email": "ada@example.com"}],
//!                              "job_form_field_answers": []}),
//!     ..RunInput::default()
//! };
//! let outcome = executor.run(&plan, input, &account).await?;
//! println!("{}", outcome.output.record);
//! for exchange in &outcome.exchanges {
//!     println!("{} {} → {}", exchange.method.as_str(), exchange.url, exchange.status);
//! }
//! # Ok(())
//! # }
//! ```

// `ExecError` keeps plain, matchable fields (the provider's body, the exchanges made) and is built
// at most once per run, on the failure path: its size does not matter.
#![allow(
    clippy::result_large_err,
    reason = "ExecError is matched on by callers and built once per failed run"
)]

mod account;
mod address;
mod client;
mod error;
mod exchange;
mod executor;
mod files;
mod oauth;
mod observer;
mod rate_limit;
mod redact;
mod retry;
mod send;

pub use account::Account;
pub use error::{
    ExecError, ExecErrorKind, FileError, FileErrorKind, TransportError, TransportKind,
};
pub use exchange::Exchange;
pub use executor::{
    DEFAULT_DEADLINE, DEFAULT_MAX_FILES_PER_RUN, Executor, ExecutorOptions, Outcome,
};
pub use oauth::{
    AuthorizationCode, IssuedTokens, MemoryTokenStore, OAuthApp, OAuthError, OAuthErrorKind,
    StoredTokens, TokenState, TokenStore, TokenStoreError,
};
pub use observer::{CallEvent, CallStatus, Observer, RetryReason};
pub use rate_limit::{Held, LocalRateLimiter, RateLimiter, Reservation};
pub use retry::rate_limit_reset_wait;
