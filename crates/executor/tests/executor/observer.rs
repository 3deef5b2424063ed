//! The observer hears of every provider call's end, every retry and every rate-limit wait, by
//! integration and step.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::json;
use switchboard_executor::{CallEvent, CallStatus, ExecutorOptions, Observer, RetryReason};
use switchboard_testkit::fake_lever::{FakeLever, Fault};

use crate::common::{account, executor, get, lead_input, options, plan, run_create};

/// Every event, as text, in the order heard.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Recorder {
    fn heard(&self) -> Vec<String> {
        self.0.lock().expect("not poisoned").clone()
    }

    fn push(&self, event: String) {
        self.0.lock().expect("not poisoned").push(event);
    }
}

impl Observer for Recorder {
    fn provider_call(&self, event: &CallEvent<'_>) {
        self.push(format!(
            "call {} {} {:?}",
            event.integration, event.step, event.status
        ));
    }

    fn retry(&self, integration: &str, step: &str, reason: RetryReason) {
        self.push(format!("retry {integration} {step} {reason:?}"));
    }

    fn rate_limit_wait(&self, integration: &str, waited: Duration) {
        assert!(!waited.is_zero());
        self.push(format!("wait {integration}"));
    }

    fn rate_limit_refused(&self, integration: &str) {
        self.push(format!("refused {integration}"));
    }
}

fn observed(recorder: &Arc<Recorder>) -> ExecutorOptions {
    ExecutorOptions {
        observer: Some(recorder.clone()),
        ..options()
    }
}

#[tokio::test]
async fn each_call_and_each_retry_is_heard_once() {
    let lever = FakeLever::start().await;
    lever.script(Fault::status("POST", "/v1/opportunities", 503).retry_after("0"));
    let recorder = Arc::new(Recorder::default());
    run_create(
        observed(&recorder),
        lead_input("seen@example.com", json!({})),
        &lever,
    )
    .await
    .expect("the retry succeeds");
    let heard = recorder.heard();
    assert_eq!(
        heard.first().map(String::as_str),
        Some("retry lever lead Status(503)"),
        "{heard:?}"
    );
    assert!(
        heard.contains(&format!("call lever lead {:?}", CallStatus::Answered(201))),
        "{heard:?}"
    );
    let calls = heard.iter().filter(|e| e.starts_with("call ")).count();
    assert_eq!(calls, lever.calls().len() - 1, "{heard:?}");
}

#[tokio::test]
async fn a_failed_call_is_heard_with_why() {
    let recorder = Arc::new(Recorder::default());
    let lever = FakeLever::start().await;
    let mut account = account(&lever);
    // Nothing listens there: the connection is refused.
    account.base_url = Some("http://127.0.0.1:9/v1".to_owned());
    let request = get("probe", "/opportunities");
    let mut options = observed(&recorder);
    options.retry.as_mut().expect("set").max_attempts = 1;
    executor(options)
        .send(plan().integration_plan(), &account, &request)
        .await
        .expect_err("refused");
    assert_eq!(
        recorder.heard(),
        vec!["call lever probe Failed(\"connect\")"]
    );
}

#[tokio::test]
async fn waits_for_the_rate_limit_are_heard() {
    let lever = FakeLever::start().await;
    let recorder = Arc::new(Recorder::default());
    let executor = executor(observed(&recorder));
    let account = account(&lever);
    let plan = plan();
    let request = get("probe", "/opportunities");
    // Lever's default bucket holds 20 and refills 10 a second: of 30 calls made at once, some
    // wait.
    let sends = (0..30).map(|_| executor.send(plan.integration_plan(), &account, &request));
    for result in join_all(sends).await {
        result.expect("sent");
    }
    let heard = recorder.heard();
    let waits = heard.iter().filter(|e| *e == "wait lever").count();
    assert!((1..=10).contains(&waits), "{heard:?}");
    assert_eq!(
        heard
            .iter()
            .filter(|e| e.starts_with("call lever probe"))
            .count(),
        30
    );
}
