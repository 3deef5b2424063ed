//! A JSON body goes out as `application/json` unless the step names its own `Content-Type`
//! (JSON:API providers want `application/vnd.api+json`); the header is sent once, never twice.

use serde_json::json;
use switchboard_core::{HttpMethod, ProviderRequest, RequestBody};
use switchboard_testkit::fake_lever::FakeLever;

use crate::common::{account, executor, options, plan};

fn post_json(headers: Vec<(String, String)>) -> ProviderRequest {
    ProviderRequest {
        step: "probe".to_owned(),
        method: HttpMethod::Post,
        path: "/probe".to_owned(),
        query: Vec::new(),
        headers,
        body: RequestBody::Json(json!({"data": {"type": "candidates"}})),
        rate_limit: None,
        page_url: None,
        delay_ms: 0,
        read_only: false,
    }
}

async fn sent_content_types(headers: Vec<(String, String)>) -> Vec<String> {
    let lever = FakeLever::start().await;
    let plan = plan();
    executor(options())
        .send(
            plan.integration_plan(),
            &account(&lever),
            &post_json(headers),
        )
        .await
        .expect("an answer, whatever its status");
    let calls = lever.calls();
    calls[0]
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| value.clone())
        .collect()
}

#[tokio::test]
async fn a_json_body_is_declared_application_json_by_default() {
    assert_eq!(sent_content_types(Vec::new()).await, ["application/json"]);
}

#[tokio::test]
async fn a_step_content_type_replaces_the_json_default() {
    let headers = vec![(
        "Content-Type".to_owned(),
        "application/vnd.api+json".to_owned(),
    )];
    assert_eq!(
        sent_content_types(headers).await,
        ["application/vnd.api+json"]
    );
}
