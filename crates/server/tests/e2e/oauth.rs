//! OAuth accounts through the server: Lever's own mapping with its authorization-code scheme
//! pointed at the fake OAuth token server. A refresh before the first call stores the rotated
//! tokens sealed in the database; a refused grant answers `401 needs_reauth` and holds the
//! account.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use switchboard_executor::OAuthApp;
use switchboard_testkit::fake_lever::FakeLever;
use switchboard_testkit::fake_oauth::FakeOAuth;

use crate::common::{TestServer, applicant, candidate, config, repo, send_json};

/// A copy of the repository's mappings whose Lever token URL is the fake's.
fn mappings_with_token_url(fake: &FakeOAuth) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let root =
        std::env::temp_dir().join(format!("switchboard-oauth-{}-{nanos}", std::process::id()));
    copy_dir(&repo().join("mappings"), &root);
    let integration = root.join("lever/integration.yaml");
    let text = std::fs::read_to_string(&integration).expect("read");
    let text = text.replace(
        "https://auth.lever.co/oauth/token",
        &format!("{}/token", fake.url()),
    );
    std::fs::write(&integration, text).expect("write");
    root
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

async fn server(fake: &FakeOAuth) -> TestServer {
    let mut config = config();
    config.mappings = mappings_with_token_url(fake);
    config.executor.oauth_apps.insert(
        "lever".to_owned(),
        OAuthApp {
            client_id: FakeOAuth::CLIENT_ID.to_owned(),
            client_secret: FakeOAuth::CLIENT_SECRET.to_owned(),
        },
    );
    TestServer::start_with(config).await
}

#[tokio::test]
async fn a_refresh_token_account_is_renewed_and_its_rotated_tokens_stored_sealed() {
    let fake = FakeOAuth::start().await;
    fake.issue_access_token(FakeLever::ACCESS_TOKEN);
    let (_, refresh) = fake.grant_tokens();
    let mut server = server(&fake).await;
    server.account = server
        .create_account(json!({"refresh_token": refresh, "perform_as": FakeLever::USER_ID}))
        .await;
    let (status, record) =
        send_json(server.create(&applicant(), &candidate("ada@example.com"))).await;
    assert_eq!(status, 201, "{record}");
    assert_eq!(fake.token_requests("refresh_token"), 1);
    assert!(!fake.refresh_token_is_live(&refresh), "rotated");
    let stored = server
        .store
        .oauth_tokens_load(&server.account)
        .await
        .expect("store");
    assert_eq!(stored.version, 1);
    let sealed = String::from_utf8_lossy(stored.sealed.as_deref().expect("sealed"));
    assert!(
        !sealed.contains(FakeLever::ACCESS_TOKEN),
        "sealed, not clear"
    );
    // A second create uses the stored token: no renewal.
    let (status, _) = send_json(server.create(&applicant(), &candidate("bob@example.com"))).await;
    assert_eq!(status, 201);
    assert_eq!(fake.token_requests("refresh_token"), 1);
}

#[tokio::test]
async fn a_refused_grant_answers_needs_reauth_and_holds_the_account() {
    let fake = FakeOAuth::start().await;
    let mut server = server(&fake).await;
    server.account = server
        .create_account(
            json!({"refresh_token": "revoked-refresh-token", "perform_as": FakeLever::USER_ID}),
        )
        .await;
    let (status, body) =
        send_json(server.create(&applicant(), &candidate("ada@example.com"))).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "needs_reauth");
    assert_eq!(body["account_status"], "needs_reauth");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("invalid_grant")),
        "{body}"
    );
    assert!(!body.to_string().contains("revoked-refresh-token"));
    assert!(
        server.lever.calls().is_empty(),
        "nothing reached the provider"
    );
    let (_, account) =
        send_json(server.get(&format!("/integrated-account/{}", server.account))).await;
    assert_eq!(account["status"], Value::from("needs_reauth"));
}
