//! OAuth 2.0 schemes, declared in `integration.yaml` (RFC 6749): the client-credentials grant
//! (§4.4), whose client id and secret are the account's credentials, and the authorization-code
//! grant (§4.1) with refresh (§6), whose access and refresh tokens are the account's credentials
//! and whose client is the operator's OAuth app. The engine only describes the flows; the
//! executor fetches, refreshes and stores tokens, and the server runs the connect flow.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

#[cfg(feature = "format-check")]
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::expr::{Root, Scope, Template};

/// The default header an access token goes in.
const DEFAULT_TOKEN_HEADER: &str = "authorization";
/// The default text before the access token in its header (RFC 6750 §2.1).
const DEFAULT_TOKEN_PREFIX: &str = "Bearer ";
/// The name the token fetched with client credentials is read under when the header is built
/// (it is never in an account's stored context).
pub const CLIENT_CREDENTIALS_TOKEN_SLOT: &str = "access_token";
/// Form parameters the engine itself sets on token requests: a `token_parameters` entry may not
/// name one (RFC 6749 §4.1.3, §4.4.2, §6, §2.3.1; RFC 7636 §4.5).
pub(crate) const RESERVED_TOKEN_PARAMETERS: &[&str] = &[
    "grant_type",
    "scope",
    "client_id",
    "client_secret",
    "refresh_token",
    "code",
    "redirect_uri",
    "code_verifier",
];

/// How the client authenticates to the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthentication {
    /// HTTP Basic with the url-encoded client id and secret (the RFC's recommended way).
    #[default]
    Basic,
    /// `client_id` and `client_secret` in the form body.
    Body,
}

/// Where the access token goes on provider calls: a header and the text before the token.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenHeaderSpec {
    /// The header name (default `Authorization`).
    #[serde(default = "default_token_header")]
    pub(crate) name: String,
    /// The text before the token (default `Bearer `; empty for a bare token).
    #[serde(default = "default_token_prefix")]
    pub(crate) prefix: String,
}

fn default_token_header() -> String {
    DEFAULT_TOKEN_HEADER.to_owned()
}

fn default_token_prefix() -> String {
    DEFAULT_TOKEN_PREFIX.to_owned()
}

/// `type: oauth2_client_credentials`: the account holds a client id and secret; the engine
/// fetches access tokens with them and renews each before it expires.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct ClientCredentialsSpec {
    /// The token endpoint (an absolute `https` URL; `http` only for loopback test servers).
    pub(crate) token_url: String,
    /// Context key of the client id.
    pub(crate) client_id: String,
    /// Context key of the client secret.
    pub(crate) client_secret: String,
    /// Scopes asked for (space-joined in `scope`); none sends no `scope`.
    #[serde(default)]
    pub(crate) scopes: Vec<String>,
    /// How the client id and secret reach the token endpoint (default `basic`).
    #[serde(default)]
    pub(crate) client_authentication: ClientAuthentication,
    /// Extra form parameters of every token request (an `audience`, say). Each value is a
    /// template over the account's context (`sub: "{{ context.user_id }}"`); a null value leaves
    /// its parameter out.
    #[serde(default)]
    pub(crate) token_parameters: BTreeMap<String, String>,
    /// Where the token goes (default `Authorization: Bearer <token>`).
    #[serde(default)]
    pub(crate) token_header: Option<TokenHeaderSpec>,
}

/// `type: oauth2_authorization_code`: a user authorised the operator's OAuth app (the connect
/// flow); the account holds the access and refresh tokens, renewed with the app's client id and
/// secret from the server's configuration.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct AuthorizationCodeSpec {
    /// Where the connect flow sends the user to authorise the app.
    pub(crate) authorize_url: String,
    /// The token endpoint (code exchange and refresh).
    pub(crate) token_url: String,
    /// Context key of the access token.
    pub(crate) access_token: String,
    /// Context key of the refresh token.
    pub(crate) refresh_token: String,
    /// Scopes asked for when authorising (space-joined in `scope`).
    #[serde(default)]
    pub(crate) scopes: Vec<String>,
    /// How the app's client id and secret reach the token endpoint (default `basic`).
    #[serde(default)]
    pub(crate) client_authentication: ClientAuthentication,
    /// Extra query parameters of the authorisation redirect (`access_type=offline`, say).
    #[serde(default)]
    pub(crate) authorize_parameters: BTreeMap<String, String>,
    /// Extra form parameters of every token request, templates over the account's context like
    /// the client-credentials scheme's (left out of the code exchange, before the account exists).
    #[serde(default)]
    pub(crate) token_parameters: BTreeMap<String, String>,
    /// Where the token goes (default `Authorization: Bearer <token>`).
    #[serde(default)]
    pub(crate) token_header: Option<TokenHeaderSpec>,
}

/// One extra form parameter of a token request: its name, and its value as written (a template
/// over the account's context) and as compiled.
#[derive(Clone)]
struct TokenParameter {
    name: String,
    source: String,
    template: Arc<Template>,
}

/// The extra form parameters of a flow's token requests, each rendered per account from its
/// context: fixed text (`audience: api`) or a template (`sub: "{{ context.user_id }}"`, for a
/// provider whose token names the acting user). Checked when the integration loads: a template
/// reads only `context.fields`, never a credential.
#[derive(Clone, Default)]
pub struct TokenParameters {
    parameters: Vec<TokenParameter>,
}

impl TokenParameters {
    /// Compiles the parameters as written in `integration.yaml` (load-time checks report their
    /// problems; a value that does not compile is sent as written).
    pub fn compile(written: &BTreeMap<String, String>) -> TokenParameters {
        let parameters = written
            .iter()
            .map(|(name, source)| {
                let text = Value::String(source.clone());
                let template = Template::compile(&text, &mut Vec::new());
                TokenParameter {
                    name: name.clone(),
                    source: source.clone(),
                    template: Arc::new(template),
                }
            })
            .collect();
        TokenParameters { parameters }
    }

    /// The parameters for an account, in name order: each value rendered with `context` (the
    /// account's context without its credentials). A null value leaves its parameter out; a
    /// number or boolean is sent as its JSON text; an object or array is an error.
    pub fn render(&self, context: &Map<String, Value>) -> Result<Vec<(String, String)>, String> {
        let mut scope = Scope::default();
        scope.set("context", Value::Object(context.clone()));
        let root = Root::Scope(&scope);
        let mut rendered = Vec::with_capacity(self.parameters.len());
        for parameter in &self.parameters {
            let name = &parameter.name;
            let value = match parameter.template.render(&root) {
                Ok(value) => value,
                Err(error) => return Err(format!("token parameter `{name}`: {error}")),
            };
            match value {
                Value::Null => {}
                Value::String(text) => rendered.push((name.clone(), text)),
                Value::Bool(_) | Value::Number(_) => {
                    rendered.push((name.clone(), value.to_string()))
                }
                Value::Array(_) | Value::Object(_) => {
                    return Err(format!(
                        "token parameter `{name}` must be text, but the account's context makes it a JSON {}",
                        if value.is_array() { "array" } else { "object" }
                    ));
                }
            }
        }
        Ok(rendered)
    }
}

impl fmt::Debug for TokenParameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.parameters.iter().map(|p| (&p.name, &p.source)))
            .finish()
    }
}

impl PartialEq for TokenParameters {
    fn eq(&self, other: &TokenParameters) -> bool {
        let written = |p: &TokenParameters| -> Vec<(String, String)> {
            (p.parameters.iter())
                .map(|p| (p.name.clone(), p.source.clone()))
                .collect()
        };
        written(self) == written(other)
    }
}

/// The grant an OAuth scheme uses, and the context keys of its credentials.
#[derive(Debug, Clone, PartialEq)]
pub enum OAuthGrant {
    /// Client credentials held by the account.
    ClientCredentials {
        /// Context key of the client id.
        client_id_key: String,
        /// Context key of the client secret.
        client_secret_key: String,
    },
    /// Tokens held by the account, from the operator's app.
    AuthorizationCode {
        /// Where the user authorises the app.
        authorize_url: String,
        /// Extra query parameters of the authorisation redirect.
        authorize_parameters: BTreeMap<String, String>,
        /// Context key of the access token.
        access_token_key: String,
        /// Context key of the refresh token.
        refresh_token_key: String,
    },
}

/// A compiled OAuth 2.0 scheme: everything the executor needs to get and renew a token.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthFlow {
    /// The grant and its credentials' context keys.
    pub grant: OAuthGrant,
    /// The token endpoint.
    pub token_url: String,
    /// Scopes asked for.
    pub scopes: Vec<String>,
    /// How the client authenticates to the token endpoint.
    pub client_authentication: ClientAuthentication,
    /// Extra form parameters of every token request, rendered per account.
    pub token_parameters: TokenParameters,
    /// The header the access token goes in.
    pub header_name: String,
    /// The text before the token in that header.
    pub header_prefix: String,
}

impl OAuthFlow {
    pub(crate) fn client_credentials(spec: &ClientCredentialsSpec) -> OAuthFlow {
        let header = spec.token_header.clone().unwrap_or_else(default_header);
        OAuthFlow {
            grant: OAuthGrant::ClientCredentials {
                client_id_key: spec.client_id.clone(),
                client_secret_key: spec.client_secret.clone(),
            },
            token_url: spec.token_url.clone(),
            scopes: spec.scopes.clone(),
            client_authentication: spec.client_authentication,
            token_parameters: TokenParameters::compile(&spec.token_parameters),
            header_name: header.name,
            header_prefix: header.prefix,
        }
    }

    pub(crate) fn authorization_code(spec: &AuthorizationCodeSpec) -> OAuthFlow {
        let header = spec.token_header.clone().unwrap_or_else(default_header);
        OAuthFlow {
            grant: OAuthGrant::AuthorizationCode {
                authorize_url: spec.authorize_url.clone(),
                authorize_parameters: spec.authorize_parameters.clone(),
                access_token_key: spec.access_token.clone(),
                refresh_token_key: spec.refresh_token.clone(),
            },
            token_url: spec.token_url.clone(),
            scopes: spec.scopes.clone(),
            client_authentication: spec.client_authentication,
            token_parameters: TokenParameters::compile(&spec.token_parameters),
            header_name: header.name,
            header_prefix: header.prefix,
        }
    }

    /// The name the header builder reads the access token under: the access-token context key
    /// of the authorization-code grant, [`CLIENT_CREDENTIALS_TOKEN_SLOT`] for client credentials.
    pub fn token_slot(&self) -> &str {
        match &self.grant {
            OAuthGrant::ClientCredentials { .. } => CLIENT_CREDENTIALS_TOKEN_SLOT,
            OAuthGrant::AuthorizationCode {
                access_token_key, ..
            } => access_token_key,
        }
    }

    /// The space-joined `scope` parameter, when scopes are declared.
    pub fn scope_parameter(&self) -> Option<String> {
        (!self.scopes.is_empty()).then(|| self.scopes.join(" "))
    }

    /// The URLs the flow calls, with where they are written (for load-time checks).
    pub(crate) fn urls(&self) -> Vec<(&'static str, &str)> {
        let mut urls = vec![("token_url", self.token_url.as_str())];
        if let OAuthGrant::AuthorizationCode { authorize_url, .. } = &self.grant {
            urls.push(("authorize_url", authorize_url.as_str()));
        }
        urls
    }
}

fn default_header() -> TokenHeaderSpec {
    TokenHeaderSpec {
        name: default_token_header(),
        prefix: default_token_prefix(),
    }
}

/// Why an OAuth endpoint URL is not usable: it must be absolute `http(s)` without userinfo or a
/// fragment (the executor still refuses non-public addresses when it calls it).
pub(crate) fn endpoint_problem(url: &str) -> Option<String> {
    match url::Url::parse(url) {
        Ok(parsed) if !crate::is_http_url(&parsed) => Some(format!(
            "`{url}` has scheme `{}`; OAuth endpoints are http(s)",
            parsed.scheme()
        )),
        Ok(parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            Some(format!("`{url}` holds credentials; name them in `context`"))
        }
        Ok(parsed) if parsed.fragment().is_some() => Some(format!(
            "`{url}` has a fragment, which OAuth endpoints may not"
        )),
        Ok(parsed) if parsed.host_str().is_none() => Some(format!("`{url}` has no host")),
        Ok(_) => None,
        Err(error) => Some(format!("`{url}` is not a valid URL: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_must_be_plain_http_urls() {
        assert_eq!(endpoint_problem("https://auth.example.com/token"), None);
        assert!(endpoint_problem("ftp://auth.example.com/token").is_some());
        assert!(endpoint_problem("https://user:pw@auth.example.com/token").is_some());
        assert!(endpoint_problem("https://auth.example.com/token#x").is_some());
        assert!(endpoint_problem("/token").is_some());
    }

    #[test]
    fn scopes_are_space_joined_and_absent_when_none() {
        let mut spec = ClientCredentialsSpec {
            token_url: "https://auth.example.com/token".to_owned(),
            client_id: "client_id".to_owned(),
            client_secret: "client_secret".to_owned(),
            scopes: vec!["a:read".to_owned(), "b:write".to_owned()],
            client_authentication: ClientAuthentication::Basic,
            token_parameters: BTreeMap::new(),
            token_header: None,
        };
        let flow = OAuthFlow::client_credentials(&spec);
        assert_eq!(flow.scope_parameter().as_deref(), Some("a:read b:write"));
        assert_eq!(flow.header_name, "authorization");
        assert_eq!(flow.header_prefix, "Bearer ");
        assert_eq!(flow.token_slot(), CLIENT_CREDENTIALS_TOKEN_SLOT);
        spec.scopes.clear();
        assert_eq!(OAuthFlow::client_credentials(&spec).scope_parameter(), None);
    }

    /// The problems loading a client-credentials integration with these `token_parameters`
    /// (YAML lines at the parameters' indentation) reports.
    fn load_problems(parameters: &str) -> String {
        let text = format!(
            "version: 1\nlabel: Example\nbase_url:\n  production: https://api.example.com\nauth:\n  \
             - type: oauth2_client_credentials\n    token_url: https://auth.example.com/token\n    \
             client_id: client_id\n    client_secret: client_secret\n    token_parameters:\n{parameters}\
             context:\n  secrets: [client_id, client_secret]\n  fields:\n    user_id: acting user\n\
             errors:\n  message: \"{{{{ response.error }}}}\"\n"
        );
        let file = crate::tooling::SourceFile {
            path: std::path::PathBuf::from("example/integration.yaml"),
            name: "example/integration.yaml".to_owned(),
            text,
        };
        match crate::Registry::load(&[file], &[]) {
            Ok(_) => String::new(),
            Err(problems) => problems.to_string(),
        }
    }

    #[test]
    fn token_parameters_may_read_declared_context_fields() {
        assert_eq!(
            load_problems("      sub: \"{{ context.user_id }}\"\n      audience: api\n"),
            ""
        );
    }

    #[test]
    fn token_parameters_may_not_read_credentials_or_undeclared_keys() {
        let secret = load_problems("      sub: \"{{ context.client_secret }}\"\n");
        assert!(secret.contains("auth[0].token_parameters.sub"), "{secret}");
        assert!(secret.contains("client_secret"), "{secret}");
        let unknown = load_problems("      sub: \"{{ context.acting_user }}\"\n");
        assert!(unknown.contains("acting_user"), "{unknown}");
        let root = load_problems("      sub: \"{{ body.user }}\"\n");
        assert!(root.contains("unknown name `body`"), "{root}");
        let syntax = load_problems("      sub: \"{{ context.user_id[ }}\"\n");
        assert!(syntax.contains("auth[0].token_parameters.sub"), "{syntax}");
    }

    #[test]
    fn token_parameters_may_not_replace_what_the_engine_sends() {
        let problems = load_problems("      grant_type: password\n");
        assert!(
            problems.contains("auth[0].token_parameters.grant_type"),
            "{problems}"
        );
        assert!(problems.contains("set by the engine"), "{problems}");
    }

    #[test]
    fn token_parameters_render_per_account_and_leave_out_nulls() {
        let parameters = TokenParameters::compile(&BTreeMap::from([
            ("audience".to_owned(), "api".to_owned()),
            ("sub".to_owned(), "{{ context.user_id }}".to_owned()),
            ("tenant".to_owned(), "t-{{ context.tenant }}".to_owned()),
        ]));
        let context = |value: Value| {
            let mut map = Map::new();
            map.insert("user_id".to_owned(), value);
            map.insert("tenant".to_owned(), Value::String("acme".to_owned()));
            map
        };
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        assert_eq!(
            parameters.render(&context(Value::String("4080".to_owned()))),
            Ok(pairs(&[
                ("audience", "api"),
                ("sub", "4080"),
                ("tenant", "t-acme")
            ]))
        );
        assert_eq!(
            parameters.render(&context(serde_json::json!(4080))),
            Ok(pairs(&[
                ("audience", "api"),
                ("sub", "4080"),
                ("tenant", "t-acme")
            ]))
        );
        assert_eq!(
            parameters.render(&context(Value::Null)),
            Ok(pairs(&[("audience", "api"), ("tenant", "t-acme")]))
        );
        let error = parameters
            .render(&context(serde_json::json!([1])))
            .unwrap_err();
        assert!(error.contains("`sub` must be text"), "{error}");
    }
}
