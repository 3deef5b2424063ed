//! `switchboard keys generate|rotate`: the key that seals stored credentials.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use switchboard_server::{DEFAULT_DATABASE, EXTRA_SECRET_KEYS_ENV, SecretKey};

/// Arguments of `keys`.
#[derive(Args)]
pub(crate) struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Print a new random key (base64 of 32 bytes) for `SWITCHBOARD_SECRET_KEY`.
    Generate,
    /// Seal every stored credential again under the current key (`SWITCHBOARD_SECRET_KEY` or
    /// `--secret-key-file`), opening each under it or the previous key, given in
    /// `SWITCHBOARD_EXTRA_SECRET_KEYS`. Safe while instances serve; prints how many were sealed
    /// again. Fails when some credentials open under none of the keys.
    Rotate {
        /// The database URL.
        #[arg(long, default_value = DEFAULT_DATABASE, env = "SWITCHBOARD_DATABASE")]
        database: String,
        /// The file holding the current key (as `serve` takes it).
        #[arg(long, env = "SWITCHBOARD_SECRET_KEY_FILE")]
        secret_key_file: Option<PathBuf>,
    },
}

/// Runs a `keys` subcommand.
pub(crate) fn run(args: KeysArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        KeysCommand::Generate => {
            println!("{}", SecretKey::generate()?.to_base64());
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Rotate {
            database,
            secret_key_file,
        } => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(rotate(&database, secret_key_file))
        }
    }
}

async fn rotate(database: &str, secret_key_file: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let cipher = switchboard_server::load_cipher(database, secret_key_file.as_deref())?;
    let store = switchboard_server::open_store(database).await?;
    let done = switchboard_server::rotate_key(store.as_ref(), &cipher).await;
    store.close().await;
    let done = done?;
    println!(
        "{} account(s) sealed again under the current key",
        done.resealed
    );
    if done.unreadable > 0 {
        anyhow::bail!(
            "{} account(s) open under none of the keys given (the current one and `{EXTRA_SECRET_KEYS_ENV}`); they were left as they are",
            done.unreadable
        );
    }
    Ok(ExitCode::SUCCESS)
}
