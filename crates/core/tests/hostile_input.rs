//! Hostile unified input against the repository's own mappings (issue 8): refused as an input
//! problem before any request exists, never expensive, never sent.

use std::path::Path;
use std::sync::{Arc, LazyLock};

use serde_json::{Map, Value, json};
use switchboard_core::{
    InputLocation, MethodPlan, Next, ProblemKind, ProviderRequest, Registry, RunError, RunInput,
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
