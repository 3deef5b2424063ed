//! Hostile unified input against the repository's own mappings (issue 8): refused as an input
//! problem before any request exists, never expensive, never sent.

use std::path::Path;
use std::sync::{Arc, LazyLock};

use serde_json::{Map, Value, json};
use switchboard_core::tooling::SourceFile;
use switchboard_core::{
    InputLocation, MethodPlan, Next, ProblemKind, ProviderRequest, ProviderResponse, Registry,
    RunError, RunInput,
};

static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    Registry::load_dirs(&root.join("mappings"), &root.join("schemas"))
        .unwrap_or_else(|problems| panic!("{problems}"))
});

fn lever_create() -> &'static Arc<MethodPlan> {
    REGISTRY
        .method("lever", "ats/candidates", "create")
        .expect("mapped")
}

fn input(query: Value, body: Value) -> RunInput {
    RunInput {
        query: query.as_object().cloned().unwrap_or_default(),
        body,
        context: Map::new(),
        strict: false,
        id: None,
        cursor: None,
    }
}

fn applicant(job_id: &str, answers: Vec<Value>) -> RunInput {
    input(
        json!({"job_id": job_id}),
        json!({"first_name": "Ada", "emails": [{"email": "ada@example.com"}],
               "job_form_field_answers": answers}),
    )
}

/// `count` answers to custom questions, each in a card of its own.
fn answers(count: usize) -> Vec<Value> {
    (0..count)
        .map(|i| json!({"group_id": format!("card-{i}"), "name": "0", "value": "yes"}))
        .collect()
}

fn first_request(plan: &Arc<MethodPlan>, input: RunInput) -> Result<ProviderRequest, RunError> {
    match plan.start(input)?.1 {
        Next::Send(request) => Ok(request),
        Next::Done(output) => panic!("no request: {output:?}"),
    }
}

/// Issue 8, row 4: 40,000 answers, each with its own `group_id` (1.8 MB), cost 11–41 s of CPU.
/// The unified schema caps the answers, and the cap is checked before anything is rendered.
#[test]
fn forty_thousand_answers_are_an_input_problem() {
    let Err(RunError::Input { problems, .. }) =
        lever_create().start(applicant("posting-1", answers(40_000)))
    else {
        panic!("expected an input error");
    };
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].location, InputLocation::Body);
    assert_eq!(problems[0].pointer, "/job_form_field_answers");
    assert_eq!(problems[0].kind, ProblemKind::Invalid);
    assert_eq!(problems[0].message, "value has more than 500 items");
}

#[test]
fn five_hundred_answers_in_their_own_cards_are_rendered() {
    let request =
        first_request(lever_create(), applicant("posting-1", answers(500))).expect("valid input");
    let Some(switchboard_core::RequestBody::Json(body)) = Some(&request.body) else {
        panic!("a JSON body: {:?}", request.body);
    };
    let cards = body["customQuestions"].as_array().expect("cards");
    assert_eq!(cards.len(), 500);
    assert_eq!(
        cards[499],
        json!({"id": "card-499", "fields": [{"value": "yes"}]})
    );
}

#[test]
fn every_capped_array_refuses_one_item_too_many() {
    let schema = REGISTRY.schema("ats/candidates").expect("schema");
    let body_fields = &schema.definitions()["create_body"]["properties"];
    let capped: Vec<(&String, u64)> = body_fields
        .as_object()
        .expect("fields")
        .iter()
        .filter_map(|(name, field)| field["maxItems"].as_u64().map(|max| (name, max)))
        .collect();
    assert_eq!(capped.len(), 7, "{capped:?}");
    for (name, max) in capped {
        let mut body = json!({"first_name": "Ada", "emails": [{"email": "ada@example.com"}],
                              "job_form_field_answers": []});
        let item = match name.as_str() {
            "links" => json!("https://example.com/ada"),
            "locations" => json!("Paris"),
            _ => json!({}),
        };
        body[name] = Value::Array(vec![item; max as usize + 1]);
        let Err(RunError::Input { problems, .. }) =
            lever_create().start(input(json!({"job_id": "posting-1"}), body))
        else {
            panic!("`{name}`: expected an input error");
        };
        assert_eq!(
            problems
                .iter()
                .map(|p| (p.pointer.as_str(), p.message.as_str()))
                .collect::<Vec<_>>(),
            [(
                format!("/{name}").as_str(),
                format!("value has more than {max} items").as_str()
            )]
        );
    }
}

#[test]
fn a_multi_select_answer_is_capped_too() {
    let answer = json!({"group_id": "card", "name": "0", "value": vec!["option"; 301]});
    let Err(RunError::Input { problems, .. }) =
        lever_create().start(applicant("posting-1", vec![answer]))
    else {
        panic!("expected an input error");
    };
    assert_eq!(problems[0].pointer, "/job_form_field_answers/0/value");
    assert_eq!(problems[0].message, "value has more than 300 items");
}

/// The schema validator's messages quote the offending value; a large one is not echoed back.
#[test]
fn problem_messages_do_not_echo_large_values() {
    let huge = "x".repeat(100_000);
    let Err(RunError::Input { problems, .. }) = lever_create().start(input(
        json!({"job_id": "posting-1"}),
        json!({"emails": huge, "first_name": ["short"], "job_form_field_answers": []}),
    )) else {
        panic!("expected an input error");
    };
    let messages: Vec<(&str, &str)> = problems
        .iter()
        .map(|p| (p.pointer.as_str(), p.message.as_str()))
        .collect();
    assert_eq!(
        &messages[..2],
        [
            ("/emails", "value is not of types \"null\", \"array\""),
            (
                "/first_name",
                "[\"short\"] is not of types \"null\", \"string\""
            )
        ]
    );
}

/// Issue 8, row 8: `job_id=..` (also `.`, and `%2e%2e` once decoded) made the apply request go
/// to `POST /v1/apply`. Refused at start, even when the upload step would come first.
#[test]
fn dot_segment_job_ids_are_an_input_problem_before_anything_is_sent() {
    for job_id in ["..", ".", "%2e%2e", ".%2E", ""] {
        let mut with_attachment = applicant(job_id, Vec::new());
        with_attachment.body["attachments"] =
            json!([{"file_name": "cv.pdf", "file_url": "https://files.example.com/cv.pdf"}]);
        for input in [applicant(job_id, Vec::new()), with_attachment] {
            let Err(RunError::Input { problems, .. }) = lever_create().start(input) else {
                panic!("`{job_id}`: expected an input error");
            };
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert_eq!(problems[0].location, InputLocation::Query);
            assert_eq!(problems[0].pointer, "/job_id");
            let why = if job_id.is_empty() {
                "is empty".to_owned()
            } else {
                format!("is `{job_id}`, a dot segment")
            };
            assert_eq!(
                problems[0].message,
                format!(
                    "`job_id` {why}: it is a path segment of the provider request, where it would name another resource"
                )
            );
        }
    }
    let request = first_request(lever_create(), applicant("...", Vec::new())).expect("valid");
    assert_eq!(request.path, "/postings/.../apply");
}

fn answer(body: Value) -> ProviderResponse {
    ProviderResponse {
        status: 200,
        headers: Vec::new(),
        body,
    }
}

/// The same from a provider answer: an opportunity id of `..` would send the tags to
/// `POST /opportunities/addTags`. A mapping error, and nothing more is sent.
#[test]
fn a_dot_segment_id_in_a_provider_answer_is_a_mapping_error() {
    let mut input = applicant("posting-1", Vec::new());
    input.body["tags"] = json!([{"name": "Math"}]);
    let (mut run, next) = lever_create().start(input).expect("valid input");
    assert!(matches!(next, Next::Send(ref r) if r.step == "apply"));
    let next = run
        .resume(answer(json!({"data": {"applicationId": "app-1"}})))
        .expect("find next");
    assert!(matches!(next, Next::Send(ref r) if r.step == "find"));
    let error = run
        .resume(answer(
            json!({"data": [{"id": "..", "applications": [{"id": "app-1"}]}]}),
        ))
        .expect_err("refused");
    assert_eq!(
        error,
        RunError::Mapping {
            field: "steps.tag.request.path".to_owned(),
            message: "a path segment is `..`, a dot segment".to_owned(),
        }
    );
}

/// A mapping of its own: one path read from the query, the account's context and a constant.
fn acme_create(kind: &str) -> Arc<MethodPlan> {
    let file = |name: &str, text: String| SourceFile {
        path: name.into(),
        name: name.to_owned(),
        text,
    };
    let mappings = [
        file(
            "acme/integration.yaml",
            r#"version: 1
label: Acme
base_url:
  production: https://acme.test/v1
auth:
  - { type: bearer, token: token }
context:
  secrets: [token]
  fields:
    board: The account's job board
errors:
  message: "{{ response.message }}"
"#
            .to_owned(),
        ),
        file(
            "acme/ats/candidates.yaml",
            format!(
                r#"version: 1
constants:
  kind: "{kind}"
methods:
  create:
    query:
      job_id: required
    body:
      first_name: supported
    steps:
      - id: create
        request:
          method: POST
          path: "/boards/{{{{ context.board }}}}/jobs/{{{{ query.job_id }}}}/{{{{ constants.kind }}}}"
          body:
            name: "{{{{ body.first_name }}}}"
      - id: note
        when: steps.create.response.id
        request:
          method: POST
          path: "/notes/{{{{ body.first_name }}}}"
    response:
      from: steps.create.response
      fields:
        id: "{{{{ id }}}}"
"#
            ),
        ),
    ];
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let schemas = SourceFile::read_dir(&root.join("schemas"), &["json"]).expect("schemas");
    let registry = Registry::load(&mappings, &schemas).unwrap_or_else(|p| panic!("{p}"));
    registry
        .method("acme", "ats/candidates", "create")
        .expect("mapped")
        .clone()
}

fn acme_input(board: &str, job_id: &str) -> RunInput {
    let mut input = input(json!({"job_id": job_id}), json!({"first_name": "Ada"}));
    input.context.insert("board".to_owned(), json!(board));
    input
}

#[test]
fn path_values_are_blamed_on_where_they_come_from() {
    let plan = acme_create("candidates");
    let request = first_request(&plan, acme_input("b1", "j%2F1")).expect("valid");
    assert_eq!(request.path, "/boards/b1/jobs/j%252F1/candidates");

    let Err(RunError::Input { problems, .. }) = plan.start(acme_input("%2E", "j1")) else {
        panic!("expected an input error");
    };
    assert_eq!(
        (problems[0].location, problems[0].pointer.as_str()),
        (InputLocation::Context, "/board")
    );

    // Known only once the first answer is in: still the caller's input, still an input problem.
    let (mut run, _) = plan.start(acme_input("b1", "j1")).expect("valid");
    let mut dotted = acme_input("b1", "j1");
    dotted.body["first_name"] = json!("..");
    let (mut dotted_run, _) = plan.start(dotted).expect("valid at start");
    let created = || answer(json!({"id": "c1"}));
    assert!(matches!(run.resume(created()), Ok(Next::Send(r)) if r.path == "/notes/Ada"));
    let Err(RunError::Input { problems, .. }) = dotted_run.resume(created()) else {
        panic!("expected an input error");
    };
    assert_eq!(
        (problems[0].location, problems[0].pointer.as_str()),
        (InputLocation::Body, "/first_name")
    );

    let error = acme_create("..")
        .start(acme_input("b1", "j1"))
        .err()
        .expect("refused");
    assert_eq!(
        error,
        RunError::Mapping {
            field: "steps.create.request.path".to_owned(),
            message: "a path segment is `..`, a dot segment".to_owned(),
        }
    );
}

/// `remote_query[x][y]=1` parses to a nested object, which no provider query can carry: an
/// input problem, not the mapping error (a 500) it was.
#[test]
fn a_nested_remote_query_is_an_input_problem() {
    let mut input = applicant("posting-1", Vec::new());
    input.query.insert(
        "remote_query".to_owned(),
        json!({"ok": "1", "list": ["a", "b"], "x": {"y": "1"}}),
    );
    let Err(RunError::Input { problems, .. }) = lever_create().start(input) else {
        panic!("expected an input error");
    };
    assert_eq!(
        problems
            .iter()
            .map(|p| (p.location, p.pointer.as_str()))
            .collect::<Vec<_>>(),
        [(InputLocation::Query, "/remote_query/x")]
    );
}
