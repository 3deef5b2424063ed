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

/// A server with the connect flow on (callback URL and Lever's OAuth app configured).
async fn connect_server(fake: &FakeOAuth) -> TestServer {
    let mut config = config();
    config.mappings = mappings_with_token_url(fake);
    config.connect_callback_url = Some("https://switchboard.example/connect/callback".to_owned());
    config.executor.oauth_apps.insert(
        "lever".to_owned(),
        OAuthApp {
            client_id: FakeOAuth::CLIENT_ID.to_owned(),
            client_secret: FakeOAuth::CLIENT_SECRET.to_owned(),
        },
    );
    TestServer::start_with(config).await
}

/// `GET /connect/lever` with the admin token, the account's calls going to the fake Lever: the
/// redirect's query parameters.
async fn start_connect(server: &TestServer) -> Vec<(String, String)> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = client
        .get(server.url("/connect/lever"))
        .query(&[("base_url", server.lever.base_url())])
        .bearer_auth(&server.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"]
        .to_str()
        .expect("text")
        .to_owned();
    assert!(
        location.starts_with("https://auth.lever.co/authorize?"),
        "{location}"
    );
    let url = url::Url::parse(&location).expect("url");
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> &'a str {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .unwrap_or_else(|| panic!("no `{name}` in {params:?}"))
}

#[tokio::test]
async fn the_connect_flow_redirects_with_pkce_and_creates_the_account() {
    let fake = FakeOAuth::start().await;
    fake.issue_access_token(FakeLever::ACCESS_TOKEN);
    let mut server = connect_server(&fake).await;
    let params = start_connect(&server).await;
    assert_eq!(param(&params, "client_id"), FakeOAuth::CLIENT_ID);
    assert_eq!(param(&params, "code_challenge_method"), "S256");
    assert_eq!(param(&params, "audience"), "https://api.lever.co/v1/");
    assert!(param(&params, "scope").contains("offline_access"));
    let redirect_uri = param(&params, "redirect_uri");
    assert_eq!(redirect_uri, "https://switchboard.example/connect/callback");
    let code = fake.authorize(param(&params, "code_challenge"), redirect_uri);
    // The provider sends the browser back: no API token.
    let callback = format!(
        "{}?code={code}&state={}",
        server.url("/connect/callback"),
        param(&params, "state")
    );
    let response = reqwest::get(&callback).await.expect("sent");
    assert_eq!(response.status(), 201);
    let account: Value = response.json().await.expect("json");
    assert_eq!(account["integration"], "lever");
    assert_eq!(
        account["secret_keys"],
        json!(["access_token", "refresh_token"])
    );
    assert!(!account.to_string().contains(FakeLever::ACCESS_TOKEN));
    // The tokens' expiry is recorded, sealed, from the start.
    server.account = account["id"].as_str().expect("id").to_owned();
    let record = server
        .store
        .oauth_tokens_load(&server.account)
        .await
        .expect("store");
    assert_eq!(record.version, 1);
    // The connected account works, and the code cannot be used twice.
    let (status, _) = send_json(server.create(&applicant(), &candidate("ada@example.com"))).await;
    assert_eq!(status, 201);
    let again = reqwest::get(&callback).await.expect("sent");
    assert_eq!(again.status(), 400, "a used code is invalid_grant");
}

#[tokio::test]
async fn a_callback_with_an_altered_state_or_a_wrong_verifier_creates_nothing() {
    let fake = FakeOAuth::start().await;
    let server = connect_server(&fake).await;
    let params = start_connect(&server).await;
    let redirect_uri = param(&params, "redirect_uri");
    let code = fake.authorize(param(&params, "code_challenge"), redirect_uri);
    let altered = format!("{}x", param(&params, "state"));
    let response = reqwest::get(format!(
        "{}?code={code}&state={altered}",
        server.url("/connect/callback")
    ))
    .await
    .expect("sent");
    assert_eq!(response.status(), 400);
    // A code issued for another challenge fails PKCE at the token endpoint.
    let stolen = fake.authorize("another-challenge", redirect_uri);
    let response = reqwest::get(format!(
        "{}?code={stolen}&state={}",
        server.url("/connect/callback"),
        param(&params, "state")
    ))
    .await
    .expect("sent");
    assert_eq!(response.status(), 400);
    let (_, accounts) = send_json(server.get("/integrated-account")).await;
    assert_eq!(
        accounts["result_count"], 1,
        "only the harness's own account"
    );
}
