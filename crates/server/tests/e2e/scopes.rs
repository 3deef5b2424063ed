//! Who may do what: token scopes, accounts a token is restricted to, and stored credentials
//! that never follow a new destination.

use std::sync::{Arc, Mutex};

use serde_json::json;
use switchboard_server::TokenScope;
use switchboard_testkit::fake_lever::FakeLever;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::common::{TestServer, applicant, candidate, candidates_path, envelope, send, send_json};

/// A loopback server that records the head of every request it gets and answers 404: where an
/// attacker would point an account.
struct Echo {
    base_url: String,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Echo {
    async fn start() -> Echo {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base_url = format!("http://{}/steal", listener.local_addr().expect("addr"));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65_536 {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    seen.lock()
                        .expect("lock")
                        .push(String::from_utf8_lossy(&head).into_owned());
                    let _ = stream
                        .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{}")
                        .await;
                });
            }
        });
        Echo { base_url, heads }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().expect("lock").clone()
    }
}

/// The `Authorization` header the fake Lever key makes.
fn stored_key_header() -> String {
    FakeLever::basic_authorization()
}

#[tokio::test]
async fn a_unified_token_cannot_manage_accounts_or_read_the_log() {
    let server = TestServer::start().await;
    let token = server.scoped_token(TokenScope::Unified, &[]).await;
    let account = format!("/integrated-account/{}", server.account);
    let client = &server.client;
    let url = |path: &str| server.url(path);
    for request in [
        client.get(url("/integrated-account")),
        client
            .post(url("/integrated-account"))
            .json(&json!({"integration": "lever"})),
        client.get(url(&account)),
        client
            .patch(url(&account))
            .json(&json!({"base_url": "http://127.0.0.1:1/x"})),
        client.delete(url(&account)),
        client.get(url("/log")),
    ] {
        let (status, body) = send_json(request.bearer_auth(&token)).await;
        assert_eq!(status, 403, "{body}");
        envelope(403, &body);
        assert_eq!(body["code"], "forbidden");
        assert!(
            body["message"]
                .as_str()
                .expect("message")
                .contains("`admin`"),
            "{body}"
        );
    }
    let (status, view) = send_json(server.get(&account)).await;
    assert_eq!(status, 200, "the account is untouched: {view}");
    assert_eq!(view["base_url"], server.lever.base_url());

    // What a client app needs still works.
    let response = send(
        client
            .post(url(&candidates_path(&server.account, &applicant())))
            .bearer_auth(&token)
            .json(&candidate("unified@example.com")),
    )
    .await;
    assert_eq!(response.status(), 201);
    for path in [
        format!(
            "/unified/ats/candidates/meta/create?integrated_account_id={}",
            server.account
        ),
        "/unified/ats/candidates/lever/meta/create".to_owned(),
        "/openapi.json".to_owned(),
    ] {
        let response = send(client.get(url(&path)).bearer_auth(&token)).await;
        assert_eq!(response.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn a_token_restricted_to_accounts_sees_no_other_account() {
    let server = TestServer::start().await;
    let other = server
        .create_account(json!({"api_key": FakeLever::API_KEY, "perform_as": FakeLever::USER_ID}))
        .await;
    let token = server
        .scoped_token(TokenScope::Unified, &[server.account.as_str()])
        .await;
    let calls = server.lever.calls().len();
    let (status, refused) = send_json(
        server
            .client
            .post(server.url(&candidates_path(&other, &applicant())))
            .bearer_auth(&token)
            .json(&candidate("other@example.com")),
    )
    .await;
    assert_eq!(status, 404, "{refused}");
    assert_eq!(refused["code"], "account_not_found");
    assert_eq!(
        server.lever.calls().len(),
        calls,
        "the provider saw nothing"
    );
    // Indistinguishable from an account that does not exist.
    let (status, missing) = send_json(
        server
            .client
            .post(server.url(&candidates_path("no-such-account", &applicant())))
            .bearer_auth(&token)
            .json(&candidate("other@example.com")),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        missing["message"]
            .as_str()
            .map(|m| m.replace("no-such-account", &other)),
        refused["message"].as_str().map(str::to_owned)
    );
    let (status, _) = send_json(
        server
            .client
            .get(server.url(&format!(
                "/unified/ats/candidates/meta/create?integrated_account_id={other}"
            )))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(status, 404);

    let own = send(
        server
            .client
            .post(server.url(&candidates_path(&server.account, &applicant())))
            .bearer_auth(&token)
            .json(&candidate("own@example.com")),
    )
    .await;
    assert_eq!(own.status(), 201);
}

#[tokio::test]
async fn stored_credentials_never_follow_a_new_base_url() {
    let server = TestServer::start().await;
    let echo = Echo::start().await;
    let path = format!("/integrated-account/{}", server.account);

    let (status, body) = send_json(
        server
            .patch(&path)
            .json(&json!({"base_url": echo.base_url})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    envelope(400, &body);
    assert_eq!(body["code"], "credentials_required");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("`base_url`"),
        "{body}"
    );
    let unified = server.scoped_token(TokenScope::Unified, &[]).await;
    let forbidden = send(
        server
            .client
            .patch(server.url(&path))
            .bearer_auth(&unified)
            .json(&json!({"base_url": echo.base_url, "context": {"api_key": "k"}})),
    )
    .await;
    assert_eq!(forbidden.status(), 403);

    let response = send(server.create(&applicant(), &candidate("after@example.com"))).await;
    assert_eq!(
        response.status(),
        201,
        "the account still calls the fake Lever"
    );
    assert!(echo.heads().is_empty(), "{:?}", echo.heads());

    // Moving the account with its credentials sent again: only the new ones go there.
    let (status, view) = send_json(server.patch(&path).json(
        &json!({"base_url": echo.base_url, "context": {"api_key": "attacker-supplied-key"}}),
    ))
    .await;
    assert_eq!(status, 200, "{view}");
    let _ = send(server.create(&applicant(), &candidate("moved@example.com"))).await;
    let heads = echo.heads().join("\n");
    assert!(
        !heads.is_empty(),
        "the moved account calls its new base URL"
    );
    assert!(!heads.contains(&stored_key_header()), "{heads}");
}

#[tokio::test]
async fn base_urls_with_a_fragment_query_or_credentials_are_refused() {
    let server = TestServer::start().await;
    let path = format!("/integrated-account/{}", server.account);
    for (base_url, why) in [
        ("http://127.0.0.1:1/internal#", "fragment"),
        ("http://127.0.0.1:1/internal?x=", "query"),
        ("http://user:secret@127.0.0.1:1/v1", "credentials"),
    ] {
        let (status, body) = send_json(server.post("/integrated-account").json(&json!({
            "integration": "lever", "base_url": base_url, "context": {"api_key": "k"}
        })))
        .await;
        assert_eq!(status, 400, "{base_url}: {body}");
        let text = body.to_string();
        assert!(text.contains("`base_url`") && text.contains(why), "{text}");
        assert!(
            !text.contains("secret"),
            "the refusal does not echo a password: {text}"
        );

        let (status, body) = send_json(
            server
                .patch(&path)
                .json(&json!({"base_url": base_url, "context": {"api_key": "k"}})),
        )
        .await;
        assert_eq!(status, 400, "{base_url}: {body}");
        assert!(body.to_string().contains(why), "{body}");
    }
    let (status, list) = send_json(server.get("/integrated-account")).await;
    assert_eq!(status, 200);
    assert_eq!(list["result_count"], 1, "nothing was stored: {list}");
}

#[tokio::test]
async fn a_stored_base_url_with_credentials_is_not_shown() {
    let server = TestServer::start().await;
    let mut stored = server
        .store
        .get_account(&server.account)
        .await
        .expect("read")
        .expect("account");
    stored.base_url = Some("http://user:hunter2@127.0.0.1:1/v1".into());
    assert!(server.store.update_account(&stored).await.expect("written"));
    let path = format!("/integrated-account/{}", server.account);
    let (_, view) = send_json(server.get(&path)).await;
    assert_eq!(view["base_url"], "http://redacted@127.0.0.1:1/v1");
    let (_, list) = send_json(server.get("/integrated-account")).await;
    assert!(!list.to_string().contains("hunter2"), "{list}");
}
