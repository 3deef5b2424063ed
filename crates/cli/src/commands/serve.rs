//! `switchboard serve`: the unified API over HTTP.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use switchboard_executor::DEFAULT_DEADLINE;
use switchboard_server::{
    DEFAULT_BODY_LIMIT, DEFAULT_DATABASE, DEFAULT_LISTEN, LogFormat, ServeConfig, ServerError,
};

/// Arguments of `serve`.
#[derive(Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on.
    #[arg(long, default_value = DEFAULT_LISTEN, env = "SWITCHBOARD_LISTEN")]
    listen: SocketAddr,
    /// The database URL (`sqlite:<file>`, created on first start; `sqlite::memory:`).
    #[arg(long, default_value = DEFAULT_DATABASE, env = "SWITCHBOARD_DATABASE")]
    database: String,
    /// The mappings folder.
    #[arg(long, default_value = "mappings")]
    mappings: PathBuf,
    /// The unified schemas folder.
    #[arg(long, default_value = "schemas")]
    schemas: PathBuf,
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
}

/// Serves until Ctrl-C or SIGTERM, then finishes in-flight requests.
pub(crate) fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    switchboard_server::init_tracing(args.log_format);
    let mut config = ServeConfig {
        listen: args.listen,
        database: args.database,
        mappings: args.mappings,
        schemas: args.schemas,
        body_limit: args.body_limit,
        ..ServeConfig::default()
    };
    config.executor.allow_private_file_urls = args.allow_private_file_urls;
    config.executor.allow_private_provider_urls = args.allow_private_provider_urls;
    config.executor.allowed_provider_hosts = args.allowed_provider_hosts;
    config.executor.proxy = args.proxy;
    config.executor.deadline = Duration::from_secs(args.request_deadline);
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
