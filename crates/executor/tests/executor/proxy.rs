//! A proxy is used only when the operator configures one, and the address guard still holds
//! through it: targets are looked up and checked before anything reaches the proxy.

use std::sync::atomic::Ordering;

use serde_json::json;
use switchboard_executor::{ExecErrorKind, ExecutorOptions, FileErrorKind};
use switchboard_testkit::fake_lever::FakeLever;
use switchboard_testkit::listener::counting_listener;

use crate::common::{account, applicant_input, executor, lead_input, options, plan};

#[tokio::test]
async fn through_a_proxy_internal_providers_and_files_are_still_refused() {
    let (proxy, proxied) = counting_listener().await;
    let lever = FakeLever::start().await;
    let options = ExecutorOptions {
        proxy: Some(proxy),
        allow_private_provider_urls: false,
        allow_private_file_urls: false,
        ..options()
    };
    let mut internal = account(&lever);
    internal.base_url = Some(lever.base_url().replace("127.0.0.1", "localhost"));
    let error = executor(options.clone())
        .run(
            &plan(),
            lead_input("proxied@example.com", json!({})),
            &internal,
        )
        .await
        .expect_err("refused");
    assert!(
        matches!(error.kind(), ExecErrorKind::ForbiddenAddress { address, .. } if address.is_loopback()),
        "{error:?}"
    );

    // The provider's host is allowed, the file's is not.
    let options = ExecutorOptions {
        allowed_provider_hosts: vec!["localhost".to_owned()],
        ..options
    };
    let file = lever
        .serve_file("cv.pdf", "application/pdf", b"%PDF".to_vec())
        .replace("127.0.0.1", "localhost");
    let error = executor(options)
        .run(
            &plan(),
            applicant_input(
                "proxiedfile@example.com",
                json!({"attachments": [{"file_name": "cv.pdf", "file_url": file}]}),
            ),
            &internal,
        )
        .await
        .expect_err("refused");
    let ExecErrorKind::File(refused) = error.kind() else {
        panic!("expected a file error, got {error:?}");
    };
    assert!(
        matches!(refused.kind, FileErrorKind::ForbiddenAddress { address } if address.is_loopback()),
        "{error:?}"
    );
    assert_eq!(
        proxied.load(Ordering::SeqCst),
        0,
        "nothing reached the proxy"
    );
    assert!(lever.calls().is_empty(), "nothing reached the provider");
}

#[tokio::test]
async fn a_configured_proxy_carries_allowed_calls() {
    let (proxy, proxied) = counting_listener().await;
    let lever = FakeLever::start().await;
    let options = ExecutorOptions {
        proxy: Some(proxy),
        allow_private_provider_urls: false,
        allowed_provider_hosts: vec!["127.0.0.1".to_owned()],
        ..options()
    };
    let error = executor(options)
        .run(
            &plan(),
            lead_input("via@example.com", json!({})),
            &account(&lever),
        )
        .await
        .expect_err("the proxy hangs up");
    assert!(
        matches!(error.kind(), ExecErrorKind::Transport(_)),
        "{error:?}"
    );
    assert_eq!(
        proxied.load(Ordering::SeqCst),
        1,
        "the call went to the proxy"
    );
    assert!(lever.calls().is_empty(), "not to the provider directly");
}

#[test]
fn a_proxy_that_is_not_a_url_fails_the_executor_without_showing_its_password() {
    let error = switchboard_executor::Executor::new(ExecutorOptions {
        proxy: Some("http://user:hunter2@[bad".to_owned()),
        ..ExecutorOptions::default()
    })
    .expect_err("not a url");
    let message = error.to_string();
    assert!(message.contains("the proxy"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}
