//! One named test per golden case under `tests/golden/`.
//!
//! `SWITCHBOARD_BLESS=1 cargo test -p switchboard-testkit --test golden` rewrites the expected
//! files (add `-- <text>` for only the cases whose name contains it); CI never blesses.
//! `SWITCHBOARD_RECORD=1` first records the Lever cases' provider answers from the fake Lever
//! (see `switchboard_testkit::record`), then blesses them.

use std::path::Path;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use switchboard_core::Registry;
use switchboard_testkit::{golden, record};

fn main() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let args = Arguments::from_args();
    let registry = match Registry::load_dirs(&root.join("mappings"), &root.join("schemas")) {
        Ok(r) => Arc::new(r),
        Err(problems) => {
            eprintln!("{problems}");
            std::process::exit(1);
        }
    };
    let bless = match golden::bless_requested() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let record = record::record_requested().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1);
    });
    let cases = golden::discover(&root.join("tests/golden")).unwrap_or_else(|e| {
        eprintln!("cannot read tests/golden: {e}");
        std::process::exit(1);
    });
    let trials = cases
        .into_iter()
        .map(|case| {
            let registry = registry.clone();
            Trial::test(case.name.clone(), move || {
                let result = if record && case.integration == record::RECORDABLE {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| golden::GoldenError(e.to_string()))
                        .and_then(|rt| rt.block_on(record::record_case(&registry, &case)))
                } else {
                    golden::run_case(&registry, &case, bless)
                };
                result.map_err(|e| Failed::from(e.to_string()))
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
