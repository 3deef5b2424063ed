//! The embedding API (issue 16) against the repository's own Lever mapping and golden answers:
//! lookups that say what exists, `RunInput` from `{query, body, context}`, requests prepared
//! for the wire with the credential marked sensitive, typed errors, completed steps, the
//! driver contract's "an error ends the run", and the synchronous driver.

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use serde_json::{Map, Value, json};
use switchboard_core::{
    AccountError, Connection, DriveError, HeaderPart, InputLocation, LookupError, MethodPlan, Next,
    PrepareError, ProviderRequest, ProviderResponse, Registry, RequestBody, RunError, RunInput,
};

fn repo() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).to_path_buf()
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
    Registry::load_dirs(&repo().join("mappings"), &repo().join("schemas"))
        .unwrap_or_else(|problems| panic!("{problems}"))
});

fn lever_create() -> &'static Arc<MethodPlan> {
    REGISTRY
        .method("lever", "ats/candidates", "create")
        .expect("mapped")
}

/// One file of a Lever golden case.
fn golden(case: &str, file: &str) -> Value {
    let path = repo()
        .join("tests/golden/lever/ats/candidates/create")
        .join(case)
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).expect("json")
}

fn answer(case: &str, file: &str) -> ProviderResponse {
    serde_json::from_value(golden(case, file)).expect("a recorded answer")
}

fn context(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

#[test]
fn a_lookup_that_finds_nothing_lists_what_exists() {
    let error = REGISTRY
        .method("levr", "ats/candidates", "create")
        .expect_err("typo");
    let LookupError::UnknownIntegration { known, .. } = &error else {
        panic!("{error:?}");
    };
    assert!(known.iter().any(|name| name == "lever"), "{known:?}");
    assert!(error.to_string().contains("`lever`"), "{error}");

    let error = REGISTRY
        .method("lever", "ats/candidate", "create")
        .expect_err("typo");
    assert!(
        matches!(&error, LookupError::UnknownResource { known, .. } if known.contains(&"ats/candidates".to_owned())),
        "{error:?}"
    );
    let error = REGISTRY
        .method("lever", "ats/candidates", "craete")
        .expect_err("typo");
    assert!(
        matches!(&error, LookupError::UnknownMethod { known, .. } if known.contains(&"create".to_owned())),
        "{error:?}"
    );
    assert!(REGISTRY.integration("nope").is_err());
}

#[test]
fn run_input_reads_the_shape_everyone_has() {
    let input: RunInput = serde_json::from_value(golden("tags-add-tags-step", "input.json"))
        .expect("{query, body, context}");
    assert_eq!(
        input.query["job_id"],
        "f8b7dd19-1d9f-40f1-8090-e4a62e989e0b"
    );
    assert_eq!(input.body["first_name"], "Ada");
    assert_eq!(input.context["api_key"], "secret-key-never-read");
    assert!(!input.strict);
    let only_body: RunInput =
        serde_json::from_value(json!({"body": {}})).expect("members optional");
    assert!(only_body.query.is_empty());
    assert!(serde_json::from_value::<RunInput>(json!({"bdy": {}})).is_err());
}

#[test]
fn prepared_requests_carry_the_url_content_type_and_a_sensitive_credential() {
    let plan = lever_create();
    let context = context(json!({"api_key": "k3y"}));
    let endpoint = plan
        .integration_plan()
        .endpoint(&Connection::new(&context).base_url("http://127.0.0.1:9/v1/"))
        .expect("an endpoint");
    assert_eq!(endpoint.base_url(), "http://127.0.0.1:9/v1");
    assert!(!format!("{endpoint:?}").contains("k3y"), "{endpoint:?}");
    let request = ProviderRequest {
        step: "lead".to_owned(),
        method: switchboard_core::HttpMethod::Post,
        path: "/opportunities".to_owned(),
        query: vec![("perform_as".to_owned(), "u 1".to_owned())],
        // A mapping's header of the credential's name never replaces the credential.
        headers: vec![("Authorization".to_owned(), "Bearer forged".to_owned())],
        body: RequestBody::Json(json!({"name": "Ada"})),
        rate_limit: None,
        page_url: None,
        delay_ms: 0,
        read_only: false,
    };
    let prepared = endpoint.prepare(&request).expect("prepared");
    assert_eq!(
        prepared.url,
        "http://127.0.0.1:9/v1/opportunities?perform_as=u%201"
    );
    let headers: Vec<(&str, &str, bool)> = prepared
        .headers
        .iter()
        .map(|h| (h.name(), h.value(), h.is_sensitive()))
        .collect();
    assert_eq!(
        headers,
        [
            ("content-type", "application/json", false),
            ("authorization", "Basic azN5Og==", true),
        ]
    );
    assert!(!format!("{prepared:?}").contains("azN5Og"), "{prepared:?}");

    let broken = ProviderRequest {
        headers: vec![("x-id".to_owned(), "a\r\nx-evil: 1".to_owned())],
        ..request
    };
    let error = endpoint.prepare(&broken).expect_err("a line break");
    assert_eq!(
        error,
        PrepareError::InvalidHeader {
            step: "lead".to_owned(),
            name: "x-id".to_owned(),
            part: HeaderPart::Value,
        }
    );
    assert!(matches!(
        RunError::from(error),
        RunError::Mapping { field, .. } if field == "steps.lead.request.headers.x-id"
    ));
}

#[test]
fn account_problems_are_typed() {
    let integration = lever_create().integration_plan();
    let none = Map::new();
    let error = integration
        .endpoint(&Connection::new(&none))
        .expect_err("no credential");
    assert!(
        matches!(&error, AccountError::NoCredentials { expected, .. } if expected.contains(&"api_key".to_owned())),
        "{error:?}"
    );
    let key = context(json!({"api_key": "k"}));
    let error = integration
        .endpoint(&Connection::new(&key).environment("staging"))
        .expect_err("unknown environment");
    assert!(
        matches!(&error, AccountError::UnknownEnvironment { known, .. } if known.contains(&"production".to_owned())),
        "{error:?}"
    );
    assert!(matches!(
        integration.endpoint(&Connection::new(&key).base_url("ftp://example.com")),
        Err(AccountError::InvalidBaseUrl { .. })
    ));
    assert!(matches!(
        integration.base_url("staging", &key),
        Err(AccountError::UnknownEnvironment { .. })
    ));
}

#[test]
fn conditional_requirements_are_typed_and_found_per_field() {
    let plan = lever_create();
    let emails: Vec<_> = plan
        .requirements_on(InputLocation::Body, "emails")
        .collect();
    assert_eq!(emails.len(), 1);
    assert_eq!(
        emails[0].condition,
        Some("query.application_source != 'lead'")
    );
    assert!(emails[0].reason.contains("email"));
    assert!(
        plan.conditional_requirements()
            .any(|r| r.location == InputLocation::Context && r.field == "perform_as")
    );
}

/// Drives a golden case by hand, handing back its recorded answers in order.
fn drive_golden(case: &str) -> (switchboard_core::Run, Result<Next, RunError>) {
    let input: RunInput = serde_json::from_value(golden(case, "input.json")).expect("input");
    let (mut run, mut next) = lever_create().start(input).expect("valid input");
    let mut call = 0;
    loop {
        if let Next::Done(_) = next {
            return (run, Ok(next));
        }
        call += 1;
        match run.resume(answer(case, &format!("{call:02}.response.json"))) {
            Ok(following) => next = following,
            Err(error) => return (run, Err(error)),
        }
    }
}

#[test]
fn after_an_error_the_run_lists_its_completed_steps_and_is_over() {
    let (mut run, result) = drive_golden("lookup-finds-no-opportunity");
    assert!(
        matches!(result, Err(RunError::Upstream { .. })),
        "{result:?}"
    );
    let completed: Vec<(&str, u16)> = run
        .completed_steps()
        .iter()
        .map(|s| (s.step(), s.status()))
        .collect();
    assert_eq!(
        completed,
        [("apply", 200)],
        "the failed lookup is not completed"
    );
    assert_eq!(
        run.completed_steps()[0].response(),
        &golden("lookup-finds-no-opportunity", "01.response.json")["body"]
    );
    let again = run.resume(answer("lookup-finds-no-opportunity", "02.response.json"));
    assert!(matches!(again, Err(RunError::Misuse(_))), "{again:?}");
}

#[test]
fn run_with_sends_prepared_requests_through_a_closure() {
    let case = "tags-add-tags-step";
    let input: RunInput = serde_json::from_value(golden(case, "input.json")).expect("input");
    let endpoint = lever_create()
        .integration_plan()
        .endpoint(&Connection::new(&input.context))
        .expect("an endpoint");
    let mut sent = Vec::new();
    let output = lever_create()
        .run_with(input, &endpoint, |request| {
            sent.push(request.url.clone());
            let call = sent.len();
            Ok::<_, std::convert::Infallible>(answer(case, &format!("{call:02}.response.json")))
        })
        .expect("the recorded run");
    assert_eq!(output.record, golden(case, "output.json")["record"]);
    assert_eq!(sent.len(), 3);
    assert!(sent[0].starts_with("https://api.lever.co/v1/"), "{sent:?}");

    // A transport failure stops the run with the calls that had completed.
    let input: RunInput = serde_json::from_value(golden(case, "input.json")).expect("input");
    let mut calls = 0;
    let error = lever_create()
        .run_with(input, &endpoint, |_| {
            calls += 1;
            match calls {
                1 => Ok(answer(case, "01.response.json")),
                _ => Err("connection reset"),
            }
        })
        .expect_err("the second call fails");
    assert!(
        matches!(
            &error,
            DriveError::Send {
                error: "connection reset",
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.completed_steps().len(), 1);
}
