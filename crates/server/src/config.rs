//! What `switchboard serve` is told: where to listen, which database, which mappings, limits.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use switchboard_executor::ExecutorOptions;

/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The default database URL: a file in the working directory, created on first start.
pub const DEFAULT_DATABASE: &str = "sqlite:switchboard.db";
/// The default request-body limit: 2 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;
/// The default time a client has to send a request's headers (and an idle keep-alive
/// connection has before it is closed): 10 s.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The default time a request has from its headers to its answer (body read and handling):
/// 75 s, longer than a whole provider run may last, so a run ends on its own deadline first.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(75);
/// The default number of open connections; more are answered 503 and closed.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// The default number of requests handled at once; more are answered 503.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 256;
/// The default number of requests one keep-alive connection may carry before it is closed.
pub const DEFAULT_MAX_REQUESTS_PER_CONNECTION: usize = 1000;

/// How many days the request log keeps an entry by default.
pub const DEFAULT_LOG_RETENTION_DAYS: u64 = 30;
/// How many request-log entries are kept at most by default.
pub const DEFAULT_LOG_MAX_ROWS: u64 = 100_000;

/// How long and how much of the request log is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRetention {
    /// Entries older than this are deleted.
    pub max_age: Duration,
    /// Only the newest this many entries are kept.
    pub max_rows: u64,
    /// How often the log is pruned besides after every batch written (so entries age out when
    /// idle).
    pub prune_every: Duration,
}

impl Default for LogRetention {
    fn default() -> LogRetention {
        LogRetention {
            max_age: Duration::from_secs(DEFAULT_LOG_RETENTION_DAYS * 24 * 60 * 60),
            max_rows: DEFAULT_LOG_MAX_ROWS,
            prune_every: Duration::from_secs(10 * 60),
        }
    }
}

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// The database URL (`sqlite:switchboard.db`, `sqlite::memory:`, or
    /// `postgres://user@host/db` for several instances on one database).
    pub database: String,
    /// The file holding the key that seals credentials (created, mode 0600, when absent); by
    /// default next to the database file (`switchboard.db` → `switchboard.key`).
    /// `SWITCHBOARD_SECRET_KEY` overrides it. With PostgreSQL the key must be given, by the
    /// variable or by this file, which must exist.
    pub secret_key_file: Option<PathBuf>,
    /// How long and how much of the request log is kept.
    pub log_retention: LogRetention,
    /// The mappings directory (`<integration>/integration.yaml`, `<integration>/<model>/<resource>.yaml`).
    pub mappings: PathBuf,
    /// The unified schemas directory (`<model>/<resource>.json`).
    pub schemas: PathBuf,
    /// The largest request body accepted; larger ones get 413.
    pub body_limit: usize,
    /// How long an idempotent response is replayed.
    pub idempotency_ttl: Duration,
    /// How long a request waits for a concurrent one with the same idempotency key before
    /// answering 409.
    pub idempotency_wait: Duration,
    /// How long a client has to send a request's headers; an idle keep-alive connection is
    /// closed after the same time (hyper starts this timer as soon as a connection is idle).
    pub header_read_timeout: Duration,
    /// How long a request has from its headers to its answer (body read and handling); then it
    /// is answered 504. A create goes on detached and keeps its answer for its idempotency key.
    /// An idempotency record still "in progress" this long after it started (its process died)
    /// is answered `idempotency_outcome_unknown`.
    pub request_timeout: Duration,
    /// The most open connections; further ones are answered 503 and closed.
    pub max_connections: usize,
    /// The most requests handled at once (`/health` aside); further ones are answered 503 with
    /// `Retry-After`.
    pub max_concurrent_requests: usize,
    /// The most requests one keep-alive connection carries; the last answer says
    /// `Connection: close`.
    pub max_requests_per_connection: usize,
    /// How provider calls are made (timeouts, retries, the run deadline, which addresses provider
    /// and file URLs may use, the proxy), and the operator's OAuth apps (`executor.oauth_apps`).
    pub executor: ExecutorOptions,
    /// The public URL of this server's `GET /connect/callback`, as registered with the
    /// operator's OAuth apps; the connect flow is off without it.
    pub connect_callback_url: Option<String>,
}

impl Default for ServeConfig {
    fn default() -> ServeConfig {
        ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: DEFAULT_DATABASE.to_owned(),
            secret_key_file: None,
            log_retention: LogRetention::default(),
            mappings: PathBuf::from("mappings"),
            schemas: PathBuf::from("schemas"),
            body_limit: DEFAULT_BODY_LIMIT,
            idempotency_ttl: Duration::from_secs(24 * 60 * 60),
            // Shorter than the request timeout, so a waiting request gets a clear 409.
            idempotency_wait: Duration::from_secs(60),
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
            max_requests_per_connection: DEFAULT_MAX_REQUESTS_PER_CONNECTION,
            executor: ExecutorOptions::default(),
            connect_callback_url: None,
        }
    }
}

/// The shape of log lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<LogFormat, String> {
        match text {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!(
                "unknown log format `{other}` (expected `text` or `json`)"
            )),
        }
    }
}
