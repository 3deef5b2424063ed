//! Authentication as data: the integration names the scheme and the context keys, the account's
//! context holds the credentials, and this module turns them into one sensitive header.

use reqwest::header::{HeaderName, HeaderValue};
use serde_json::Value;
use switchboard_core::{AuthScheme, IntegrationPlan};

use crate::account::Account;
use crate::error::ExecError;

/// The header that authenticates an account's calls; its value is marked sensitive, so `Debug`
/// never shows it.
#[derive(Debug, Clone)]
pub(crate) struct Credentials {
    header: Option<(HeaderName, HeaderValue)>,
}

impl Credentials {
    /// The credential header for `account`, from the first auth scheme whose credential its
    /// context holds. An integration without auth schemes needs none.
    pub(crate) fn for_account(
        integration: &IntegrationPlan,
        account: &Account,
    ) -> Result<Credentials, ExecError> {
        if integration.auth.is_empty() {
            return Ok(Credentials { header: None });
        }
        let Some(scheme) = integration.auth_for(&account.context) else {
            return Err(ExecError::NoCredentials {
                integration: integration.name.clone(),
                account: account.id.clone(),
                expected: integration
                    .auth
                    .iter()
                    .map(|scheme| scheme.credential_key().to_owned())
                    .collect(),
            });
        };
        if scheme.oauth().is_some() {
            // The header carries an access token obtained per call (see `oauth`).
            return Ok(Credentials { header: None });
        }
        let text = |key: &str| {
            account
                .context
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        Credentials::build(scheme, account, text)
    }

    /// The header of an OAuth scheme carrying `token`.
    pub(crate) fn with_token(
        scheme: &AuthScheme,
        account: &Account,
        token: &str,
    ) -> Result<Credentials, ExecError> {
        Credentials::build(scheme, account, |_| token)
    }

    fn build<'a>(
        scheme: &AuthScheme,
        account: &Account,
        text: impl Fn(&str) -> &'a str,
    ) -> Result<Credentials, ExecError> {
        let written = scheme.header_name();
        let name = HeaderName::from_bytes(written.as_bytes()).map_err(|_| {
            account.error(format!(
                "the auth header name `{written}` is not a valid header name"
            ))
        })?;
        let mut value = HeaderValue::from_str(&scheme.header_value(text)).map_err(|_| {
            account.error(format!(
                "the credential in `{}` holds characters that cannot be sent in a header",
                scheme.credential_key()
            ))
        })?;
        value.set_sensitive(true);
        Ok(Credentials {
            header: Some((name, value)),
        })
    }

    /// The header to add to every call, if any.
    pub(crate) fn header(&self) -> Option<(&HeaderName, &HeaderValue)> {
        self.header.as_ref().map(|(name, value)| (name, value))
    }
}
