//! API tokens: created by `switchboard tokens create`, shown once, stored as SHA-256 hashes.

use serde::Serialize;

use crate::clock;
use crate::crypto::{self, CryptoError};
use crate::store::{Store, StoreError, StoredToken};

/// A token just created: the only time its secret is known.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedToken {
    /// The token's id (for listing and revoking).
    pub id: String,
    /// Its name.
    pub name: String,
    /// The secret to send as `Authorization: Bearer <token>`.
    pub token: String,
    /// RFC 3339 creation time.
    pub created_at: String,
}

/// Why a token operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No randomness to draw a token from.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The name is empty.
    #[error("a token needs a non-empty name")]
    EmptyName,
}

/// Creates a token named `name`; only its hash is stored.
pub async fn create_token(store: &dyn Store, name: &str) -> Result<CreatedToken, TokenError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(TokenError::EmptyName);
    }
    let token = crypto::generate_token()?;
    let stored = StoredToken {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.to_owned(),
        hash: crypto::hash_token(&token),
        created_at: clock::now_rfc3339(),
    };
    store.insert_token(&stored).await?;
    Ok(CreatedToken {
        id: stored.id,
        name: stored.name,
        token,
        created_at: stored.created_at,
    })
}

/// Every token (without secrets), oldest first.
pub async fn list_tokens(store: &dyn Store) -> Result<Vec<StoredToken>, TokenError> {
    Ok(store.list_tokens().await?)
}

/// Revokes a token; false when there was none with that id.
pub async fn delete_token(store: &dyn Store, id: &str) -> Result<bool, TokenError> {
    Ok(store.delete_token(id).await?)
}

/// The stored token a bearer token is, if any.
pub(crate) async fn authenticate(
    store: &dyn Store,
    token: &str,
) -> Result<Option<StoredToken>, StoreError> {
    store.find_token(&crypto::hash_token(token)).await
}
