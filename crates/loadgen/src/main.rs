//! `cargo run --release -p switchboard-loadgen`: the gateway's throughput and latency, in one
//! command and one process. A constant-time Lever stand-in and the server start in-process on
//! loopback (fresh SQLite database in a temporary directory, rate limits lifted), then each route
//! is driven for `--seconds` over `--connections` keep-alive connections: the stand-in alone
//! (one provider call), `/health`, an authenticated meta document (no provider call), and a
//! create (three provider calls). It prints req/s, p50 and p99 per route, the ratios to
//! `/health`, and the process's resident memory. `../shared/perf/gateway/run.sh` measures the
//! same routes with the same body through nginx and wrk.

mod drive;
mod gateway;
mod report;
mod standin;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use clap::Parser;
use hyper::Method;

use crate::drive::{Target, drive, once};
use crate::gateway::Gateway;
use crate::report::{Figures, rss_mib};

/// The create's body: `run.sh`'s.
const CREATE_BODY: &str = r#"{"first_name":"Ada","last_name":"Lovelace","company":"Acme","emails":[{"email":"ada@example.com"}],"phones":[{"number":"+44 1","type":"mobile"}],"locations":["London"],"links":["https://linkedin.com/in/ada"],"tags":[{"name":"t1"}],"job_form_field_answers":[{"group_id":"eeoResponses","name":"gender","value":"Female"}]}"#;

/// The stand-in call's body: `run.sh`'s.
const APPLY_BODY: &str = r#"{"personalInformation":[{"name":"fullName","value":"Ada"}]}"#;

/// Options.
#[derive(Parser)]
#[command(about = "Load benchmark: the gateway and a Lever stand-in in-process, on loopback")]
struct Options {
    /// How long each route is driven.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Keep-alive connections per route.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// The database (default: a fresh SQLite file in a temporary directory); a PostgreSQL URL
    /// measures that store (use a fresh database).
    #[arg(long)]
    database: Option<String>,
}

fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    if options.connections == 0 || options.seconds == 0 {
        bail!("--seconds and --connections must be at least 1");
    }
    // Warnings only, as `run.sh` runs the server with RUST_LOG=warn.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .with_writer(std::io::stderr)
        .init();
    let work = work_dir()?;
    let result = run(&options, &work);
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// A fresh directory under the system's temporary directory.
fn work_dir() -> anyhow::Result<PathBuf> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "switchboard-loadgen-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

fn run(options: &Options, work: &Path) -> anyhow::Result<()> {
    let lever = standin::start()?;
    let gateway = Gateway::start(work, options.database.as_deref(), lever)?;
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let targets = targets(&gateway, lever);
    let (status, body) = client.block_on(once(&targets[3]))?;
    if status != 201 {
        bail!(
            "the first create answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    println!(
        "{} s per route, {} connections, loopback; {}",
        options.seconds,
        options.connections,
        options.database.as_deref().unwrap_or("fresh SQLite")
    );
    let duration = Duration::from_secs(options.seconds);
    let mut figures = Vec::new();
    for target in &targets {
        let mut tally = client.block_on(drive(target, options.connections, duration));
        let route = Figures::of(&mut tally);
        println!("{}", route.line(target.name));
        figures.push(route);
    }
    let ratio = |index: usize| figures[index].per_second / figures[1].per_second.max(1.0);
    println!(
        "ratios: meta/health {:.3}  create/health {:.3}  create p99/p50 {:.1}",
        ratio(2),
        ratio(3),
        figures[3].p99_ms / figures[3].p50_ms.max(0.001)
    );
    if let Some(rss) = rss_mib() {
        println!("process RSS after load (server, stand-in and client): {rss} MiB");
    }
    gateway.stop();
    Ok(())
}

/// The four routes, in `run.sh`'s order: the stand-in alone, `/health`, meta, create.
fn targets(gateway: &Gateway, lever: std::net::SocketAddr) -> [Target; 4] {
    let at = |name, addr, method, path: String, token: bool, body: Option<&'static str>| Target {
        name,
        addr,
        method,
        path,
        token: token.then(|| gateway.token.clone()),
        body: body.map(|text| Bytes::from_static(text.as_bytes())),
    };
    [
        at(
            "provider stand-in, one call:",
            lever,
            Method::POST,
            "/v1/postings/p-1/apply".into(),
            false,
            Some(APPLY_BODY),
        ),
        at(
            "gateway /health:",
            gateway.addr,
            Method::GET,
            "/health".into(),
            false,
            None,
        ),
        at(
            "gateway meta (auth, no calls):",
            gateway.addr,
            Method::GET,
            "/unified/ats/candidates/lever/meta/create".into(),
            true,
            None,
        ),
        at(
            "gateway create (3 calls):",
            gateway.addr,
            Method::POST,
            format!(
                "/unified/ats/candidates?integrated_account_id={}&job_id=p-1",
                gateway.account
            ),
            true,
            Some(CREATE_BODY),
        ),
    ]
}
