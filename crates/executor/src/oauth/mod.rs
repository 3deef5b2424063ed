//! OAuth 2.0 access tokens for accounts whose integration declares an `oauth2_*` auth scheme:
//! fetched with the client-credentials grant or renewed with the refresh token, before they
//! expire and once when a provider answers 401.
//!
//! - **single flight**: one renewal per account at a time — in this process a lock per
//!   account, across processes sharing a [`TokenStore`] a lease claimed by a conditional update
//!   on the stored tokens' version; whoever waits reads the renewed token.
//! - **atomic rotation**: the new access token, the (possibly rotated) refresh token and the
//!   expiry are written in one conditional update, so they are never stored apart.
//! - **`invalid_grant`** (or, for client credentials, `invalid_client`) marks the account as
//!   needing re-authorisation ([`TokenStore::mark_needs_reauth`]) and fails with
//!   [`OAuthErrorKind::NeedsReauth`].
//! - **secrets**: tokens and client secrets are never in errors, logs or `Debug` output.

mod call;
mod connect;
mod endpoint;
mod error;
mod manager;
mod store;

pub use connect::{AuthorizationCode, IssuedTokens};
pub use error::{OAuthError, OAuthErrorKind};
pub use store::{
    MemoryTokenStore, OAuthApp, StoredTokens, TokenState, TokenStore, TokenStoreError,
};

pub(crate) use manager::TokenManager;
