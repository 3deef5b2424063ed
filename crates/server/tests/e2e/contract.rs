//! The contract's Python example (`reference/unified-ats-candidates-create.txt`), as reqwest:
//! `requests.post(url, headers=headers, params={"integrated_account_id": …}, json=payload)`.

use serde_json::{Value, json};
use switchboard_testkit::fake_lever::FakeLever;

use crate::common::{TestServer, json_of, send};

/// The payload of the contract's examples, verbatim.
fn payload() -> Value {
    json!({
        "first_name": "your_first_name",
        "last_name": "your_last_name",
        "title": "your_title",
        "company": "your_company",
        "locations": [],
        "phones": [],
        "emails": [],
        "tags": [],
        "attachments": [],
        "job_form_field_answers": [],
        "remote_data": {}
    })
}

async fn post(server: &TestServer, params: &[(&str, &str)], payload: &Value) -> reqwest::Response {
    send(
        server
            .client
            .post(server.url("/unified/ats/candidates"))
            .header("Authorization", format!("Bearer {}", server.token))
            .header("Content-Type", "application/json")
            .query(params)
            .json(payload),
    )
    .await
}

#[tokio::test]
async fn the_contract_example_as_written_gets_a_400_naming_what_lever_needs() {
    let server = TestServer::start().await;
    let response = post(
        &server,
        &[("integrated_account_id", &server.account)],
        &payload(),
    )
    .await;
    let (status, body) = json_of(response).await;
    assert_eq!(status, 400);
    assert_eq!(body["statusCode"], 400);
    assert_eq!(
        body["details"]["missing_required_query_parameters"],
        json!(["job_id"])
    );
    assert!(
        body["details"]["missing_required_body_fields"]
            .as_array()
            .expect("list")
            .contains(&Value::from("emails")),
        "{body}"
    );
    assert!(server.lever.calls().is_empty());
}

#[tokio::test]
async fn the_contract_example_with_lever_required_values_creates_the_candidate() {
    let server = TestServer::start().await;
    let mut payload = payload();
    payload["emails"] = json!([{"email": "your_email@example.com", "type": "personal"}]);
    let response = post(
        &server,
        &[
            ("integrated_account_id", &server.account),
            ("job_id", FakeLever::POSTING_ID),
        ],
        &payload,
    )
    .await;
    let (status, record) = json_of(response).await;
    assert_eq!(status, 201, "{record}");
    assert!(record["id"].is_string());
    assert_eq!(record["first_name"], "your_first_name");
    assert_eq!(record["last_name"], "your_last_name");
    assert_eq!(record["emails"][0]["email"], "your_email@example.com");
    assert!(record["remote_data"].is_object());
}
