//! Both Lever paths end to end: applicant (apply, find, tag) and lead (create opportunity).

use serde_json::{Value, json};
use switchboard_testkit::fake_lever::FakeLever;

use crate::common::{
    TestServer, applicant, candidate, candidates_path, json_of, lead, person, send, send_json,
};

/// The query of the fake's create-opportunity call (`POST /v1/opportunities`).
fn opportunity_query(server: &TestServer) -> Vec<(String, String)> {
    server
        .lever
        .calls()
        .into_iter()
        .find(|c| c.method == "POST" && c.path == "/v1/opportunities")
        .expect("create call")
        .query
}

#[tokio::test]
async fn applicant_path_creates_a_candidate_and_returns_the_record() {
    let server = TestServer::start().await;
    let response = send(server.create(&applicant(), &candidate("ada@example.com"))).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert!(response.headers().contains_key("x-request-id"));
    let (_, record) = json_of(response).await;
    assert!(
        record["id"].as_str().is_some_and(|id| !id.is_empty()),
        "{record}"
    );
    assert_eq!(record["first_name"], "Ada");
    assert_eq!(record["last_name"], "Lovelace");
    assert_eq!(record["emails"][0]["email"], "ada@example.com");
    assert_eq!(record["tags"], json!([{"name": "engine"}]));
    assert!(record["remote_data"].is_object());
    assert_eq!(
        server.lever.count(
            "POST",
            &format!("/v1/postings/{}/apply", FakeLever::POSTING_ID)
        ),
        1
    );
    assert_eq!(
        server.lever.count("POST", "/v1/opportunities/"),
        1,
        "tags added"
    );
    assert_eq!(server.lever.opportunities().len(), 1);
}

#[tokio::test]
async fn lead_path_creates_an_opportunity_on_behalf_of_the_account_user() {
    let server = TestServer::start().await;
    let body = json!({
        "first_name": "Grace",
        "last_name": "Hopper",
        "title": "Rear Admiral",
        "company": "US Navy",
        "emails": [{"email": "grace@example.com"}],
        "job_form_field_answers": [],
    });
    let (status, record) = send_json(server.create(&lead(), &body)).await;
    assert_eq!(status, 201, "{record}");
    assert_eq!(record["name"], "Grace Hopper");
    assert_eq!(record["emails"][0]["email"], "grace@example.com");
    let query = opportunity_query(&server);
    assert!(
        query
            .iter()
            .any(|(k, v)| k == "perform_as" && v == FakeLever::USER_ID),
        "perform_as sent: {query:?}"
    );
}

#[tokio::test]
async fn remote_query_reaches_the_provider_untouched() {
    let server = TestServer::start().await;
    // An account without perform_as: the lead path needs remote_query[perform_as].
    let account = server
        .create_account(json!({"api_key": FakeLever::API_KEY}))
        .await;
    let path = candidates_path(
        &account,
        &format!("{}&remote_query[perform_as]={}", lead(), FakeLever::USER_ID),
    );
    let body = person("Alan", "alan@example.com");
    let response = send(server.post(&path).json(&body)).await;
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    let query = opportunity_query(&server);
    assert!(
        query
            .iter()
            .any(|(k, v)| k == "perform_as" && v == FakeLever::USER_ID),
        "{query:?}"
    );
}

#[tokio::test]
async fn warnings_go_in_a_header_and_the_body_keeps_its_shape() {
    let server = TestServer::start().await;
    let mut body = candidate("warn@example.com");
    body["title"] = Value::from("Engineer"); // not carried on the applicant path
    body["favourite_colour"] = Value::from("green"); // not a unified field
    let response = send(server.create(&applicant(), &body)).await;
    assert_eq!(response.status(), 201);
    let header = response.headers()["x-switchboard-warnings"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let warnings: Value = serde_json::from_str(&header).expect("json array");
    let pointers: Vec<&str> = warnings
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|w| w["pointer"].as_str())
        .collect();
    assert!(pointers.contains(&"/title"), "{warnings}");
    assert!(pointers.contains(&"/favourite_colour"), "{warnings}");
    let (_, record) = json_of(response).await;
    assert!(
        record.get("warnings").is_none(),
        "the body is the record itself"
    );
    assert!(record["id"].is_string());
}

#[tokio::test]
async fn boolean_and_typed_query_parameters_are_parsed() {
    let server = TestServer::start().await;
    // `application_source` is an enum: a wrong value is a 400 naming its pointer.
    let (status, body) = send_json(server.create(
        &format!("{}&application_source=walk-in", applicant()),
        &candidate("t@example.com"),
    ))
    .await;
    assert_eq!(status, 400);
    let invalid = body["details"]["invalid"].as_array().expect("invalid list");
    assert!(
        invalid
            .iter()
            .any(|p| p["pointer"] == "/application_source" && p["location"] == "query"),
        "{body}"
    );
}
