//! Issue 11, item 1: no value of the caller's input is dropped without a warning. The engine
//! finds the values no request carries by itself, whatever the mapping forgot to declare.

mod support;

use serde_json::{Map, Value, json};
use switchboard_core::{InputLocation, Next, ProblemKind, RunError, RunInput, Warning};

const INTEGRATION: &str = "version: 1
label: Acme
base_url: { production: https://acme.example/api }
auth: [{ type: bearer, token: token }]
context: { secrets: [token] }
errors: { message: '{{ response.message }}' }
";

/// A mapping that sends the first email, the first phone's number and named tags: it declares
/// every field supported and says nothing about what it leaves out.
const MAPPING: &str = "version: 1
methods:
  create:
    query: { job_id: required }
    body:
      first_name: supported
      emails: supported
      phones: supported
      tags: supported
      job_form_field_answers: supported
    steps:
      - id: create
        request:
          method: POST
          path: /candidates
          body:
            name: '{{ body.first_name }}'
            email: '{{ body.emails[0].email }}'
            phone: '{{ body.phones[0].number }}'
            job: '{{ query.job_id }}'
      - id: tag
        when: 'steps.create && body.tags'
        request:
          method: POST
          path: '/candidates/{{ steps.create.response.id }}/tags'
          body: { tags: '{{ body.tags[?name].name }}' }
    response:
      from: steps.create.response
      fields: { id: '{{ id }}' }
";

fn input(body: Value, strict: bool) -> RunInput {
    RunInput {
        query: json!({"job_id": "j-1"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        body,
        context: Map::new(),
        strict,
        id: None,
        cursor: None,
    }
}

fn pointers(warnings: &[Warning]) -> Vec<&str> {
    warnings.iter().map(|w| w.pointer.as_str()).collect()
}

fn full_body() -> Value {
    json!({
        "first_name": "Ada",
        "emails": [{"email": "ada@example.com"}, {"email": "ada@work.example"}],
        "phones": [{"number": "555-1212", "extension": "12"}],
        "tags": [{"name": "Math"}, {"id": "t-2"}],
        "job_form_field_answers": []
    })
}

#[test]
fn values_no_request_carries_are_warned_at_their_pointer() {
    let (run, next) = support::create_plan(INTEGRATION, MAPPING)
        .start(input(full_body(), false))
        .expect("valid");
    assert!(matches!(next, Next::Send(_)));
    assert_eq!(
        pointers(run.warnings()),
        ["/emails/1", "/phones/0/extension", "/tags/1"]
    );
    let warning = &run.warnings()[0];
    assert_eq!(warning.location, InputLocation::Body);
    assert_eq!(
        warning.message,
        "was not sent: every request to Acme would be the same without it"
    );
}

#[test]
fn a_body_fully_carried_has_no_warning() {
    let body = json!({
        "first_name": "Ada",
        "emails": [{"email": "ada@example.com"}],
        "tags": [{"name": "Math"}],
        "job_form_field_answers": []
    });
    let (run, _) = support::create_plan(INTEGRATION, MAPPING)
        .start(input(body, false))
        .expect("valid");
    assert_eq!(pointers(run.warnings()), Vec::<&str>::new());
}

#[test]
fn strict_calls_refuse_a_dropped_value_before_any_request() {
    let Err(RunError::Input { problems, .. }) =
        support::create_plan(INTEGRATION, MAPPING).start(input(full_body(), true))
    else {
        panic!("a strict call that would drop values is refused");
    };
    let found: Vec<(&str, ProblemKind)> = problems
        .iter()
        .map(|p| (p.pointer.as_str(), p.kind))
        .collect();
    assert_eq!(
        found,
        [
            ("/emails/1", ProblemKind::Unsupported),
            ("/phones/0/extension", ProblemKind::Unsupported),
            ("/tags/1", ProblemKind::Unsupported)
        ]
    );
}

#[test]
fn the_check_is_bounded_on_a_large_input() {
    let tags: Vec<Value> = (0..100).map(|i| json!({"name": format!("t{i}")})).collect();
    let emails: Vec<Value> = (0..50)
        .map(|i| json!({"email": format!("a{i}@example.com"), "type": "work"}))
        .collect();
    let mut body = full_body();
    body["tags"] = Value::Array(tags);
    body["emails"] = Value::Array(emails);
    body["phones"] = (0..50)
        .map(|i| json!({"number": format!("555-{i:04}")}))
        .collect();
    let (run, _) = support::create_plan(INTEGRATION, MAPPING)
        .start(input(body, false))
        .expect("valid");
    let last = run.warnings().last().expect("a warning");
    assert_eq!(last.pointer, "");
    assert!(last.message.contains("not checked"), "{}", last.message);
}
