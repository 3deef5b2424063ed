//! The token request that ends the connect flow: an authorization code (with its PKCE
//! verifier) exchanged for the account's first tokens, with the operator's app.

use std::fmt;

use reqwest::Url;
use switchboard_core::{IntegrationPlan, OAuthGrant};

use crate::account::Account;
use crate::client::Purpose;
use crate::error::{ExecError, ExecErrorKind};
use crate::executor::Executor;

use super::endpoint::{self, Client, Grant};
use super::error::{OAuthError, OAuthErrorKind};
use super::manager::{now, seed_of};
use super::store::TokenState;

/// What the connect flow's callback received, to exchange for tokens.
pub struct AuthorizationCode<'a> {
    /// The code from the provider's redirect.
    pub code: &'a str,
    /// The redirect URI the authorisation request named (the token endpoint checks they match).
    pub redirect_uri: &'a str,
    /// The PKCE verifier whose challenge the authorisation request sent.
    pub code_verifier: &'a str,
}

/// The tokens a code was exchanged for.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedTokens {
    /// The access token.
    pub access_token: String,
    /// The refresh token, when the provider gave one.
    pub refresh_token: Option<String>,
    /// Seconds until the access token expires, when the provider said.
    pub expires_in: Option<i64>,
}

impl fmt::Debug for IssuedTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedTokens")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

impl Executor {
    /// Exchanges an authorization code for tokens at the integration's token endpoint, as the
    /// operator's OAuth app for it ([`crate::ExecutorOptions::oauth_apps`]). Fails when the
    /// integration has no authorization-code scheme or no app is configured.
    pub async fn exchange_authorization_code(
        &self,
        integration: &IntegrationPlan,
        code: AuthorizationCode<'_>,
    ) -> Result<IssuedTokens, ExecError> {
        if self.inner.options.refuse_provider_calls {
            return Err(ExecErrorKind::ProviderCallsRefused {
                step: "authorization_code".to_owned(),
            }
            .into());
        }
        let fail = |kind: OAuthErrorKind, message: String| {
            ExecError::from(ExecErrorKind::OAuth(Box::new(OAuthError {
                integration: integration.name.clone(),
                account: String::new(),
                kind,
                message,
            })))
        };
        let flow = integration
            .auth
            .iter()
            .filter_map(|scheme| scheme.oauth())
            .find(|flow| matches!(flow.grant, OAuthGrant::AuthorizationCode { .. }))
            .ok_or_else(|| {
                fail(
                    OAuthErrorKind::NoApp,
                    "the integration declares no oauth2_authorization_code scheme".to_owned(),
                )
            })?;
        let app = self
            .inner
            .options
            .oauth_apps
            .get(&integration.name)
            .ok_or_else(|| {
                fail(
                OAuthErrorKind::NoApp,
                "set the integration's OAuth client id and secret in the server's configuration"
                    .to_owned(),
            )
            })?;
        let endpoint_error =
            |message: String| fail(OAuthErrorKind::TokenEndpoint { status: None }, message);
        let url = Url::parse(&flow.token_url)
            .map_err(|error| endpoint_error(format!("the token url is not valid: {error}")))?;
        self.inner
            .clients
            .network()
            .check_before_sending(Purpose::Provider, &url)
            .await
            .map_err(|_| endpoint_error("the token url's address is not allowed".to_owned()))?;
        let timeout = self
            .inner
            .options
            .request_timeout
            .unwrap_or(std::time::Duration::from_secs(
                integration.timeouts.request_secs.max(1),
            ));
        let http = self
            .inner
            .clients
            .get(
                Purpose::Provider,
                std::time::Duration::from_secs(integration.timeouts.connect_secs.max(1)),
            )
            .map_err(|error| endpoint_error(crate::error::describe(error)))?;
        let grant = Grant::Code {
            code: code.code,
            redirect_uri: code.redirect_uri,
            code_verifier: code.code_verifier,
        };
        let client = Client {
            id: &app.client_id,
            secret: &app.client_secret,
        };
        // Before the account exists there is no context: parameters that read it are left out.
        let parameters = flow
            .token_parameters
            .render(&serde_json::Map::new())
            .map_err(|message| fail(OAuthErrorKind::TokenEndpoint { status: None }, message))?;
        let issued = endpoint::request(&http, url, flow, &grant, &client, &parameters, timeout)
            .await
            .map_err(|refused| fail(refused.kind, refused.message))?;
        Ok(IssuedTokens {
            access_token: issued.access_token,
            refresh_token: issued.refresh_token,
            expires_in: issued.expires_in,
        })
    }

    /// Records tokens just issued for `account` (created by the connect flow with them in its
    /// context) in the token store, with their expiry, so the first call after they expire
    /// renews them instead of being refused. Nothing is stored when the account already has a
    /// record or the integration has no authorization-code scheme.
    pub async fn adopt_issued_tokens(
        &self,
        integration: &IntegrationPlan,
        account: &Account,
        tokens: &IssuedTokens,
    ) -> Result<(), ExecError> {
        let Some(flow) = integration
            .auth
            .iter()
            .filter_map(|scheme| scheme.oauth())
            .find(|flow| matches!(flow.grant, OAuthGrant::AuthorizationCode { .. }))
        else {
            return Ok(());
        };
        let state = TokenState {
            access_token: Some(tokens.access_token.clone()),
            refresh_token: tokens.refresh_token.clone(),
            expires_at: tokens
                .expires_in
                .map(|seconds| now().saturating_add(seconds.max(0))),
            seed: seed_of(flow, &account.context, &[]),
        };
        let lease = std::time::Duration::from_secs(integration.timeouts.request_secs.max(1));
        self.inner
            .tokens
            .adopt(&account.id, state, lease)
            .await
            .map(|_| ())
            .map_err(|error| {
                ExecError::from(ExecErrorKind::OAuth(Box::new(OAuthError {
                    integration: integration.name.clone(),
                    account: account.id.clone(),
                    kind: OAuthErrorKind::Store,
                    message: error.0,
                })))
            })
    }
}
