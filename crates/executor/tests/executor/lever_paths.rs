//! Both Lever paths of `ats/candidates create`, end to end against the fake.

use serde_json::{Value, json};
use switchboard_core::HttpMethod;
use switchboard_testkit::fake_lever::FakeLever;

use crate::common::{account, applicant_input, executor, lead_input, options, plan};

fn is_send<T: Send>(_: &T) {}

#[tokio::test]
async fn applicant_path_applies_finds_the_opportunity_and_tags_it() {
    let lever = FakeLever::start().await;
    let executor = executor(options());
    let account = account(&lever);
    let plan = plan();
    let run = executor.run(
        &plan,
        applicant_input("ada@example.com", json!({})),
        &account,
    );
    is_send(&run);
    let outcome = run.await.expect("the applicant path succeeds");

    let steps: Vec<(&str, HttpMethod)> = outcome
        .exchanges
        .iter()
        .map(|exchange| (exchange.step.as_str(), exchange.method))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("apply", HttpMethod::Post),
            ("find", HttpMethod::Get),
            ("tag", HttpMethod::Post)
        ]
    );
    assert!(
        outcome
            .exchanges
            .iter()
            .all(|exchange| exchange.attempts == 1)
    );

    let apply = lever
        .calls()
        .into_iter()
        .find(|call| call.matches("POST", "/v1/postings/"))
        .expect("apply was called");
    assert_eq!(
        apply.path,
        format!("/v1/postings/{}/apply", FakeLever::POSTING_ID)
    );
    assert_eq!(apply.query_value("send_confirmation_email"), Some("false"));
    assert_eq!(
        apply.header("authorization"),
        Some(FakeLever::basic_authorization().as_str())
    );
    let body = apply.json().expect("a JSON apply body");
    let info = body["personalInformation"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        info.contains(&json!({"name": "fullName", "value": "Ada Lovelace"})),
        "{body}"
    );
    assert!(
        info.contains(&json!({"name": "email", "value": "ada@example.com"})),
        "{body}"
    );

    let opportunities = lever.opportunities();
    assert_eq!(opportunities.len(), 1);
    let record = &outcome.output.record;
    assert_eq!(record["id"], opportunities[0]["id"]);
    assert_eq!(record["first_name"], "Ada");
    assert_eq!(record["last_name"], "Lovelace");
    assert_eq!(record["emails"], json!([{"email": "ada@example.com"}]));
    assert_eq!(record["tags"], json!([{"name": "Math"}]));
    assert_eq!(
        lever.count("POST", "/v1/opportunities/"),
        1,
        "one addTags call"
    );
}

#[tokio::test]
async fn lead_path_creates_an_opportunity_on_behalf_of_the_user() {
    let lever = FakeLever::start().await;
    let executor = executor(options());
    let outcome = executor
        .run(
            &plan(),
            lead_input("grace@example.com", json!({})),
            &account(&lever),
        )
        .await
        .expect("the lead path succeeds");

    assert_eq!(outcome.exchanges.len(), 1);
    let calls = lever.calls();
    assert_eq!(calls.len(), 1);
    let create = &calls[0];
    assert!(create.matches("POST", "/v1/opportunities"));
    assert_eq!(create.query_value("perform_as"), Some(FakeLever::USER_ID));
    let body = create.json().expect("a JSON body");
    assert_eq!(body["name"], "Grace Hopper");
    assert_eq!(body["headline"], "Navy");
    assert_eq!(body["emails"], json!(["grace@example.com"]));
    assert_eq!(body["tags"], json!(["Compilers"]));
    assert_eq!(body["origin"], "sourced");
    assert_eq!(body["postings"], json!([FakeLever::POSTING_ID]));

    let opportunities = lever.opportunities();
    assert_eq!(opportunities.len(), 1);
    assert_eq!(outcome.output.record["id"], opportunities[0]["id"]);
    assert_eq!(outcome.output.record["remote_data"]["deduped"], false);

    // The raw answer is kept as received, for `raw` and `stream` formats.
    let last = outcome.last_exchange().expect("one exchange");
    assert_eq!(last.status, create.status.unwrap_or_default());
    assert!(
        last.content_type
            .as_deref()
            .is_some_and(|value| value.starts_with("application/json"))
    );
    let raw: Value = serde_json::from_slice(&last.body).expect("the raw body is JSON");
    assert_eq!(raw["data"]["id"], opportunities[0]["id"]);
    assert_eq!(last.body_value(), raw);
    assert!(last.url.starts_with(&lever.base_url()));
    assert!(last.url.contains("perform_as="));
}

#[tokio::test]
async fn bearer_tokens_authenticate_when_the_account_has_no_api_key() {
    let lever = FakeLever::start().await;
    let mut account = account(&lever);
    account.context.remove("api_key");
    account
        .context
        .insert("access_token".into(), FakeLever::ACCESS_TOKEN.into());
    executor(options())
        .run(
            &plan(),
            lead_input("token@example.com", json!({})),
            &account,
        )
        .await
        .expect("the bearer token is accepted");
    let calls = lever.calls();
    assert_eq!(
        calls[0].header("authorization"),
        Some(format!("Bearer {}", FakeLever::ACCESS_TOKEN).as_str())
    );
}
