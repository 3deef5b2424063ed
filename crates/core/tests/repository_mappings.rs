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
    assert!(registry.method("lever", "ats/candidates", "create").is_ok());
}

/// Every provider fact lives under `mappings/`: no engine source names an integration.
#[test]
fn engine_sources_name_no_integration() {
    let integrations: Vec<String> = std::fs::read_dir(root().join("mappings"))
        .expect("mappings/")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().to_lowercase())
        .collect();
    assert!(integrations.len() >= 4, "{integrations:?}");
    let mut offenders = Vec::new();
    let mut pending: Vec<std::path::PathBuf> = std::fs::read_dir(root().join("crates"))
        .expect("crates/")
        .filter_map(|e| e.ok())
        // The test harnesses: testkit's fake providers and loadgen's provider stand-in.
        .filter(|e| e.file_name() != "testkit" && e.file_name() != "loadgen")
        .map(|e| e.path().join("src"))
        .collect();
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(
                std::fs::read_dir(&path)
                    .expect("readable")
                    .filter_map(|e| e.ok())
                    .map(|e| e.path()),
            );
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path)
                .expect("readable")
                .to_lowercase();
            for name in &integrations {
                if text.contains(name.as_str()) {
                    offenders.push(format!("{} names `{name}`", path.display()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "provider facts belong in mappings/: {offenders:?}"
    );
}
