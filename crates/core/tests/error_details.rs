//! `errors.details`: an integration reads structured details (each JSON:API error's pointer
//! and detail) out of a provider's error answer, and the provider error carries them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value, json};
use switchboard_core::tooling::SourceFile;
use switchboard_core::{
    Connection, DriveError, MethodPlan, ProviderResponse, Registry, RunError, RunInput,
};

const MAPPING: &str = "version: 1
methods:
  create:
    body: { first_name: supported }
    steps:
      - id: create
        request: { method: POST, path: /candidates, body: { name: '{{ body.first_name }}' } }
    response:
      from: steps.create.response
      fields: { id: '{{ id }}' }
";

fn integration(details: &str) -> String {
    format!(
        "version: 1
label: Acme
base_url: {{ production: https://acme.example/api }}
auth: [{{ type: bearer, token: token }}]
context: {{ secrets: [token] }}
errors:
  message: '{{{{ response.errors[0].detail }}}}'
{details}"
    )
}

fn source(name: &str, text: &str) -> SourceFile {
    SourceFile {
        path: PathBuf::from(name),
        name: name.to_owned(),
        text: text.to_owned(),
    }
}

fn plan(details: &str) -> Arc<MethodPlan> {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let schemas = SourceFile::read_dir(&root.join("schemas"), &["json"]).expect("schemas/");
    let mappings = [
        source("acme/integration.yaml", &integration(details)),
        source("acme/ats/candidates.yaml", MAPPING),
    ];
    let registry = Registry::load(&mappings, &schemas).unwrap_or_else(|p| panic!("{p}"));
    registry
        .method("acme", "ats/candidates", "create")
        .expect("mapped")
        .clone()
}

/// Runs the create against a provider that answers `body` with HTTP 422; the provider error.
fn provider_error(details: &str, body: Value) -> switchboard_core::ProviderError {
    let input = RunInput {
        query: Map::new(),
        body: json!({"first_name": "Ada"}),
        context: json!({"token": "t"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        strict: false,
        id: None,
        cursor: None,
    };
    let plan = plan(details);
    let endpoint = plan
        .integration_plan()
        .endpoint(&Connection::new(&input.context))
        .expect("an endpoint");
    let answer = plan.run_with(input, &endpoint, |_| {
        Ok::<_, ()>(ProviderResponse {
            status: 422,
            headers: Vec::new(),
            body: body.clone(),
        })
    });
    match answer {
        Err(DriveError::Run {
            error: RunError::Provider(error),
            ..
        }) => *error,
        other => panic!("expected a provider error, got {other:?}"),
    }
}

fn json_api_errors() -> Value {
    json!({"errors": [
        {"status": "422", "title": "has already been taken", "detail": "email - has already been taken",
         "source": {"pointer": "/data/attributes/email"}},
        {"status": "422", "title": "can't be blank", "source": {"pointer": "/data/attributes/first-name"}}
    ]})
}

const DETAILS: &str =
    "  details: '{{ response.errors[].{pointer: source.pointer, detail: detail || title} }}'";

#[test]
fn each_errors_pointer_and_detail_become_the_details() {
    let error = provider_error(DETAILS, json_api_errors());
    assert_eq!(
        error.details,
        Some(json!([
            {"pointer": "/data/attributes/email", "detail": "email - has already been taken"},
            {"pointer": "/data/attributes/first-name", "detail": "can't be blank"}
        ]))
    );
    assert_eq!(error.message, "email - has already been taken");
}

#[test]
fn an_answer_without_errors_has_no_details() {
    for body in [
        json!({"message": "boom"}),
        json!("Bad Gateway"),
        json!({"errors": []}),
    ] {
        assert_eq!(provider_error(DETAILS, body).details, None);
    }
}

#[test]
fn without_a_details_template_there_are_none() {
    assert_eq!(provider_error("", json_api_errors()).details, None);
}

#[test]
fn a_details_template_reading_an_unknown_root_is_refused_at_load() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let schemas = SourceFile::read_dir(&root.join("schemas"), &["json"]).expect("schemas/");
    let mappings = [
        source(
            "acme/integration.yaml",
            &integration("  details: '{{ body.first_name }}'"),
        ),
        source("acme/ats/candidates.yaml", MAPPING),
    ];
    let problems = Registry::load(&mappings, &schemas)
        .err()
        .expect("an unknown root is refused")
        .to_string();
    assert!(problems.contains("errors.details"), "{problems}");
}
