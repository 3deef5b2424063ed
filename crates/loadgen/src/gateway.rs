//! The gateway under test: the project's server in-process on a loopback port, over a copy of
//! `mappings/` whose rate limits are lifted (this measures the gateway, not Lever's quotas), a
//! fresh database, an API token and a Lever account pointing at the stand-in.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::json;
use switchboard_server::{
    NewAccount, SecretKey, ServeConfig, Server, TokenScope, create_account, create_token,
};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

/// What the rate limits of the copied mappings are lifted to, as `run.sh` does with `sed`.
const LIFTED: &str = "1000000";

/// A running gateway.
pub(crate) struct Gateway {
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    /// A `unified` API token (`switchboard tokens create` makes the same).
    pub(crate) token: String,
    /// The Lever account on the stand-in.
    pub(crate) account: String,
    runtime: Runtime,
    stop: Option<oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<()>>,
}

/// The repository root (mappings/, schemas/).
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `text` with every `per_second: N` and `burst: N` made [`LIFTED`].
pub(crate) fn lift_rate_limits(text: &str) -> String {
    let mut out = text.to_owned();
    for key in ["per_second: ", "burst: "] {
        let mut lifted = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(at) = rest.find(key) {
            let (before, after) = rest.split_at(at + key.len());
            lifted.push_str(before);
            let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            lifted.push_str(if digits > 0 { LIFTED } else { "" });
            rest = &after[digits..];
        }
        lifted.push_str(rest);
        out = lifted;
    }
    out
}

/// Copies `from` into `to` recursively, lifting the rate limits of every `integration.yaml`.
fn copy_mappings(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_mappings(&entry.path(), &target)?;
        } else if entry.file_name() == "integration.yaml" {
            fs::write(
                &target,
                lift_rate_limits(&fs::read_to_string(entry.path())?),
            )?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Writes `text` to a new file only its owner may read (the server warns about a key file others
/// can read).
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())?;
    Ok(())
}

impl Gateway {
    /// Starts the server on its own multi-threaded runtime (as `switchboard serve` runs) over
    /// `database` (a fresh SQLite file in `work` when `None`), with Lever's calls going to
    /// `lever`.
    pub(crate) fn start(
        work: &Path,
        database: Option<&str>,
        lever: SocketAddr,
    ) -> anyhow::Result<Gateway> {
        let mappings = work.join("mappings");
        copy_mappings(&repo().join("mappings"), &mappings).context("copying mappings/")?;
        let key_file = work.join("secret.key");
        write_private(&key_file, &SecretKey::generate()?.to_base64())?;
        let mut config = ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database: database.map_or_else(
                || format!("sqlite:{}", work.join("db.sqlite").display()),
                str::to_owned,
            ),
            secret_key_file: Some(key_file),
            mappings,
            schemas: repo().join("schemas"),
            ..ServeConfig::default()
        };
        // The stand-in is on loopback (`run.sh` passes --allow-private-provider-urls).
        config.executor.allow_private_provider_urls = true;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("gateway")
            .build()?;
        let (server, token, account) = runtime.block_on(async {
            let server = Server::bind(config).await?;
            let state = server.state();
            let store = state.store().clone();
            let token = create_token(store.as_ref(), "load", TokenScope::Unified, &[]).await?;
            let account = create_account(
                store.as_ref(),
                state.registry(),
                state.cipher(),
                NewAccount {
                    integration: "lever".into(),
                    environment: None,
                    base_url: Some(format!("http://{lever}/v1")),
                    context: json!({"api_key": "k", "perform_as": "u-1"})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                },
            )
            .await?;
            anyhow::Ok((server, token.token, account.id))
        })?;
        let addr = server.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let served = runtime.spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(error) = server.run(shutdown).await {
                eprintln!("the server stopped: {error}");
            }
        });
        Ok(Gateway {
            addr,
            token,
            account,
            runtime,
            stop: Some(stop),
            served: Some(served),
        })
    }

    /// Stops the server (in-flight requests finish, the request log is written) and waits.
    pub(crate) fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(served) = self.served.take() {
            let _ = self.runtime.block_on(served);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_are_lifted_and_nothing_else_changes() {
        let text = "rate_limits:\n  default: { per_second: 10, burst: 20 }\n  x: { per_second: 2, burst: 2 }\nburst_note: keep\n";
        assert_eq!(
            lift_rate_limits(text),
            "rate_limits:\n  default: { per_second: 1000000, burst: 1000000 }\n  x: { per_second: 1000000, burst: 1000000 }\nburst_note: keep\n"
        );
    }
}
