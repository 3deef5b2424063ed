//! API tokens: hashes stored, found, listed, revoked.

use switchboard_server::{StoredToken, TokenScope};

use crate::backends;

fn token(id: &str, hash: &str, scope: TokenScope, accounts: &[&str]) -> StoredToken {
    StoredToken {
        id: id.to_owned(),
        name: format!("token {id}"),
        hash: hash.to_owned(),
        scope,
        accounts: accounts.iter().map(|a| (*a).to_owned()).collect(),
        created_at: format!("2024-01-01T00:00:0{id}Z"),
    }
}

#[tokio::test]
async fn tokens_are_found_by_hash_listed_and_revoked() {
    for backend in backends("tokens").await {
        let store = backend.store.as_ref();
        let name = backend.name;
        let admin = token("1", "h1", TokenScope::Admin, &[]);
        let unified = token("2", "h2", TokenScope::Unified, &["acc-1", "acc-2"]);
        store.insert_token(&admin).await.expect(name);
        store.insert_token(&unified).await.expect(name);
        assert!(
            store
                .insert_token(&token("3", "h1", TokenScope::Admin, &[]))
                .await
                .is_err(),
            "{name}: a hash is unique"
        );
        assert_eq!(
            store.find_token("h2").await.expect(name),
            Some(unified.clone()),
            "{name}"
        );
        assert_eq!(store.find_token("h9").await.expect(name), None, "{name}");
        assert_eq!(
            store.list_tokens().await.expect(name),
            vec![admin, unified],
            "{name}"
        );
        assert!(store.delete_token("2").await.expect(name), "{name}");
        assert!(!store.delete_token("2").await.expect(name), "{name}");
        assert_eq!(store.find_token("h2").await.expect(name), None, "{name}");
    }
}
