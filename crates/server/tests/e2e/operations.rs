//! Auth, health, readiness, the request log, meta endpoints, OpenAPI, request ids, shutdown.

use std::time::Duration;

use serde_json::json;
use switchboard_testkit::fake_lever::{FakeLever, Fault};

use crate::common::{
    TestServer, applicant, candidate, candidates_path, config, envelope, json_of, lead, person,
    repo, send, send_json,
};

#[tokio::test]
async fn every_route_but_health_and_ready_needs_a_token() {
    let server = TestServer::start().await;
    for path in [
        "/integrated-account",
        "/log",
        "/openapi.json",
        "/unified/ats/candidates/lever/meta/create",
    ] {
        let response = send(server.client.get(server.url(path))).await;
        assert_eq!(response.status(), 401, "{path}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let (_, body) = json_of(response).await;
        envelope(401, &body);
        let wrong = send(server.client.get(server.url(path)).bearer_auth("sb_wrong")).await;
        assert_eq!(wrong.status(), 401, "{path}");
    }
    let unified = send(
        server
            .client
            .post(server.url(&candidates_path(&server.account, &applicant())))
            .json(&candidate("noauth@example.com")),
    )
    .await;
    assert_eq!(unified.status(), 401);
    assert!(server.lever.calls().is_empty());
    for path in ["/health", "/ready"] {
        let response = send(server.client.get(server.url(path))).await;
        assert_eq!(response.status(), 200, "{path}");
    }
    let (_, ready) = send_json(server.client.get(server.url("/ready"))).await;
    assert!(
        ready["integrations"]
            .as_array()
            .expect("list")
            .contains(&json!("lever")),
        "{ready}"
    );
}

#[tokio::test]
async fn the_log_lists_calls_newest_first_without_secrets() {
    let server = TestServer::start().await;
    let ok = send(
        server
            .create(&applicant(), &candidate("log@example.com"))
            .header("x-request-id", "req-ok-1"),
    )
    .await;
    assert_eq!(
        ok.headers()["x-request-id"],
        "req-ok-1",
        "the request id is echoed"
    );
    server
        .lever
        .script(Fault::status("POST", "/v1/opportunities", 422));
    let failed = send(server.create(&lead(), &person("L", "l@x.io"))).await;
    assert_eq!(failed.status(), 422);
    let generated = failed.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(!generated.is_empty());

    let (status, log) = server.log_with(2).await;
    assert_eq!(status, 200);
    let text = log.to_string();
    assert!(!text.contains(FakeLever::API_KEY), "{text}");
    let entries = log["result"].as_array().expect("entries");
    assert_eq!(entries.len(), 2, "{log}");
    assert_eq!(entries[0]["request_id"], generated.as_str(), "newest first");
    assert_eq!(entries[0]["status"], 422);
    assert_eq!(entries[1]["request_id"], "req-ok-1");
    assert_eq!(entries[1]["status"], 201);
    assert_eq!(entries[1]["integration"], "lever");
    assert_eq!(entries[1]["integrated_account_id"], server.account.as_str());
    assert_eq!(entries[1]["path"], "/unified/ats/candidates");
    let steps: Vec<&str> = entries[1]["exchanges"]
        .as_array()
        .expect("exchanges")
        .iter()
        .filter_map(|e| e["step"].as_str())
        .collect();
    assert_eq!(steps, vec!["apply", "find", "tag"]);
    assert!(
        entries[1]["exchanges"][0]["url"]
            .as_str()
            .expect("url")
            .starts_with("http://127.0.0.1:")
    );
    assert_eq!(entries[1]["exchanges"][0]["status"], 200);
    let find_url = entries[1]["exchanges"][1]["url"].as_str().expect("url");
    assert!(find_url.ends_with("/v1/opportunities"), "{find_url}");
    assert!(
        !text.contains("email="),
        "no provider query strings (personal data) in the log: {text}"
    );

    let (_, page) = send_json(server.get("/log?limit=1")).await;
    assert_eq!(page["result"].as_array().map(Vec::len), Some(1));
    let cursor = page["next_cursor"].as_str().expect("cursor").to_owned();
    let (_, next) = send_json(server.get(&format!("/log?limit=1&next_cursor={cursor}"))).await;
    assert_eq!(next["result"][0]["request_id"], "req-ok-1");
}

#[tokio::test]
async fn meta_describes_what_lever_accepts_and_returns() {
    let server = TestServer::start().await;
    let (status, meta) = send_json(server.get("/unified/ats/candidates/lever/meta/create")).await;
    assert_eq!(status, 200);
    assert_eq!(meta["method"], "create");
    assert!(
        meta["documentation_link"]
            .as_str()
            .is_some_and(|l| l.starts_with("https://"))
    );
    assert_eq!(meta["query_schema"]["required"], json!(["job_id"]));
    assert_eq!(
        meta["query_schema"]["properties"]["application_source"]["default"],
        "applicant"
    );
    assert!(meta["query_schema"]["properties"]["remote_query"].is_object());
    assert_eq!(
        meta["request_body_schema"]["required"],
        json!(["job_form_field_answers"])
    );
    assert_eq!(
        meta["request_body_schema"]["properties"]["first_name"]["x-switchboard-support"],
        "supported"
    );
    assert!(meta["request_body_schema"]["properties"]["title"]["x-switchboard-note"].is_string());
    let response_fields = meta["response_schema"]["properties"]
        .as_object()
        .expect("properties");
    assert!(response_fields.contains_key("id") && response_fields.contains_key("remote_data"));
    assert!(
        !response_fields.contains_key("attachments"),
        "lever's mapping does not fill attachments"
    );
    assert_eq!(meta["schema"]["title"], "ats/candidates");
    assert!(
        meta["conditionally_required_fields"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    );

    let (status, by_account) = send_json(server.get(&format!(
        "/unified/ats/candidates/meta/create?integrated_account_id={}",
        server.account
    )))
    .await;
    assert_eq!(status, 200);
    assert_eq!(by_account["query_schema"], meta["query_schema"]);
    // The by-integration answer is the document serialised at start; the by-account one is the
    // same document with the account's id added.
    assert_eq!(by_account["integrated_account_id"], json!(server.account));
    let mut without_id = by_account.clone();
    without_id
        .as_object_mut()
        .expect("an object")
        .remove("integrated_account_id");
    assert_eq!(without_id, meta);
    let (status, body) = send_json(server.get("/unified/ats/candidates/meta/create")).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["details"]["missing_required_query_parameters"],
        json!(["integrated_account_id"])
    );
    let (status, _) = send_json(server.get("/unified/ats/candidates/nope/meta/create")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn openapi_is_generated_from_the_registry() {
    let server = TestServer::start().await;
    let (status, doc) = send_json(server.get("/openapi.json")).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let create = &doc["paths"]["/unified/ats/candidates"]["post"];
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ats.candidates.create_body"
    );
    assert!(create["responses"]["201"].is_object());
    let names: Vec<&str> = create["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for name in [
        "integrated_account_id",
        "truto_response_format",
        "job_id",
        "application_source",
        "Idempotency-Key",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    assert!(
        schemas.contains_key("ats.candidates")
            && schemas.contains_key("ats.candidates.email")
            && schemas.contains_key("Error")
    );
    // No dangling `$defs` references.
    assert!(!doc.to_string().contains("#/$defs/"));
    assert!(doc["paths"]["/integrated-account/{id}"]["patch"].is_object());
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests() {
    let server = TestServer::start().await;
    server.lever.script(Fault::delay(
        "POST",
        "/v1/opportunities",
        Duration::from_millis(400),
    ));
    let request = server.create(&lead(), &person("G", "g@x.io")).send();
    let in_flight = tokio::spawn(request);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let lever_calls = server.lever.count("POST", "/v1/opportunities");
    assert_eq!(lever_calls, 1, "the request is in flight");
    // `stop` waits for the server to drain; the fake lives until then.
    server.stop().await;
    let response = in_flight.await.expect("joined").expect("answered");
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn an_invalid_mapping_refuses_to_start_with_diagnostics() {
    let dir = std::env::temp_dir().join(format!("switchboard-bad-mappings-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("lever/ats")).expect("dirs");
    std::fs::copy(
        repo().join("mappings/lever/integration.yaml"),
        dir.join("lever/integration.yaml"),
    )
    .expect("copy");
    let mapping =
        std::fs::read_to_string(repo().join("mappings/lever/ats/candidates.yaml")).expect("read");
    std::fs::write(
        dir.join("lever/ats/candidates.yaml"),
        mapping.replace("first_name: supported", "frist_name: supported"),
    )
    .expect("write");
    let mut config = config();
    config.mappings = dir.clone();
    let error = match switchboard_server::Server::bind(config).await {
        Ok(_) => panic!("an invalid mapping must not start"),
        Err(error) => error.to_string(),
    };
    assert!(
        error.contains("error: unknown unified field `frist_name`"),
        "{error}"
    );
    assert!(error.contains("candidates.yaml:"), "{error}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 11, item 10: every operation declares the error statuses it can answer, with the error
/// envelope, and its parameter constraints are the ones the server enforces.
#[tokio::test]
async fn openapi_declares_every_error_status_each_operation_answers() {
    let server = TestServer::start().await;
    let (_, doc) = send_json(server.get("/openapi.json")).await;
    let paths = doc["paths"].as_object().expect("paths");
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("path item") {
            if method == "parameters" {
                continue;
            }
            let responses = &operation["responses"];
            let mut expected = vec!["500", "503"];
            if operation.get("security") != Some(&json!([])) {
                expected.extend(["401", "403"]);
            }
            if path.contains('{') || path.contains("/meta/") || path.starts_with("/unified/") {
                expected.push("404");
            }
            if operation.get("requestBody").is_some() {
                expected.extend(["400", "413"]);
            }
            for status in expected {
                assert_eq!(
                    responses[status]["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/Error",
                    "{method} {path} declares {status}"
                );
            }
        }
    }
    let create = &doc["paths"]["/unified/ats/candidates"]["post"];
    let account_id = create["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "integrated_account_id")
        .expect("declared");
    assert_eq!(account_id["schema"]["minLength"], 1);
    let strict = create["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "switchboard_strict")
        .expect("declared");
    assert_eq!(strict["schema"]["type"], "boolean");
}

#[tokio::test]
async fn log_parameters_outside_their_declared_range_are_a_400() {
    let server = TestServer::start().await;
    for query in [
        "limit=0",
        "limit=101",
        "limit=-3",
        "next_cursor=",
        "next_cursor=%C2%A06",
    ] {
        let (status, body) = send_json(server.get(&format!("/log?{query}"))).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["code"], "invalid_query", "{query}");
    }
    let (status, _) = send_json(server.get("/log?limit=100&next_cursor=12")).await;
    assert_eq!(status, 200);
}
