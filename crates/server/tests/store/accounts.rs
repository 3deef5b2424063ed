//! Accounts: insert, read, list in creation order, update, status, delete.

use serde_json::json;
use switchboard_server::{AccountStatus, StoredAccount};

use crate::backends;

fn account(id: &str, created_at: &str) -> StoredAccount {
    StoredAccount {
        id: id.to_owned(),
        integration: "lever".to_owned(),
        environment: Some("production".to_owned()),
        base_url: None,
        context: json!({"region": "eu", "n": 1})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        secret_keys: vec!["api_key".to_owned()],
        sealed_secrets: vec![2, 0, 255, 7],
        created_at: created_at.to_owned(),
        updated_at: created_at.to_owned(),
        status: AccountStatus::Active,
    }
}

#[tokio::test]
async fn accounts_round_trip_and_list_in_creation_order() {
    for backend in backends("accounts_round_trip").await {
        let store = backend.store.as_ref();
        let name = backend.name;
        // `B` sorts before `a` byte-wise (and after it in most locales): ties on time go by id.
        for (id, at) in [
            ("a", "2024-01-02T00:00:00Z"),
            ("B", "2024-01-02T00:00:00Z"),
            ("c", "2024-01-01T00:00:00Z"),
        ] {
            store.insert_account(&account(id, at)).await.expect(name);
        }
        assert!(
            store.insert_account(&account("a", "x")).await.is_err(),
            "{name}: a duplicate id is refused"
        );
        let ids: Vec<String> = store
            .list_accounts()
            .await
            .expect(name)
            .into_iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(ids, ["c", "B", "a"], "{name}");
        assert_eq!(
            store.get_account("a").await.expect(name),
            Some(account("a", "2024-01-02T00:00:00Z")),
            "{name}"
        );
        assert_eq!(store.get_account("nope").await.expect(name), None, "{name}");
    }
}

#[tokio::test]
async fn accounts_are_updated_re_statused_and_deleted() {
    for backend in backends("accounts_updated").await {
        let store = backend.store.as_ref();
        let name = backend.name;
        store
            .insert_account(&account("a", "2024-01-01T00:00:00Z"))
            .await
            .expect(name);
        let mut changed = account("a", "2024-01-01T00:00:00Z");
        changed.base_url = Some("https://example.com".to_owned());
        changed.environment = None;
        changed.sealed_secrets = vec![9; 40];
        changed.updated_at = "2024-02-01T00:00:00Z".to_owned();
        assert!(store.update_account(&changed).await.expect(name), "{name}");
        assert_eq!(
            store.get_account("a").await.expect(name),
            Some(changed.clone()),
            "{name}"
        );
        assert!(
            !store
                .update_account(&account("ghost", "x"))
                .await
                .expect(name),
            "{name}"
        );
        assert!(
            store
                .set_account_status("a", AccountStatus::NeedsReauth)
                .await
                .expect(name),
            "{name}"
        );
        let status = store.get_account("a").await.expect(name).map(|a| a.status);
        assert_eq!(status, Some(AccountStatus::NeedsReauth), "{name}");
        assert!(
            !store
                .set_account_status("ghost", AccountStatus::Active)
                .await
                .expect(name),
            "{name}"
        );
        assert!(store.delete_account("a").await.expect(name), "{name}");
        assert!(!store.delete_account("a").await.expect(name), "{name}");
        assert_eq!(store.get_account("a").await.expect(name), None, "{name}");
    }
}

#[tokio::test]
async fn a_store_opens_again_with_its_data_and_migrations_once() {
    for backend in backends("reopen").await {
        if backend.name == "sqlite" {
            continue; // a memory database does not outlive its connection
        }
        let name = backend.name;
        backend
            .store
            .insert_account(&account("kept", "2024-01-01T00:00:00Z"))
            .await
            .expect(name);
        // Several instances starting together on one database migrate it once.
        let openers = (0..4).map(|_| switchboard_server::open_store(&backend.url));
        for reopened in futures_util::future::join_all(openers).await {
            let reopened = reopened.expect("opens again");
            assert!(reopened.get_account("kept").await.expect(name).is_some());
            reopened.close().await;
        }
    }
}
