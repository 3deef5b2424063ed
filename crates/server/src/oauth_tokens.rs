//! The executor's OAuth [`TokenStore`] over the server's [`Store`]: each account's tokens are
//! sealed under the credential key, bound to the account (a record copied onto another account
//! does not open), in the `oauth_tokens` table whose version column makes claims and saves
//! conditional — so instances sharing the database renew an account's token one at a time.

use std::sync::Arc;

use async_trait::async_trait;
use switchboard_executor::{StoredTokens, TokenState, TokenStore, TokenStoreError};

use crate::crypto::Cipher;
use crate::store::{AccountStatus, Store};

/// Associated data binding a sealed token record to its account.
fn binding(account: &str) -> Vec<u8> {
    format!("oauth-tokens:{account}").into_bytes()
}

/// OAuth tokens kept sealed in the server's store.
pub struct SealedTokenStore {
    store: Arc<dyn Store>,
    cipher: Cipher,
}

impl SealedTokenStore {
    /// Tokens in `store`, sealed with `cipher`.
    pub fn new(store: Arc<dyn Store>, cipher: Cipher) -> SealedTokenStore {
        SealedTokenStore { store, cipher }
    }
}

fn failed(error: impl std::fmt::Display) -> TokenStoreError {
    TokenStoreError(error.to_string())
}

#[async_trait]
impl TokenStore for SealedTokenStore {
    async fn load(&self, account: &str) -> Result<StoredTokens, TokenStoreError> {
        let stored = self
            .store
            .oauth_tokens_load(account)
            .await
            .map_err(failed)?;
        let state = match &stored.sealed {
            None => None,
            Some(sealed) => {
                let plaintext = self
                    .cipher
                    .open(sealed, &binding(account))
                    .map_err(failed)?;
                Some(
                    serde_json::from_slice::<TokenState>(&plaintext)
                        .map_err(|_| failed("the stored oauth tokens are not readable"))?,
                )
            }
        };
        Ok(StoredTokens {
            version: stored.version,
            state,
        })
    }

    async fn claim(
        &self,
        account: &str,
        version: u64,
        now: i64,
        until: i64,
    ) -> Result<bool, TokenStoreError> {
        self.store
            .oauth_tokens_claim(account, version, now, until)
            .await
            .map_err(failed)
    }

    async fn save(
        &self,
        account: &str,
        version: u64,
        state: &TokenState,
    ) -> Result<bool, TokenStoreError> {
        let plaintext = serde_json::to_vec(state).map_err(failed)?;
        let sealed = self
            .cipher
            .seal(&plaintext, &binding(account))
            .map_err(failed)?;
        self.store
            .oauth_tokens_save(account, version, &sealed)
            .await
            .map_err(failed)
    }

    async fn release(&self, account: &str, version: u64) -> Result<(), TokenStoreError> {
        self.store
            .oauth_tokens_release(account, version)
            .await
            .map_err(failed)
    }

    async fn mark_needs_reauth(&self, account: &str) -> Result<(), TokenStoreError> {
        self.store
            .set_account_status(account, AccountStatus::NeedsReauth)
            .await
            .map(|_| ())
            .map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SecretKey;
    use crate::store::{SqliteStore, StoredAccount};

    async fn fixture() -> (Arc<dyn Store>, SealedTokenStore) {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open("sqlite::memory:").await.unwrap());
        for id in ["a", "b"] {
            store
                .insert_account(&StoredAccount {
                    id: id.to_owned(),
                    integration: "example".to_owned(),
                    environment: None,
                    base_url: None,
                    context: serde_json::Map::new(),
                    secret_keys: Vec::new(),
                    sealed_secrets: Vec::new(),
                    created_at: "2026-01-01T00:00:00Z".to_owned(),
                    updated_at: "2026-01-01T00:00:00Z".to_owned(),
                    status: AccountStatus::Active,
                })
                .await
                .unwrap();
        }
        let cipher = Cipher::new(&SecretKey::generate().unwrap());
        (store.clone(), SealedTokenStore::new(store, cipher))
    }

    fn state(token: &str) -> TokenState {
        TokenState {
            access_token: Some(token.to_owned()),
            refresh_token: Some("refresh-secret".to_owned()),
            expires_at: Some(100),
            seed: "seed".to_owned(),
        }
    }

    #[tokio::test]
    async fn claims_and_saves_are_conditional_on_the_version() {
        let (_, tokens) = fixture().await;
        assert_eq!(tokens.load("a").await.unwrap(), StoredTokens::default());
        assert!(tokens.claim("a", 0, 10, 40).await.unwrap());
        assert!(
            !tokens.claim("a", 0, 20, 50).await.unwrap(),
            "the lease is live"
        );
        assert!(tokens.save("a", 0, &state("t1")).await.unwrap());
        assert!(
            !tokens.save("a", 0, &state("t2")).await.unwrap(),
            "stale version"
        );
        assert!(
            !tokens.claim("a", 0, 20, 50).await.unwrap(),
            "stale version"
        );
        let loaded = tokens.load("a").await.unwrap();
        assert_eq!(loaded.version, 1);
        assert_eq!(loaded.state, Some(state("t1")));
        assert!(tokens.claim("a", 1, 20, 50).await.unwrap());
        tokens.release("a", 1).await.unwrap();
        assert!(tokens.claim("a", 1, 21, 50).await.unwrap(), "released");
        assert!(
            tokens.claim("a", 1, 51, 80).await.unwrap(),
            "an expired lease is taken over"
        );
    }

    #[tokio::test]
    async fn tokens_are_sealed_and_bound_to_their_account() {
        let (store, tokens) = fixture().await;
        assert!(tokens.claim("a", 0, 10, 40).await.unwrap());
        assert!(tokens.save("a", 0, &state("access-secret")).await.unwrap());
        let sealed = store.oauth_tokens_load("a").await.unwrap().sealed.unwrap();
        let raw = String::from_utf8_lossy(&sealed);
        assert!(!raw.contains("access-secret") && !raw.contains("refresh-secret"));
        // Copied onto another account, the record does not open.
        assert!(tokens.claim("b", 0, 10, 40).await.unwrap());
        assert!(store.oauth_tokens_save("b", 0, &sealed).await.unwrap());
        assert!(tokens.load("b").await.is_err());
    }

    #[tokio::test]
    async fn a_refused_grant_marks_the_account() {
        let (store, tokens) = fixture().await;
        tokens.mark_needs_reauth("a").await.unwrap();
        let account = store.get_account("a").await.unwrap().unwrap();
        assert_eq!(account.status, AccountStatus::NeedsReauth);
    }
}
