//! `switchboard check [DIR]`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::paths::SourceArgs;

/// Arguments of `check`.
#[derive(Args)]
pub(crate) struct CheckArgs {
    /// The mappings folder to check.
    #[arg(default_value = "mappings")]
    dir: PathBuf,
    /// The unified schemas folder (default: `schemas` beside the mappings folder).
    #[arg(long)]
    schemas: Option<PathBuf>,
}

/// Loads every mapping; prints every problem to stderr.
pub(crate) fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let sources = SourceArgs {
        mappings: args.dir,
        schemas: args.schemas,
    };
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
