//! `Idempotency-Key`: replay, conflict, concurrency, scoping.

use std::time::Duration;

use reqwest::RequestBuilder;
use serde_json::{Value, json};
use switchboard_testkit::fake_lever::Fault;

use crate::common::{TestServer, candidates_path, json_of, lead, send, send_json};

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
