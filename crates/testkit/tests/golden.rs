//! One named test per golden case under `tests/golden/`.
//!
//! `SWITCHBOARD_BLESS=1 cargo test -p switchboard-testkit --test golden` rewrites the expected
//! files (add `-- <text>` for only the cases whose name contains it); CI never blesses.

use std::path::Path;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use switchboard_core::Registry;
use switchboard_testkit::golden;

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
    let cases = golden::discover(&root.join("tests/golden")).unwrap_or_else(|e| {
        eprintln!("cannot read tests/golden: {e}");
        std::process::exit(1);
    });
    let trials = cases
        .into_iter()
        .map(|case| {
            let registry = registry.clone();
            Trial::test(case.name.clone(), move || {
                golden::run_case(&registry, &case, bless).map_err(|e| Failed::from(e.to_string()))
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
