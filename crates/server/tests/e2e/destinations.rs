//! Where the gateway may call: an account whose base URL points at loopback, private, link-local
//! or metadata addresses is refused before anything is sent, unless the operator allows it.

use serde_json::{Value, json};
use switchboard_testkit::fake_lever::FakeLever;

use crate::common::{
    TestServer, applicant, candidate, candidates_path, config, envelope, send_json,
};

/// Creates an account on `base_url`; returns its id.
async fn account_at(server: &TestServer, base_url: &str) -> String {
    let (status, body) = send_json(server.post("/integrated-account").json(&json!({
        "integration": "lever",
        "base_url": base_url,
        "context": {"api_key": FakeLever::API_KEY, "perform_as": FakeLever::USER_ID},
    })))
    .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().expect("id").to_owned()
}

/// Sends the contract's create for `account`.
async fn create_for(server: &TestServer, account: &str) -> (u16, Value) {
    send_json(
        server
            .post(&candidates_path(account, &applicant()))
            .json(&candidate("internal@example.com")),
    )
    .await
}

#[tokio::test]
async fn internal_provider_addresses_are_refused_and_nothing_is_sent() {
    let mut config = config();
    config.executor.allow_private_provider_urls = false;
    let server = TestServer::start_with(config).await;
    let port = server
        .lever
        .base_url()
        .rsplit(':')
        .next()
        .and_then(|rest| rest.split('/').next())
        .expect("a port")
        .to_owned();
    for (base_url, address) in [
        (server.lever.base_url(), "127.0.0.1"),
        (format!("http://[::1]:{port}/v1"), "::1"),
        (format!("http://0.0.0.0:{port}/v1"), "0.0.0.0"),
        (
            "http://169.254.169.254/latest".to_owned(),
            "169.254.169.254",
        ),
        (format!("http://localhost:{port}/v1"), ""),
    ] {
        let account = account_at(&server, &base_url).await;
        let (status, body) = create_for(&server, &account).await;
        envelope(422, &body);
        assert_eq!(status, 422, "{base_url}: {body}");
        assert_eq!(body["code"], "provider_address_forbidden", "{body}");
        assert_eq!(body["remote_step"], "apply", "{body}");
        let refused = body["address"].as_str().expect("the address");
        assert!(refused.contains(address), "{base_url}: {refused}");
        assert!(body.get("raw_response").is_none(), "{body}");
    }
    // An obfuscated literal (a 32-bit number for 127.0.0.1) is not a base URL at all: refused
    // when the account is made, so no call can be tried (the executor refuses it too).
    let (status, body) = send_json(server.post("/integrated-account").json(&json!({
        "integration": "lever",
        "base_url": format!("http://2130706433:{port}/v1"),
        "context": {"api_key": FakeLever::API_KEY, "perform_as": FakeLever::USER_ID},
    })))
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "invalid_account", "{body}");
    assert!(server.lever.calls().is_empty(), "nothing reached the fake");
    let (status, _) = send_json(server.client.get(server.url("/health"))).await;
    assert_eq!(status, 200, "the server is still up");
}

#[tokio::test]
async fn an_allowed_provider_host_is_called_and_others_are_still_refused() {
    let mut config = config();
    config.executor.allow_private_provider_urls = false;
    config.executor.allowed_provider_hosts = vec!["127.0.0.1".to_owned()];
    let server = TestServer::start_with(config).await;
    let (status, body) = create_for(&server, &server.account).await;
    assert_eq!(status, 201, "{body}");
    let calls = server.lever.calls().len();
    let localhost = server.lever.base_url().replace("127.0.0.1", "localhost");
    let account = account_at(&server, &localhost).await;
    let (status, body) = create_for(&server, &account).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "provider_address_forbidden", "{body}");
    assert_eq!(server.lever.calls().len(), calls, "nothing more was sent");
}
