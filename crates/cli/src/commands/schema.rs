//! `switchboard schema [--check]`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

/// Arguments of `schema`.
#[derive(Args)]
pub(crate) struct SchemaArgs {
    /// Fail if the files on disk differ from what the loader's types generate.
    #[arg(long)]
    check: bool,
    /// The folder the schemas are written to.
    #[arg(long, default_value = "schemas")]
    out: PathBuf,
}

/// Writes or checks `mapping.schema.json` and `integration.schema.json`.
pub(crate) fn run(args: SchemaArgs) -> anyhow::Result<ExitCode> {
    let mut stale = Vec::new();
    for (name, schema) in switchboard_core::tooling::format_schemas() {
        let path = args.out.join(name);
        let text = format!("{}\n", serde_json::to_string_pretty(&schema)?);
        if args.check {
            if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                stale.push(path.display().to_string());
            }
        } else {
            std::fs::write(&path, text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            println!("wrote {}", path.display());
        }
    }
    if stale.is_empty() {
        if args.check {
            println!("ok: the format schemas are up to date");
        }
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "error: stale format schema(s): {}; run `switchboard schema`",
            stale.join(", ")
        );
        Ok(ExitCode::FAILURE)
    }
}
