//! Loading and compiling every mapping under `mappings/` against the unified schemas: what a
//! server pays at start and on each reload. Building the registry is benched apart from running
//! its plans (that is `lever_applicant`), as jsonschema-rs benches building a validator apart
//! from validating with it; reading the files from disk is benched apart from compiling them.
//!
//! `cargo bench -p switchboard-core --bench registry`

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use switchboard_core::Registry;
use switchboard_core::tooling::SourceFile;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn bench(c: &mut Criterion) {
    let mappings_dir = root().join("mappings");
    let schemas_dir = root().join("schemas");
    let mappings = SourceFile::read_dir(&mappings_dir, &["yaml", "yml"]).expect("mappings read");
    let schemas = SourceFile::read_dir(&schemas_dir, &["json"]).expect("schemas read");
    let registry = Registry::load(&mappings, &schemas).expect("mappings compile");
    assert!(
        registry.methods().count() > 10,
        "the bench compiles every method"
    );

    let mut group = c.benchmark_group("registry");
    group.bench_function("compile_all_mappings", |b| {
        b.iter(|| Registry::load(black_box(&mappings), black_box(&schemas)).expect("compiles"))
    });
    group.bench_function("read_and_compile_all_mappings", |b| {
        b.iter(|| Registry::load_dirs(black_box(&mappings_dir), &schemas_dir).expect("loads"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
