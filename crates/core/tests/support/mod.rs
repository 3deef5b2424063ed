//! Loading a made-up `acme` integration from YAML text, for tests of one engine feature.
// Each test crate that includes this module uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use switchboard_core::tooling::SourceFile;
use switchboard_core::{MethodPlan, Registry};

/// The repository's format schemas (`schemas/`).
fn schemas() -> Vec<SourceFile> {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    SourceFile::read_dir(&root.join("schemas"), &["json"]).expect("schemas/")
}

/// `acme`'s `integration.yaml` and `ats/candidates.yaml`, as given.
fn acme(integration: &str, candidates: &str) -> [SourceFile; 2] {
    let source = |name: &str, text: &str| SourceFile {
        path: PathBuf::from(name),
        name: name.to_owned(),
        text: text.to_owned(),
    };
    [
        source("acme/integration.yaml", integration),
        source("acme/ats/candidates.yaml", candidates),
    ]
}

/// Loads `acme`; its `ats/candidates` create plan.
pub(crate) fn create_plan(integration: &str, candidates: &str) -> Arc<MethodPlan> {
    let registry = Registry::load(&acme(integration, candidates), &schemas())
        .unwrap_or_else(|p| panic!("{p}"));
    registry
        .method("acme", "ats/candidates", "create")
        .expect("mapped")
        .clone()
}

/// Loads `acme`, which must fail; the problems, as text.
pub(crate) fn load_problems(integration: &str, candidates: &str) -> String {
    match Registry::load(&acme(integration, candidates), &schemas()) {
        Ok(_) => panic!("the mapping loads"),
        Err(problems) => problems.to_string(),
    }
}
