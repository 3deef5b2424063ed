//! Authentication schemes, compiled from `integration.yaml`'s `auth` list: which context keys
//! hold a scheme's credential, and the header that carries it. Every crate asks an
//! [`AuthScheme`] rather than matching on the file's shapes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::model::AuthSpec;

/// One way an integration authenticates: a credential read from the account's context, sent in
/// one header.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthScheme {
    spec: AuthSpec,
}

impl AuthScheme {
    pub(crate) fn compile(spec: AuthSpec) -> AuthScheme {
        AuthScheme { spec }
    }

    /// The context key holding the scheme's main credential (the one an account must hold for
    /// the scheme to apply).
    pub fn credential_key(&self) -> &str {
        match &self.spec {
            AuthSpec::Basic { username, .. } => username,
            AuthSpec::Bearer { token } => token,
            AuthSpec::Header { value, .. } => value,
        }
    }

    /// Every context key the scheme reads (Basic: the user name, and the password if named).
    pub fn context_keys(&self) -> Vec<&str> {
        match &self.spec {
            AuthSpec::Basic { username, password } => std::iter::once(username.as_str())
                .chain(password.as_deref())
                .collect(),
            AuthSpec::Bearer { token } => vec![token],
            AuthSpec::Header { value, .. } => vec![value],
        }
    }

    /// Whether `context` holds the scheme's main credential (a non-empty string).
    pub fn is_held_by(&self, context: &Map<String, Value>) -> bool {
        context
            .get(self.credential_key())
            .and_then(Value::as_str)
            .is_some_and(|v| !v.is_empty())
    }

    /// The header the credential goes in, as written (`Authorization` for Basic and Bearer).
    pub fn header_name(&self) -> &str {
        match &self.spec {
            AuthSpec::Basic { .. } | AuthSpec::Bearer { .. } => "authorization",
            AuthSpec::Header { name, .. } => name,
        }
    }

    /// The header's value, reading each context key with `read`.
    pub fn header_value<'a>(&self, read: impl Fn(&str) -> &'a str) -> String {
        match &self.spec {
            AuthSpec::Basic { username, password } => {
                let password = password.as_deref().map(&read).unwrap_or_default();
                let encoded = STANDARD.encode(format!("{}:{password}", read(username)));
                format!("Basic {encoded}")
            }
            AuthSpec::Bearer { token } => format!("Bearer {}", read(token)),
            AuthSpec::Header { value, prefix, .. } => {
                format!("{}{}", prefix.as_deref().unwrap_or_default(), read(value))
            }
        }
    }

    /// The header's value with the credential hidden, for dry runs: `Bearer <redacted>`.
    pub fn redacted_value(&self) -> String {
        match &self.spec {
            AuthSpec::Basic { .. } => "Basic <redacted>".to_owned(),
            AuthSpec::Bearer { .. } => "Bearer <redacted>".to_owned(),
            AuthSpec::Header { prefix, .. } => {
                format!("{}<redacted>", prefix.as_deref().unwrap_or_default())
            }
        }
    }

    /// The text a custom header sends before the credential, for a scheme that sets one.
    pub(crate) fn header_prefix(&self) -> Option<&str> {
        match &self.spec {
            AuthSpec::Header { prefix, .. } => prefix.as_deref(),
            _ => None,
        }
    }

    /// The custom header's name, for a scheme that names one.
    pub(crate) fn custom_header(&self) -> Option<&str> {
        match &self.spec {
            AuthSpec::Header { name, .. } => Some(name),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn basic() -> AuthScheme {
        AuthScheme::compile(AuthSpec::Basic {
            username: "api_key".to_owned(),
            password: None,
        })
    }

    #[test]
    fn basic_reads_its_keys_and_encodes_them() {
        let scheme = basic();
        assert_eq!(scheme.credential_key(), "api_key");
        assert_eq!(scheme.context_keys(), ["api_key"]);
        assert_eq!(scheme.header_name(), "authorization");
        assert_eq!(scheme.header_value(|_| "k"), "Basic azo=");
        assert!(scheme.is_held_by(json!({"api_key": "k"}).as_object().unwrap()));
        assert!(!scheme.is_held_by(json!({"api_key": ""}).as_object().unwrap()));
    }

    #[test]
    fn a_header_prefix_comes_before_the_credential_and_stays_when_redacted() {
        let scheme = AuthScheme::compile(AuthSpec::Header {
            name: "Authorization".to_owned(),
            value: "api_key".to_owned(),
            prefix: Some("Token token=".to_owned()),
        });
        assert_eq!(scheme.header_name(), "Authorization");
        assert_eq!(scheme.context_keys(), ["api_key"]);
        assert_eq!(scheme.header_value(|_| "abc123"), "Token token=abc123");
        assert_eq!(scheme.redacted_value(), "Token token=<redacted>");
    }

    #[test]
    fn a_header_without_prefix_sends_the_credential_as_it_is() {
        let scheme = AuthScheme::compile(AuthSpec::Header {
            name: "X-SmartToken".to_owned(),
            value: "api_key".to_owned(),
            prefix: None,
        });
        assert_eq!(scheme.header_value(|_| "abc123"), "abc123");
        assert_eq!(scheme.redacted_value(), "<redacted>");
    }
}
