//! The server's store: every call goes to the underlying store, but token lookups (by hash) and
//! account lookups (by id) are answered from memory for [`LOOKUP_TTL`] — the staleness bound
//! when several instances share a database. A change made through this store (a token created or
//! revoked, an account created, changed, re-statused or deleted) forgets what it changed at once. Misses are
//! not kept: unknown tokens or ids cost a store read but cannot push known entries out. Accounts
//! are kept as stored, credentials still sealed.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::cache::TtlCache;
use super::{
    AccountStatus, IdempotencyBegin, LogEntry, LogFilter, Store, StoreError, StoredAccount,
    StoredOAuthTokens, StoredResponse, StoredToken,
};

/// How long a looked-up token or account is answered from memory.
pub(crate) const LOOKUP_TTL: Duration = Duration::from_secs(5);
/// The most tokens, and the most accounts, kept in memory.
pub(crate) const MAX_CACHED: usize = 10_000;

/// A store that remembers token and account lookups (see the module docs).
pub(crate) struct CachedStore {
    inner: Arc<dyn Store>,
    tokens: TtlCache<StoredToken>,
    accounts: TtlCache<StoredAccount>,
}

impl CachedStore {
    /// `inner` with lookups kept at most `ttl` each, at most `capacity` of each kind.
    pub(crate) fn new(inner: Arc<dyn Store>, capacity: usize, ttl: Duration) -> CachedStore {
        CachedStore {
            inner,
            tokens: TtlCache::new(capacity, ttl),
            accounts: TtlCache::new(capacity, ttl),
        }
    }
}

#[async_trait]
impl Store for CachedStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }

    async fn close(&self) {
        self.inner.close().await;
    }

    async fn insert_account(&self, account: &StoredAccount) -> Result<(), StoreError> {
        let result = self.inner.insert_account(account).await;
        self.accounts.forget(&account.id);
        result
    }

    async fn get_account(&self, id: &str) -> Result<Option<StoredAccount>, StoreError> {
        if let Some(account) = self.accounts.get(id) {
            return Ok(Some(account));
        }
        let generation = self.accounts.generation();
        let found = self.inner.get_account(id).await?;
        if let Some(account) = &found {
            self.accounts.put(id, account.clone(), generation);
        }
        Ok(found)
    }

    async fn list_accounts(&self) -> Result<Vec<StoredAccount>, StoreError> {
        self.inner.list_accounts().await
    }

    async fn update_account(&self, account: &StoredAccount) -> Result<bool, StoreError> {
        let result = self.inner.update_account(account).await;
        self.accounts.forget(&account.id);
        result
    }

    async fn set_account_status(
        &self,
        id: &str,
        status: AccountStatus,
    ) -> Result<bool, StoreError> {
        let result = self.inner.set_account_status(id, status).await;
        self.accounts.forget(id);
        result
    }

    async fn replace_sealed_secrets(
        &self,
        id: &str,
        current: &[u8],
        sealed: &[u8],
    ) -> Result<bool, StoreError> {
        let result = self.inner.replace_sealed_secrets(id, current, sealed).await;
        self.accounts.forget(id);
        result
    }

    async fn delete_account(&self, id: &str) -> Result<bool, StoreError> {
        let result = self.inner.delete_account(id).await;
        self.accounts.forget(id);
        result
    }

    async fn oauth_tokens_load(&self, account: &str) -> Result<StoredOAuthTokens, StoreError> {
        self.inner.oauth_tokens_load(account).await
    }

    async fn oauth_tokens_claim(
        &self,
        account: &str,
        version: u64,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        self.inner
            .oauth_tokens_claim(account, version, now, until)
            .await
    }

    async fn oauth_tokens_save(
        &self,
        account: &str,
        version: u64,
        sealed: &[u8],
    ) -> Result<bool, StoreError> {
        self.inner.oauth_tokens_save(account, version, sealed).await
    }

    async fn oauth_tokens_release(&self, account: &str, version: u64) -> Result<(), StoreError> {
        self.inner.oauth_tokens_release(account, version).await
    }

    async fn insert_token(&self, token: &StoredToken) -> Result<(), StoreError> {
        let result = self.inner.insert_token(token).await;
        self.tokens.clear();
        result
    }

    async fn find_token(&self, hash: &str) -> Result<Option<StoredToken>, StoreError> {
        if let Some(token) = self.tokens.get(hash) {
            return Ok(Some(token));
        }
        let generation = self.tokens.generation();
        let found = self.inner.find_token(hash).await?;
        if let Some(token) = &found {
            self.tokens.put(hash, token.clone(), generation);
        }
        Ok(found)
    }

    async fn list_tokens(&self) -> Result<Vec<StoredToken>, StoreError> {
        self.inner.list_tokens().await
    }

    async fn delete_token(&self, id: &str) -> Result<bool, StoreError> {
        let result = self.inner.delete_token(id).await;
        self.tokens.clear();
        result
    }

    async fn idempotency_begin(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<IdempotencyBegin, StoreError> {
        self.inner
            .idempotency_begin(scope, key, fingerprint, now, expires_at)
            .await
    }

    async fn idempotency_complete(
        &self,
        scope: &str,
        key: &str,
        response: &StoredResponse,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.inner
            .idempotency_complete(scope, key, response, expires_at)
            .await
    }

    async fn idempotency_abandon(&self, scope: &str, key: &str) -> Result<(), StoreError> {
        self.inner.idempotency_abandon(scope, key).await
    }

    async fn insert_logs(&self, entries: &[LogEntry]) -> Result<(), StoreError> {
        self.inner.insert_logs(entries).await
    }

    async fn prune_log(&self, older_than: &str, max_rows: u64) -> Result<u64, StoreError> {
        self.inner.prune_log(older_than, max_rows).await
    }

    async fn list_log(&self, filter: &LogFilter) -> Result<Vec<LogEntry>, StoreError> {
        self.inner.list_log(filter).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;
    use crate::token::TokenScope;

    const LONG: Duration = Duration::from_secs(3600);

    async fn sqlite() -> Arc<dyn Store> {
        Arc::new(SqliteStore::open("sqlite::memory:").await.expect("open"))
    }

    fn token(id: &str) -> StoredToken {
        StoredToken {
            id: id.to_owned(),
            name: "t".into(),
            hash: format!("hash-{id}"),
            scope: TokenScope::Admin,
            accounts: Vec::new(),
            created_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[tokio::test]
    async fn accounts_are_remembered_until_changed_here_or_expired() {
        let inner = sqlite().await;
        let cached = CachedStore::new(inner.clone(), 16, LONG);
        let mut account = StoredAccount {
            id: "acc".into(),
            integration: "some-integration".into(),
            environment: None,
            base_url: None,
            context: serde_json::Map::new(),
            secret_keys: Vec::new(),
            sealed_secrets: Vec::new(),
            created_at: "2026-01-01T00:00:00Z".into(),
            updated_at: "2026-01-01T00:00:00Z".into(),
            status: AccountStatus::Active,
        };
        cached.insert_account(&account).await.expect("insert");
        assert!(cached.get_account("acc").await.expect("get").is_some());

        // Changed by another instance: seen once the entry expires.
        account.base_url = Some("https://elsewhere.example".into());
        inner.update_account(&account).await.expect("update");
        let seen = cached.get_account("acc").await.expect("get").expect("kept");
        assert_eq!(seen.base_url, None);
        let expiring = CachedStore::new(inner.clone(), 16, Duration::ZERO);
        let seen = expiring
            .get_account("acc")
            .await
            .expect("get")
            .expect("kept");
        assert_eq!(seen.base_url, account.base_url);

        // Changed or deleted through this store: at once.
        account.base_url = Some("https://here.example".into());
        assert!(cached.update_account(&account).await.expect("update"));
        let seen = cached.get_account("acc").await.expect("get").expect("kept");
        assert_eq!(seen.base_url, account.base_url);
        let held = cached.set_account_status("acc", AccountStatus::NeedsReauth);
        assert!(held.await.expect("status"));
        let seen = cached.get_account("acc").await.expect("get").expect("kept");
        assert_eq!(seen.status, AccountStatus::NeedsReauth);
        assert!(cached.delete_account("acc").await.expect("delete"));
        assert!(cached.get_account("acc").await.expect("get").is_none());
    }

    #[tokio::test]
    async fn tokens_are_remembered_until_revoked_here_or_expired() {
        let inner = sqlite().await;
        let cached = CachedStore::new(inner.clone(), 16, LONG);
        cached.insert_token(&token("a")).await.expect("insert");
        assert!(cached.find_token("hash-a").await.expect("find").is_some());

        // Revoked by another instance: this one answers from memory until the entry expires.
        inner.delete_token("a").await.expect("delete");
        assert!(cached.find_token("hash-a").await.expect("find").is_some());
        let expiring = CachedStore::new(inner.clone(), 16, Duration::ZERO);
        assert!(expiring.find_token("hash-a").await.expect("find").is_none());

        // Revoked through this store: forgotten at once.
        cached.insert_token(&token("b")).await.expect("insert");
        assert!(cached.find_token("hash-b").await.expect("find").is_some());
        assert!(cached.delete_token("b").await.expect("delete"));
        assert!(cached.find_token("hash-b").await.expect("find").is_none());
    }
}
