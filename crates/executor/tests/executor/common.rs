//! Shared set-up: the registry, the plan, accounts, inputs and executors.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value, json};
use switchboard_core::{
    HttpMethod, MethodPlan, ProviderRequest, Registry, RequestBody, RetryPolicy, RunInput,
};
use switchboard_executor::{Account, ExecError, Executor, ExecutorOptions, Outcome};
use switchboard_testkit::fake_lever::FakeLever;

/// The repository's mappings and schemas, loaded once.
pub(crate) fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
        Registry::load_dirs(&root.join("mappings"), &root.join("schemas"))
            .unwrap_or_else(|problems| panic!("the repository's mappings load: {problems}"))
    })
}

/// Lever's `ats/candidates` `create` plan.
pub(crate) fn plan() -> Arc<MethodPlan> {
    registry()
        .method("lever", "ats/candidates", "create")
        .expect("lever ats/candidates create is mapped")
        .clone()
}

/// An account on the fake with its API key and `perform_as`.
pub(crate) fn account(lever: &FakeLever) -> Account {
    Account {
        id: "acct-1".to_owned(),
        environment: None,
        base_url: Some(lever.base_url()),
        context: context(&[
            ("api_key", FakeLever::API_KEY),
            ("perform_as", FakeLever::USER_ID),
        ]),
    }
}

pub(crate) fn context(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), Value::from(*value)))
        .collect()
}

/// A retry policy like Lever's with short waits.
pub(crate) fn fast_retry() -> RetryPolicy {
    let mut retry = RetryPolicy::default();
    retry.max_attempts = 3;
    retry.initial_backoff_ms = 10;
    retry.max_backoff_ms = 40;
    retry.max_retry_after_secs = 5;
    retry
}

/// Options for tests: loopback providers and files allowed (the fake Lever is on loopback),
/// fast retries.
pub(crate) fn options() -> ExecutorOptions {
    ExecutorOptions {
        allow_private_file_urls: true,
        allow_private_provider_urls: true,
        retry: Some(fast_retry()),
        ..ExecutorOptions::default()
    }
}

pub(crate) fn executor(options: ExecutorOptions) -> Executor {
    Executor::new(options).expect("the executor builds")
}

/// Runs Lever's `create` [`plan`] with `input` as [`account`] on `lever`, on a new executor.
pub(crate) async fn run_create(
    options: ExecutorOptions,
    input: RunInput,
    lever: &FakeLever,
) -> Result<Outcome, ExecError> {
    executor(options).run(&plan(), input, &account(lever)).await
}

fn query(pairs: Value) -> Map<String, Value> {
    match pairs {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// An applicant-path input (the default `application_source`).
pub(crate) fn applicant_input(email: &str, extra: Value) -> RunInput {
    let mut body = json!({
        "first_name": "Ada",
        "last_name": "Lovelace",
        "emails": [{"email": email}],
        "tags": [{"name": "Math"}],
        "job_form_field_answers": []
    });
    merge(&mut body, extra);
    RunInput {
        query: query(json!({"job_id": FakeLever::POSTING_ID})),
        body,
        ..RunInput::default()
    }
}

/// A lead-path input.
pub(crate) fn lead_input(email: &str, extra: Value) -> RunInput {
    let mut body = json!({
        "first_name": "Grace",
        "last_name": "Hopper",
        "company": "Navy",
        "emails": [{"email": email}],
        "tags": [{"name": "Compilers"}],
        "job_form_field_answers": []
    });
    merge(&mut body, extra);
    RunInput {
        query: query(json!({"job_id": FakeLever::POSTING_ID, "application_source": "lead"})),
        body,
        ..RunInput::default()
    }
}

fn merge(body: &mut Value, extra: Value) {
    if let (Value::Object(body), Value::Object(extra)) = (body, extra) {
        body.extend(extra);
    }
}

/// A bare GET of `path` below the base URL, for the direct send API.
pub(crate) fn get(step: &str, path: &str) -> ProviderRequest {
    ProviderRequest {
        step: step.to_owned(),
        method: HttpMethod::Get,
        path: path.to_owned(),
        query: Vec::new(),
        headers: Vec::new(),
        body: RequestBody::Empty,
        rate_limit: None,
        page_url: None,
        delay_ms: 0,
        read_only: false,
    }
}

/// A loopback port with nothing listening.
pub(crate) async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let port = listener.local_addr().expect("local address").port();
    drop(listener);
    port
}
