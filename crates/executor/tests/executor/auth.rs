//! Credentials come from the account, never from mappings; none means no call.

use serde_json::json;
use switchboard_core::AccountError;
use switchboard_executor::{Account, ExecErrorKind};
use switchboard_testkit::fake_lever::FakeLever;

use crate::common::{account, context, executor, get, lead_input, options, plan};

#[tokio::test]
async fn an_account_without_credentials_is_refused_before_any_call() {
    let lever = FakeLever::start().await;
    let mut account = account(&lever);
    account.context.remove("api_key");
    let error = executor(options())
        .run(
            &plan(),
            lead_input("nokey@example.com", json!({})),
            &account,
        )
        .await
        .expect_err("no credentials");
    match error.kind() {
        ExecErrorKind::Account {
            account,
            error:
                AccountError::NoCredentials {
                    integration,
                    expected,
                },
        } => {
            assert_eq!(integration, "lever");
            assert_eq!(account, "acct-1");
            assert_eq!(expected, &["api_key", "refresh_token", "access_token"]);
        }
        other => panic!("expected NoCredentials, got {other:?}"),
    }
    assert_eq!(
        error.to_string(),
        "account `acct-1`: no credentials for `lever`: set one of `api_key`, `refresh_token`, `access_token`"
    );
    assert!(error.exchanges().is_empty());
    assert!(lever.calls().is_empty());
}

#[tokio::test]
async fn a_mapping_header_cannot_replace_the_credential() {
    let lever = FakeLever::start().await;
    let mut request = get("probe", "/opportunities");
    request
        .headers
        .push(("Authorization".into(), "Basic ZXZpbDo=".into()));
    request.headers.push(("x-trace".into(), "kept".into()));
    let plan = plan();
    let exchange = executor(options())
        .send(plan.integration_plan(), &account(&lever), &request)
        .await
        .expect("sent");
    assert_eq!(exchange.status, 200);
    let calls = lever.calls();
    let authorizations: Vec<&str> = calls[0]
        .headers
        .iter()
        .filter(|(name, _)| name == "authorization")
        .map(|(_, value)| value.as_str())
        .collect();
    assert_eq!(
        authorizations,
        vec![FakeLever::basic_authorization().as_str()]
    );
    assert_eq!(calls[0].header("x-trace"), Some("kept"));
}

#[test]
fn base_urls_come_from_the_account_or_the_integration_environment() {
    let plan = plan();
    let integration = plan.integration_plan();
    let production = Account::new("a").with("api_key", "k");
    let base_url = |account: &Account| {
        integration
            .endpoint(&account.connection())
            .map(|endpoint| endpoint.base_url().to_owned())
    };
    assert_eq!(
        base_url(&production).expect("production"),
        "https://api.lever.co/v1"
    );
    let sandbox = Account {
        environment: Some("sandbox".into()),
        ..production.clone()
    };
    assert_eq!(
        base_url(&sandbox).expect("sandbox"),
        "https://api.sandbox.lever.co/v1"
    );
    let unknown = Account {
        environment: Some("staging".into()),
        ..production.clone()
    };
    let error = base_url(&unknown).expect_err("unknown environment");
    assert_eq!(
        error.to_string(),
        "unknown environment `staging` (known: production, sandbox)"
    );
    let custom = Account {
        base_url: Some("ftp://example.com/v1".into()),
        ..production
    };
    assert!(matches!(
        base_url(&custom),
        Err(AccountError::InvalidBaseUrl { .. })
    ));
}

#[test]
fn account_debug_shows_no_context_values() {
    let account = Account {
        id: "acct".into(),
        environment: None,
        base_url: Some("https://user:pw@example.com/v1".into()),
        context: context(&[("api_key", "super-secret-key"), ("perform_as", "u1")]),
    };
    let shown = format!("{account:?}");
    assert!(!shown.contains("super-secret-key"), "{shown}");
    assert!(!shown.contains("pw@"), "{shown}");
    assert!(shown.contains("api_key"), "{shown}");
}
