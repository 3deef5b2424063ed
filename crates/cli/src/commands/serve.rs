//! `switchboard serve`: the unified API over HTTP.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use switchboard_executor::DEFAULT_DEADLINE;
use switchboard_server::{
    DEFAULT_BODY_LIMIT, DEFAULT_DATABASE, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_LISTEN,
    DEFAULT_LOG_MAX_ROWS, DEFAULT_LOG_RETENTION_DAYS, DEFAULT_MAX_CONCURRENT_REQUESTS,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_REQUESTS_PER_CONNECTION, DEFAULT_REQUEST_TIMEOUT,
    LogFormat, LogRetention, ServeConfig, ServerError,
};

use crate::paths::SourceArgs;

/// Arguments of `serve`.
#[derive(Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on.
    #[arg(long, default_value = DEFAULT_LISTEN, env = "SWITCHBOARD_LISTEN")]
    listen: SocketAddr,
    /// The database URL (`sqlite:<file>`, created on first start; `sqlite::memory:`;
    /// `postgres://user@host/db` for several instances sharing one database).
    #[arg(long, default_value = DEFAULT_DATABASE, env = "SWITCHBOARD_DATABASE")]
    database: String,
    /// The file holding the key that seals credentials, created (mode 0600) when absent
    /// (default: next to the database file; keep it outside the data folder in production).
    /// `SWITCHBOARD_SECRET_KEY` (the key itself, base64) overrides it. With PostgreSQL one of
    /// the two is required (the file must exist), the same on every instance.
    #[arg(long, env = "SWITCHBOARD_SECRET_KEY_FILE")]
    secret_key_file: Option<PathBuf>,
    /// Request-log entries older than this many days are deleted.
    #[arg(long, env = "SWITCHBOARD_LOG_RETENTION_DAYS", default_value_t = DEFAULT_LOG_RETENTION_DAYS, value_parser = clap::value_parser!(u64).range(1..=36_500))]
    log_retention_days: u64,
    /// The request log keeps at most this many entries (the newest).
    #[arg(long, env = "SWITCHBOARD_LOG_MAX_ROWS", default_value_t = DEFAULT_LOG_MAX_ROWS, value_parser = clap::value_parser!(u64).range(1..))]
    log_max_rows: u64,
    #[command(flatten)]
    sources: SourceArgs,
    /// Log lines as `text` or `json` (filter with `RUST_LOG`).
    #[arg(long, default_value = "text")]
    log_format: LogFormat,
    /// The largest request body accepted, in bytes (larger ones get 413).
    #[arg(long, default_value_t = DEFAULT_BODY_LIMIT)]
    body_limit: usize,
    /// Let file URLs point at loopback and private addresses (for local testing only).
    #[arg(long)]
    allow_private_file_urls: bool,
    /// Let provider base URLs point at loopback, private, link-local and other non-public
    /// addresses (a fake provider on 127.0.0.1 for local testing).
    #[arg(
        long,
        env = "SWITCHBOARD_ALLOW_PRIVATE_PROVIDER_URLS",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    allow_private_provider_urls: bool,
    /// A provider host called whatever it resolves to (an ATS on the internal network), as
    /// written in base URLs; repeat for more (the variable takes a comma-separated list).
    #[arg(
        long = "allow-provider-host",
        value_name = "HOST",
        env = "SWITCHBOARD_ALLOWED_PROVIDER_HOSTS",
        value_delimiter = ','
    )]
    allowed_provider_hosts: Vec<String>,
    /// Call no provider at all: a unified call is validated and rendered, then answered `403
    /// provider_calls_refused` before any provider request, token request or file fetch (for
    /// contract tests such as the schemathesis run in CI, which must not reach real providers
    /// whatever accounts it creates).
    #[arg(long)]
    refuse_provider_calls: bool,
    /// Send provider calls and file fetches through this proxy; proxy variables of the
    /// environment (`HTTP_PROXY`, `ALL_PROXY`…) are never read.
    #[arg(long, value_name = "URL")]
    proxy: Option<String>,
    /// The longest one request's provider calls may take, every retry and wait included, in
    /// seconds.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = DEFAULT_DEADLINE.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    request_deadline: u64,
    /// A JSON file of the operator's OAuth apps by integration,
    /// `{"<integration>": {"client_id": "…", "client_secret": "…"}}`: they renew authorization-code
    /// tokens and run the connect flow. Keep it private, like the key file.
    #[arg(long, value_name = "FILE", env = "SWITCHBOARD_OAUTH_APPS_FILE")]
    oauth_apps_file: Option<PathBuf>,
    /// The public URL of this server's `/connect/callback`, as registered with those apps;
    /// the connect flow (`GET /connect/{integration}`) is off without it.
    #[arg(long, value_name = "URL", env = "SWITCHBOARD_CONNECT_CALLBACK_URL")]
    connect_callback_url: Option<String>,
    #[command(flatten)]
    http: HttpLimits,
}

/// One OAuth app as the apps file writes it.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AppEntry {
    client_id: String,
    client_secret: String,
}

/// Reads the OAuth apps file; its errors never show the secrets.
fn oauth_apps(
    path: &std::path::Path,
) -> anyhow::Result<std::collections::BTreeMap<String, switchboard_executor::OAuthApp>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read the OAuth apps file {}: {e}", path.display()))?;
    let apps: std::collections::BTreeMap<String, AppEntry> = serde_json::from_str(&text)
        .map_err(|e| {
            anyhow::anyhow!(
                "the OAuth apps file {} is not `{{\"<integration>\": {{\"client_id\", \"client_secret\"}}}}` (line {}, column {})",
                path.display(),
                e.line(),
                e.column()
            )
        })?;
    Ok(apps
        .into_iter()
        .map(|(integration, app)| {
            let app = switchboard_executor::OAuthApp {
                client_id: app.client_id,
                client_secret: app.client_secret,
            };
            (integration, app)
        })
        .collect())
}

/// How long clients may take and how many they may be.
#[derive(Args)]
struct HttpLimits {
    /// Seconds a client has to send a request's headers; idle keep-alive connections close
    /// after the same time.
    #[arg(long, value_name = "SECS", env = "SWITCHBOARD_HEADER_READ_TIMEOUT",
          default_value_t = DEFAULT_HEADER_READ_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    header_read_timeout: u64,
    /// Seconds a request has from its headers to its answer (then 504; a create goes on and
    /// keeps its answer for its `Idempotency-Key`).
    #[arg(long, value_name = "SECS", env = "SWITCHBOARD_REQUEST_TIMEOUT",
          default_value_t = DEFAULT_REQUEST_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    request_timeout: u64,
    /// The most open connections; further ones get a 503 and are closed.
    #[arg(long, value_name = "N", env = "SWITCHBOARD_MAX_CONNECTIONS",
          default_value_t = DEFAULT_MAX_CONNECTIONS, value_parser = positive)]
    max_connections: usize,
    /// The most requests handled at once (`/health` aside); further ones get a 503 with
    /// `Retry-After`.
    #[arg(long, value_name = "N", env = "SWITCHBOARD_MAX_CONCURRENT_REQUESTS",
          default_value_t = DEFAULT_MAX_CONCURRENT_REQUESTS, value_parser = positive)]
    max_concurrent_requests: usize,
    /// The most requests one keep-alive connection carries before it is closed.
    #[arg(long, value_name = "N", env = "SWITCHBOARD_MAX_REQUESTS_PER_CONNECTION",
          default_value_t = DEFAULT_MAX_REQUESTS_PER_CONNECTION, value_parser = positive)]
    max_requests_per_connection: usize,
}

impl HttpLimits {
    fn apply(&self, config: &mut ServeConfig) {
        config.header_read_timeout = Duration::from_secs(self.header_read_timeout);
        config.request_timeout = Duration::from_secs(self.request_timeout);
        config.max_connections = self.max_connections;
        config.max_concurrent_requests = self.max_concurrent_requests;
        config.max_requests_per_connection = self.max_requests_per_connection;
    }
}

/// A count of at least one.
fn positive(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{text}` is not a whole number of at least 1")),
    }
}

/// Serves until Ctrl-C or SIGTERM, then finishes in-flight requests.
pub(crate) fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    switchboard_server::init_tracing(args.log_format);
    let mut config = ServeConfig {
        listen: args.listen,
        database: args.database,
        secret_key_file: args.secret_key_file,
        log_retention: LogRetention {
            max_age: Duration::from_secs(args.log_retention_days * 24 * 60 * 60),
            max_rows: args.log_max_rows,
            ..LogRetention::default()
        },
        schemas: args.sources.schemas_dir(),
        mappings: args.sources.mappings,
        body_limit: args.body_limit,
        ..ServeConfig::default()
    };
    config.executor.allow_private_file_urls = args.allow_private_file_urls;
    args.http.apply(&mut config);
    config.executor.allow_private_provider_urls = args.allow_private_provider_urls;
    config.executor.allowed_provider_hosts = args.allowed_provider_hosts;
    config.executor.refuse_provider_calls = args.refuse_provider_calls;
    config.executor.proxy = args.proxy;
    config.executor.deadline = Duration::from_secs(args.request_deadline);
    if let Some(path) = &args.oauth_apps_file {
        config.executor.oauth_apps = oauth_apps(path)?;
    }
    config.connect_callback_url = args.connect_callback_url;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match runtime.block_on(switchboard_server::serve(
        config,
        switchboard_server::shutdown_signal(),
    )) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(ServerError::Mappings(problems)) => {
            eprintln!("{problems}");
            Ok(ExitCode::FAILURE)
        }
        Err(error) => Err(error.into()),
    }
}
