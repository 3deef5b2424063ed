//! The integrated account a run acts for: where to reach the provider and with which credentials.

use std::fmt;

use serde_json::{Map, Value};
use switchboard_core::{DEFAULT_ENVIRONMENT, IntegrationPlan, is_http_url};

use crate::error::ExecError;

/// One customer's connection to an integration, as the executor needs it.
///
/// `Debug` shows the context's keys only: values may be credentials.
#[derive(Clone, Default, PartialEq)]
pub struct Account {
    /// The account's id; rate limits are kept per account.
    pub id: String,
    /// The integration environment (`production`, `sandbox`, …); `production` when unset.
    pub environment: Option<String>,
    /// A base URL that replaces the integration's (a self-hosted provider, a test server).
    pub base_url: Option<String>,
    /// Credentials and context values; the integration says which keys are secrets.
    pub context: Map<String, Value>,
}

impl Account {
    /// An account with `id` and an empty context.
    pub fn new(id: impl Into<String>) -> Account {
        Account {
            id: id.into(),
            ..Account::default()
        }
    }

    /// The environment, `production` when unset.
    pub fn environment(&self) -> &str {
        self.environment.as_deref().unwrap_or(DEFAULT_ENVIRONMENT)
    }

    /// Sets a context value (builder style).
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Account {
        self.context.insert(key.into(), value.into());
        self
    }

    /// The base URL requests of this account go to: [`Account::base_url`] when set, else the
    /// integration's for the account's environment, rendered with its context.
    pub fn resolve_base_url(
        &self,
        integration: &IntegrationPlan,
    ) -> Result<reqwest::Url, ExecError> {
        let text = match &self.base_url {
            Some(url) => url.clone(),
            None => integration
                .base_url(self.environment(), &self.context)
                .map_err(|message| self.error(message))?,
        };
        let url = reqwest::Url::parse(&text)
            .map_err(|error| self.error(format!("the base url is not a valid url: {error}")))?;
        if !is_http_url(&url) {
            return Err(self.error(format!(
                "the base url has scheme `{}`; only http and https are supported",
                url.scheme()
            )));
        }
        Ok(url)
    }

    pub(crate) fn error(&self, message: impl Into<String>) -> ExecError {
        ExecError::Account {
            account: self.id.clone(),
            message: message.into(),
        }
    }
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("environment", &self.environment)
            .field(
                "base_url",
                &self.base_url.as_deref().map(crate::redact::url_text),
            )
            .field("context_keys", &self.context.keys().collect::<Vec<_>>())
            .finish()
    }
}
