//! Where tokens live between calls: a versioned record per account behind [`TokenStore`]. The
//! server keeps it in its database (sealed); [`MemoryTokenStore`] keeps it in this process.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;

/// An operator's OAuth app for an integration (authorization-code grant): its client id and
/// secret come from the server's configuration, never from a client or an account.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthApp {
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: String,
}

impl fmt::Debug for OAuthApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthApp")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// An account's tokens.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenState {
    /// The access token, when one is held.
    pub access_token: Option<String>,
    /// The refresh token (authorization-code grant), when one is held.
    pub refresh_token: Option<String>,
    /// When the access token expires (Unix seconds), when the token endpoint said.
    pub expires_at: Option<i64>,
    /// A fingerprint of the account credentials the tokens descend from: when the account's
    /// credentials are replaced, tokens of the old ones are not used.
    pub seed: String,
}

impl fmt::Debug for TokenState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenState")
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The stored record of an account: its version (0 before anything was stored), its tokens and
/// the end of a renewal lease someone holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredTokens {
    /// Bumped by every successful [`TokenStore::save`].
    pub version: u64,
    /// The tokens, once any were stored.
    pub state: Option<TokenState>,
}

/// A storage failure; its text never holds a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("token store: {0}")]
pub struct TokenStoreError(pub String);

/// Versioned token records shared by every executor (and every server instance) that uses the
/// store. Implementations make [`claim`](TokenStore::claim) and [`save`](TokenStore::save)
/// conditional on the version, atomically.
#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    /// The account's record (version 0 and no state when none is stored).
    async fn load(&self, account: &str) -> Result<StoredTokens, TokenStoreError>;
    /// Takes the renewal lease until `until` (Unix seconds) when the record is still at
    /// `version` and no lease is live at `now`; false when someone else holds it or saved since.
    async fn claim(
        &self,
        account: &str,
        version: u64,
        now: i64,
        until: i64,
    ) -> Result<bool, TokenStoreError>;
    /// Stores `state` when the record is still at `version`, bumping the version and ending the
    /// lease, in one atomic update; false when the record moved on.
    async fn save(
        &self,
        account: &str,
        version: u64,
        state: &TokenState,
    ) -> Result<bool, TokenStoreError>;
    /// Ends the lease without storing anything (the renewal failed).
    async fn release(&self, account: &str, version: u64) -> Result<(), TokenStoreError>;
    /// Records that the account must be authorised again (its grant was refused).
    async fn mark_needs_reauth(&self, account: &str) -> Result<(), TokenStoreError>;
}

#[derive(Debug, Default)]
struct MemoryRecord {
    version: u64,
    state: Option<TokenState>,
    lease_until: Option<i64>,
    needs_reauth: bool,
}

/// Tokens kept in this process: the default store of an executor, and one several executors
/// can share in tests to stand for instances sharing a database.
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    records: Mutex<HashMap<String, MemoryRecord>>,
}

impl MemoryTokenStore {
    /// Whether [`TokenStore::mark_needs_reauth`] was called for `account`.
    pub fn needs_reauth(&self, account: &str) -> bool {
        self.with(account, |record| record.needs_reauth)
    }

    fn with<T>(&self, account: &str, work: impl FnOnce(&mut MemoryRecord) -> T) -> T {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        work(records.entry(account.to_owned()).or_default())
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn load(&self, account: &str) -> Result<StoredTokens, TokenStoreError> {
        Ok(self.with(account, |record| StoredTokens {
            version: record.version,
            state: record.state.clone(),
        }))
    }

    async fn claim(
        &self,
        account: &str,
        version: u64,
        now: i64,
        until: i64,
    ) -> Result<bool, TokenStoreError> {
        Ok(self.with(account, |record| {
            let free = record.lease_until.is_none_or(|end| end < now);
            let claimed = record.version == version && free;
            if claimed {
                record.lease_until = Some(until);
            }
            claimed
        }))
    }

    async fn save(
        &self,
        account: &str,
        version: u64,
        state: &TokenState,
    ) -> Result<bool, TokenStoreError> {
        Ok(self.with(account, |record| {
            let current = record.version == version;
            if current {
                record.version += 1;
                record.state = Some(state.clone());
                record.lease_until = None;
            }
            current
        }))
    }

    async fn release(&self, account: &str, version: u64) -> Result<(), TokenStoreError> {
        self.with(account, |record| {
            if record.version == version {
                record.lease_until = None;
            }
        });
        Ok(())
    }

    async fn mark_needs_reauth(&self, account: &str) -> Result<(), TokenStoreError> {
        self.with(account, |record| record.needs_reauth = true);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(token: &str) -> TokenState {
        TokenState {
            access_token: Some(token.to_owned()),
            refresh_token: Some("refresh".to_owned()),
            expires_at: Some(10),
            seed: "seed".to_owned(),
        }
    }

    #[tokio::test]
    async fn one_claim_at_a_time_and_saves_only_on_the_claimed_version() {
        let store = MemoryTokenStore::default();
        assert!(store.claim("a", 0, 100, 130).await.unwrap());
        assert!(
            !store.claim("a", 0, 110, 140).await.unwrap(),
            "lease is live"
        );
        assert!(
            store.claim("a", 0, 131, 160).await.unwrap(),
            "lease ran out"
        );
        assert!(store.save("a", 0, &state("t1")).await.unwrap());
        assert!(
            !store.save("a", 0, &state("t2")).await.unwrap(),
            "stale version"
        );
        let loaded = store.load("a").await.unwrap();
        assert_eq!(loaded.version, 1);
        assert_eq!(loaded.state, Some(state("t1")));
        assert!(
            store.claim("a", 1, 132, 160).await.unwrap(),
            "save ended the lease"
        );
    }

    #[test]
    fn debug_output_hides_tokens_and_secrets() {
        let shown = format!("{:?}", state("very-secret-token"));
        assert!(!shown.contains("very-secret-token") && !shown.contains("refresh\""));
        let app = OAuthApp {
            client_id: "id".to_owned(),
            client_secret: "app-secret".to_owned(),
        };
        assert!(!format!("{app:?}").contains("app-secret"));
    }
}
