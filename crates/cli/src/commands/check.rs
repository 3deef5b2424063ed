//! `switchboard check [DIR]`: `DIR` is short for `--mappings DIR`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::paths::SourceArgs;

/// Arguments of `check`.
#[derive(Args)]
pub(crate) struct CheckArgs {
    /// The mappings folder to check (short for `--mappings DIR`).
    #[arg(conflicts_with = "mappings")]
    dir: Option<PathBuf>,
    #[command(flatten)]
    sources: SourceArgs,
}

/// Loads every mapping; prints every problem to stderr.
pub(crate) fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let mut sources = args.sources;
    if let Some(dir) = args.dir {
        sources.mappings = dir;
    }
    match switchboard_core::Registry::load_dirs(&sources.mappings, &sources.schemas_dir()) {
        Ok(registry) => {
            println!(
                "ok: {} integrations, {} methods",
                registry.integrations().count(),
                registry.methods().count()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => {
            eprintln!("{problems}");
            Ok(ExitCode::FAILURE)
        }
    }
}
