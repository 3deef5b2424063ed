//! The repository's own mappings load cleanly.

use std::path::Path;

use switchboard_core::Registry;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn every_repository_mapping_compiles() {
    let registry = Registry::load_dirs(&root().join("mappings"), &root().join("schemas"))
        .unwrap_or_else(|problems| panic!("{problems}"));
    assert!(
        registry
            .method("lever", "ats/candidates", "create")
            .is_some()
    );
}
