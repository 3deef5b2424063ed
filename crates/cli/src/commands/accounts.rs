//! `switchboard accounts create|list|delete`: integrated accounts, straight in the store.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::{Map, Value};
use switchboard_server::{DEFAULT_DATABASE, NewAccount, ServerError};

use crate::paths::SourceArgs;

/// Arguments of `accounts`.
#[derive(Args)]
pub(crate) struct AccountsArgs {
    #[command(subcommand)]
    command: AccountsCommand,
    /// The database URL.
    #[arg(long, global = true, default_value = DEFAULT_DATABASE, env = "SWITCHBOARD_DATABASE")]
    database: String,
    /// The file holding the key that seals credentials (default: next to the database file,
    /// `switchboard.db` → `switchboard.key`); the same one `serve` uses.
    #[arg(long, global = true, env = "SWITCHBOARD_SECRET_KEY_FILE")]
    secret_key_file: Option<PathBuf>,
}

#[derive(Subcommand)]
enum AccountsCommand {
    /// Create an account; prints its id as the last line.
    Create {
        /// The integration (as named by its folder under `mappings/`).
        #[arg(long)]
        integration: String,
        /// One of the integration's environments (default `production`).
        #[arg(long, conflicts_with = "base_url")]
        environment: Option<String>,
        /// A base URL replacing the environment's.
        #[arg(long)]
        base_url: Option<String>,
        /// Context values as a JSON object: `{"perform_as": "…"}`. Credentials given here show in
        /// the process list and the shell history: prefer `--context-file`.
        #[arg(long, conflicts_with = "context_file")]
        context: Option<String>,
        /// A file holding the context (credentials included) as a JSON object, `-` for stdin:
        /// `{"api_key": "…", "perform_as": "…"}`.
        #[arg(long, value_name = "PATH")]
        context_file: Option<PathBuf>,
        #[command(flatten)]
        sources: SourceArgs,
    },
    /// List accounts (credentials never shown): id, integration, environment or base URL.
    List,
    /// Delete an account; prints its id as the last line.
    Delete {
        /// The account id.
        id: String,
    },
}

/// Runs an `accounts` subcommand.
pub(crate) fn run(args: AccountsArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(accounts(args))
}

async fn accounts(args: AccountsArgs) -> anyhow::Result<ExitCode> {
    let store = switchboard_server::open_store(&args.database).await?;
    match args.command {
        AccountsCommand::Create {
            integration,
            environment,
            base_url,
            context,
            context_file,
            sources,
        } => {
            let on_command_line = context.is_some();
            let context = read_context(context, context_file.as_deref())?;
            let registry = match switchboard_server::load_registry(
                &sources.mappings,
                &sources.schemas_dir(),
            ) {
                Ok(registry) => registry,
                Err(ServerError::Mappings(problems)) => {
                    eprintln!("{problems}");
                    return Ok(ExitCode::FAILURE);
                }
                Err(error) => return Err(error.into()),
            };
            let cipher =
                switchboard_server::load_cipher(&args.database, args.secret_key_file.as_deref())?;
            let new = NewAccount {
                integration,
                environment,
                base_url,
                context,
            };
            let view =
                switchboard_server::create_account(store.as_ref(), &registry, &cipher, new).await?;
            println!(
                "created {} account ({}); credentials stored encrypted: {}",
                view.integration,
                target(&view),
                view.secret_keys.join(", ")
            );
            println!("{}", view.id);
            if on_command_line && !view.secret_keys.is_empty() {
                eprintln!(
                    "warning: credentials given with `--context` show in the process list and the shell history; use `--context-file` (`-` for stdin)"
                );
            }
        }
        AccountsCommand::List => {
            for view in switchboard_server::list_accounts(store.as_ref()).await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    view.id,
                    view.integration,
                    target(&view),
                    view.created_at
                );
            }
        }
        AccountsCommand::Delete { id } => {
            switchboard_server::delete_account(store.as_ref(), &id).await?;
            println!("{id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The context from `--context`, or from `--context-file` (`-`: stdin), or empty.
fn read_context(
    context: Option<String>,
    context_file: Option<&Path>,
) -> anyhow::Result<Map<String, Value>> {
    let (text, source) = match (context, context_file) {
        (Some(text), _) => (text, "`--context`".to_owned()),
        (None, Some(path)) if path == Path::new("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading the context from stdin")?;
            (text, "the context read from stdin".to_owned())
        }
        (None, Some(path)) => (
            std::fs::read_to_string(path)
                .with_context(|| format!("reading `{}`", path.display()))?,
            format!("`{}`", path.display()),
        ),
        (None, None) => return Ok(Map::new()),
    };
    serde_json::from_str(&text).with_context(|| format!("{source} must be a JSON object"))
}

/// Where an account's calls go: its base URL, else its environment.
fn target(view: &switchboard_server::AccountView) -> &str {
    view.base_url
        .as_deref()
        .or(view.environment.as_deref())
        .unwrap_or_default()
}
