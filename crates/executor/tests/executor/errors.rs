//! Failures below HTTP and bad input: clear errors, and a create that may have reached the
//! provider is never sent twice.

use std::time::Duration;

use serde_json::json;
use switchboard_core::{HttpMethod, RunError};
use switchboard_executor::{ExecErrorKind, ExecutorOptions, TransportKind};
use switchboard_testkit::fake_lever::{FakeLever, Fault};

use crate::common::{
    account, closed_port, executor, fast_retry, get, lead_input, options, plan, run_create,
};

#[tokio::test]
async fn invalid_input_is_refused_before_any_call() {
    let lever = FakeLever::start().await;
    let mut input = lead_input("x@example.com", json!({}));
    input.query.remove("job_id");
    let error = run_create(options(), input, &lever)
        .await
        .expect_err("invalid input");
    let ExecErrorKind::Run(RunError::Input { problems, .. }) = error.kind() else {
        panic!("expected an input error, got {error:?}");
    };
    assert!(
        problems.iter().any(|p| p.pointer == "/job_id"),
        "{problems:?}"
    );
    assert!(lever.calls().is_empty());
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_not_sent_again() {
    let lever = FakeLever::start().await;
    lever.script(Fault::drop_after_body("POST", "/v1/opportunities"));
    let error = run_create(options(), lead_input("lost@example.com", json!({})), &lever)
        .await
        .expect_err("the answer was lost");
    let ExecErrorKind::Transport(transport) = error.kind() else {
        panic!("expected a transport error, got {error:?}");
    };
    assert_eq!(transport.kind, TransportKind::Closed);
    assert!(transport.may_have_reached_provider);
    assert_eq!(transport.attempts, 1);
    assert_eq!(transport.step, "lead");
    assert_eq!(transport.method, HttpMethod::Post);
    assert_eq!(lever.count("POST", "/v1/opportunities"), 1);
    assert_eq!(
        lever.opportunities().len(),
        1,
        "exactly one opportunity exists"
    );
    assert!(!error.is_remote_error());
}

#[tokio::test]
async fn a_create_reset_mid_request_is_not_sent_again() {
    let lever = FakeLever::start().await;
    lever.script(Fault::reset_before_body("POST", "/v1/opportunities"));
    let error = run_create(
        options(),
        lead_input("reset@example.com", json!({})),
        &lever,
    )
    .await
    .expect_err("the connection was reset");
    let ExecErrorKind::Transport(transport) = error.kind() else {
        panic!("expected a transport error, got {error:?}");
    };
    assert!(transport.may_have_reached_provider);
    assert_eq!(transport.attempts, 1);
    assert_eq!(lever.count("POST", "/v1/opportunities"), 1);
}

#[tokio::test]
async fn a_create_that_times_out_is_a_clear_error_and_not_retried() {
    let lever = FakeLever::start().await;
    lever.script(Fault::delay(
        "POST",
        "/v1/opportunities",
        Duration::from_secs(2),
    ));
    let options = ExecutorOptions {
        request_timeout: Some(Duration::from_millis(300)),
        ..options()
    };
    let error = run_create(options, lead_input("slow@example.com", json!({})), &lever)
        .await
        .expect_err("timed out");
    let ExecErrorKind::Transport(transport) = error.kind() else {
        panic!("expected a transport error, got {error:?}");
    };
    assert_eq!(transport.kind, TransportKind::Timeout);
    assert!(transport.may_have_reached_provider);
    assert_eq!(transport.attempts, 1);
    assert_eq!(lever.count("POST", "/v1/opportunities"), 1);
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "request timed out in step `lead` (POST {}/opportunities) after 1 attempt: ",
            lever.base_url()
        )),
        "{message}"
    );
    assert!(
        message.ends_with("; the request may have reached the provider"),
        "{message}"
    );
    assert!(
        !message.contains("perform_as"),
        "no query in messages: {message}"
    );
}

#[tokio::test]
async fn a_create_that_cannot_connect_is_retried_because_nothing_was_sent() {
    let port = closed_port().await;
    let lever = FakeLever::start().await;
    let mut account = account(&lever);
    account.base_url = Some(format!("http://127.0.0.1:{port}/v1"));
    let error = executor(options())
        .run(
            &plan(),
            lead_input("refused@example.com", json!({})),
            &account,
        )
        .await
        .expect_err("nothing listens");
    let ExecErrorKind::Transport(transport) = error.kind() else {
        panic!("expected a transport error, got {error:?}");
    };
    assert_eq!(transport.kind, TransportKind::Connect);
    assert!(!transport.may_have_reached_provider);
    assert_eq!(transport.attempts, fast_retry().max_attempts);
    assert!(
        error
            .to_string()
            .ends_with("; the request did not reach the provider"),
        "{error}"
    );
}

#[tokio::test]
async fn a_tls_failure_is_reported_as_such_and_not_retried() {
    let lever = FakeLever::start().await;
    let mut account = account(&lever);
    // The fake speaks plain HTTP: a TLS handshake with it fails.
    account.base_url = Some(lever.base_url().replacen("http://", "https://", 1));
    let plan = plan();
    let error = executor(options())
        .send(
            plan.integration_plan(),
            &account,
            &get("probe", "/opportunities"),
        )
        .await
        .expect_err("no TLS there");
    let ExecErrorKind::Transport(transport) = error.kind() else {
        panic!("expected a transport error, got {error:?}");
    };
    assert_eq!(transport.kind, TransportKind::Tls, "{error}");
    assert_eq!(transport.attempts, 1);
    assert!(!transport.may_have_reached_provider);
}
