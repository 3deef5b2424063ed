//! Whole runs of the shipped plans with arbitrary input and arbitrary provider answers: each run
//! ends — done, or an error — within a number of requests bounded by its steps and its input.

use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{Value, json};
use switchboard_core::{MethodPlan, ProviderResponse, RunInput};

use crate::support::{
    Ending, GOLDEN, REGISTRY, drive, fitting, golden_input, json_object, json_value, object, text,
};

fn words(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

fn plan(integration: &str) -> Arc<MethodPlan> {
    REGISTRY
        .method(integration, "ats/candidates", "create")
        .unwrap_or_else(|e| panic!("{integration} maps ats/candidates create: {e}"))
        .clone()
}

/// A unified input for `ats/candidates` `create`: mostly what its unified schema allows (so
/// runs get past validation), sometimes any JSON at all.
fn run_input() -> impl Strategy<Value = RunInput> {
    let schema = REGISTRY.schema("ats/candidates").expect("ats/candidates");
    let defs = schema.definitions();
    let keys = |def: &str| -> Vec<String> {
        defs[def]["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    };
    let query = prop_oneof![
        4 => fitting(&defs["create_query"], &defs),
        1 => json_object(keys("create_query")).prop_map(Value::Object),
    ];
    let body = prop_oneof![
        4 => fitting(&defs["create_body"], &defs),
        1 => json_object(keys("create_body")).prop_map(Value::Object),
        1 => json_value(),
    ];
    let context = json_object(words(&["api_key", "perform_as", "subdomain"]));
    (query, body, context, proptest::bool::weighted(0.1)).prop_map(
        |(query, body, context, strict)| RunInput {
            query: object(query),
            body,
            context,
            strict,
            id: None,
            cursor: None,
        },
    )
}

/// A provider answer: any status (mostly the usual ones), sometimes `Retry-After`, any body,
/// often shaped like the shipped providers' answers.
fn answer() -> impl Strategy<Value = ProviderResponse> {
    let status = prop_oneof![
        4 => proptest::sample::select(vec![200_u16, 201, 204, 400, 401, 404, 409, 422, 429, 500, 503]),
        1 => any::<u16>(),
    ];
    let record = || {
        json_object(words(&[
            "id",
            "name",
            "applicationId",
            "createdAt",
            "applications",
            "uri",
            "emails",
            "tags",
        ]))
    };
    let body = prop_oneof![
        json_value(),
        record().prop_map(|r| json!({"data": r})),
        proptest::collection::vec(record().prop_map(Value::Object), 0..3)
            .prop_map(|r| json!({"data": r})),
        (any::<bool>(), record())
            .prop_map(|(success, r)| json!({"success": success, "results": r, "errors": ["x"]})),
    ];
    let headers = prop_oneof![
        Just(Vec::new()),
        text().prop_map(|v| vec![("retry-after".to_owned(), v)]),
    ];
    (status, headers, body).prop_map(|(status, headers, body)| ProviderResponse {
        status,
        headers,
        body,
    })
}

/// Array items anywhere in `value`: every `for_each` iterates over some of them.
fn array_items(value: &Value) -> usize {
    match value {
        Value::Array(items) => items.len() + items.iter().map(array_items).sum::<usize>(),
        Value::Object(members) => members.values().map(array_items).sum(),
        _ => 0,
    }
}

/// Runs `plan` and checks the run ended within `steps × (1 + array items in the input)` requests.
fn ends_within_bound(
    plan: &Arc<MethodPlan>,
    input: RunInput,
    answers: Vec<ProviderResponse>,
) -> Result<(), TestCaseError> {
    let items = array_items(&input.body) + array_items(&Value::Object(input.query.clone()));
    let bound = plan.step_ids().len() * (1 + items);
    match drive(plan, input, answers, bound) {
        Ending::Finished(_) => Ok(()),
        Ending::Unfinished(sent) => Err(TestCaseError::fail(format!(
            "still sending after {sent} requests (bound {bound})"
        ))),
    }
}

/// One change to a golden case's input.
#[derive(Debug, Clone)]
enum InputEdit {
    /// Sets a body field to a value its schema allows (or any JSON).
    Body(String, Value),
    /// Sets a query parameter.
    Query(String, Value),
    /// Removes a body field.
    Remove(String),
}

fn input_edit() -> impl Strategy<Value = InputEdit> {
    let schema = REGISTRY.schema("ats/candidates").expect("ats/candidates");
    let defs = schema.definitions();
    let field = |def: &str| -> BoxedStrategy<(String, Value)> {
        let properties = defs[def]["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let choices: Vec<_> = properties
            .iter()
            .map(|(name, property)| {
                let name = name.clone();
                prop_oneof![4 => fitting(property, &defs), 1 => json_value()]
                    .prop_map(move |value| (name.clone(), value))
            })
            .collect();
        proptest::strategy::Union::new(choices).boxed()
    };
    let body_keys: Vec<String> = defs["create_body"]["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    prop_oneof![
        3 => field("create_body").prop_map(|(k, v)| InputEdit::Body(k, v)),
        1 => field("create_query").prop_map(|(k, v)| InputEdit::Query(k, v)),
        1 => proptest::sample::select(body_keys).prop_map(InputEdit::Remove),
    ]
}

fn apply(input: &mut RunInput, edit: InputEdit) {
    let body = match &mut input.body {
        Value::Object(body) => Some(body),
        _ => None,
    };
    match (edit, body) {
        (InputEdit::Body(key, value), Some(body)) => {
            body.insert(key, value);
        }
        (InputEdit::Remove(key), Some(body)) => {
            body.remove(&key);
        }
        (InputEdit::Query(key, value), _) => {
            input.query.insert(key, value);
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Lever with an input its schema allows (or any JSON) and arbitrary answers.
    #[test]
    fn a_lever_run_ends_within_its_bound(
        input in run_input(),
        answers in proptest::collection::vec(answer(), 0..8),
    ) {
        ends_within_bound(&plan("lever"), input, answers)?;
    }

    /// Every golden case (every shipped plan), its input edited a little, its recorded answers
    /// replaced here and there by arbitrary ones: deep runs through every step.
    #[test]
    fn edited_golden_runs_end_within_their_bound(
        pick in any::<proptest::sample::Index>(),
        edits in proptest::collection::vec(input_edit(), 0..3),
        replaced in proptest::collection::vec(proptest::option::weighted(0.3, answer()), 0..10),
    ) {
        let case = &GOLDEN[pick.index(GOLDEN.len())];
        let mut input = golden_input(case);
        for edit in edits {
            apply(&mut input, edit);
        }
        let answers = case
            .answers
            .iter()
            .cloned()
            .map(Some)
            .chain(std::iter::repeat(None))
            .zip(replaced)
            .filter_map(|(recorded, arbitrary)| arbitrary.or(recorded))
            .collect();
        ends_within_bound(&plan(&case.integration), input, answers)?;
    }
}

/// Found by `a_lever_run_ends_within_its_bound`: `remote_query[perform_as][x]=1` gives an object
/// that no query parameter can carry; it was a mapping error (a 500) when the lead path rendered
/// its request, and is now an input problem before anything is sent.
#[test]
fn an_object_in_remote_query_is_an_input_problem() {
    let input = RunInput {
        query: object(json!({
            "job_id": "posting-1",
            "application_source": "lead",
            "remote_query": {"perform_as": {"x": "1"}, "stage": "s1"}
        })),
        body: json!({"first_name": "Ada", "job_form_field_answers": []}),
        context: object(json!({"perform_as": "u1"})),
        strict: false,
        id: None,
        cursor: None,
    };
    match plan("lever").start(input) {
        Err(switchboard_core::RunError::Input { problems, .. }) => {
            let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
            assert_eq!(pointers, ["/remote_query/perform_as"], "{problems:?}");
        }
        Err(other) => panic!("expected an input problem, got {other:?}"),
        Ok(_) => panic!("expected an input problem, the run started"),
    }
}
