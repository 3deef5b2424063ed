//! `truto_response_format`, `truto_ignore_remote_data`, `truto_exclude_fields[]`.

use reqwest::Response;
use serde_json::Value;

use crate::common::{TestServer, applicant, candidate, json_of, send};

/// Creates `candidate(email)` on the applicant path with `params` added to the query.
async fn create_applicant(server: &TestServer, params: &str, email: &str) -> Response {
    send(server.create(&format!("{}&{params}", applicant()), &candidate(email))).await
}

#[tokio::test]
async fn unified_is_the_default_and_keeps_remote_data() {
    let server = TestServer::start().await;
    let explicit =
        create_applicant(&server, "truto_response_format=unified", "u@example.com").await;
    let (status, record) = json_of(explicit).await;
    assert_eq!(status, 201);
    assert!(record["remote_data"].is_object());
    assert!(
        record
            .as_object()
            .expect("object")
            .values()
            .any(Value::is_null),
        "unified keeps nulls: {record}"
    );
}

#[tokio::test]
async fn normalized_drops_remote_data_and_nulls() {
    let server = TestServer::start().await;
    let response =
        create_applicant(&server, "truto_response_format=normalized", "n@example.com").await;
    let (status, record) = json_of(response).await;
    assert_eq!(status, 201);
    assert!(record.get("remote_data").is_none());
    assert!(
        !record
            .as_object()
            .expect("object")
            .values()
            .any(Value::is_null),
        "{record}"
    );
    assert!(record["id"].is_string());
}

#[tokio::test]
async fn raw_answers_the_primary_steps_body_and_status_as_they_came() {
    let server = TestServer::start().await;
    let response = create_applicant(&server, "truto_response_format=raw", "r@example.com").await;
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/json")
    );
    let remote_status = response.headers()["x-switchboard-remote-status"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(
        response.status().as_str(),
        remote_status,
        "the provider's status"
    );
    assert!(response.headers().contains_key("content-length"));
    let body: Value = response.json().await.expect("json");
    // The applicant path ends with addTags (the candidate has tags), but the answer is Lever's
    // to the apply call itself, the step the mapping marks primary.
    assert!(body["data"]["applicationId"].is_string(), "{body}");
    assert!(body.get("first_name").is_none(), "not mapped: {body}");
}

#[tokio::test]
async fn stream_sends_the_primary_steps_body_chunked() {
    let server = TestServer::start().await;
    let response = create_applicant(&server, "truto_response_format=stream", "s@example.com").await;
    assert!(response.status().is_success());
    assert!(!response.headers().contains_key("content-length"));
    assert_eq!(response.headers()["transfer-encoding"], "chunked");
    let body: Value = response.json().await.expect("json");
    assert!(body["data"]["applicationId"].is_string(), "{body}");
}

#[tokio::test]
async fn an_unknown_format_is_a_400() {
    let server = TestServer::start().await;
    let response = create_applicant(&server, "truto_response_format=xml", "x@example.com").await;
    let (status, body) = json_of(response).await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("truto_response_format")
    );
    assert_eq!(server.lever.calls().len(), 0, "nothing sent");
}

#[tokio::test]
async fn ignore_remote_data_drops_it() {
    let server = TestServer::start().await;
    let response =
        create_applicant(&server, "truto_ignore_remote_data=true", "i@example.com").await;
    let (status, record) = json_of(response).await;
    assert_eq!(status, 201);
    assert!(record.get("remote_data").is_none());
    assert!(record.get("emails").is_some());

    let kept = create_applicant(&server, "truto_ignore_remote_data=false", "k@example.com").await;
    let (_, record) = json_of(kept).await;
    assert!(record["remote_data"].is_object());
}

#[tokio::test]
async fn exclude_fields_removes_top_level_and_nested_fields() {
    let server = TestServer::start().await;
    let exclude = "truto_exclude_fields[]=id&truto_exclude_fields[]=emails.email\
                   &truto_exclude_fields[]=remote_data";
    let response = create_applicant(&server, exclude, "e@example.com").await;
    let (status, record) = json_of(response).await;
    assert_eq!(status, 201);
    assert!(record.get("id").is_none(), "{record}");
    assert!(record.get("remote_data").is_none());
    let emails = record["emails"].as_array().expect("emails kept");
    assert!(!emails.is_empty());
    assert!(emails.iter().all(|e| e.get("email").is_none()), "{record}");
    assert!(record["first_name"].is_string());
}
