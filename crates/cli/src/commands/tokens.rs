//! `switchboard tokens create|list|delete`: API tokens, stored as SHA-256 hashes.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use switchboard_server::DEFAULT_DATABASE;

/// Arguments of `tokens`.
#[derive(Args)]
pub(crate) struct TokensArgs {
    #[command(subcommand)]
    command: TokensCommand,
    /// The database URL.
    #[arg(long, global = true, default_value = DEFAULT_DATABASE, env = "SWITCHBOARD_DATABASE")]
    database: String,
}

#[derive(Subcommand)]
enum TokensCommand {
    /// Create a token; prints it once, as the last line (only its hash is stored).
    Create {
        /// A name to recognise the token by.
        #[arg(long)]
        name: String,
    },
    /// List tokens: id, name, creation time (never the token).
    List,
    /// Revoke a token by id; prints the id as the last line.
    Delete {
        /// The token id.
        id: String,
    },
}

/// Runs a `tokens` subcommand.
pub(crate) fn run(args: TokensArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(tokens(args))
}

async fn tokens(args: TokensArgs) -> anyhow::Result<ExitCode> {
    let store = switchboard_server::open_store(&args.database).await?;
    match args.command {
        TokensCommand::Create { name } => {
            let created = switchboard_server::create_token(store.as_ref(), &name).await?;
            println!(
                "created API token `{}` (id {}); it is shown once:",
                created.name, created.id
            );
            println!("{}", created.token);
        }
        TokensCommand::List => {
            for token in switchboard_server::list_tokens(store.as_ref()).await? {
                println!("{}\t{}\t{}", token.id, token.name, token.created_at);
            }
        }
        TokensCommand::Delete { id } => {
            if !switchboard_server::delete_token(store.as_ref(), &id).await? {
                anyhow::bail!("no API token `{id}`");
            }
            println!("{id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
