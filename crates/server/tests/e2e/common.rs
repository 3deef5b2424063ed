//! The harness: a server over an in-memory store, a token, a fake Lever and an account on it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::{Client, RequestBuilder, Response};
use serde_json::{Value, json};
use std::sync::Arc;
use switchboard_core::RetryPolicy;

use switchboard_server::{ServeConfig, Server, Store, TokenScope, create_token};
use switchboard_testkit::fake_lever::FakeLever;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The repository root (mappings/, schemas/).
pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A config for tests: memory store, free port, the repository's mappings, one attempt per
/// call (faults are deterministic), short timeouts, loopback providers (the fake Lever) and file
/// URLs allowed.
pub(crate) fn config() -> ServeConfig {
    let mut config = ServeConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        database: "sqlite::memory:".to_owned(),
        mappings: repo().join("mappings"),
        schemas: repo().join("schemas"),
        idempotency_wait: Duration::from_secs(20),
        ..ServeConfig::default()
    };
    config.executor.allow_private_file_urls = true;
    config.executor.allow_private_provider_urls = true;
    config.executor.request_timeout = Some(Duration::from_secs(5));
    let mut retry = RetryPolicy::default();
    retry.max_attempts = 1;
    config.executor.retry = Some(retry);
    config
}

/// [`config`] over a database file.
pub(crate) fn config_for(db: &std::path::Path) -> ServeConfig {
    ServeConfig {
        database: format!("sqlite:{}", db.display()),
        ..config()
    }
}

/// A running server with a token, a fake Lever, and an account pointing at it.
pub(crate) struct TestServer {
    pub(crate) base: String,
    pub(crate) token: String,
    pub(crate) account: String,
    pub(crate) lever: FakeLever,
    pub(crate) client: Client,
    pub(crate) store: Arc<dyn Store>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestServer {
    pub(crate) async fn start() -> TestServer {
        TestServer::start_with(config()).await
    }

    pub(crate) async fn start_with(config: ServeConfig) -> TestServer {
        let lever = FakeLever::start().await;
        let server = Server::bind(config).await.expect("server binds");
        let base = format!("http://{}", server.local_addr());
        let store = server.state().store().clone();
        let token = create_token(store.as_ref(), "tests", TokenScope::Admin, &[])
            .await
            .expect("token")
            .token;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server
                .run(async {
                    let _ = stopped.await;
                })
                .await
                .expect("server runs");
        });
        let client = Client::new();
        let mut test = TestServer {
            base,
            token,
            account: String::new(),
            lever,
            client,
            store,
            stop: Some(stop),
            task: Some(task),
        };
        test.account = test
            .create_account(
                json!({"api_key": FakeLever::API_KEY, "perform_as": FakeLever::USER_ID}),
            )
            .await;
        test
    }

    /// Another `admin` API token for this server.
    pub(crate) async fn extra_token(&self) -> String {
        self.scoped_token(TokenScope::Admin, &[]).await
    }

    /// An API token with `scope`, restricted to `accounts` when any are given.
    pub(crate) async fn scoped_token(&self, scope: TokenScope, accounts: &[&str]) -> String {
        let accounts: Vec<String> = accounts.iter().map(|a| (*a).to_owned()).collect();
        create_token(self.store.as_ref(), "another", scope, &accounts)
            .await
            .expect("token")
            .token
    }

    /// Creates an account on the fake with `context`; returns its id.
    pub(crate) async fn create_account(&self, context: Value) -> String {
        let response = self
            .post("/integrated-account")
            .json(&json!({"integration": "lever", "base_url": self.lever.base_url(), "context": context}))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 201, "account created");
        let body: Value = response.json().await.expect("json");
        body["id"].as_str().expect("id").to_owned()
    }

    /// `GET /log` once it lists `count` entries at least (the writer stores them shortly after
    /// their requests), or as it is after ten seconds.
    pub(crate) async fn log_with(&self, count: usize) -> (u16, Value) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (status, log) = send_json(self.get("/log")).await;
            let listed = log["result"].as_array().map_or(0, Vec::len);
            if status != 200 || listed >= count || std::time::Instant::now() >= deadline {
                return (status, log);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(&self.token)
    }

    pub(crate) fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(self.url(path)).bearer_auth(&self.token)
    }

    pub(crate) fn patch(&self, path: &str) -> RequestBuilder {
        self.client.patch(self.url(path)).bearer_auth(&self.token)
    }

    pub(crate) fn delete(&self, path: &str) -> RequestBuilder {
        self.client.delete(self.url(path)).bearer_auth(&self.token)
    }

    /// `POST /unified/ats/candidates?integrated_account_id=…&{extra}` with `body`.
    pub(crate) fn create(&self, extra: &str, body: &Value) -> RequestBuilder {
        self.post(&candidates_path(&self.account, extra)).json(body)
    }

    /// Stops the server gracefully and waits for it.
    pub(crate) async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// `/unified/ats/candidates?integrated_account_id={account}&{extra}` (no `&` when `extra` is
/// empty).
pub(crate) fn candidates_path(account: &str, extra: &str) -> String {
    let sep = if extra.is_empty() { "" } else { "&" };
    format!("/unified/ats/candidates?integrated_account_id={account}{sep}{extra}")
}

/// The query for the applicant path to the fake's posting.
pub(crate) fn applicant() -> String {
    format!("job_id={}", FakeLever::POSTING_ID)
}

/// The query for the lead path.
pub(crate) fn lead() -> String {
    format!("job_id={}&application_source=lead", FakeLever::POSTING_ID)
}

/// A candidate body for the applicant path.
pub(crate) fn candidate(email: &str) -> Value {
    json!({
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company": "Analytical Engines",
        "emails": [{"email": email, "type": "personal"}],
        "phones": [{"number": "+44 20 7946 0000", "type": "mobile"}],
        "locations": ["London"],
        "tags": [{"name": "engine"}],
        "job_form_field_answers": [],
    })
}

/// A minimal candidate for the lead path (Lever's mapping requires `job_form_field_answers`
/// on both paths).
pub(crate) fn person(first_name: &str, email: &str) -> Value {
    json!({"first_name": first_name, "emails": [{"email": email}], "job_form_field_answers": []})
}

/// Sends a request; panics when it gets no answer.
pub(crate) async fn send(request: RequestBuilder) -> Response {
    request.send().await.expect("sent")
}

/// Sends a request and answers its status and JSON body (see [`json_of`]).
pub(crate) async fn send_json(request: RequestBuilder) -> (u16, Value) {
    json_of(send(request).await).await
}

/// The status and JSON body of a response.
pub(crate) async fn json_of(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, value)
}

/// Asserts the error envelope's shape and returns it.
pub(crate) fn envelope(status: u16, body: &Value) -> &Value {
    assert_eq!(body["statusCode"], status, "statusCode in {body}");
    assert!(body["error"].is_string(), "error in {body}");
    assert!(body["message"].is_string(), "message in {body}");
    assert!(body["code"].is_string(), "code in {body}");
    body
}
