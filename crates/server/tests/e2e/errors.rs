//! Every error class: status and envelope.

use std::time::Duration;

use serde_json::{Value, json};
use switchboard_testkit::fake_lever::{FakeLever, Fault};

use crate::common::{
    TestServer, applicant, candidate, candidates_path, config, envelope, json_of, lead, person,
    send, send_json,
};

fn apply_path() -> String {
    format!("/v1/postings/{}/apply", FakeLever::POSTING_ID)
}

#[tokio::test]
async fn every_missing_and_invalid_input_is_listed_and_nothing_is_sent() {
    let server = TestServer::start().await;
    let body = json!({"first_name": 5, "emails": [{"email": 7}]});
    let (status, body) = send_json(server.create("", &body)).await;
    envelope(400, &body);
    assert_eq!(status, 400);
    assert_eq!(body["code"], "invalid_input");
    let details = &body["details"];
    assert_eq!(
        details["missing_required_query_parameters"],
        json!(["job_id"])
    );
    let missing_body = details["missing_required_body_fields"]
        .as_array()
        .expect("list");
    assert!(
        missing_body.contains(&Value::from("job_form_field_answers")),
        "{body}"
    );
    let pointers: Vec<&str> = details["invalid"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|p| p["pointer"].as_str())
        .collect();
    assert!(pointers.contains(&"/first_name"), "{body}");
    assert!(pointers.contains(&"/emails/0/email"), "{body}");
    assert_eq!(
        body["truto_error_insight"]["missing_required_query_parameters"]["value"],
        json!(["job_id"])
    );
    assert!(server.lever.calls().is_empty(), "nothing sent");
}

#[tokio::test]
async fn a_missing_integrated_account_id_is_a_400() {
    let server = TestServer::start().await;
    let (status, body) = send_json(
        server
            .post(&format!("/unified/ats/candidates?{}", applicant()))
            .json(&candidate("a@x.io")),
    )
    .await;
    assert_eq!(status, 400);
    envelope(400, &body);
    assert_eq!(
        body["details"]["missing_required_query_parameters"],
        json!(["integrated_account_id"])
    );
}

#[tokio::test]
async fn an_unknown_account_is_a_404() {
    let server = TestServer::start().await;
    let (status, body) = send_json(
        server
            .post(&candidates_path("nope", &applicant()))
            .json(&candidate("a@x.io")),
    )
    .await;
    assert_eq!(status, 404);
    envelope(404, &body);
    assert_eq!(body["code"], "account_not_found");
}

#[tokio::test]
async fn an_unmapped_resource_or_method_is_a_404_or_405() {
    let server = TestServer::start().await;
    let path = format!(
        "/unified/ats/offers?integrated_account_id={}",
        server.account
    );
    let (status, body) = send_json(server.post(&path).json(&json!({}))).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "unknown_resource");
    // A resource that is read but not created: no integration maps the method, so the path does
    // not take it (405, see `openapi_truth`).
    let path = format!("/unified/ats/jobs?integrated_account_id={}", server.account);
    let (status, body) = send_json(server.post(&path).json(&json!({}))).await;
    assert_eq!(status, 405);
    assert_eq!(body["code"], "method_not_allowed");
    let path = format!(
        "/unified/ats/candidates/merge?integrated_account_id={}",
        server.account
    );
    let (status, body) = send_json(server.post(&path).json(&json!({}))).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "method_not_mapped");
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let server = TestServer::start().await;
    let (status, body) = send_json(
        server
            .post(&candidates_path(&server.account, &applicant()))
            .header("content-type", "application/json")
            .body("{\"first_name\": "),
    )
    .await;
    assert_eq!(status, 400);
    envelope(400, &body);
    assert_eq!(body["code"], "malformed_json");
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413() {
    let mut config = config();
    config.body_limit = 1024;
    let server = TestServer::start_with(config).await;
    let mut body = candidate("big@example.com");
    body["company"] = Value::from("x".repeat(4096));
    let (status, envelope_body) = send_json(server.create(&applicant(), &body)).await;
    assert_eq!(status, 413);
    envelope(413, &envelope_body);
    // The same through the idempotency path, which reads the body itself.
    let (status, _) = send_json(
        server
            .create(&applicant(), &body)
            .header("idempotency-key", "big"),
    )
    .await;
    assert_eq!(status, 413);
    assert!(server.lever.calls().is_empty());
}

#[tokio::test]
async fn unknown_routes_and_methods_get_the_envelope() {
    let server = TestServer::start().await;
    let (status, body) = send_json(server.get("/nowhere")).await;
    assert_eq!(status, 404);
    envelope(404, &body);
    let (status, body) = send_json(server.delete("/unified/ats/candidates")).await;
    assert_eq!(status, 405);
    envelope(405, &body);
    assert_eq!(body["code"], "method_not_allowed");
}

#[tokio::test]
async fn provider_validation_is_a_422_with_the_providers_body() {
    let server = TestServer::start().await;
    let lever_body = json!({"code": "BadRequestError", "message": "Posting is closed"});
    server
        .lever
        .script(Fault::status("POST", &apply_path(), 400).body(lever_body.clone()));
    let (status, body) = send_json(server.create(&applicant(), &candidate("p@example.com"))).await;
    assert_eq!(status, 422);
    envelope(422, &body);
    assert_eq!(body["code"], "remote_error");
    assert!(
        body["truto_error_insight"]["remote_error"].is_object(),
        "{body}"
    );
    assert_eq!(body["is_remote_error"], true);
    assert_eq!(body["truto_is_remote_error"], true);
    assert_eq!(body["remote_status"], 400);
    assert_eq!(body["raw_response"], lever_body);
    assert_eq!(body["message"], "Posting is closed");
    assert_eq!(body["remote_code"], "BadRequestError");
}

#[tokio::test]
async fn a_failure_after_the_application_lists_what_already_exists() {
    let server = TestServer::start().await;
    let not_found = json!({"code": "NotFoundError", "message": "Opportunity lookup failed"});
    server
        .lever
        .script(Fault::status("GET", "/v1/opportunities", 404).body(not_found.clone()));
    let (status, body) = send_json(server.create(&applicant(), &candidate("c@example.com"))).await;
    assert_eq!(status, 424);
    envelope(424, &body);
    assert_eq!(body["code"], "partially_completed");
    assert_eq!(body["failure"]["status"], 404, "{body}");
    assert_eq!(body["raw_response"], not_found);
    let completed = body["completed_steps"].as_array().expect("completed steps");
    assert_eq!(completed.len(), 1, "{body}");
    assert_eq!(completed[0]["step"], "apply");
    assert_eq!(completed[0]["status"], 200);
    assert!(
        completed[0]["response"]["data"]["applicationId"].is_string(),
        "{body}"
    );
    assert_eq!(
        server.lever.opportunities().len(),
        1,
        "the application exists at the provider"
    );
}

#[tokio::test]
async fn a_provider_rate_limit_carries_retry_after_and_the_rate_limit_state() {
    let server = TestServer::start().await;
    server.lever.script(
        Fault::status("POST", "/v1/opportunities", 429)
            .retry_after("7")
            .header("X-Rate-Limit-Limit", "10")
            .header("X-Rate-Limit-Remaining", "0")
            .header("X-Rate-Limit-Reset", "1700000000"),
    );
    let response = send(server.create(&lead(), &person("R", "r@x.io"))).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    assert_eq!(response.headers()["ratelimit-limit"], "10");
    assert_eq!(response.headers()["ratelimit-remaining"], "0");
    // An epoch second already past: nothing left to wait.
    assert_eq!(response.headers()["ratelimit-reset"], "0");
    let (_, body) = json_of(response).await;
    envelope(429, &body);
    assert_eq!(body["is_remote_error"], true);
    assert!(
        body["truto_error_insight"]["rate_limit_error"].is_object(),
        "{body}"
    );
    assert_eq!(body["retry_after"], "7");
}

#[tokio::test]
async fn provider_server_errors_are_502_and_504_only() {
    let server = TestServer::start().await;
    server
        .lever
        .script(Fault::status("POST", &apply_path(), 500));
    let (status, body) = send_json(server.create(&applicant(), &candidate("e1@example.com"))).await;
    assert_eq!(status, 502);
    assert_eq!(body["remote_status"], 500);
    assert_eq!(body["is_remote_error"], true);
    server
        .lever
        .script(Fault::status("POST", &apply_path(), 503));
    let (status, body) = send_json(server.create(&applicant(), &candidate("e2@example.com"))).await;
    // 503 means "account blocked" in the reference's table; a provider's 503 is upstream trouble.
    assert_eq!(status, 502);
    assert_eq!(body["remote_status"], 503);
    server
        .lever
        .script(Fault::status("POST", &apply_path(), 504));
    let (status, _) = send_json(server.create(&applicant(), &candidate("e3@example.com"))).await;
    assert_eq!(status, 504);
}

#[tokio::test]
async fn an_unusable_answer_after_the_application_is_not_retryable() {
    let server = TestServer::start().await;
    // Lever accepts the application, but the lookup finds no opportunity, read after read.
    server.lever.script(
        Fault::status("GET", "/v1/opportunities", 200)
            .body(json!({"data": [], "hasNext": false}))
            .times(4),
    );
    let (status, body) =
        send_json(server.create(&applicant(), &candidate("gone@example.com"))).await;
    assert_eq!(status, 424);
    envelope(424, &body);
    assert_eq!(body["code"], "partially_completed");
    assert_eq!(body["failure"]["code"], "upstream_error");
    assert!(
        body["truto_error_insight"]["remote_error"].is_object(),
        "{body}"
    );
    assert_eq!(body["raw_response"], json!({"data": [], "hasNext": false}));
    let message = body["failure"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("no other opportunity was taken"),
        "the answer says the lookup did not guess: {body}"
    );
    assert_eq!(
        server.lever.count("GET", "/v1/opportunities"),
        4,
        "read, then read again three times"
    );
}

#[tokio::test]
async fn a_provider_timeout_is_a_504() {
    let mut config = config();
    config.executor.request_timeout = Some(Duration::from_millis(300));
    let server = TestServer::start_with(config).await;
    server.lever.script(Fault::delay(
        "POST",
        "/v1/opportunities",
        Duration::from_secs(2),
    ));
    let (status, body) = send_json(server.create(&lead(), &person("T", "t@x.io"))).await;
    assert_eq!(status, 504);
    envelope(504, &body);
    assert_eq!(body["code"], "upstream_timeout");
}

#[tokio::test]
async fn a_reset_connection_is_a_502() {
    let server = TestServer::start().await;
    server
        .lever
        .script(Fault::reset_before_body("POST", "/v1/opportunities"));
    let (status, body) = send_json(server.create(&lead(), &person("C", "c@x.io"))).await;
    assert_eq!(status, 502);
    envelope(502, &body);
    assert_eq!(body["code"], "upstream_unreachable");
}

#[tokio::test]
async fn errors_never_leak_credentials() {
    let server = TestServer::start().await;
    server
        .lever
        .script(Fault::status("POST", &apply_path(), 401));
    let response = send(server.create(&applicant(), &candidate("leak@example.com"))).await;
    let text = response.text().await.expect("body");
    assert!(!text.contains(FakeLever::API_KEY), "{text}");
    assert!(!text.contains("stack"), "{text}");
}

/// The statuses the reference's TypeScript SDK retries by default.
const SDK_RETRIED: [u16; 7] = [408, 409, 425, 429, 502, 503, 504];

#[tokio::test]
async fn a_lookup_outage_after_the_application_is_not_retryable() {
    let server = TestServer::start().await;
    server
        .lever
        .script(Fault::status("GET", "/v1/opportunities", 503).retry_after("1"));
    let response = send(server.create(&applicant(), &candidate("down@example.com"))).await;
    let status = response.status().as_u16();
    assert!(!SDK_RETRIED.contains(&status), "{status}");
    assert_eq!(status, 424);
    assert!(
        response.headers().get("retry-after").is_none(),
        "nothing invites a retry"
    );
    let (_, body) = json_of(response).await;
    assert!(body.get("retry_after").is_none(), "{body}");
    envelope(424, &body);
    assert_eq!(body["code"], "partially_completed");
    assert_eq!(body["remote_status"], 503);
    assert_eq!(body["failure"]["status"], 502, "{body}");
    assert_eq!(body["completed_steps"][0]["step"], "apply", "{body}");
    let created = body["created"].as_array().expect("created");
    assert_eq!(created.len(), 1, "{body}");
    assert_eq!(created[0]["step"], "apply");
    let application = server.lever.opportunities()[0]["applications"][0]["id"].clone();
    assert_eq!(
        created[0]["ids"]["/data/applicationId"], application,
        "{body}"
    );
}

#[tokio::test]
async fn a_rate_limited_tag_step_after_the_application_is_not_a_429() {
    let server = TestServer::start().await;
    server
        .lever
        .script(Fault::status("POST", "/v1/opportunities", 429).retry_after("1"));
    let mut body = candidate("tags@example.com");
    body["tags"] = json!([{"name": "referral"}]);
    let response = send(server.create(&applicant(), &body)).await;
    assert_eq!(response.status(), 424);
    assert!(response.headers().get("retry-after").is_none());
    let (_, body) = json_of(response).await;
    assert_eq!(body["failure"]["status"], 429, "{body}");
    assert!(
        body["truto_error_insight"]["rate_limit_error"].is_object(),
        "{body}"
    );
    let steps: Vec<&str> = body["created"]
        .as_array()
        .expect("created")
        .iter()
        .filter_map(|c| c["step"].as_str())
        .collect();
    assert_eq!(steps, ["apply"], "{body}");
    assert_eq!(server.lever.opportunities().len(), 1);
}

#[tokio::test]
async fn a_provider_refusal_is_a_403_with_a_forbidden_insight() {
    let server = TestServer::start().await;
    server
        .lever
        .script(Fault::status("POST", &apply_path(), 403));
    let (status, body) = send_json(server.create(&applicant(), &candidate("no@example.com"))).await;
    assert_eq!(status, 403);
    envelope(403, &body);
    assert_eq!(
        body["truto_error_insight"]["forbidden_error"]["value"]["missing_scopes"],
        json!([])
    );
}

#[tokio::test]
async fn a_provider_uniqueness_conflict_is_a_409() {
    let server = TestServer::start().await;
    server
        .lever
        .script(Fault::status("POST", "/v1/opportunities", 409));
    let (status, body) = send_json(server.create(&lead(), &person("D", "d@x.io"))).await;
    assert_eq!(status, 409);
    assert_eq!(body["truto_is_remote_error"], true);
}

#[tokio::test]
async fn a_success_forwards_the_providers_rate_limit_state() {
    let server = TestServer::start().await;
    server.lever.script(Fault::with_headers(
        "POST",
        "/v1/opportunities",
        &[
            ("X-RateLimit-Limit", "20"),
            ("X-RateLimit-Remaining", "19"),
            ("X-RateLimit-Reset", "4"),
        ],
    ));
    let response = send(server.create(&lead(), &person("L", "l@x.io"))).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["ratelimit-limit"], "20");
    assert_eq!(response.headers()["ratelimit-remaining"], "19");
    assert_eq!(response.headers()["ratelimit-reset"], "4");
}
