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

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// The database URL (`sqlite:switchboard.db`, `sqlite::memory:`).
    pub database: String,
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
    /// How provider calls are made (timeouts, retries, the run deadline, which addresses provider
    /// and file URLs may use, the proxy).
    pub executor: ExecutorOptions,
}

impl Default for ServeConfig {
    fn default() -> ServeConfig {
        ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: DEFAULT_DATABASE.to_owned(),
            mappings: PathBuf::from("mappings"),
            schemas: PathBuf::from("schemas"),
            body_limit: DEFAULT_BODY_LIMIT,
            idempotency_ttl: Duration::from_secs(24 * 60 * 60),
            idempotency_wait: Duration::from_secs(120),
            executor: ExecutorOptions::default(),
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
