//! The `create_candidate` example, run against the test kit's fake Lever: the embedding path
//! (request preparation, a real blocking HTTP client, `run_with`) works end to end.

#[path = "../examples/create_candidate.rs"]
#[allow(
    dead_code,
    reason = "the example's `main` runs under `cargo run --example`; this test calls its `create_candidate`"
)]
mod example;

use switchboard_testkit::fake_lever::FakeLever;

fn target<'a>(base_url: &'a str, api_key: &'a str) -> example::Target<'a> {
    example::Target {
        base_url,
        api_key,
        perform_as: FakeLever::USER_ID,
        job_id: FakeLever::POSTING_ID,
    }
}

#[test]
fn the_example_creates_a_candidate_on_the_fake_lever() {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let lever = runtime.block_on(FakeLever::start());
    // The blocking client runs on this thread, outside the runtime serving the fake.
    let base_url = lever.base_url();
    let output = example::create_candidate(&target(&base_url, FakeLever::API_KEY))
        .expect("the example creates a candidate");
    assert_eq!(output.record["first_name"], "Ada");
    assert_eq!(output.record["emails"][0]["email"], "ada@example.com");
    let id = output.record["id"].as_str().expect("an opportunity id");
    assert!(!id.is_empty());
    assert!(output.warnings.is_empty(), "{:?}", output.warnings);
    assert_eq!(lever.count("POST", "/v1/opportunities"), 1);
}

#[test]
fn a_wrong_key_is_the_providers_401_through_the_example() {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let lever = runtime.block_on(FakeLever::start());
    let base_url = lever.base_url();
    let error = example::create_candidate(&target(&base_url, "wrong-key"))
        .expect_err("the fake refuses the key");
    assert!(error.to_string().contains("401"), "{error}");
}
