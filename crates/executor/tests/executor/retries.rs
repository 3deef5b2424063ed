//! Retries: statuses the provider says were not processed, `Retry-After` and rate-limit resets,
//! idempotent reads — and never a second create.

use std::time::{Duration, Instant, SystemTime};

use serde_json::json;
use switchboard_core::RunError;
use switchboard_executor::{ExecErrorKind, ExecutorOptions};
use switchboard_testkit::fake_lever::{FakeLever, Fault};

use crate::common::{applicant_input, fast_retry, lead_input, options, run_create};

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_retried_once() {
    let lever = FakeLever::start().await;
    lever.script(Fault::status("POST", "/v1/postings/", 429).retry_after("1"));
    let started = Instant::now();
    let outcome = run_create(
        options(),
        applicant_input("retry@example.com", json!({})),
        &lever,
    )
    .await
    .expect("the retry succeeds");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    assert_eq!(lever.count("POST", "/v1/postings/"), 2);
    assert_eq!(outcome.exchanges[0].step, "apply");
    assert_eq!(outcome.exchanges[0].attempts, 2);
    assert_eq!(lever.opportunities().len(), 1);
}

#[tokio::test]
async fn a_429_without_retry_after_waits_for_the_rate_limit_reset() {
    let lever = FakeLever::start().await;
    // The window resets at the start of the second epoch second from now: more than one second
    // after `started`, at most two.
    let started = Instant::now();
    let reset = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after the epoch")
        .as_secs()
        + 2;
    lever.script(
        Fault::status("POST", "/v1/opportunities", 429)
            .header("X-Rate-Limit-Reset", &reset.to_string())
            .times(1),
    );
    let mut retry = fast_retry();
    retry.reset_header = Some("x-rate-limit-reset".to_owned());
    let options = ExecutorOptions {
        retry: Some(retry),
        ..options()
    };
    let outcome = run_create(options, lead_input("window@example.com", json!({})), &lever)
        .await
        .expect("the retry succeeds");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the reset was waited for: {:?}",
        started.elapsed()
    );
    assert_eq!(lever.count("POST", "/v1/opportunities"), 2);
    assert_eq!(outcome.exchanges.len(), 1);
    assert_eq!(outcome.exchanges[0].attempts, 2);
    assert_eq!(lever.opportunities().len(), 1);
}

#[tokio::test]
async fn a_503_with_retry_after_on_a_create_is_retried() {
    let lever = FakeLever::start().await;
    lever.script(Fault::status("POST", "/v1/opportunities", 503).retry_after("0"));
    let outcome = run_create(options(), lead_input("busy@example.com", json!({})), &lever)
        .await
        .expect("the retry succeeds");
    assert_eq!(lever.count("POST", "/v1/opportunities"), 2);
    assert_eq!(outcome.exchanges.len(), 1);
    assert_eq!(outcome.exchanges[0].attempts, 2);
    assert_eq!(lever.opportunities().len(), 1);
}

#[tokio::test]
async fn a_bare_503_on_a_create_is_not_retried() {
    // A load balancer's 503 may come after the provider created the candidate: sending the
    // create again would make a duplicate.
    for (path, input) in [
        (
            "/v1/postings/",
            applicant_input("bare503@example.com", json!({})),
        ),
        (
            "/v1/opportunities",
            lead_input("bare503lead@example.com", json!({})),
        ),
    ] {
        let lever = FakeLever::start().await;
        lever.script(Fault::status("POST", path, 503));
        let error = run_create(options(), input, &lever)
            .await
            .expect_err("the 503 is returned");
        assert_eq!(lever.count("POST", path), 1, "{path}: sent once");
        assert_eq!(error.provider_error().map(|e| e.status), Some(503));
        assert_eq!(error.exchanges().last().map(|e| e.attempts), Some(1));
    }
}

#[tokio::test]
async fn a_500_on_a_create_is_not_retried() {
    let lever = FakeLever::start().await;
    lever.script(Fault::status("POST", "/v1/opportunities", 500));
    let error = run_create(options(), lead_input("boom@example.com", json!({})), &lever)
        .await
        .expect_err("a provider error");
    assert_eq!(lever.count("POST", "/v1/opportunities"), 1);
    assert!(error.is_remote_error());
    let ExecErrorKind::Run(RunError::Provider(failure)) = error.kind() else {
        panic!("expected a provider error, got {error:?}");
    };
    assert_eq!(failure.step, "lead");
    assert_eq!(failure.status, 500);
    assert_eq!(failure.message, "internal server error");
    assert_eq!(failure.code.as_deref(), Some("InternalServerError"));
    assert_eq!(
        failure.body,
        json!({"code": "InternalServerError", "message": "internal server error"})
    );
    assert_eq!(error.exchanges().len(), 1);
    assert_eq!(error.exchanges()[0].attempts, 1);
    assert_eq!(
        error.to_string(),
        "provider error in step `lead`: 500 internal server error"
    );
}

#[tokio::test]
async fn client_errors_on_a_create_are_not_retried() {
    for status in [400, 401, 403, 404, 409, 422] {
        let lever = FakeLever::start().await;
        lever.script(Fault::status("POST", "/v1/opportunities", status));
        let error = run_create(options(), lead_input("no@example.com", json!({})), &lever)
            .await
            .expect_err("a provider error");
        assert_eq!(error.provider_error().map(|e| e.status), Some(status));
        assert_eq!(lever.count("POST", "/v1/opportunities"), 1, "{status}");
    }
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_is_returned_not_waited() {
    let lever = FakeLever::start().await;
    lever.script(Fault::status("POST", "/v1/opportunities", 429).retry_after("120"));
    let started = Instant::now();
    let error = run_create(
        options(),
        lead_input("later@example.com", json!({})),
        &lever,
    )
    .await
    .expect_err("rate limited by the provider");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(lever.count("POST", "/v1/opportunities"), 1);
    assert_eq!(error.retry_after(), Some("120"));
    let ExecErrorKind::Run(RunError::Provider(failure)) = error.kind() else {
        panic!("expected a provider error, got {error:?}");
    };
    assert_eq!(failure.status, 429);
    assert!(
        error
            .provider_headers()
            .iter()
            .any(|(name, value)| name == "retry-after" && value == "120"),
        "{:?}",
        error.provider_headers()
    );
}

#[tokio::test]
async fn a_reset_on_a_read_is_retried() {
    let lever = FakeLever::start().await;
    lever.script(Fault::reset_before_body("GET", "/v1/opportunities"));
    let outcome = run_create(
        options(),
        applicant_input("reset@example.com", json!({})),
        &lever,
    )
    .await
    .expect("the read is retried");
    assert_eq!(lever.count("GET", "/v1/opportunities"), 2);
    let find = outcome
        .exchanges
        .iter()
        .find(|exchange| exchange.step == "find")
        .expect("find ran");
    assert_eq!(find.attempts, 2);
}

#[tokio::test]
async fn a_timeout_on_a_read_is_retried() {
    let lever = FakeLever::start().await;
    lever.script(Fault::delay(
        "GET",
        "/v1/opportunities",
        Duration::from_secs(2),
    ));
    let options = ExecutorOptions {
        request_timeout: Some(Duration::from_millis(500)),
        ..options()
    };
    run_create(
        options,
        applicant_input("slowread@example.com", json!({})),
        &lever,
    )
    .await
    .expect("the read is retried");
    assert_eq!(lever.count("GET", "/v1/opportunities"), 2);
}

#[tokio::test]
async fn read_retries_stop_after_max_attempts() {
    let lever = FakeLever::start().await;
    lever.script(Fault::status("GET", "/v1/opportunities", 503).times(10));
    let error = run_create(
        options(),
        applicant_input("down@example.com", json!({})),
        &lever,
    )
    .await
    .expect_err("still unavailable");
    assert_eq!(
        lever.count("GET", "/v1/opportunities"),
        fast_retry().max_attempts as usize
    );
    assert_eq!(error.provider_error().map(|e| e.status), Some(503));
    // The apply before it is among the exchanges; the failed find is last.
    let steps: Vec<&str> = error.exchanges().iter().map(|e| e.step.as_str()).collect();
    assert_eq!(steps, vec!["apply", "find"]);
}
