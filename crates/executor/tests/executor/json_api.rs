//! A JSON:API provider's mapping (the repository's Teamtailor create) on the wire: the auth
//! header's prefix, the step's `application/vnd.api+json` and its version header all reach the
//! provider. The fake Lever answers the unknown route with a 404, which ends the run; the
//! request it recorded is what is checked.

use serde_json::{Value, json};
use switchboard_core::RunInput;
use switchboard_executor::Account;
use switchboard_testkit::fake_lever::FakeLever;

use crate::common::{context, executor, options, registry};

#[tokio::test]
async fn the_token_prefix_content_type_and_version_reach_the_provider() {
    let provider = FakeLever::start().await;
    let plan = registry()
        .method("teamtailor", "ats/candidates", "create")
        .expect("the create is mapped")
        .clone();
    let account = Account {
        id: "acct-tt".to_owned(),
        environment: None,
        base_url: Some(provider.base_url()),
        context: context(&[("api_key", "tt-key-123")]),
    };
    let input = RunInput {
        body: json!({"first_name": "Ada", "emails": [{"email": "ada@example.com"}]}),
        ..RunInput::default()
    };
    let error = executor(options())
        .run(&plan, input, &account)
        .await
        .expect_err("the fake has no /candidates route");
    assert!(error.is_remote_error(), "{error:?}");
    let calls = provider.calls();
    assert_eq!(calls.len(), 1, "nothing after the failed first call");
    let call = &calls[0];
    assert_eq!(call.method, "POST");
    assert!(call.path.ends_with("/candidates"), "{}", call.path);
    let values = |name: &str| -> Vec<&str> {
        call.headers
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    };
    assert_eq!(values("authorization"), ["Token token=tt-key-123"]);
    assert_eq!(values("content-type"), ["application/vnd.api+json"]);
    assert_eq!(values("x-api-version"), ["20161108"]);
    let sent: Value = serde_json::from_slice(&call.body).expect("a JSON body");
    assert_eq!(
        sent,
        json!({"data": {"type": "candidates",
                        "attributes": {"first-name": "Ada", "email": "ada@example.com"}}})
    );
}
