//! `switchboard tokens create|list|delete`: API tokens, stored as SHA-256 hashes.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use switchboard_server::{DEFAULT_DATABASE, StoredToken, TokenScope};

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
        /// What the token may do: `unified` (the unified routes, for client apps) or `admin`
        /// (also integrated accounts and the request log, for the operator).
        #[arg(long, default_value = "unified")]
        scope: TokenScope,
        /// Restrict a `unified` token to this integrated account (repeat for several; none:
        /// every account).
        #[arg(long = "account", value_name = "ID")]
        accounts: Vec<String>,
    },
    /// List tokens: id, name, scope, accounts (`*` for every account), creation time (never
    /// the token).
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
        TokensCommand::Create {
            name,
            scope,
            accounts,
        } => {
            let created =
                switchboard_server::create_token(store.as_ref(), &name, scope, &accounts).await?;
            println!(
                "created `{}` API token `{}` (id {}) for {}; it is shown once:",
                created.scope,
                created.name,
                created.id,
                account_list(&created.accounts)
            );
            println!("{}", created.token);
        }
        TokensCommand::List => {
            for token in switchboard_server::list_tokens(store.as_ref()).await? {
                println!("{}", row(&token));
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

/// One `tokens list` line: id, name, scope, accounts, creation time.
fn row(token: &StoredToken) -> String {
    let accounts = if token.accounts.is_empty() {
        "*".to_owned()
    } else {
        token.accounts.join(",")
    };
    format!(
        "{}\t{}\t{}\t{}\t{}",
        token.id, token.name, token.scope, accounts, token.created_at
    )
}

/// `every account`, or the accounts named.
fn account_list(accounts: &[String]) -> String {
    if accounts.is_empty() {
        "every account".to_owned()
    } else {
        format!("accounts {}", accounts.join(", "))
    }
}
