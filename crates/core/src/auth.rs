//! Authentication schemes, compiled from `integration.yaml`'s `auth` list: which context keys
//! hold a scheme's credential, and the header that carries it. Every crate asks an
//! [`AuthScheme`] rather than matching on the file's shapes; each kind of scheme is one variant
//! of a private enum with one function building its header, so a new kind is a local change.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::model::AuthSpec;
use crate::prepare::{AccountError, Header};

/// One way an integration authenticates: a credential read from the account's context, sent in
/// one header.
///
/// A driver that obtains credentials itself (an OAuth access token it refreshed) puts them in
/// the context it hands to [`IntegrationPlan::endpoint`](crate::IntegrationPlan::endpoint),
/// under the key the scheme names: the scheme only ever reads the context it is given.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthScheme {
    kind: Kind,
}

/// The kinds of scheme, as compiled.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// HTTP Basic: user name and optional password, each read from a context key.
    Basic {
        username: String,
        password: Option<String>,
    },
    /// `Authorization: Bearer <token>`.
    Bearer { token: String },
    /// A custom header whose value is the credential.
    Header { name: String, value: String },
}

impl AuthScheme {
    pub(crate) fn compile(spec: AuthSpec) -> AuthScheme {
        let kind = match spec {
            AuthSpec::Basic { username, password } => Kind::Basic { username, password },
            AuthSpec::Bearer { token } => Kind::Bearer { token },
            AuthSpec::Header { name, value } => Kind::Header { name, value },
        };
        AuthScheme { kind }
    }

    /// The context key holding the scheme's main credential (the one an account must hold for
    /// the scheme to apply).
    pub fn credential_key(&self) -> &str {
        match &self.kind {
            Kind::Basic { username, .. } => username,
            Kind::Bearer { token } => token,
            Kind::Header { value, .. } => value,
        }
    }

    /// Every context key the scheme reads (Basic: the user name, and the password if named).
    pub fn context_keys(&self) -> Vec<&str> {
        match &self.kind {
            Kind::Basic { username, password } => std::iter::once(username.as_str())
                .chain(password.as_deref())
                .collect(),
            Kind::Bearer { token } => vec![token],
            Kind::Header { value, .. } => vec![value],
        }
    }

    /// Whether `context` holds the scheme's main credential (a non-empty string).
    pub fn is_held_by(&self, context: &Map<String, Value>) -> bool {
        context
            .get(self.credential_key())
            .and_then(Value::as_str)
            .is_some_and(|v| !v.is_empty())
    }

    /// The header the credential goes in, lower case for Basic and Bearer (`authorization`),
    /// as written for a custom header.
    pub fn header_name(&self) -> &str {
        match &self.kind {
            Kind::Basic { .. } | Kind::Bearer { .. } => "authorization",
            Kind::Header { name, .. } => name,
        }
    }

    /// The credential header for `context`, marked sensitive. Fails when the value cannot be
    /// sent in a header (a line break in the credential).
    pub fn header(&self, context: &Map<String, Value>) -> Result<Header, AccountError> {
        let read = |key: &str| context.get(key).and_then(Value::as_str).unwrap_or_default();
        let value = match &self.kind {
            Kind::Basic { username, password } => {
                basic_value(read(username), password.as_deref().map(read))
            }
            Kind::Bearer { token } => bearer_value(read(token)),
            Kind::Header { value, .. } => read(value).to_owned(),
        };
        if !crate::prepare::is_header_value(&value) {
            return Err(AccountError::UnusableCredential {
                key: self.credential_key().to_owned(),
            });
        }
        Ok(Header::sensitive(self.header_name(), value))
    }

    /// The header's value with the credential hidden, for dry runs: `Bearer <redacted>`.
    pub fn redacted_value(&self) -> &'static str {
        match &self.kind {
            Kind::Basic { .. } => "Basic <redacted>",
            Kind::Bearer { .. } => "Bearer <redacted>",
            Kind::Header { .. } => "<redacted>",
        }
    }

    /// The custom header's name, for a scheme that names one.
    pub(crate) fn custom_header(&self) -> Option<&str> {
        match &self.kind {
            Kind::Header { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// `Basic base64(user:password)`; the password is empty when the scheme names none.
fn basic_value(username: &str, password: Option<&str>) -> String {
    let encoded = STANDARD.encode(format!("{username}:{}", password.unwrap_or_default()));
    format!("Basic {encoded}")
}

/// `Bearer <token>`.
fn bearer_value(token: &str) -> String {
    format!("Bearer {token}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn context(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn basic_reads_its_keys_and_encodes_them() {
        let scheme = AuthScheme::compile(AuthSpec::Basic {
            username: "api_key".to_owned(),
            password: None,
        });
        assert_eq!(scheme.credential_key(), "api_key");
        assert_eq!(scheme.context_keys(), ["api_key"]);
        let header = scheme.header(&context(json!({"api_key": "k"}))).unwrap();
        assert_eq!(
            (header.name(), header.value()),
            ("authorization", "Basic azo=")
        );
        assert!(header.is_sensitive());
        assert!(scheme.is_held_by(&context(json!({"api_key": "k"}))));
        assert!(!scheme.is_held_by(&context(json!({"api_key": ""}))));
    }

    #[test]
    fn bearer_and_custom_headers_carry_the_credential_as_is() {
        let bearer = AuthScheme::compile(AuthSpec::Bearer {
            token: "access_token".to_owned(),
        });
        let header = bearer
            .header(&context(json!({"access_token": "t0k"})))
            .unwrap();
        assert_eq!(header.value(), "Bearer t0k");
        let custom = AuthScheme::compile(AuthSpec::Header {
            name: "X-Api-Key".to_owned(),
            value: "key".to_owned(),
        });
        let header = custom.header(&context(json!({"key": "k1"}))).unwrap();
        assert_eq!((header.name(), header.value()), ("X-Api-Key", "k1"));
    }

    #[test]
    fn a_credential_that_cannot_go_in_a_header_is_refused_without_showing_it() {
        let bearer = AuthScheme::compile(AuthSpec::Bearer {
            token: "access_token".to_owned(),
        });
        let error = bearer
            .header(&context(json!({"access_token": "a\r\nX-Evil: 1"})))
            .unwrap_err();
        assert_eq!(
            error,
            AccountError::UnusableCredential {
                key: "access_token".to_owned()
            }
        );
        assert!(!error.to_string().contains("Evil"));
    }
}
