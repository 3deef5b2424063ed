//! Page URLs a provider gave are sent only below the account's base URL, and reads over POST
//! are retried like idempotent calls.

use switchboard_core::{HttpMethod, RunError};
use switchboard_executor::ExecErrorKind;
use switchboard_testkit::fake_lever::{FakeLever, Fault};

use crate::common::{account, executor, fast_retry, get, options, plan};

#[tokio::test]
async fn a_page_url_is_followed_below_the_base_url_and_nowhere_else() {
    let lever = FakeLever::start().await;
    let plan = plan();
    let executor = executor(options());
    let mut request = get("list", "/ignored");
    request.page_url = Some(format!("{}/postings?limit=1&offset=0", lever.base_url()));
    let exchange = executor
        .send(plan.integration_plan(), &account(&lever), &request)
        .await
        .expect("sent");
    assert_eq!(exchange.status, 200);
    assert_eq!(lever.count("GET", "/v1/postings"), 1);

    let other_port = lever.base_url().replacen("127.0.0.1:", "127.0.0.1:1", 1);
    for elsewhere in [
        "http://example.com/v1/postings".to_owned(),
        format!("{other_port}/postings"),
        lever.base_url().replacen("/v1", "/files/secret", 1),
    ] {
        let mut request = get("list", "/ignored");
        request.page_url = Some(elsewhere.clone());
        let error = executor
            .send(plan.integration_plan(), &account(&lever), &request)
            .await
            .expect_err("refused");
        assert!(
            matches!(error.kind(), ExecErrorKind::Run(RunError::Mapping { .. })),
            "{elsewhere}: {error:?}"
        );
    }
    assert_eq!(lever.calls().len(), 1, "nothing else was sent");
}

#[tokio::test]
async fn a_read_over_post_is_retried_on_a_bare_503_and_a_create_is_not() {
    let lever = FakeLever::start().await;
    let plan = plan();
    let executor = executor(switchboard_executor::ExecutorOptions {
        retry: Some(fast_retry()),
        ..options()
    });
    let path = format!("/postings/{}/apply", FakeLever::POSTING_ID);
    let mut read = get("form", &path);
    read.method = HttpMethod::Post;
    read.read_only = true;
    lever.script(Fault::status("POST", &format!("/v1{path}"), 503));
    let exchange = executor
        .send(plan.integration_plan(), &account(&lever), &read)
        .await
        .expect("answered");
    assert_eq!(exchange.attempts, 2, "retried once the 503 was gone");

    read.read_only = false;
    lever.script(Fault::status("POST", &format!("/v1{path}"), 503));
    let exchange = executor
        .send(plan.integration_plan(), &account(&lever), &read)
        .await
        .expect("answered");
    assert_eq!(
        (exchange.status, exchange.attempts),
        (503, 1),
        "a create is not re-sent"
    );
}
