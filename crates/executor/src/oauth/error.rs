//! Why an account's access token could not be had. Messages name the account, the integration
//! and the token endpoint's own `error` code, never a token or a secret.

use std::fmt;

/// What went wrong getting or renewing a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OAuthErrorKind {
    /// The grant was refused (`invalid_grant`; for client credentials also `invalid_client`):
    /// the account must be authorised again, or given new credentials.
    NeedsReauth,
    /// The token endpoint failed or answered with something unusable.
    TokenEndpoint {
        /// Its status, when it answered.
        status: Option<u16>,
    },
    /// The operator has no OAuth app configured for the integration (authorization-code grant).
    NoApp,
    /// Another instance held the renewal until the run's deadline.
    Busy,
    /// The token store failed.
    Store,
}

/// An access token that could not be had; the provider call it was for was not sent.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthError {
    /// The integration.
    pub integration: String,
    /// The account.
    pub account: String,
    /// What went wrong.
    pub kind: OAuthErrorKind,
    /// Why, in words (the endpoint's `error` and `error_description`, never a token).
    pub message: String,
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            OAuthErrorKind::NeedsReauth => {
                "the OAuth grant of the account was refused; authorise it again"
            }
            OAuthErrorKind::TokenEndpoint { .. } => "the OAuth token endpoint failed",
            OAuthErrorKind::NoApp => "no OAuth app is configured",
            OAuthErrorKind::Busy => "another instance is renewing the account's token",
            OAuthErrorKind::Store => "the OAuth token store failed",
        };
        write!(
            f,
            "{what} (account `{}`, integration `{}`): {}",
            self.account, self.integration, self.message
        )
    }
}
