//! `$file` in a JSON body, through the whole engine: the prepared request carries the files to
//! embed, and the drop analysis counts a file's URL as sent even where the body it leaves
//! (content still empty) would be the same.

mod support;

use serde_json::{Value, json};
use switchboard_core::{EmbeddedFile, Next, RequestBody, RunInput};

const INTEGRATION: &str = "version: 1
label: Acme
base_url: { production: https://acme.example/api }
auth: [{ type: bearer, token: token }]
context: { secrets: [token] }
errors: { message: '{{ response.message }}' }
";

/// Sends the last attachment with a URL as `cv`, its base64 content alone.
const MAPPING: &str = "version: 1
methods:
  create:
    query: { job_id: required }
    body:
      first_name: supported
      attachments: supported
    steps:
      - id: create
        request:
          method: POST
          path: '/jobs/{{ query.job_id }}/candidates'
          body:
            name: '{{ body.first_name }}'
            cv:
              $file: { from: '{{ body.attachments[?file_url] | [-1].{url: file_url} }}' }
    response:
      from: steps.create.response
      fields: { id: '{{ id }}' }
";

fn input(body: Value) -> RunInput {
    RunInput {
        query: json!({"job_id": "j-1"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        body,
        ..RunInput::default()
    }
}

#[test]
fn the_request_names_the_file_and_only_the_unsent_attachment_is_warned() {
    let body = json!({
        "first_name": "Ada",
        "attachments": [
            {"file_url": "https://files.example/a.pdf"},
            {"file_url": "https://files.example/b.pdf"}
        ]
    });
    let (run, next) = support::create_plan(INTEGRATION, MAPPING)
        .start(input(body))
        .expect("valid");
    let Next::Send(request) = next else {
        panic!("expected a request, got {next:?}");
    };
    assert_eq!(
        request.body,
        RequestBody::JsonWithFiles {
            body: json!({"name": "Ada", "cv": ""}),
            files: vec![EmbeddedFile {
                url: "https://files.example/b.pdf".to_owned(),
                content_at: "/cv".to_owned(),
                file_name_at: None,
                content_type_at: None,
            }],
        }
    );
    let warned: Vec<&str> = run.warnings().iter().map(|w| w.pointer.as_str()).collect();
    assert_eq!(warned, ["/attachments/0"], "b.pdf is sent, as content");
}

#[test]
fn a_bad_file_node_is_refused_at_load_with_its_pointer() {
    let broken = MAPPING.replace(
        "$file: { from: '{{ body.attachments[?file_url] | [-1].{url: file_url} }}' }",
        "$file: { from: '{{ body.attachments }}', as: { a: file_name } }",
    );
    let problems = support::load_problems(INTEGRATION, &broken);
    assert!(
        problems.contains("request.body.cv.$file") && problems.contains("exactly one key"),
        "{problems}"
    );
}
