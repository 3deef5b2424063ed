//! `switchboard accounts create|list|delete`: integrated accounts, straight in the store.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::{Map, Value};
use switchboard_server::{DEFAULT_DATABASE, NewAccount, ServerError};

/// Arguments of `accounts`.
#[derive(Args)]
pub(crate) struct AccountsArgs {
    #[command(subcommand)]
    command: AccountsCommand,
    /// The database URL.
    #[arg(long, global = true, default_value = DEFAULT_DATABASE, env = "SWITCHBOARD_DATABASE")]
    database: String,
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
        /// Context values and credentials as a JSON object: `{"api_key": "…", "perform_as": "…"}`.
        #[arg(long, default_value = "{}")]
        context: String,
        /// The mappings folder.
        #[arg(long, default_value = "mappings")]
        mappings: PathBuf,
        /// The unified schemas folder.
        #[arg(long, default_value = "schemas")]
        schemas: PathBuf,
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
            mappings,
            schemas,
        } => {
            let context: Map<String, Value> =
                serde_json::from_str(&context).context("`--context` must be a JSON object")?;
            let registry = match switchboard_server::load_registry(&mappings, &schemas) {
                Ok(registry) => registry,
                Err(ServerError::Mappings(problems)) => {
                    eprintln!("{problems}");
                    return Ok(ExitCode::FAILURE);
                }
                Err(error) => return Err(error.into()),
            };
            let cipher = switchboard_server::load_cipher(&args.database)?;
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

/// Where an account's calls go: its base URL, else its environment.
fn target(view: &switchboard_server::AccountView) -> &str {
    view.base_url
        .as_deref()
        .or(view.environment.as_deref())
        .unwrap_or_default()
}
