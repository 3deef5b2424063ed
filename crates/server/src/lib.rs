//! Switchboard's unified HTTP API (axum) over the core's plans and the executor: integrated
//! accounts with credentials encrypted at rest, hashed API tokens, idempotency keys, meta
//! endpoints, an OpenAPI document, a request log, and one error envelope.
//!
//! Routes:
//! - `POST /unified/{model}/{resource}` — `create`; `POST /unified/{model}/{resource}/{method}` —
//!   custom methods. Query: `integrated_account_id` (required), `truto_response_format`
//!   (`unified` | `raw` | `normalized` | `stream`), `truto_ignore_remote_data`,
//!   `truto_exclude_fields[]`, `remote_query[...]`, and the method's unified parameters.
//! - `GET /unified/{model}/{resource}/{integration}/meta/{method}`,
//!   `GET /unified/{model}/{resource}/meta/{method}?integrated_account_id=…`
//! - `POST|GET /integrated-account`, `GET|PATCH|DELETE /integrated-account/{id}`
//! - `GET /log`, `GET /metrics` (Prometheus text format), `GET /openapi.json` (`admin` tokens
//!   for the first two); `GET /health`, `GET /ready` (no token needed)
//!
//! Limits (see [`ServeConfig`]): a header-read timeout that also closes idle keep-alive
//! connections, a whole-request timeout (504), a cap on open connections and on requests per
//! connection, and a cap on requests handled at once (503 with `Retry-After`; `/health` is
//! exempt). Every POST runs to its end in a task of its own, even when its client leaves.
//!
//! ```no_run
//! use switchboard_server::{ServeConfig, serve, shutdown_signal};
//!
//! # async fn run() -> Result<(), switchboard_server::ServerError> {
//! // mappings ./mappings, schemas ./schemas, database sqlite:switchboard.db, 127.0.0.1:8080
//! serve(ServeConfig::default(), shutdown_signal()).await
//! # }
//! ```

mod account;
mod auth;
mod clock;
mod concurrency;
mod config;
mod connect;
mod crypto;
mod describe;
mod detach;
mod envelope;
mod error;
mod exec_envelope;
mod format;
mod handoff;
mod idempotency;
mod key_locks;
mod limits;
mod list;
mod log_writer;
mod metrics;
mod oauth_tokens;
mod panic;
mod private_file;
mod query;
mod rate_limit_headers;
mod routes;
mod serve_loop;
mod server;
mod state;
mod store;
mod telemetry;
mod token;

pub use account::{
    AccountError, AccountPatch, AccountView, NewAccount, Rotation, create_account, delete_account,
    get_account, list_accounts, reseal_unbound, rotate_key, update_account,
};
pub use auth::Caller;
pub use config::{
    DEFAULT_BODY_LIMIT, DEFAULT_DATABASE, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_LISTEN,
    DEFAULT_LOG_MAX_ROWS, DEFAULT_LOG_RETENTION_DAYS, DEFAULT_MAX_CONCURRENT_REQUESTS,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_REQUESTS_PER_CONNECTION, DEFAULT_REQUEST_TIMEOUT,
    LogFormat, LogRetention, ServeConfig,
};
pub use crypto::{Cipher, CryptoError, EXTRA_SECRET_KEYS_ENV, SECRET_KEY_ENV, SecretKey};
pub use describe::{method_meta, openapi};
pub use envelope::ApiError;
pub use error::ServerError;
pub use format::{ResponseFormat, ResponseOptions};
pub use idempotency::{IDEMPOTENCY_KEY, REPLAYED};
pub use metrics::Metrics;
pub use oauth_tokens::SealedTokenStore;
pub use query::{ACCOUNT_PARAM, run_input};
pub use routes::router;
pub use routes::unified::{REMOTE_STATUS_HEADER, WARNINGS_HEADER};
pub use server::{Server, load_cipher, load_registry, open_store, serve, shutdown_signal};
pub use state::AppState;
pub use store::{
    AccountStatus, IdempotencyBegin, LogEntry, LogExchange, LogFilter, PostgresRateLimiter,
    PostgresStore, SqliteStore, Store, StoreError, StoredAccount, StoredOAuthTokens,
    StoredResponse, StoredToken,
};
pub use telemetry::{REQUEST_ID, init_tracing};
pub use token::{CreatedToken, TokenError, TokenScope, create_token, delete_token, list_tokens};

/// Bracket-notation query parsing, as the unified routes read query strings.
pub mod query_string {
    pub use crate::query::{boolean, coerce, list, parse};
}
