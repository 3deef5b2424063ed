//! API tokens: created by `switchboard tokens create`, shown once, stored as SHA-256 hashes.
//! Each token has a scope: `admin` acts for the operator (accounts, tokens, the request log,
//! the unified routes); `unified` calls the unified routes only, optionally for chosen accounts.

use serde::Serialize;

use crate::clock;
use crate::crypto::{self, CryptoError};
use crate::store::{Store, StoreError, StoredToken};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    /// Everything: integrated accounts, the request log, the unified routes.
    Admin,
    /// The unified routes and their meta documents only (and `/openapi.json`), optionally for
    /// chosen integrated accounts.
    Unified,
}

impl TokenScope {
    /// The scope's name as stored and shown (`admin`, `unified`).
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Admin => "admin",
            TokenScope::Unified => "unified",
        }
    }
}

impl std::fmt::Display for TokenScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TokenScope {
    type Err = String;

    fn from_str(text: &str) -> Result<TokenScope, String> {
        match text {
            "admin" => Ok(TokenScope::Admin),
            "unified" => Ok(TokenScope::Unified),
            other => Err(format!(
                "unknown token scope `{other}` (expected `admin` or `unified`)"
            )),
        }
    }
}

/// A token just created: the only time its secret is known.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedToken {
    /// The token's id (for listing and revoking).
    pub id: String,
    /// Its name.
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
    /// The only integrated accounts it may use (empty: every account).
    pub accounts: Vec<String>,
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
    /// Accounts were named for an `admin` token, which manages every account.
    #[error(
        "only a `unified` token can be restricted to accounts; an `admin` token manages every account"
    )]
    AdminWithAccounts,
    /// A named account does not exist.
    #[error("no integrated account `{0}`")]
    UnknownAccount(String),
}

/// Creates a token named `name` with `scope`, restricted to `accounts` when any are given (a
/// `unified` token only; each must exist). Only its hash is stored.
pub async fn create_token(
    store: &dyn Store,
    name: &str,
    scope: TokenScope,
    accounts: &[String],
) -> Result<CreatedToken, TokenError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(TokenError::EmptyName);
    }
    if scope == TokenScope::Admin && !accounts.is_empty() {
        return Err(TokenError::AdminWithAccounts);
    }
    let mut restricted: Vec<String> = Vec::with_capacity(accounts.len());
    for id in accounts {
        if store.get_account(id).await?.is_none() {
            return Err(TokenError::UnknownAccount(id.clone()));
        }
        if !restricted.contains(id) {
            restricted.push(id.clone());
        }
    }
    let token = crypto::generate_token()?;
    let stored = StoredToken {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.to_owned(),
        hash: crypto::hash_token(&token),
        scope,
        accounts: restricted,
        created_at: clock::now_rfc3339(),
    };
    store.insert_token(&stored).await?;
    Ok(CreatedToken {
        id: stored.id,
        name: stored.name,
        scope: stored.scope,
        accounts: stored.accounts,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    #[tokio::test]
    async fn scopes_and_accounts_are_stored_and_checked() {
        let store = SqliteStore::open("sqlite::memory:").await.expect("open");
        let admin = create_token(&store, "ops", TokenScope::Admin, &[])
            .await
            .expect("admin");
        let found = authenticate(&store, &admin.token)
            .await
            .expect("find")
            .expect("a token");
        assert_eq!((found.scope, found.accounts.len()), (TokenScope::Admin, 0));

        let refused = create_token(&store, "x", TokenScope::Admin, &["a".to_owned()]).await;
        assert!(matches!(refused, Err(TokenError::AdminWithAccounts)));
        let unknown = create_token(&store, "x", TokenScope::Unified, &["nope".to_owned()]).await;
        assert_eq!(
            unknown.expect_err("unknown account").to_string(),
            "no integrated account `nope`"
        );
        assert_eq!(store.list_tokens().await.expect("list").len(), 1);
    }

    #[test]
    fn scopes_parse_and_print() {
        assert_eq!("unified".parse::<TokenScope>(), Ok(TokenScope::Unified));
        assert_eq!(TokenScope::Admin.to_string(), "admin");
        assert_eq!(
            "root".parse::<TokenScope>(),
            Err("unknown token scope `root` (expected `admin` or `unified`)".to_owned())
        );
    }
}
