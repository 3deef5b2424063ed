//! `/integrated-account`: validation, secrets never returned, encryption at rest.

use serde_json::{Value, json};
use switchboard_testkit::fake_lever::FakeLever;

use switchboard_server::ServeConfig;

use crate::common::{
    TestServer, candidates_path, config_for, envelope, lead, person, send, send_json,
};

/// A second API token on the same server.
pub(crate) async fn second_token(server: &TestServer) -> String {
    server.extra_token().await
}

#[tokio::test]
async fn secrets_are_never_returned() {
    let server = TestServer::start().await;
    let (status, view) =
        send_json(server.get(&format!("/integrated-account/{}", server.account))).await;
    assert_eq!(status, 200);
    assert_eq!(view["integration"], "lever");
    assert_eq!(view["context"], json!({"perform_as": FakeLever::USER_ID}));
    assert_eq!(view["secret_keys"], json!(["api_key"]));
    assert_eq!(view["base_url"], server.lever.base_url());
    let text = view.to_string();
    assert!(!text.contains(FakeLever::API_KEY), "{text}");

    let (_, list) = send_json(server.get("/integrated-account")).await;
    assert!(!list.to_string().contains(FakeLever::API_KEY));
    assert_eq!(list["result"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn invalid_accounts_are_400_with_every_problem() {
    let server = TestServer::start().await;
    let post = |body: Value| send_json(server.post("/integrated-account").json(&body));
    let (status, body) = post(json!({"integration": "nope", "context": {}})).await;
    assert_eq!(status, 400);
    envelope(400, &body);
    assert_eq!(body["code"], "unknown_integration");

    let (status, body) = post(
        json!({"integration": "lever", "environment": "staging", "context": {"colour": "red"}}),
    )
    .await;
    assert_eq!(status, 400);
    let failures = body["details"]["failures"].as_array().expect("failures");
    let text = Value::Array(failures.clone()).to_string();
    assert!(text.contains("staging"), "{text}");
    assert!(text.contains("colour"), "{text}");
    assert!(text.contains("no credentials"), "{text}");

    let (status, _) = post(
        json!({"integration": "lever", "environment": "sandbox", "context": {"api_key": "k"}}),
    )
    .await;
    assert_eq!(status, 201, "sandbox is one of Lever's environments");

    let (status, body) = post(json!({"integration": "lever", "extra": 1})).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().expect("message").contains("extra"));
}

#[tokio::test]
async fn accounts_can_be_changed_and_deleted() {
    let server = TestServer::start().await;
    let path = format!("/integrated-account/{}", server.account);
    let (status, view) = send_json(
        server
            .patch(&path)
            .json(&json!({"context": {"perform_as": null, "access_token": "t0k3n"}})),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["context"], json!({}));
    assert_eq!(view["secret_keys"], json!(["access_token", "api_key"]));
    assert!(!view.to_string().contains("t0k3n"));

    let (status, body) = send_json(server.delete(&path)).await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], server.account);
    let (status, body) = send_json(server.get(&path)).await;
    assert_eq!(status, 404);
    envelope(404, &body);
}

#[tokio::test]
async fn credentials_are_encrypted_at_rest_and_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("switchboard-test-{}", uuid_like()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db = dir.join("switchboard.db");
    let first = TestServer::start_with(config_for(&db)).await;
    let account = first.account.clone();
    #[cfg(unix)]
    for name in ["switchboard.db", "switchboard.db-wal", "switchboard.db-shm"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name} is private");
    }
    first.stop().await;
    let mut key_file = false;
    for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
        // SQLite may still be removing its -wal and -shm files as the pool finishes closing.
        let Ok(bytes) = std::fs::read(entry.path()) else {
            continue;
        };
        let key = FakeLever::API_KEY.as_bytes();
        assert!(
            !bytes.windows(key.len()).any(|w| w == key),
            "{:?} holds the credential",
            entry.path()
        );
        key_file |= entry.file_name() == "switchboard.key";
    }
    assert!(key_file, "a key file is created next to the database");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("switchboard.key"))
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Restart on the same database and key: the old account's credential still opens. The
    // account moves to the new fake (a new destination), so its credential is sent again.
    let second = TestServer::start_with(config_for(&db)).await;
    let response = send(
        second
            .patch(&format!("/integrated-account/{account}"))
            .json(&json!({"base_url": second.lever.base_url(), "context": {"api_key": FakeLever::API_KEY}})),
    )
    .await;
    assert_eq!(response.status(), 200);
    let path = candidates_path(&account, &lead());
    let response = send(second.post(&path).json(&person("Re", "re@x.io"))).await;
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    second.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_key_file_can_live_outside_the_data_folder() {
    let dir = std::env::temp_dir().join(format!("switchboard-test-{}", uuid_like()));
    let (data, keys) = (dir.join("data"), dir.join("keys"));
    std::fs::create_dir_all(&data).expect("data dir");
    std::fs::create_dir_all(&keys).expect("keys dir");
    let key_file = keys.join("switchboard.key");
    let config = ServeConfig {
        secret_key_file: Some(key_file.clone()),
        ..config_for(&data.join("switchboard.db"))
    };
    let server = TestServer::start_with(config).await;
    assert!(
        key_file.exists(),
        "the key is created where it was asked for"
    );
    assert!(
        !data.join("switchboard.key").exists(),
        "and not next to the database"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file)
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    server.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn credentials_copied_to_another_account_do_not_open() {
    let server = TestServer::start().await;
    let victim = server
        .create_account(json!({"api_key": FakeLever::API_KEY, "perform_as": FakeLever::USER_ID}))
        .await;
    let attacker = server
        .create_account(json!({"api_key": "attackers-own-key", "perform_as": FakeLever::USER_ID}))
        .await;
    let store = server.store.clone();
    let read = |id: String| {
        let store = store.clone();
        async move { store.get_account(&id).await.expect("read").expect("exists") }
    };
    let (victim, mut copied) = (read(victim).await, read(attacker.clone()).await);
    copied.sealed_secrets = victim.sealed_secrets.clone();
    assert!(server.store.update_account(&copied).await.expect("written"));

    let calls = server.lever.calls().len();
    let path = candidates_path(&attacker, &lead());
    let (status, body) = send_json(server.post(&path).json(&person("Mal", "mal@x.io"))).await;
    assert_eq!(status, 500, "{body}");
    assert!(!body.to_string().contains(FakeLever::API_KEY));
    assert_eq!(
        server.lever.calls().len(),
        calls,
        "nothing reached the provider"
    );
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}-{nanos}", std::process::id())
}

#[tokio::test]
async fn a_provider_401_holds_the_account_until_its_credentials_are_updated() {
    let server = TestServer::start().await;
    let account = server
        .create_account(json!({"api_key": "revoked", "perform_as": FakeLever::USER_ID}))
        .await;
    let path = format!("/integrated-account/{account}");
    let (_, view) = send_json(server.get(&path)).await;
    assert_eq!(view["status"], "active");

    let (status, body) = send_json(
        server
            .post(&candidates_path(&account, &lead()))
            .json(&person("A", "a@x.io")),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["truto_is_remote_error"], true);
    assert_eq!(body["account_status"], "needs_reauth");
    let (_, view) = send_json(server.get(&path)).await;
    assert_eq!(view["status"], "needs_reauth");
    let (_, list) = send_json(server.get("/integrated-account")).await;
    let listed = list["result"]
        .as_array()
        .expect("list")
        .iter()
        .find(|a| a["id"] == account.as_str())
        .expect("listed");
    assert_eq!(listed["status"], "needs_reauth");

    // While refused, unified calls answer 401 without calling the provider.
    let calls = server.lever.calls().len();
    let (status, body) = send_json(
        server
            .post(&candidates_path(&account, &lead()))
            .json(&person("B", "b@x.io")),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    envelope(401, &body);
    assert_eq!(body["code"], "needs_reauth");
    assert_eq!(body["is_remote_error"], true);
    assert_eq!(body["truto_is_remote_error"], true);
    assert_eq!(
        server.lever.calls().len(),
        calls,
        "the provider was not called"
    );

    // A change that is not a credential keeps the hold; new credentials lift it.
    let (_, view) = send_json(
        server
            .patch(&path)
            .json(&json!({"context": {"perform_as": FakeLever::USER_ID}})),
    )
    .await;
    assert_eq!(view["status"], "needs_reauth");
    let (status, view) = send_json(
        server
            .patch(&path)
            .json(&json!({"context": {"api_key": FakeLever::API_KEY}})),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["status"], "active");
    let (status, body) = send_json(
        server
            .post(&candidates_path(&account, &lead()))
            .json(&person("C", "c@x.io")),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

/// Issue 11, item 10: a context value a base URL is built from must be usable in a URL as it
/// is, as the OpenAPI document's account schema says — whether or not `base_url` is given.
#[tokio::test]
async fn base_url_context_values_must_fit_in_a_url() {
    let server = TestServer::start().await;
    let post = |body: Value| send_json(server.post("/integrated-account").json(&body));
    for subdomain in [json!({}), json!(5), json!("a/b"), json!(".x"), json!("")] {
        let context = json!({"access_token": "t", "subdomain": subdomain});
        let (status, body) = post(json!({"integration": "workable", "context": context})).await;
        assert_eq!(status, 400, "{subdomain}: {body}");
        let (status, _) = post(json!({"integration": "workable", "context": context,
                                      "base_url": "https://api.example.com/spi/v3"}))
        .await;
        assert_eq!(status, 400, "{subdomain} with a base_url");
    }
    let context = json!({"access_token": "t", "subdomain": "acme-1"});
    let (status, body) = post(json!({"integration": "workable", "context": context})).await;
    assert_eq!(status, 201, "{body}");
}

/// Issue 11, item 10 (found by schemathesis): an account body that is not a JSON object is a
/// 400, never read as a struct from an array.
#[tokio::test]
async fn an_account_body_must_be_an_object() {
    let server = TestServer::start().await;
    let path = format!("/integrated-account/{}", server.account);
    let (status, body) = send_json(server.patch(&path).json(&json!([null, null]))).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "invalid_account");
    let (status, _) = send_json(
        server
            .post("/integrated-account")
            .json(&json!(["lever", null, null, {"api_key": "k"}])),
    )
    .await;
    assert_eq!(status, 400);
}
