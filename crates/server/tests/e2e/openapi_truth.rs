//! Issue 11, item 10: the OpenAPI document says what the server does — bodies and parameters it
//! calls valid are accepted and those it calls invalid are refused, methods it does not list are
//! a `405` with an honest `Allow`, and a server told to call no provider refuses every unified
//! call with a declared status before anything is sent. (`.ci/schemathesis` checks the whole
//! document the same way with generated requests.)

use serde_json::{Value, json};
use switchboard_testkit::fake_lever::FakeLever;

use crate::common::*;

/// The document's schema `name` (from `components`), compiled.
fn validator(doc: &Value, name: &str) -> jsonschema::Validator {
    let schema = &doc["components"]["schemas"][name];
    assert!(schema.is_object(), "component {name}");
    jsonschema::validator_for(schema).expect("the component compiles")
}

/// The schema of the query parameter `name` of `verb path`.
fn parameter_schema<'a>(doc: &'a Value, path: &str, verb: &str, name: &str) -> &'a Value {
    doc["paths"][path][verb]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == name)
        .map(|p| &p["schema"])
        .expect("declared")
}

/// A new Lever account's body with `base_url` and `context`.
fn lever_account(base_url: &str, context: Value) -> Value {
    json!({"integration": "lever", "base_url": base_url, "context": context})
}

/// Each body the document calls a valid new account is created, and each it calls invalid is a
/// 400: the base-URL pattern is the one the server checks, a credential must be sendable in a
/// header, and a null context value (which the server leaves out) is allowed.
#[tokio::test]
async fn a_new_account_is_created_exactly_when_the_document_calls_it_valid() {
    let server = TestServer::start().await;
    let (_, doc) = send_json(server.get("/openapi.json")).await;
    let schema = validator(&doc, "NewIntegratedAccount");
    let key = || json!({"api_key": FakeLever::API_KEY});
    let bodies = [
        lever_account("https://api.lever.co/v1", key()),
        lever_account("http://127.0.0.1:9090/v1", key()),
        lever_account("http://[::1]:9090/v1", key()),
        lever_account("HTTPS://Ats.Example.com:65535/a*b/(c);d=e/", key()),
        lever_account("http://localhost", key()),
        // Refused by both: an obfuscated numeric host, a numeric last label, a port past 65535,
        // an IPv4 octet with a leading zero, another scheme, userinfo, a query, an IPv6 with an
        // embedded IPv4 part.
        lever_account("http://2130706433/v1", key()),
        lever_account("http://ats.1/v1", key()),
        lever_account("http://ats.example.com:65536/v1", key()),
        lever_account("http://10.0.0.01/v1", key()),
        lever_account("ftp://ats.example.com/v1", key()),
        lever_account("https://u:p@ats.example.com/v1", key()),
        lever_account("https://ats.example.com/v1?x=1", key()),
        lever_account("http://[::ffff:127.0.0.1]/v1", key()),
        // A null value is as good as none: for an unknown key, a credential next to another.
        lever_account(
            "https://api.lever.co/v1",
            json!({"api_key": FakeLever::API_KEY, "not_a_lever_key": null}),
        ),
        lever_account(
            "https://api.lever.co/v1",
            json!({"api_key": FakeLever::API_KEY, "refresh_token": null}),
        ),
        // Refused by both: an unknown key with a value, a null as the only credential.
        lever_account(
            "https://api.lever.co/v1",
            json!({"api_key": FakeLever::API_KEY, "not_a_lever_key": "x"}),
        ),
        lever_account("https://api.lever.co/v1", json!({"api_key": null})),
        // A credential that cannot be sent in a header (every call would fail), and one that can.
        lever_account("https://api.lever.co/v1", json!({"api_key": "line\nbreak"})),
        lever_account("https://api.lever.co/v1", json!({"api_key": "tab\tand é"})),
        // Client credentials need the secret as well as the id: the id alone is refused by both.
        json!({"integration": "greenhouse", "context": {"client_id": "c", "client_secret": "s"}}),
        json!({"integration": "greenhouse", "context": {"client_id": "c"}}),
    ];
    for body in bodies {
        let (status, answer) = send_json(server.post("/integrated-account").json(&body)).await;
        let valid = schema.is_valid(&body);
        assert_eq!(
            (status == 201, status),
            (valid, if valid { 201 } else { 400 }),
            "{body}: the document says {}, the server answered {answer}",
            if valid { "valid" } else { "invalid" },
        );
    }
}

/// `remote_query` is declared as a query string carries it: names without brackets to strings.
/// Nested or conflicting names, which the server refuses, are not schema-valid.
#[tokio::test]
async fn remote_query_is_declared_as_the_server_reads_it() {
    let server = TestServer::start().await;
    let (_, doc) = send_json(server.get("/openapi.json")).await;
    let schema = parameter_schema(&doc, "/unified/ats/candidates", "post", "remote_query");
    let remote_query = jsonschema::validator_for(schema).expect("compiles");
    assert!(remote_query.is_valid(&json!({"perform_as": "u1", "a b": ""})));
    for invalid in [
        json!({"": "x"}),
        json!({"a": {"b": "1"}}),
        json!({"a[b": "1"}),
        json!({"a": ["1"]}),
        json!({"a": 1}),
    ] {
        assert!(!remote_query.is_valid(&invalid), "{invalid}");
    }
    for query in ["remote_query[]=x", "remote_query[a]=1&remote_query[a][b]=2"] {
        let path = format!("{}&{query}", candidates_path(&server.account, &applicant()));
        let (status, body) = send_json(server.post(&path).json(&candidate("q@example.com"))).await;
        assert_eq!(status, 400, "{query}: {body}");
    }
    assert!(server.lever.calls().is_empty());
}

/// A method no integration maps on a resource's path is not in the document, and the server
/// answers it `405` with an `Allow` naming what is mapped there — also for methods the router
/// does not route at all.
#[tokio::test]
async fn unmapped_methods_are_a_405_whose_allow_matches_the_document() {
    let server = TestServer::start().await;
    let (_, doc) = send_json(server.get("/openapi.json")).await;
    assert!(doc["paths"]["/unified/ats/jobs"]["post"].is_null());
    assert!(doc["paths"]["/unified/ats/jobs"]["get"].is_object());
    let path = format!("/unified/ats/jobs?integrated_account_id={}", server.account);
    let response = send(server.post(&path).json(&json!({}))).await;
    let allow = response.headers().get("allow").cloned();
    let (status, body) = json_of(response).await;
    assert_eq!(status, 405, "{body}");
    envelope(405, &body);
    assert_eq!(body["code"], "method_not_allowed");
    assert_eq!(
        allow.as_ref().and_then(|a| a.to_str().ok()),
        Some("GET, HEAD")
    );
    for (path, expected) in [
        ("/unified/ats/jobs", "GET, HEAD"),
        ("/unified/ats/candidates", "GET, HEAD, POST"),
        ("/unified/ats/jobs/some-id", "GET, HEAD"),
    ] {
        let response = send(
            server
                .client
                .request(reqwest::Method::OPTIONS, server.url(path))
                .bearer_auth(&server.token),
        )
        .await;
        assert_eq!(response.status(), 405, "{path}");
        let allow = response
            .headers()
            .get("allow")
            .and_then(|a| a.to_str().ok());
        assert_eq!(allow, Some(expected), "{path}");
        let documented: Vec<String> = doc["paths"][path.replace("some-id", "{id}")]
            .as_object()
            .expect("documented")
            .keys()
            .map(|verb| verb.to_uppercase())
            .collect();
        for verb in expected.split(", ").filter(|v| *v != "HEAD") {
            assert!(documented.iter().any(|d| d == verb), "{path}: {verb}");
        }
    }
}

/// A created account's `201` links its `id` to every operation that takes an account.
#[tokio::test]
async fn a_created_account_links_to_every_operation_that_takes_one() {
    let server = TestServer::start().await;
    let (_, doc) = send_json(server.get("/openapi.json")).await;
    let links = doc["paths"]["/integrated-account"]["post"]["responses"]["201"]["links"]
        .as_object()
        .expect("links");
    assert_eq!(
        links["ats_candidates_create"]["parameters"]["integrated_account_id"],
        "$response.body#/id"
    );
    assert_eq!(
        links["get_integrated_account"]["parameters"]["id"],
        "$response.body#/id"
    );
    let mut taking_an_account = 0;
    for item in doc["paths"].as_object().expect("paths").values() {
        for operation in item.as_object().expect("item").values() {
            let requires_account = operation["parameters"].as_array().is_some_and(|ps| {
                ps.iter()
                    .any(|p| p["name"] == "integrated_account_id" && p["required"] == true)
            });
            if requires_account {
                taking_an_account += 1;
                let id = operation["operationId"].as_str().expect("operationId");
                assert!(links.contains_key(id), "a link to {id}");
            }
        }
    }
    assert!(taking_an_account > 5, "{taking_an_account}");
}

/// `--refuse-provider-calls`: a valid unified call is a `403 provider_calls_refused` (declared
/// in the document) and reaches no provider; an invalid one is still the `400` it would be.
#[tokio::test]
async fn a_server_that_refuses_provider_calls_sends_nothing_and_says_so() {
    let mut config = config();
    config.executor.refuse_provider_calls = true;
    let server = TestServer::start_with(config).await;
    let (status, body) = send_json(server.create(&applicant(), &candidate("r@example.com"))).await;
    assert_eq!(status, 403, "{body}");
    envelope(403, &body);
    assert_eq!(body["code"], "provider_calls_refused");
    assert_eq!(body["is_remote_error"], false);
    let list = format!("/unified/ats/jobs?integrated_account_id={}", server.account);
    let (status, body) = send_json(server.get(&list)).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "provider_calls_refused");
    let (status, body) = send_json(server.create(&applicant(), &json!({"emails": "nope"}))).await;
    assert_eq!(status, 400, "validated first: {body}");
    assert!(server.lever.calls().is_empty(), "nothing reached the fake");
    let (_, doc) = send_json(server.get("/openapi.json")).await;
    let forbidden = &doc["paths"]["/unified/ats/candidates"]["post"]["responses"]["403"];
    assert!(
        forbidden["description"]
            .as_str()
            .is_some_and(|d| d.contains("provider_calls_refused")),
        "{forbidden}"
    );
}

/// The connect flow is in the document: one start per integration that has one, taking exactly
/// its public context fields (another name is the 400 the server answers), and the callback,
/// open to browsers (no token).
#[tokio::test]
async fn the_connect_flow_is_declared_as_the_server_serves_it() {
    let mut config = config();
    config.connect_callback_url = Some("https://switchboard.example/connect/callback".to_owned());
    config.executor.oauth_apps.insert(
        "lever".to_owned(),
        switchboard_executor::OAuthApp {
            client_id: "client".to_owned(),
            client_secret: "secret".to_owned(),
        },
    );
    let server = TestServer::start_with(config).await;
    let (_, doc) = send_json(server.get("/openapi.json")).await;
    let start = &doc["paths"]["/connect/lever"]["get"];
    assert!(start["responses"]["303"]["headers"]["Location"].is_object());
    let context = start["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "context")
        .map(|p| &p["schema"])
        .expect("context");
    let fields = jsonschema::validator_for(context).expect("compiles");
    assert_eq!(
        doc["paths"]["/connect/callback"]["get"]["security"],
        json!([])
    );
    assert!(
        doc["paths"]["/connect/ashby"].is_null(),
        "Ashby has no connect flow"
    );

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for (name, value) in [("perform_as", "u1"), ("api_key", "k"), ("unknown", "x")] {
        let response = client
            .get(server.url("/connect/lever"))
            .query(&[(name, value)])
            .bearer_auth(&server.token)
            .send()
            .await
            .expect("sent");
        let valid = fields.is_valid(&json!({name: value}));
        let expected = if valid { 303 } else { 400 };
        assert_eq!(
            response.status().as_u16(),
            expected,
            "{name}: valid {valid}"
        );
    }
    let (status, body) =
        send_json(server.client.get(server.url("/connect/callback?state=x"))).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        doc["paths"]["/connect/callback"]["get"]["responses"]["400"].is_object(),
        "declared"
    );
}
