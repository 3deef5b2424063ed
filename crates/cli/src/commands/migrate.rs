//! `switchboard migrate`: create or bring up to date the database's tables, then exit (`serve`
//! does the same on start).

use std::process::ExitCode;

use clap::Args;
use switchboard_server::DEFAULT_DATABASE;

/// Arguments of `migrate`.
#[derive(Args)]
pub(crate) struct MigrateArgs {
    /// The database URL (`sqlite:<file>`, `postgres://user@host/db`).
    #[arg(long, default_value = DEFAULT_DATABASE, env = "SWITCHBOARD_DATABASE")]
    database: String,
}

/// Applies every pending migration.
pub(crate) fn run(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = switchboard_server::open_store(&args.database).await?;
        store.close().await;
        println!("the database is up to date");
        Ok(ExitCode::SUCCESS)
    })
}
