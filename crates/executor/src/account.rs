//! The integrated account a run acts for: where to reach the provider and with which credentials.

use std::fmt;

use serde_json::{Map, Value};
use switchboard_core::{Connection, DEFAULT_ENVIRONMENT};

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

    /// Where and as whom the account's calls go, as core's request preparation reads it:
    /// [`IntegrationPlan::endpoint`](switchboard_core::IntegrationPlan::endpoint) resolves it
    /// into the base URL and the credential header.
    pub fn connection(&self) -> Connection<'_> {
        self.connection_with(&self.context)
    }

    /// The account's connection with `context` in place of its own (its context plus an OAuth
    /// access token the executor obtained).
    pub(crate) fn connection_with<'a>(&'a self, context: &'a Map<String, Value>) -> Connection<'a> {
        let connection = Connection::new(context).environment(self.environment());
        match &self.base_url {
            Some(url) => connection.base_url(url),
            None => connection,
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
