//! OAuth 2.0 accounts against the fake OAuth provider: tokens fetched and renewed before expiry,
//! rotated refresh tokens kept, `invalid_grant` → re-authorisation, one renewal for many
//! concurrent calls (in one executor and across executors sharing a store), and a provider 401
//! renewing once and sending a read again — but a create only when the 401 proves it was not
//! processed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use switchboard_core::tooling::SourceFile;
use switchboard_core::{HttpMethod, IntegrationPlan, ProviderRequest, Registry, RequestBody};
use switchboard_executor::{
    Account, ExecErrorKind, Executor, MemoryTokenStore, OAuthApp, OAuthErrorKind, TokenStore,
};
use switchboard_testkit::fake_oauth::FakeOAuth;

use crate::common::{context, options};

/// An integration whose auth is the YAML `auth` entry given, with its token URL on the fake.
fn integration(fake: &FakeOAuth, auth: &str, secrets: &str) -> Arc<IntegrationPlan> {
    let text = format!(
        "version: 1\nlabel: Example\nbase_url:\n  production: {url}/api\nauth:\n  - {auth}\n\
         context:\n  secrets: [{secrets}]\nerrors:\n  message: \"{{{{ response.error }}}}\"\n",
        url = fake.url(),
        auth = auth.replace("TOKEN_URL", &format!("{}/token", fake.url())),
    );
    let file = SourceFile {
        path: PathBuf::from("example/integration.yaml"),
        name: "example/integration.yaml".to_owned(),
        text,
    };
    let registry =
        Registry::load(&[file], &[]).unwrap_or_else(|problems| panic!("loads: {problems}"));
    registry.integration("example").expect("compiled").clone()
}

fn client_credentials(fake: &FakeOAuth) -> Arc<IntegrationPlan> {
    integration(
        fake,
        "{type: oauth2_client_credentials, token_url: TOKEN_URL, client_id: client_id, \
         client_secret: client_secret, scopes: [items:read, items:write]}",
        "client_id, client_secret",
    )
}

fn authorization_code(fake: &FakeOAuth) -> Arc<IntegrationPlan> {
    integration(
        fake,
        "{type: oauth2_authorization_code, authorize_url: https://auth.example.com/authorize, \
         token_url: TOKEN_URL, access_token: access_token, refresh_token: refresh_token, \
         client_authentication: body}",
        "access_token, refresh_token",
    )
}

fn cc_account() -> Account {
    Account {
        id: "cc-1".to_owned(),
        context: context(&[
            ("client_id", FakeOAuth::CLIENT_ID),
            ("client_secret", FakeOAuth::CLIENT_SECRET),
        ]),
        ..Account::default()
    }
}

fn ac_account(access: &str, refresh: &str) -> Account {
    Account {
        id: "ac-1".to_owned(),
        context: context(&[("access_token", access), ("refresh_token", refresh)]),
        ..Account::default()
    }
}

fn app() -> BTreeMap<String, OAuthApp> {
    BTreeMap::from([(
        "example".to_owned(),
        OAuthApp {
            client_id: FakeOAuth::CLIENT_ID.to_owned(),
            client_secret: FakeOAuth::CLIENT_SECRET.to_owned(),
        },
    )])
}

fn executor_with(store: Arc<dyn TokenStore>) -> Executor {
    Executor::new(switchboard_executor::ExecutorOptions {
        oauth_apps: app(),
        token_store: Some(store),
        ..options()
    })
    .expect("builds")
}

fn read() -> ProviderRequest {
    request(HttpMethod::Get, "/items/7")
}

fn create() -> ProviderRequest {
    ProviderRequest {
        body: RequestBody::Json(serde_json::json!({"name": "x"})),
        ..request(HttpMethod::Post, "/items")
    }
}

fn request(method: HttpMethod, path: &str) -> ProviderRequest {
    ProviderRequest {
        step: "call".to_owned(),
        method,
        path: path.to_owned(),
        query: Vec::new(),
        headers: Vec::new(),
        body: RequestBody::Empty,
        rate_limit: None,
        page_url: None,
        delay_ms: 0,
        read_only: false,
    }
}

#[tokio::test]
async fn client_credentials_fetch_one_token_with_the_scopes_and_reuse_it() {
    let fake = FakeOAuth::start().await;
    let plan = client_credentials(&fake);
    let executor = executor_with(Arc::new(MemoryTokenStore::default()));
    for _ in 0..3 {
        let exchange = executor.send(&plan, &cc_account(), &read()).await.unwrap();
        assert_eq!(exchange.status, 200);
    }
    assert_eq!(fake.token_requests("client_credentials"), 1);
    let form = fake.last_token_form();
    assert!(form.contains(&("scope".to_owned(), "items:read items:write".to_owned())));
    assert!(
        !form.iter().any(|(key, _)| key == "client_secret"),
        "basic client authentication keeps the secret out of the body"
    );
}

#[tokio::test]
async fn a_token_about_to_expire_is_renewed_before_the_call() {
    let fake = FakeOAuth::start().await;
    fake.set_expires_in(30); // inside the renewal margin: every call renews
    let plan = client_credentials(&fake);
    let executor = executor_with(Arc::new(MemoryTokenStore::default()));
    executor.send(&plan, &cc_account(), &read()).await.unwrap();
    executor.send(&plan, &cc_account(), &read()).await.unwrap();
    assert_eq!(fake.token_requests("client_credentials"), 2);
    assert_eq!(
        fake.reads(),
        2,
        "no call was refused: the token was renewed first"
    );
}

#[tokio::test]
async fn wrong_client_credentials_need_reauth_and_never_show_the_secret() {
    let fake = FakeOAuth::start().await;
    let plan = client_credentials(&fake);
    let store = Arc::new(MemoryTokenStore::default());
    let executor = executor_with(store.clone());
    let account = cc_account().with("client_secret", "wrong-secret-value");
    let error = executor.send(&plan, &account, &read()).await.unwrap_err();
    assert!(error.needs_reauth(), "{error}");
    assert!(store.needs_reauth("cc-1"));
    assert!(!error.to_string().contains("wrong-secret-value"));
    assert!(!format!("{error:?}").contains("wrong-secret-value"));
    assert_eq!(fake.reads(), 0, "nothing was sent to the provider");
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_and_the_rotated_refresh_token_stored() {
    let fake = FakeOAuth::start().await;
    let (access, refresh) = fake.grant_tokens();
    fake.revoke_access_tokens(); // the account's access token is no longer good
    let plan = authorization_code(&fake);
    let store = Arc::new(MemoryTokenStore::default());
    let executor = executor_with(store.clone());
    let account = ac_account(&access, &refresh);
    let exchange = executor.send(&plan, &account, &read()).await.unwrap();
    assert_eq!(exchange.status, 200, "one refresh, the read sent again");
    assert_eq!(exchange.attempts, 2);
    assert_eq!(fake.token_requests("refresh_token"), 1);
    assert!(!fake.refresh_token_is_live(&refresh), "rotated");
    let stored = store.load("ac-1").await.unwrap();
    let state = stored.state.expect("tokens stored");
    assert_eq!(stored.version, 1);
    let rotated = state.refresh_token.expect("refresh token kept");
    assert!(
        fake.refresh_token_is_live(&rotated),
        "the new refresh token is the one stored"
    );
    // A second refresh uses the rotated token (the old one would be invalid_grant).
    fake.revoke_access_tokens();
    let exchange = executor.send(&plan, &account, &read()).await.unwrap();
    assert_eq!(exchange.status, 200);
    assert_eq!(fake.token_requests("refresh_token"), 2);
}

#[tokio::test]
async fn invalid_grant_marks_the_account_and_says_so_clearly() {
    let fake = FakeOAuth::start().await;
    let (access, refresh) = fake.grant_tokens();
    fake.revoke_access_tokens();
    fake.revoke_refresh_tokens();
    let plan = authorization_code(&fake);
    let store = Arc::new(MemoryTokenStore::default());
    let executor = executor_with(store.clone());
    let error = executor
        .send(&plan, &ac_account(&access, &refresh), &read())
        .await
        .unwrap_err();
    let ExecErrorKind::OAuth(oauth) = error.kind() else {
        panic!("an oauth error: {error}")
    };
    assert_eq!(oauth.kind, OAuthErrorKind::NeedsReauth);
    assert!(error.to_string().contains("invalid_grant"), "{error}");
    assert!(!error.to_string().contains(&refresh) && !error.to_string().contains(&access));
    assert!(store.needs_reauth("ac-1"));
}

#[tokio::test]
async fn without_the_operators_app_a_refresh_is_not_attempted() {
    let fake = FakeOAuth::start().await;
    let (access, refresh) = fake.grant_tokens();
    fake.revoke_access_tokens();
    let plan = authorization_code(&fake);
    let executor = Executor::new(options()).expect("builds");
    let error = executor
        .send(&plan, &ac_account(&access, &refresh), &read())
        .await
        .unwrap_err();
    assert!(
        matches!(error.kind(), ExecErrorKind::OAuth(e) if e.kind == OAuthErrorKind::NoApp),
        "{error}"
    );
    assert_eq!(fake.token_requests("refresh_token"), 0);
}

#[tokio::test]
async fn concurrent_calls_share_one_refresh_within_and_across_executors() {
    let fake = FakeOAuth::start().await;
    let (access, refresh) = fake.grant_tokens();
    fake.revoke_access_tokens();
    let plan = authorization_code(&fake);
    // Two executors sharing one store stand for two instances sharing a database.
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::default());
    let executors = [executor_with(store.clone()), executor_with(store.clone())];
    let account = ac_account(&access, &refresh);
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..16 {
        let (executor, plan, account) = (executors[i % 2].clone(), plan.clone(), account.clone());
        calls.spawn(async move { executor.send(&plan, &account, &read()).await });
    }
    while let Some(result) = calls.join_next().await {
        assert_eq!(result.unwrap().unwrap().status, 200);
    }
    assert_eq!(fake.token_requests("refresh_token"), 1);
}

#[tokio::test]
async fn a_create_refused_with_invalid_token_is_sent_again_once() {
    let fake = FakeOAuth::start().await;
    let plan = client_credentials(&fake);
    let executor = executor_with(Arc::new(MemoryTokenStore::default()));
    executor.send(&plan, &cc_account(), &read()).await.unwrap();
    fake.revoke_access_tokens();
    let exchange = executor
        .send(&plan, &cc_account(), &create())
        .await
        .unwrap();
    assert_eq!(exchange.status, 201);
    assert_eq!(
        fake.creates(),
        2,
        "the 401 proved the first was not processed"
    );
    assert_eq!(fake.token_requests("client_credentials"), 2);
}

#[tokio::test]
async fn a_create_refused_without_proof_is_not_sent_again() {
    let fake = FakeOAuth::start().await;
    fake.plain_401();
    let plan = client_credentials(&fake);
    let executor = executor_with(Arc::new(MemoryTokenStore::default()));
    executor.send(&plan, &cc_account(), &read()).await.unwrap();
    fake.revoke_access_tokens();
    let exchange = executor
        .send(&plan, &cc_account(), &create())
        .await
        .unwrap();
    assert_eq!(exchange.status, 401);
    assert_eq!(
        fake.creates(),
        1,
        "a bare 401 does not prove nothing was created"
    );
    // A read, though, is renewed and sent again.
    let exchange = executor.send(&plan, &cc_account(), &read()).await.unwrap();
    assert_eq!(exchange.status, 200);
    assert_eq!(fake.reads(), 3);
}

#[tokio::test]
async fn new_account_credentials_replace_stored_tokens() {
    let fake = FakeOAuth::start().await;
    let (access, refresh) = fake.grant_tokens();
    let plan = authorization_code(&fake);
    let store = Arc::new(MemoryTokenStore::default());
    let executor = executor_with(store.clone());
    fake.revoke_access_tokens();
    executor
        .send(&plan, &ac_account(&access, &refresh), &read())
        .await
        .unwrap();
    // The account is connected again: its new tokens win over the stored ones.
    let (access2, refresh2) = fake.grant_tokens();
    let exchange = executor
        .send(&plan, &ac_account(&access2, &refresh2), &read())
        .await
        .unwrap();
    assert_eq!(exchange.status, 200);
    assert_eq!(
        exchange.attempts, 1,
        "the new access token was used as given"
    );
    assert_eq!(fake.token_requests("refresh_token"), 1);
    // Refused later, it is refreshed with the account's new refresh token, not the stored one.
    fake.revoke_access_tokens();
    let exchange = executor
        .send(&plan, &ac_account(&access2, &refresh2), &read())
        .await
        .unwrap();
    assert_eq!(exchange.status, 200);
    assert!(
        !fake.refresh_token_is_live(&refresh2),
        "the new refresh token was the one used"
    );
}

/// A client-credentials integration whose token request names the acting user from the
/// account's context (`sub`), beside a fixed `audience`.
fn acting_user_integration(fake: &FakeOAuth) -> Arc<IntegrationPlan> {
    let text = format!(
        "version: 1\nlabel: Example\nbase_url:\n  production: {url}/api\nauth:\n  - type: oauth2_client_credentials\n    \
         token_url: {url}/token\n    client_id: client_id\n    client_secret: client_secret\n    \
         token_parameters:\n      sub: \"{{{{ context.acting_user }}}}\"\n      audience: api\n\
         context:\n  secrets: [client_id, client_secret]\n  fields:\n    acting_user: the acting user's id\n\
         errors:\n  message: \"{{{{ response.error }}}}\"\n",
        url = fake.url(),
    );
    let file = SourceFile {
        path: PathBuf::from("example/integration.yaml"),
        name: "example/integration.yaml".to_owned(),
        text,
    };
    let registry =
        Registry::load(&[file], &[]).unwrap_or_else(|problems| panic!("loads: {problems}"));
    registry.integration("example").expect("compiled").clone()
}

fn acting_user_account(acting_user: Option<&str>) -> Account {
    let mut account = cc_account();
    if let Some(user) = acting_user {
        account.context.insert(
            "acting_user".to_owned(),
            serde_json::Value::String(user.to_owned()),
        );
    }
    account
}

fn form_value(form: &[(String, String)], name: &str) -> Option<String> {
    form.iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
}

#[tokio::test]
async fn token_parameters_are_rendered_from_the_accounts_context() {
    let fake = FakeOAuth::start().await;
    let plan = acting_user_integration(&fake);
    let executor = executor_with(Arc::new(MemoryTokenStore::default()));
    let exchange = executor
        .send(&plan, &acting_user_account(Some("4080")), &read())
        .await
        .unwrap();
    assert_eq!(exchange.status, 200);
    let form = fake.last_token_form();
    assert_eq!(form_value(&form, "sub").as_deref(), Some("4080"));
    assert_eq!(form_value(&form, "audience").as_deref(), Some("api"));
}

#[tokio::test]
async fn a_token_parameter_whose_context_value_is_absent_is_left_out() {
    let fake = FakeOAuth::start().await;
    let plan = acting_user_integration(&fake);
    let executor = executor_with(Arc::new(MemoryTokenStore::default()));
    executor
        .send(&plan, &acting_user_account(None), &read())
        .await
        .unwrap();
    let form = fake.last_token_form();
    assert_eq!(
        form_value(&form, "sub"),
        None,
        "no `sub=` with an empty value"
    );
    assert_eq!(form_value(&form, "audience").as_deref(), Some("api"));
}

#[tokio::test]
async fn another_acting_user_gets_its_own_token() {
    let fake = FakeOAuth::start().await;
    let plan = acting_user_integration(&fake);
    let executor = executor_with(Arc::new(MemoryTokenStore::default()));
    for user in ["4080", "4080", "5151"] {
        executor
            .send(&plan, &acting_user_account(Some(user)), &read())
            .await
            .unwrap();
    }
    assert_eq!(
        fake.token_requests("client_credentials"),
        2,
        "the token fetched for user 4080 is reused for 4080, never for 5151"
    );
    assert_eq!(
        form_value(&fake.last_token_form(), "sub").as_deref(),
        Some("5151")
    );
}

#[tokio::test]
async fn a_context_value_that_is_not_text_fails_before_any_token_request() {
    let fake = FakeOAuth::start().await;
    let plan = acting_user_integration(&fake);
    let executor = executor_with(Arc::new(MemoryTokenStore::default()));
    let mut account = cc_account();
    account
        .context
        .insert("acting_user".to_owned(), serde_json::json!({"id": 1}));
    let error = executor.send(&plan, &account, &read()).await.unwrap_err();
    let ExecErrorKind::OAuth(oauth) = error.kind() else {
        panic!("an OAuth error, not {error:?}");
    };
    assert_eq!(oauth.kind, OAuthErrorKind::NeedsReauth);
    assert!(oauth.message.contains("`sub`"), "{}", oauth.message);
    assert_eq!(fake.token_requests("client_credentials"), 0);
    assert_eq!(fake.reads(), 0);
}

/// The shipped Greenhouse integration, its token endpoint and API moved to the fake.
fn greenhouse(fake: &FakeOAuth) -> Arc<IntegrationPlan> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../mappings/greenhouse/integration.yaml");
    let text = std::fs::read_to_string(&path)
        .expect("mappings/greenhouse/integration.yaml")
        .replace(
            "https://auth.greenhouse.io/token",
            &format!("{}/token", fake.url()),
        )
        .replace(
            "https://harvest.greenhouse.io/v3",
            &format!("{}/api", fake.url()),
        );
    let file = SourceFile {
        path,
        name: "greenhouse/integration.yaml".to_owned(),
        text,
    };
    let registry =
        Registry::load(&[file], &[]).unwrap_or_else(|problems| panic!("loads: {problems}"));
    registry
        .integration("greenhouse")
        .expect("compiled")
        .clone()
}

#[tokio::test]
async fn greenhouse_client_credentials_name_the_acting_user() {
    let fake = FakeOAuth::start().await;
    let plan = greenhouse(&fake);
    let executor = executor_with(Arc::new(MemoryTokenStore::default()));
    let account = cc_account().with("greenhouse_user_id", "92120");
    let exchange = executor.send(&plan, &account, &read()).await.unwrap();
    assert_eq!(exchange.status, 200);
    let form = fake.last_token_form();
    assert_eq!(
        form_value(&form, "grant_type").as_deref(),
        Some("client_credentials")
    );
    assert_eq!(form_value(&form, "sub").as_deref(), Some("92120"));
    assert_eq!(
        form_value(&form, "scope"),
        None,
        "scopes live on the credential"
    );
    assert_eq!(
        form_value(&form, "client_secret"),
        None,
        "HTTP Basic client authentication"
    );
}
