//! Issue 11, item 9: strict mode over HTTP (`switchboard_strict=true`), and item 1: the values a
//! call drops are listed in `X-Switchboard-Warnings`.

use serde_json::{Value, json};

use crate::common::{TestServer, applicant, candidate, envelope, send, send_json};

/// The fake's candidate with a second email, which Lever's application form cannot carry.
fn two_emails() -> Value {
    let mut body = candidate("first@example.com");
    body["emails"] = json!([{"email": "first@example.com"}, {"email": "second@example.com"}]);
    body
}

#[tokio::test]
async fn a_dropped_value_is_a_warning_by_default() {
    let server = TestServer::start().await;
    let response = send(server.create(&applicant(), &two_emails())).await;
    assert_eq!(response.status(), 201);
    let header = response.headers()["x-switchboard-warnings"]
        .to_str()
        .expect("ascii");
    let warnings: Value = serde_json::from_str(header).expect("a JSON array");
    let pointers: Vec<&str> = warnings
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|w| w["pointer"].as_str())
        .collect();
    assert!(pointers.contains(&"/emails/1"), "{warnings}");
}

#[tokio::test]
async fn strict_calls_refuse_dropped_values_before_anything_is_sent() {
    let server = TestServer::start().await;
    let query = format!("{}&switchboard_strict=true", applicant());
    let (status, body) = send_json(server.create(&query, &two_emails())).await;
    envelope(400, &body);
    assert_eq!(status, 400, "{body}");
    let invalid = body["details"]["invalid"].as_array().expect("list");
    assert!(
        invalid
            .iter()
            .any(|p| p["pointer"] == "/emails/1" && p["kind"] == "unsupported"),
        "{body}"
    );
    assert!(server.lever.calls().is_empty(), "nothing sent");
}

#[tokio::test]
async fn strict_false_and_a_bad_value_are_told_apart() {
    let server = TestServer::start().await;
    let query = format!("{}&switchboard_strict=false", applicant());
    let response = send(server.create(&query, &two_emails())).await;
    assert_eq!(response.status(), 201);
    let query = format!("{}&switchboard_strict=maybe", applicant());
    let (status, body) = send_json(server.create(&query, &two_emails())).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "invalid_query");
    assert_eq!(body["details"]["parameter"], "switchboard_strict");
}
