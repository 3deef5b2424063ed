//! Storage: integrated accounts, API token hashes, idempotency records and the request log
//! behind one object-safe trait. SQLite is built in; a PostgreSQL backend implements the same
//! trait and is picked by [`open`] from the database URL, with no handler changes.
//!
//! The store never sees plaintext credentials: accounts arrive with their secrets already
//! sealed (see [`crate::crypto::Cipher`]).

mod cache;
mod cached;
mod postgres;
mod rows;
mod shared_rate_limit;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::{Map, Value};
use switchboard_executor::RateLimiter;

pub(crate) use cached::{CachedStore, LOOKUP_TTL, MAX_CACHED};
pub use postgres::PostgresStore;
pub use shared_rate_limit::PostgresRateLimiter;
pub use sqlite::SqliteStore;

use crate::token::TokenScope;

/// A storage failure. Its text names the operation, never a stored value.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL names a backend this build does not have.
    #[error(
        "unsupported database URL `{0}` (this build supports `sqlite:<path>`, `sqlite::memory:` and `postgres://…`)"
    )]
    UnsupportedUrl(String),
    /// The database refused an operation.
    #[error("database error while {action}: {message}")]
    Database {
        /// What the store was doing.
        action: &'static str,
        /// The driver's message.
        message: String,
    },
    /// A stored row could not be read back.
    #[error("corrupt stored {what}: {message}")]
    Corrupt {
        /// What kind of row.
        what: &'static str,
        /// Why.
        message: String,
    },
}

/// An integrated account as stored: public context in clear, credentials sealed.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAccount {
    /// The account id (a UUID).
    pub id: String,
    /// The integration's name.
    pub integration: String,
    /// The environment (`production`, `sandbox`, …), when no base URL overrides it.
    pub environment: Option<String>,
    /// A base URL overriding the environment's.
    pub base_url: Option<String>,
    /// The context values mappings may read.
    pub context: Map<String, Value>,
    /// The names of the credentials held in `sealed_secrets`.
    pub secret_keys: Vec<String>,
    /// The credentials, sealed as one JSON object.
    pub sealed_secrets: Vec<u8>,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// RFC 3339 time of the last change.
    pub updated_at: String,
    /// Whether the account's credentials still work.
    pub status: AccountStatus,
}

/// Whether an account's credentials still work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Usable.
    #[default]
    Active,
    /// The provider refused its credentials (a 401); unified calls answer 401 without calling
    /// the provider until the credentials are updated.
    NeedsReauth,
}

impl AccountStatus {
    /// The stored name (`active`, `needs_reauth`).
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::NeedsReauth => "needs_reauth",
        }
    }

    /// The status a stored name means.
    pub fn parse(name: &str) -> Option<AccountStatus> {
        match name {
            "active" => Some(AccountStatus::Active),
            "needs_reauth" => Some(AccountStatus::NeedsReauth),
            _ => None,
        }
    }
}

/// An API token as stored: its hash, never the token.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredToken {
    /// The token's id.
    pub id: String,
    /// A name to recognise it by.
    pub name: String,
    /// Lower-case hex SHA-256 of the token.
    #[serde(skip)]
    pub hash: String,
    /// What the token may do.
    pub scope: TokenScope,
    /// The only integrated accounts a `unified` token may use (empty: every account).
    pub accounts: Vec<String>,
    /// RFC 3339 creation time.
    pub created_at: String,
}

/// A response kept for an idempotency key.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoredResponse {
    /// The HTTP status.
    pub status: u16,
    /// The headers worth replaying (content type, warnings, `Retry-After`, …).
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

/// What [`Store::idempotency_begin`] found for a key.
#[derive(Debug, Clone, PartialEq)]
pub enum IdempotencyBegin {
    /// No live record: one marked in progress now exists, and the caller runs the request.
    Started,
    /// A request with this key is still running (here or on another instance), or its process
    /// stopped before it finished.
    InProgress {
        /// The fingerprint of that request.
        fingerprint: String,
        /// When it started (Unix seconds).
        started_at: i64,
    },
    /// A request with this key finished.
    Completed {
        /// The fingerprint of that request.
        fingerprint: String,
        /// Its response.
        response: StoredResponse,
    },
}

/// One provider call in the request log.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct LogExchange {
    /// The mapping step.
    pub step: String,
    /// The HTTP method.
    pub method: String,
    /// The URL called, without its query string (which can hold personal data); credentials are
    /// never in URLs.
    pub url: String,
    /// The provider's status, or none when no answer came.
    pub status: Option<u16>,
    /// How long the call took.
    pub duration_ms: Option<u64>,
}

/// One request-log entry. It holds no bodies and no credentials.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogEntry {
    /// A sequence number, newest highest (0 before insertion).
    pub id: i64,
    /// RFC 3339 time the request arrived.
    pub time: String,
    /// The request id (`x-request-id`).
    pub request_id: String,
    /// The HTTP method.
    pub method: String,
    /// The path, without the query string, cut to its first 512 bytes.
    pub path: String,
    /// The integration, when an account was resolved.
    pub integration: Option<String>,
    /// The integrated account id, when given.
    pub integrated_account_id: Option<String>,
    /// The unified resource (`ats/candidates`), when routed.
    pub resource: Option<String>,
    /// The unified method (`create`), when routed.
    pub unified_method: Option<String>,
    /// The response status.
    pub status: u16,
    /// Total duration.
    pub duration_ms: u64,
    /// The provider calls made.
    pub exchanges: Vec<LogExchange>,
}

/// An account's OAuth token record: its version (0 before anything was stored) and its tokens,
/// sealed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredOAuthTokens {
    /// Bumped by every stored renewal.
    pub version: u64,
    /// The tokens as one sealed JSON object, once any were stored.
    pub sealed: Option<Vec<u8>>,
}

/// Which log entries to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogFilter {
    /// At most this many (the store caps it).
    pub limit: u32,
    /// Only entries older than this id (for paging).
    pub before: Option<i64>,
    /// Only this account's entries.
    pub integrated_account_id: Option<String>,
}

/// Every durable thing the server keeps. Object-safe: handlers hold an `Arc<dyn Store>`.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Checks the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Closes connections cleanly (on shutdown). The default does nothing.
    async fn close(&self) {}

    /// Inserts a new account.
    async fn insert_account(&self, account: &StoredAccount) -> Result<(), StoreError>;
    /// One account.
    async fn get_account(&self, id: &str) -> Result<Option<StoredAccount>, StoreError>;
    /// Every account, oldest first.
    async fn list_accounts(&self) -> Result<Vec<StoredAccount>, StoreError>;
    /// Replaces an existing account; false when there is none with that id.
    async fn update_account(&self, account: &StoredAccount) -> Result<bool, StoreError>;
    /// Sets an account's status alone; false when there is no account with that id.
    async fn set_account_status(&self, id: &str, status: AccountStatus)
    -> Result<bool, StoreError>;
    /// Replaces an account's sealed credentials with `sealed` if they are still `current` (a
    /// compare-and-swap: a change made meanwhile, by any instance, wins); false when they were
    /// not (or there is no such account). The update time is left as it is.
    async fn replace_sealed_secrets(
        &self,
        id: &str,
        current: &[u8],
        sealed: &[u8],
    ) -> Result<bool, StoreError>;
    /// Deletes an account; false when there was none.
    async fn delete_account(&self, id: &str) -> Result<bool, StoreError>;

    /// An account's OAuth token record (version 0, nothing sealed, when there is none).
    async fn oauth_tokens_load(&self, account: &str) -> Result<StoredOAuthTokens, StoreError>;
    /// Takes the renewal lease of an account's tokens until `until` (Unix seconds) when the
    /// record is at `version` (absent counts as 0) and no lease is live at `now`, atomically;
    /// false otherwise.
    async fn oauth_tokens_claim(
        &self,
        account: &str,
        version: u64,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError>;
    /// Stores sealed tokens when the record is at `version`, bumping it and ending the lease in
    /// one atomic update; false when the record moved on.
    async fn oauth_tokens_save(
        &self,
        account: &str,
        version: u64,
        sealed: &[u8],
    ) -> Result<bool, StoreError>;
    /// Ends a renewal lease without storing anything, when the record is still at `version`.
    async fn oauth_tokens_release(&self, account: &str, version: u64) -> Result<(), StoreError>;

    /// Inserts an API token's hash.
    async fn insert_token(&self, token: &StoredToken) -> Result<(), StoreError>;
    /// The token with this hash.
    async fn find_token(&self, hash: &str) -> Result<Option<StoredToken>, StoreError>;
    /// Every token (hashes included), oldest first.
    async fn list_tokens(&self) -> Result<Vec<StoredToken>, StoreError>;
    /// Deletes a token; false when there was none.
    async fn delete_token(&self, id: &str) -> Result<bool, StoreError>;

    /// Looks `key` up in `scope` (an API token id). With no live record (none, or expired at
    /// `now`), records one in progress with `fingerprint`, started at `now` and expiring at
    /// `expires_at` (both Unix seconds), and answers [`IdempotencyBegin::Started`]. A record in
    /// progress is answered as such until it expires, however old: only the caller can tell a
    /// running request from one whose process stopped.
    async fn idempotency_begin(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<IdempotencyBegin, StoreError>;
    /// Stores the response of the request that began `key`, kept until `expires_at` (Unix
    /// seconds).
    async fn idempotency_complete(
        &self,
        scope: &str,
        key: &str,
        response: &StoredResponse,
        expires_at: i64,
    ) -> Result<(), StoreError>;
    /// Forgets an in-progress record (the request ended without anything worth replaying).
    async fn idempotency_abandon(&self, scope: &str, key: &str) -> Result<(), StoreError>;

    /// Appends request-log entries, in order, in one transaction.
    async fn insert_logs(&self, entries: &[LogEntry]) -> Result<(), StoreError>;
    /// Appends a request-log entry.
    async fn insert_log(&self, entry: &LogEntry) -> Result<(), StoreError> {
        self.insert_logs(std::slice::from_ref(entry)).await
    }
    /// Deletes log entries from before `older_than` (RFC 3339, as [`LogEntry::time`]) and all but
    /// the newest `max_rows`; answers how many went. Cheap when there is nothing to delete.
    async fn prune_log(&self, older_than: &str, max_rows: u64) -> Result<u64, StoreError>;
    /// Log entries, newest first.
    async fn list_log(&self, filter: &LogFilter) -> Result<Vec<LogEntry>, StoreError>;
}

/// Opens the store a database URL names (`sqlite:switchboard.db`, `sqlite::memory:`,
/// `postgres://user@host/db`), creating and migrating it as needed.
pub(crate) async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    Ok(open_shared(url).await?.0)
}

/// [`open`], with the rate limiter instances share through that database (none for SQLite, one
/// instance's file: the executor's in-process limiter is right there).
pub(crate) async fn open_shared(
    url: &str,
) -> Result<(Arc<dyn Store>, Option<Arc<dyn RateLimiter>>), StoreError> {
    if url.starts_with("sqlite:") {
        Ok((Arc::new(SqliteStore::open(url).await?), None))
    } else if is_postgres(url) {
        let store = PostgresStore::open(url).await?;
        let limiter = Arc::new(store.rate_limiter());
        Ok((Arc::new(store), Some(limiter)))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}

/// The file a database URL keeps its data in, when it is a file (`None` for memory databases
/// and non-file backends). The key file lives next to it.
pub(crate) fn database_file(url: &str) -> Option<std::path::PathBuf> {
    sqlite::database_file(url)
}

/// Whether a database URL names PostgreSQL (`postgres://` or `postgresql://`).
pub(crate) fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}
