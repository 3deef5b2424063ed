//! The input the unified route and `switchboard render` build from a query string and a body.

use std::path::Path;

use serde_json::{Value, json};
use switchboard_core::Registry;
use switchboard_core::tooling::SourceFile;
use switchboard_server::query_string::parse;
use switchboard_server::run_input;

use crate::common::repo;

/// A repository file as a source named relative to `dir`.
fn source(dir: &str, name: &str, text: String) -> SourceFile {
    SourceFile {
        path: repo().join(dir).join(name),
        name: name.to_owned(),
        text,
    }
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(Path::new(path))).expect("repository file")
}

/// Query values take the types the method's query schema declares (here an integer the
/// repository schema gains for the test), so a dry run sees what the server would.
#[test]
fn run_input_coerces_the_query_to_the_method_schema() {
    let mut schema: Value =
        serde_json::from_str(&read("schemas/ats/candidates.json")).expect("json");
    schema["$defs"]["create_query"]["properties"]["limit"] = json!({"type": "integer"});
    let registry = Registry::load(
        &[
            source(
                "mappings",
                "lever/integration.yaml",
                read("mappings/lever/integration.yaml"),
            ),
            source(
                "mappings",
                "lever/ats/candidates.yaml",
                read("mappings/lever/ats/candidates.yaml"),
            ),
        ],
        &[source("schemas", "ats/candidates.json", schema.to_string())],
    )
    .expect("loads");
    let plan = registry
        .method("lever", "ats/candidates", "create")
        .expect("mapped");
    let query = parse("job_id=7&limit=5").expect("parses");
    let input = run_input(plan, query, Value::Null);
    assert_eq!(
        Value::Object(input.query),
        json!({"job_id": "7", "limit": 5})
    );
    assert!(!input.strict && input.context.is_empty());
}
