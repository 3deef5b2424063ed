//! `errors.details`: an integration reads structured details (each JSON:API error's pointer
//! and detail) out of a provider's error answer, and the provider error carries them.

mod support;

use serde_json::{Map, Value, json};
use switchboard_core::{Connection, DriveError, ProviderResponse, RunError, RunInput};

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
    let plan = support::create_plan(&integration(details), MAPPING);
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
    let problems =
        support::load_problems(&integration("  details: '{{ body.first_name }}'"), MAPPING);
    assert!(problems.contains("errors.details"), "{problems}");
}
