//! `switchboard golden [--bless]`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use switchboard_testkit::golden;

use crate::paths::SourceArgs;

/// Arguments of `golden`.
#[derive(Args)]
pub(crate) struct GoldenArgs {
    /// Rewrite the expected files from what the engine produces now (refused under CI).
    #[arg(long)]
    bless: bool,
    /// Only cases whose name contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// The golden cases folder.
    #[arg(long, default_value = "tests/golden")]
    cases: PathBuf,
    #[command(flatten)]
    sources: SourceArgs,
}

/// Runs (or blesses) the golden cases.
pub(crate) fn run(args: GoldenArgs) -> anyhow::Result<ExitCode> {
    if args.bless {
        golden::refuse_bless_under_ci()?;
    }
    let registry = args.sources.load()?;
    let cases = golden::discover(&args.cases)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.cases.display()))?;
    let (mut passed, mut failed) = (0, 0);
    for case in cases.iter().filter(|c| {
        args.filter
            .as_ref()
            .is_none_or(|f| c.name.contains(f.as_str()))
    }) {
        match golden::run_case(&registry, case, args.bless) {
            Ok(()) => {
                passed += 1;
                println!(
                    "{} {}",
                    if args.bless { "blessed" } else { "ok     " },
                    case.name
                );
            }
            Err(e) => {
                failed += 1;
                println!("FAILED  {}\n{e}", case.name);
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
