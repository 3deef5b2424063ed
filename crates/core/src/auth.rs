//! Authentication schemes, compiled from `integration.yaml`'s `auth` list: which context keys
//! hold a scheme's credential, and the header that carries it. Every crate asks an
//! [`AuthScheme`] rather than matching on the file's shapes; each kind of scheme is one variant
//! of a private enum with one function building its header, so a new kind is a local change.
//! OAuth 2.0 schemes are described in [`oauth`]: their header carries an access token the
//! driver obtains and puts into the context under [`OAuthFlow::token_slot`].

pub(crate) mod oauth;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::model::AuthSpec;
use crate::prepare::{AccountError, Header};
use oauth::{OAuthFlow, OAuthGrant};

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
    /// A custom header whose value is the credential, after an optional prefix.
    Header {
        name: String,
        value: String,
        prefix: Option<String>,
    },
    /// An OAuth 2.0 access token, in the flow's header after its prefix.
    OAuth(OAuthFlow),
}

impl AuthScheme {
    pub(crate) fn compile(spec: AuthSpec) -> AuthScheme {
        let kind = match spec {
            AuthSpec::Basic { username, password } => Kind::Basic { username, password },
            AuthSpec::Bearer { token } => Kind::Bearer { token },
            AuthSpec::Header {
                name,
                value,
                prefix,
            } => Kind::Header {
                name,
                value,
                prefix,
            },
            AuthSpec::OAuth2ClientCredentials(flow) => {
                Kind::OAuth(OAuthFlow::client_credentials(&flow))
            }
            AuthSpec::OAuth2AuthorizationCode(flow) => {
                Kind::OAuth(OAuthFlow::authorization_code(&flow))
            }
        };
        AuthScheme { kind }
    }

    /// The OAuth 2.0 flow, for a scheme whose header carries a token the driver obtains
    /// (rather than a credential read from the context as it is).
    pub fn oauth(&self) -> Option<&OAuthFlow> {
        match &self.kind {
            Kind::OAuth(flow) => Some(flow),
            _ => None,
        }
    }

    /// The context key holding the scheme's main credential (the one an account must hold for
    /// the scheme to apply).
    pub fn credential_key(&self) -> &str {
        match &self.kind {
            Kind::Basic { username, .. } => username,
            Kind::Bearer { token } => token,
            Kind::Header { value, .. } => value,
            Kind::OAuth(flow) => match &flow.grant {
                OAuthGrant::ClientCredentials { client_id_key, .. } => client_id_key,
                OAuthGrant::AuthorizationCode {
                    refresh_token_key, ..
                } => refresh_token_key,
            },
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
            Kind::OAuth(flow) => match &flow.grant {
                OAuthGrant::ClientCredentials {
                    client_id_key,
                    client_secret_key,
                } => vec![client_id_key, client_secret_key],
                OAuthGrant::AuthorizationCode {
                    access_token_key,
                    refresh_token_key,
                    ..
                } => vec![access_token_key, refresh_token_key],
            },
        }
    }

    /// Whether `context` holds the scheme's credentials (non-empty strings): the main one, and
    /// for client credentials the secret too; for the authorization-code grant the refresh token
    /// (an access token alone cannot be renewed: a `bearer` scheme listed after it takes it).
    pub fn is_held_by(&self, context: &Map<String, Value>) -> bool {
        let holds = |key: &str| {
            context
                .get(key)
                .and_then(Value::as_str)
                .is_some_and(|v| !v.is_empty())
        };
        self.required_keys().into_iter().all(holds)
    }

    /// The context keys an account must all hold for the scheme to apply: its main credential,
    /// and for client credentials the client secret too.
    pub fn required_keys(&self) -> Vec<&str> {
        match &self.kind {
            Kind::OAuth(OAuthFlow {
                grant:
                    OAuthGrant::ClientCredentials {
                        client_id_key,
                        client_secret_key,
                    },
                ..
            }) => vec![client_id_key, client_secret_key],
            _ => vec![self.credential_key()],
        }
    }

    /// The header the credential goes in, lower case for Basic and Bearer (`authorization`),
    /// as written for a custom header.
    pub fn header_name(&self) -> &str {
        match &self.kind {
            Kind::Basic { .. } | Kind::Bearer { .. } => "authorization",
            Kind::Header { name, .. } => name,
            Kind::OAuth(flow) => &flow.header_name,
        }
    }

    /// The credential header for `context`, marked sensitive. An OAuth scheme reads the access
    /// token under [`OAuthFlow::token_slot`], where the driver put the token it obtained. Fails
    /// when that token is missing, or when the value cannot be sent in a header (a line break
    /// in the credential).
    pub fn header(&self, context: &Map<String, Value>) -> Result<Header, AccountError> {
        let read = |key: &str| context.get(key).and_then(Value::as_str).unwrap_or_default();
        let value = match &self.kind {
            Kind::Basic { username, password } => {
                basic_value(read(username), password.as_deref().map(read))
            }
            Kind::Bearer { token } => bearer_value(read(token)),
            Kind::Header { value, prefix, .. } => {
                format!("{}{}", prefix.as_deref().unwrap_or_default(), read(value))
            }
            Kind::OAuth(flow) => {
                let token = read(flow.token_slot());
                if token.is_empty() {
                    return Err(AccountError::NoAccessToken {
                        key: flow.token_slot().to_owned(),
                    });
                }
                format!("{}{token}", flow.header_prefix)
            }
        };
        if !crate::prepare::is_header_value(&value) {
            return Err(AccountError::UnusableCredential {
                key: self.credential_key().to_owned(),
            });
        }
        Ok(Header::sensitive(self.header_name(), value))
    }

    /// The header's value with the credential hidden, for dry runs: `Bearer <redacted>`.
    pub fn redacted_value(&self) -> String {
        match &self.kind {
            Kind::Basic { .. } => "Basic <redacted>".to_owned(),
            Kind::Bearer { .. } => "Bearer <redacted>".to_owned(),
            Kind::Header { prefix, .. } => {
                format!("{}<redacted>", prefix.as_deref().unwrap_or_default())
            }
            Kind::OAuth(flow) => format!("{}<redacted>", flow.header_prefix),
        }
    }

    /// The text a custom header sends before the credential, for a scheme that sets one.
    pub(crate) fn header_prefix(&self) -> Option<&str> {
        match &self.kind {
            Kind::Header { prefix, .. } => prefix.as_deref(),
            _ => None,
        }
    }

    /// The header's name, for a scheme whose mapping names one (a custom header, or where an
    /// OAuth token goes).
    pub(crate) fn custom_header(&self) -> Option<&str> {
        match &self.kind {
            Kind::Header { name, .. } => Some(name),
            Kind::OAuth(flow) => Some(&flow.header_name),
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
            prefix: None,
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

    #[test]
    fn a_header_prefix_comes_before_the_credential_and_stays_when_redacted() {
        let scheme = AuthScheme::compile(AuthSpec::Header {
            name: "Authorization".to_owned(),
            value: "api_key".to_owned(),
            prefix: Some("Token token=".to_owned()),
        });
        assert_eq!(scheme.header_name(), "Authorization");
        assert_eq!(scheme.context_keys(), ["api_key"]);
        let header = scheme
            .header(&context(json!({"api_key": "abc123"})))
            .unwrap();
        assert_eq!(header.value(), "Token token=abc123");
        assert_eq!(scheme.redacted_value(), "Token token=<redacted>");
    }

    #[test]
    fn a_header_without_prefix_sends_the_credential_as_it_is() {
        let scheme = AuthScheme::compile(AuthSpec::Header {
            name: "X-SmartToken".to_owned(),
            value: "api_key".to_owned(),
            prefix: None,
        });
        let header = scheme
            .header(&context(json!({"api_key": "abc123"})))
            .unwrap();
        assert_eq!(header.value(), "abc123");
        assert_eq!(scheme.redacted_value(), "<redacted>");
    }

    #[test]
    fn oauth_schemes_need_every_credential_they_renew_with() {
        let client_credentials: AuthSpec = serde_json::from_value(json!({
            "type": "oauth2_client_credentials", "token_url": "https://auth.example.com/token",
            "client_id": "client_id", "client_secret": "client_secret"
        }))
        .unwrap();
        let scheme = AuthScheme::compile(client_credentials);
        assert!(
            scheme.is_held_by(
                json!({"client_id": "i", "client_secret": "s"})
                    .as_object()
                    .unwrap()
            )
        );
        assert!(!scheme.is_held_by(json!({"client_id": "i"}).as_object().unwrap()));
        let header = scheme
            .header(&context(json!({"access_token": "t"})))
            .unwrap();
        assert_eq!(header.value(), "Bearer t");
        assert_eq!(
            scheme.header(&context(json!({"client_id": "i"}))),
            Err(AccountError::NoAccessToken {
                key: "access_token".to_owned()
            })
        );
        let code: AuthSpec = serde_json::from_value(json!({
            "type": "oauth2_authorization_code", "authorize_url": "https://auth.example.com/a",
            "token_url": "https://auth.example.com/token", "access_token": "access_token",
            "refresh_token": "refresh_token", "token_header": {"name": "X-Token", "prefix": ""}
        }))
        .unwrap();
        let scheme = AuthScheme::compile(code);
        assert!(scheme.is_held_by(json!({"refresh_token": "r"}).as_object().unwrap()));
        assert!(!scheme.is_held_by(json!({"access_token": "a"}).as_object().unwrap()));
        assert_eq!(scheme.header_name(), "X-Token");
        let header = scheme
            .header(&context(json!({"access_token": "a"})))
            .unwrap();
        assert_eq!((header.name(), header.value()), ("X-Token", "a"));
        assert_eq!(scheme.redacted_value(), "<redacted>");
    }
}
