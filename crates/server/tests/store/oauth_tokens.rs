//! OAuth token records: one renewal lease at a time, stores conditional on the version, gone
//! with their account.

use serde_json::json;
use switchboard_server::{AccountStatus, StoredAccount, StoredOAuthTokens};

use crate::backends;

fn account(id: &str) -> StoredAccount {
    StoredAccount {
        id: id.to_owned(),
        integration: "lever".to_owned(),
        environment: None,
        base_url: None,
        context: json!({}).as_object().cloned().unwrap_or_default(),
        secret_keys: vec!["refresh_token".to_owned()],
        sealed_secrets: vec![2, 1],
        created_at: "2024-01-01T00:00:00Z".to_owned(),
        updated_at: "2024-01-01T00:00:00Z".to_owned(),
        status: AccountStatus::Active,
    }
}

#[tokio::test]
async fn one_renewal_holds_the_lease_and_stores_only_on_its_version() {
    for backend in backends("oauth_tokens_lease").await {
        let store = backend.store.as_ref();
        let name = backend.name;
        store.insert_account(&account("a")).await.expect(name);
        assert_eq!(
            store.oauth_tokens_load("a").await.expect(name),
            StoredOAuthTokens::default(),
            "{name}: nothing stored yet reads as version 0"
        );
        assert!(
            store
                .oauth_tokens_claim("a", 0, 100, 130)
                .await
                .expect(name),
            "{name}"
        );
        assert!(
            !store
                .oauth_tokens_claim("a", 0, 110, 140)
                .await
                .expect(name),
            "{name}: a live lease is not taken twice"
        );
        assert!(
            store
                .oauth_tokens_save("a", 0, b"sealed-1")
                .await
                .expect(name),
            "{name}"
        );
        assert!(
            !store.oauth_tokens_save("a", 0, b"stale").await.expect(name),
            "{name}: a renewal on an old version does not overwrite a newer one"
        );
        assert_eq!(
            store.oauth_tokens_load("a").await.expect(name),
            StoredOAuthTokens {
                version: 1,
                sealed: Some(b"sealed-1".to_vec())
            },
            "{name}"
        );
        assert!(
            !store
                .oauth_tokens_claim("a", 0, 200, 230)
                .await
                .expect(name),
            "{name}: a claim on an old version fails"
        );
        assert!(
            store
                .oauth_tokens_claim("a", 1, 200, 230)
                .await
                .expect(name),
            "{name}"
        );
        store.oauth_tokens_release("a", 1).await.expect(name);
        assert!(
            store
                .oauth_tokens_claim("a", 1, 201, 231)
                .await
                .expect(name),
            "{name}: a released lease can be taken again"
        );
        assert!(
            store
                .oauth_tokens_claim("a", 1, 240, 270)
                .await
                .expect(name),
            "{name}: an expired lease can be taken again"
        );
        assert!(store.delete_account("a").await.expect(name), "{name}");
        assert_eq!(
            store.oauth_tokens_load("a").await.expect(name),
            StoredOAuthTokens::default(),
            "{name}: tokens go with their account"
        );
    }
}
