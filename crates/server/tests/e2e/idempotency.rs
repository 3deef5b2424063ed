//! `Idempotency-Key`: replay, conflict, concurrency, scoping.

use std::time::Duration;

use reqwest::RequestBuilder;
use serde_json::{Value, json};
use sqlx::{Connection, SqliteConnection};
use switchboard_server::{Server, TokenScope, create_token};
use switchboard_testkit::fake_lever::{FakeLever, Fault};

use crate::common::{
    TestServer, candidates_path, config_for, envelope, json_of, lead, send, send_json,
};

fn body(email: &str) -> Value {
    json!({"first_name": "Idem", "last_name": "Potent", "emails": [{"email": email}], "job_form_field_answers": []})
}

/// `server.create(query, body)` with an `Idempotency-Key`.
fn keyed(server: &TestServer, query: &str, body: &Value, key: &str) -> RequestBuilder {
    server.create(query, body).header("idempotency-key", key)
}

#[tokio::test]
async fn the_first_response_is_replayed() {
    let server = TestServer::start().await;
    let first = send(keyed(&server, &lead(), &body("i1@example.com"), "k-1")).await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let (_, first) = json_of(first).await;

    let second = send(keyed(&server, &lead(), &body("i1@example.com"), "k-1")).await;
    assert_eq!(second.status(), 201);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    assert_eq!(second.headers()["content-type"], "application/json");
    let (_, second) = json_of(second).await;
    assert_eq!(first, second);
    assert_eq!(
        server.lever.count("POST", "/v1/opportunities"),
        1,
        "the provider was called once"
    );
}

#[tokio::test]
async fn the_same_key_with_another_request_is_a_422() {
    let server = TestServer::start().await;
    let first = send(keyed(&server, &lead(), &body("i2@example.com"), "k-2")).await;
    assert_eq!(first.status(), 201);
    let (status, envelope) =
        send_json(keyed(&server, &lead(), &body("other@example.com"), "k-2")).await;
    assert_eq!(status, 422);
    assert_eq!(envelope["code"], "idempotency_key_reused");
    let other_query = send(keyed(
        &server,
        &format!("{}&truto_response_format=normalized", lead()),
        &body("i2@example.com"),
        "k-2",
    ))
    .await;
    assert_eq!(other_query.status(), 422);
    assert_eq!(server.lever.count("POST", "/v1/opportunities"), 1);
}

#[tokio::test]
async fn two_concurrent_requests_with_one_key_call_the_provider_once() {
    let server = TestServer::start().await;
    server.lever.script(Fault::delay(
        "POST",
        "/v1/opportunities",
        Duration::from_millis(500),
    ));
    let a = keyed(&server, &lead(), &body("c@example.com"), "k-3").send();
    let b = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        keyed(&server, &lead(), &body("c@example.com"), "k-3")
            .send()
            .await
    };
    let (a, b) = tokio::join!(a, b);
    let (a, b) = (a.expect("sent"), b.expect("sent"));
    assert_eq!(a.status(), 201);
    assert_eq!(b.status(), 201);
    let replays = [&a, &b]
        .iter()
        .filter(|r| r.headers().get("idempotent-replayed").is_some())
        .count();
    assert_eq!(replays, 1);
    let (_, a) = json_of(a).await;
    let (_, b) = json_of(b).await;
    assert_eq!(a, b);
    assert_eq!(
        server.lever.count("POST", "/v1/opportunities"),
        1,
        "exactly one opportunity call"
    );
    assert_eq!(server.lever.opportunities().len(), 1);
}

#[tokio::test]
async fn input_errors_are_not_kept_so_the_key_can_be_retried() {
    let server = TestServer::start().await;
    let bad = send(keyed(&server, &lead(), &json!({"first_name": 1}), "k-4")).await;
    assert_eq!(bad.status(), 400);
    let fixed = send(keyed(&server, &lead(), &body("fixed@example.com"), "k-4")).await;
    assert_eq!(fixed.status(), 201);
    assert!(fixed.headers().get("idempotent-replayed").is_none());
}

#[tokio::test]
async fn provider_errors_are_kept_and_replayed() {
    let server = TestServer::start().await;
    server
        .lever
        .script(Fault::status("POST", "/v1/opportunities", 422));
    let first = send(keyed(&server, &lead(), &body("pe@example.com"), "k-5")).await;
    assert_eq!(first.status(), 422);
    let again = send(keyed(&server, &lead(), &body("pe@example.com"), "k-5")).await;
    assert_eq!(again.status(), 422);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(server.lever.count("POST", "/v1/opportunities"), 1);
}

#[tokio::test]
async fn keys_are_scoped_per_token() {
    let server = TestServer::start().await;
    let first = send(keyed(&server, &lead(), &body("s@example.com"), "k-6")).await;
    assert_eq!(first.status(), 201);
    // Another token: the same key is a new request (the fake dedupes the opportunity by email).
    let other = crate::accounts::second_token(&server).await;
    let response = send(
        server
            .client
            .post(server.url(&candidates_path(&server.account, &lead())))
            .bearer_auth(other)
            .header("idempotency-key", "k-6")
            .json(&body("s@example.com")),
    )
    .await;
    assert_eq!(response.status(), 201);
    assert!(response.headers().get("idempotent-replayed").is_none());
    assert_eq!(server.lever.count("POST", "/v1/opportunities"), 2);
}

#[tokio::test]
async fn streamed_answers_are_replayed_chunked() {
    let server = TestServer::start().await;
    let query = format!("{}&truto_response_format=stream", lead());
    let first = send(keyed(&server, &query, &body("st@example.com"), "k-7")).await;
    assert_eq!(first.headers()["transfer-encoding"], "chunked");
    let first = first.bytes().await.expect("body");
    let again = send(keyed(&server, &query, &body("st@example.com"), "k-7")).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["transfer-encoding"], "chunked");
    assert_eq!(again.bytes().await.expect("body"), first);
}

#[tokio::test]
async fn a_create_whose_client_gave_up_finishes_and_the_same_key_replays_it() {
    let server = TestServer::start().await;
    server.lever.script(Fault::delay(
        "POST",
        "/v1/opportunities",
        Duration::from_secs(3),
    ));
    let gave_up = keyed(&server, &lead(), &body("slow@example.com"), "k-slow")
        .timeout(Duration::from_secs(1))
        .send()
        .await;
    assert!(gave_up.is_err_and(|e| e.is_timeout()), "the client gave up");

    // The run goes on without its client; the same key waits for it, then replays its answer.
    let again = send(keyed(&server, &lead(), &body("slow@example.com"), "k-slow")).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let (_, record) = json_of(again).await;
    let opportunities = server.lever.opportunities();
    assert_eq!(opportunities.len(), 1);
    assert_eq!(record["id"], opportunities[0]["id"]);
    let (status, third) =
        send_json(keyed(&server, &lead(), &body("slow@example.com"), "k-slow")).await;
    assert_eq!(status, 201);
    assert_eq!(third, record);
    assert_eq!(
        server.lever.count("POST", "/v1/opportunities"),
        1,
        "applied exactly once"
    );
}

/// Starts a server on `db` in a runtime of its own, creates a token and an account on `lever`,
/// sends a keyed create that the fake holds for 3 s, and kills the runtime (as a crash would)
/// once the create has reached the fake. Answers the token and the account.
async fn crash_mid_create(db: &std::path::Path, lever: &FakeLever, key: &str) -> (String, String) {
    let config = config_for(db);
    let (crashing, addr, token) = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let (addr, token) = runtime.block_on(async {
            let server = Server::bind(config).await.expect("binds");
            let addr = server.local_addr();
            let token = create_token(
                server.state().store().as_ref(),
                "crash",
                TokenScope::Admin,
                &[],
            )
            .await
            .expect("token")
            .token;
            tokio::spawn(server.run(std::future::pending()));
            (addr, token)
        });
        (runtime, addr, token)
    })
    .await
    .expect("started");
    let client = reqwest::Client::new();
    let (status, account) = send_json(
        client
            .post(format!("http://{addr}/integrated-account"))
            .bearer_auth(&token)
            .json(
                &json!({"integration": "lever", "base_url": lever.base_url(),
                "context": {"api_key": FakeLever::API_KEY, "perform_as": FakeLever::USER_ID}}),
            ),
    )
    .await;
    assert_eq!(status, 201);
    let account = account["id"].as_str().expect("id").to_owned();
    lever.script(Fault::delay(
        "POST",
        "/v1/opportunities",
        Duration::from_secs(3),
    ));
    let create = client
        .post(format!(
            "http://{addr}{}",
            candidates_path(&account, &lead())
        ))
        .bearer_auth(&token)
        .header("idempotency-key", key)
        .json(&body("crash@example.com"))
        .send();
    let create = tokio::spawn(create);
    while lever.count("POST", "/v1/opportunities") == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    crashing.shutdown_background();
    assert!(
        create.await.expect("joined").is_err(),
        "the crash cut the answer off"
    );
    (token, account)
}

#[tokio::test]
async fn a_create_cut_off_by_a_crash_is_reported_unknown_and_never_run_again() {
    let dir = std::env::temp_dir().join(format!("switchboard-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db = dir.join("switchboard.db");
    let lever = FakeLever::start().await;
    let (token, account) = crash_mid_create(&db, &lever, "k-crash").await;

    // Restarted; a record still "in progress" longer than the request timeout was left by the
    // crash. Until then it is "in progress"; after, its outcome is unknown.
    let mut restarted = config_for(&db);
    restarted.request_timeout = Duration::from_secs(1);
    let mut server = TestServer::start_with(restarted).await;
    server.token = token;
    server.account = account;
    let mut answer = Value::Null;
    for _ in 0..100 {
        let (status, body) = send_json(keyed(
            &server,
            &lead(),
            &body("crash@example.com"),
            "k-crash",
        ))
        .await;
        assert_eq!(status, 409, "{body}");
        answer = body;
        if answer["code"] != "idempotency_key_in_progress" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    envelope(409, &answer);
    assert_eq!(answer["code"], "idempotency_outcome_unknown");
    assert!(answer["details"]["started_at"].is_string());
    assert_eq!(
        lever.count("POST", "/v1/opportunities"),
        1,
        "the provider saw the create once, before the crash"
    );
    server.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn other_posts_do_not_keep_server_errors_under_their_key() {
    let dir = std::env::temp_dir().join(format!("switchboard-5xx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db = dir.join("switchboard.db");
    let server = TestServer::start_with(config_for(&db)).await;
    let mut database = SqliteConnection::connect(&format!("sqlite:{}", db.display()))
        .await
        .expect("opens");
    sqlx::raw_sql(
        "CREATE TRIGGER refuse_accounts BEFORE INSERT ON accounts \
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
    )
    .execute(&mut database)
    .await
    .expect("trigger");
    let account = json!({"integration": "lever", "base_url": server.lever.base_url(),
        "context": {"api_key": FakeLever::API_KEY}});
    let create = || {
        server
            .post("/integrated-account")
            .header("idempotency-key", "acct-1")
            .json(&account)
    };
    let (status, body) = send_json(create()).await;
    assert_eq!(status, 503, "{body}");
    envelope(503, &body);

    sqlx::raw_sql("DROP TRIGGER refuse_accounts")
        .execute(&mut database)
        .await
        .expect("dropped");
    let retried = send(create()).await;
    assert_eq!(retried.status(), 201, "the 503 was not kept");
    assert!(retried.headers().get("idempotent-replayed").is_none());
    let replayed = send(create()).await;
    assert_eq!(replayed.status(), 201);
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");
    server.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
