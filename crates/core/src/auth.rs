//! Authentication schemes, compiled from `integration.yaml`'s `auth` list: which context keys
//! hold a scheme's credential, and the header that carries it. Every crate asks an
//! [`AuthScheme`] rather than matching on the file's shapes. OAuth 2.0 schemes are described in
//! [`oauth`].

pub(crate) mod oauth;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::model::AuthSpec;
use oauth::OAuthFlow;

/// One way an integration authenticates: a credential read from the account's context, sent in
/// one header.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthScheme {
    spec: AuthSpec,
    oauth: Option<OAuthFlow>,
}

impl AuthScheme {
    pub(crate) fn compile(spec: AuthSpec) -> AuthScheme {
        let oauth = match &spec {
            AuthSpec::OAuth2ClientCredentials(flow) => Some(OAuthFlow::client_credentials(flow)),
            AuthSpec::OAuth2AuthorizationCode(flow) => Some(OAuthFlow::authorization_code(flow)),
            AuthSpec::Basic { .. } | AuthSpec::Bearer { .. } | AuthSpec::Header { .. } => None,
        };
        AuthScheme { spec, oauth }
    }

    /// The OAuth 2.0 flow, for a scheme whose header carries a token the executor obtains
    /// (rather than a credential read from the context as it is).
    pub fn oauth(&self) -> Option<&OAuthFlow> {
        self.oauth.as_ref()
    }

    /// The context key holding the scheme's main credential (the one an account must hold for
    /// the scheme to apply).
    pub fn credential_key(&self) -> &str {
        match &self.spec {
            AuthSpec::Basic { username, .. } => username,
            AuthSpec::Bearer { token } => token,
            AuthSpec::Header { value, .. } => value,
            AuthSpec::OAuth2ClientCredentials(flow) => &flow.client_id,
            AuthSpec::OAuth2AuthorizationCode(flow) => &flow.refresh_token,
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
            AuthSpec::OAuth2ClientCredentials(flow) => vec![&flow.client_id, &flow.client_secret],
            AuthSpec::OAuth2AuthorizationCode(flow) => {
                vec![&flow.access_token, &flow.refresh_token]
            }
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
        match &self.spec {
            AuthSpec::OAuth2ClientCredentials(flow) => {
                holds(&flow.client_id) && holds(&flow.client_secret)
            }
            _ => holds(self.credential_key()),
        }
    }

    /// The header the credential goes in, as written (`Authorization` for Basic and Bearer).
    pub fn header_name(&self) -> &str {
        if let Some(flow) = &self.oauth {
            return &flow.header_name;
        }
        match &self.spec {
            AuthSpec::Header { name, .. } => name,
            _ => "authorization",
        }
    }

    /// The header's value, reading each context key with `read`. An OAuth scheme reads its
    /// access token under [`OAuthFlow::token_slot`].
    pub fn header_value<'a>(&self, read: impl Fn(&str) -> &'a str) -> String {
        if let Some(flow) = &self.oauth {
            return format!("{}{}", flow.header_prefix, read(flow.token_slot()));
        }
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
            AuthSpec::OAuth2ClientCredentials(_) | AuthSpec::OAuth2AuthorizationCode(_) => {
                String::new()
            }
        }
    }

    /// The header's value with the credential hidden, for dry runs: `Bearer <redacted>`.
    pub fn redacted_value(&self) -> String {
        if let Some(flow) = &self.oauth {
            return format!("{}<redacted>", flow.header_prefix);
        }
        match &self.spec {
            AuthSpec::Basic { .. } => "Basic <redacted>".to_owned(),
            AuthSpec::Bearer { .. } => "Bearer <redacted>".to_owned(),
            AuthSpec::Header { prefix, .. } => {
                format!("{}<redacted>", prefix.as_deref().unwrap_or_default())
            }
            AuthSpec::OAuth2ClientCredentials(_) | AuthSpec::OAuth2AuthorizationCode(_) => {
                "<redacted>".to_owned()
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

    /// The header's name, for a scheme whose mapping names one (a custom header, or where an
    /// OAuth token goes).
    pub(crate) fn custom_header(&self) -> Option<&str> {
        match (&self.spec, &self.oauth) {
            (AuthSpec::Header { name, .. }, _) => Some(name),
            (_, Some(flow)) => Some(&flow.header_name),
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
        assert_eq!(
            scheme.header_value(|key| if key == "access_token" { "t" } else { "" }),
            "Bearer t"
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
        assert_eq!(
            scheme.header_value(|key| if key == "access_token" { "a" } else { "" }),
            "a"
        );
        assert_eq!(scheme.redacted_value(), "<redacted>");
    }
}
