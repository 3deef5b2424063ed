//! Preparing rendered requests for the wire: the one place that turns a [`ProviderRequest`]
//! into the method, URL, headers (the credential included, marked sensitive) and body a
//! transport sends. The executor sends what this produces; an embedder driving a plan with its
//! own HTTP client sends exactly the same.
//!
//! Two stages, so per-account work happens once per run:
//!
//! 1. [`IntegrationPlan::endpoint`] resolves a [`Connection`] (environment, optional base URL
//!    override, the account's context) into an [`Endpoint`]: the base URL and the credential
//!    header. Everything that can be wrong with the account is an [`AccountError`] here, before
//!    any request exists.
//! 2. [`Endpoint::prepare`] turns each rendered request into a [`PreparedRequest`]. A request
//!    the mapping rendered badly (a header value with a line break) is a [`PrepareError`].

use std::fmt;

use serde_json::{Map, Value};

use crate::error::RunError;
use crate::http::{HttpMethod, ProviderRequest, RequestBody};
use crate::plan::{DEFAULT_ENVIRONMENT, IntegrationPlan};

/// Where and as whom an account's calls go: what [`IntegrationPlan::endpoint`] reads.
///
/// ```
/// # let context = serde_json::Map::new();
/// use switchboard_core::Connection;
/// let connection = Connection::new(&context)
///     .environment("sandbox")
///     .base_url("http://127.0.0.1:9090/v1");
/// ```
#[derive(Clone, Copy)]
pub struct Connection<'a> {
    environment: &'a str,
    base_url: Option<&'a str>,
    context: &'a Map<String, Value>,
}

impl<'a> Connection<'a> {
    /// A connection in the `production` environment with the account's `context` (credentials
    /// included; the integration says which keys are secrets).
    pub fn new(context: &'a Map<String, Value>) -> Connection<'a> {
        Connection {
            environment: DEFAULT_ENVIRONMENT,
            base_url: None,
            context,
        }
    }

    /// The integration environment whose base URL is used (`production`, `sandbox`, …).
    pub fn environment(mut self, environment: &'a str) -> Connection<'a> {
        self.environment = environment;
        self
    }

    /// A base URL that replaces the integration's (a self-hosted provider, a test server).
    pub fn base_url(mut self, base_url: &'a str) -> Connection<'a> {
        self.base_url = Some(base_url);
        self
    }
}

impl fmt::Debug for Connection<'_> {
    /// Shows the context's keys only: values may be credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("environment", &self.environment)
            .field("base_url", &self.base_url)
            .field("context_keys", &self.context.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// An account's resolved destination: the base URL and the credential header. Built once per
/// run by [`IntegrationPlan::endpoint`]; `Debug` never shows the credential.
#[derive(Debug, Clone)]
pub struct Endpoint {
    base_url: String,
    credential: Option<Header>,
}

impl Endpoint {
    /// The base URL calls go below, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The request as it goes on the wire: the full URL, the mapping's headers plus
    /// `content-type: application/json` for a JSON body (unless the mapping set one) and the
    /// credential header last (a mapping's header of the same name is dropped), and the body.
    pub fn prepare(&self, request: &ProviderRequest) -> Result<PreparedRequest, PrepareError> {
        let text = request
            .url(&self.base_url)
            .map_err(|reason| PrepareError::ForeignPageUrl {
                step: request.step.clone(),
                reason,
            })?;
        let url = url::Url::parse(&text).map_err(|error| PrepareError::InvalidUrl {
            step: request.step.clone(),
            reason: error.to_string(),
        })?;
        Ok(PreparedRequest {
            step: request.step.clone(),
            method: request.method,
            url: url.into(),
            headers: self.headers(request)?,
            body: request.body.clone(),
        })
    }

    fn headers(&self, request: &ProviderRequest) -> Result<Vec<Header>, PrepareError> {
        let credential = self.credential.as_ref().map(Header::name);
        let mut headers = Vec::with_capacity(request.headers.len() + 2);
        for (name, value) in &request.headers {
            if credential.is_some_and(|c| c.eq_ignore_ascii_case(name)) {
                continue;
            }
            let invalid = |part| PrepareError::InvalidHeader {
                step: request.step.clone(),
                name: name.clone(),
                part,
            };
            if !crate::compile::is_header_name(name) {
                return Err(invalid(HeaderPart::Name));
            }
            if !is_header_value(value) {
                return Err(invalid(HeaderPart::Value));
            }
            headers.push(Header::plain(name, value.clone()));
        }
        let typed = headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("content-type"));
        if matches!(
            request.body,
            RequestBody::Json(_) | RequestBody::JsonWithFiles { .. }
        ) && !typed
        {
            headers.push(Header::plain("content-type", "application/json".to_owned()));
        }
        headers.extend(self.credential.clone());
        Ok(headers)
    }
}

impl IntegrationPlan {
    /// Resolves where and with which credential `connection`'s calls go: the base URL (the
    /// connection's override, else the integration's for its environment, rendered with its
    /// context) and the header of the first auth scheme whose credential the context holds.
    /// An integration without auth schemes sends none.
    pub fn endpoint(&self, connection: &Connection<'_>) -> Result<Endpoint, AccountError> {
        let base_url = match connection.base_url {
            Some(url) => checked_override(url)?,
            None => self.base_url(connection.environment, connection.context)?,
        };
        let credential = if self.auth.is_empty() {
            None
        } else {
            let scheme =
                self.auth_for(connection.context)
                    .ok_or_else(|| AccountError::NoCredentials {
                        integration: self.name.clone(),
                        expected: self
                            .auth
                            .iter()
                            .map(|s| s.credential_key().to_owned())
                            .collect(),
                    })?;
            Some(scheme.header(connection.context)?)
        };
        Ok(Endpoint {
            base_url: base_url.trim_end_matches('/').to_owned(),
            credential,
        })
    }
}

/// A base URL given by the account: it must parse and be http(s).
fn checked_override(url: &str) -> Result<String, AccountError> {
    let parsed = url::Url::parse(url).map_err(|error| AccountError::InvalidBaseUrl {
        reason: format!("the base url is not a valid url: {error}"),
    })?;
    if !crate::is_http_url(&parsed) {
        return Err(AccountError::InvalidBaseUrl {
            reason: format!(
                "the base url has scheme `{}`; only http and https are supported",
                parsed.scheme()
            ),
        });
    }
    Ok(parsed.into())
}

/// A request ready to send: what the executor sends, byte for byte in method, URL and headers.
///
/// The driver adds only what its HTTP client adds by itself (`user-agent`, `content-length`,
/// the multipart boundary). A JSON body is sent as its JSON text. A multipart body's
/// [`MultipartPart::Fetch`](crate::MultipartPart::Fetch) parts name a URL the *driver* fetches
/// and streams into the part: that URL comes from the caller's input, so fetch it only from
/// public addresses (no loopback, private or link-local ones: SSRF) and at most
/// [`IntegrationPlan::files`]' `max_bytes`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PreparedRequest {
    /// The id of the step that rendered it.
    pub step: String,
    /// The HTTP method.
    pub method: HttpMethod,
    /// The full URL, query string included.
    pub url: String,
    /// Every header to send, the credential's marked sensitive.
    pub headers: Vec<Header>,
    /// The body.
    pub body: RequestBody,
}

/// One header of a [`PreparedRequest`]. `Debug` hides a sensitive header's value.
#[derive(Clone, PartialEq, Eq)]
pub struct Header {
    name: String,
    value: String,
    sensitive: bool,
}

impl Header {
    fn plain(name: &str, value: String) -> Header {
        Header {
            name: name.to_owned(),
            value,
            sensitive: false,
        }
    }

    pub(crate) fn sensitive(name: &str, value: String) -> Header {
        Header {
            name: name.to_owned(),
            value,
            sensitive: true,
        }
    }

    /// The header's name, as written in the mapping.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The header's value. For a sensitive header this is a credential: never log it.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Whether the value is a credential (mark it sensitive in your HTTP client, keep it out of
    /// logs).
    pub fn is_sensitive(&self) -> bool {
        self.sensitive
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = if self.sensitive {
            "<redacted>"
        } else {
            &self.value
        };
        write!(f, "{}: {value}", self.name)
    }
}

/// Why an account's calls cannot be addressed or authenticated. Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    /// The integration has no base URL for the environment.
    #[error("unknown environment `{environment}` (known: {})", known.join(", "))]
    UnknownEnvironment {
        /// The environment asked for.
        environment: String,
        /// The environments the integration has a base URL for.
        known: Vec<String>,
    },
    /// The integration's base URL template cannot be rendered with the account's context.
    #[error("the `{environment}` base URL {reason}")]
    BaseUrl {
        /// The environment.
        environment: String,
        /// Why (a context value missing, or one that would change the host or path).
        reason: String,
    },
    /// The account's own base URL is not an http(s) URL.
    #[error("{reason}")]
    InvalidBaseUrl {
        /// Why.
        reason: String,
    },
    /// The context holds no credential for any of the integration's auth schemes.
    #[error(
        "no credentials for `{integration}`: set one of {}",
        crate::backticked(expected)
    )]
    NoCredentials {
        /// The integration's name.
        integration: String,
        /// The context keys any of which would do (`api_key`, `access_token`).
        expected: Vec<String>,
    },
    /// The scheme is OAuth 2.0 and the context holds no access token under the flow's token
    /// slot: the driver obtains one with the flow and puts it there before resolving.
    #[error("no OAuth access token in `{key}`: obtain one with the scheme's flow first")]
    NoAccessToken {
        /// The context key the token is read under.
        key: String,
    },
    /// The credential holds characters that cannot be sent in a header (it is not shown).
    #[error("the credential in `{key}` holds characters that cannot be sent in a header")]
    UnusableCredential {
        /// The context key holding it.
        key: String,
    },
}

/// Which part of a rendered header is not valid HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderPart {
    /// The name is not an HTTP token.
    Name,
    /// The value holds a line break or another control character.
    Value,
}

/// A rendered request that cannot be sent as it is: the mapping's fault, found before sending.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PrepareError {
    /// A rendered header is not valid HTTP.
    #[error("the rendered header `{name}` of step `{step}` has a {} that is not valid in http", match part { HeaderPart::Name => "name", HeaderPart::Value => "value" })]
    InvalidHeader {
        /// The step.
        step: String,
        /// The header's name.
        name: String,
        /// What is wrong with it.
        part: HeaderPart,
    },
    /// A provider's page URL is not below the account's base URL; it was not followed.
    #[error("step `{step}`: {reason}")]
    ForeignPageUrl {
        /// The step.
        step: String,
        /// Why.
        reason: String,
    },
    /// The rendered URL does not parse.
    #[error("the rendered url of step `{step}` is not valid: {reason}")]
    InvalidUrl {
        /// The step.
        step: String,
        /// Why.
        reason: String,
    },
}

impl From<PrepareError> for RunError {
    /// A request that cannot be sent is a mapping error at the field that rendered it.
    fn from(error: PrepareError) -> RunError {
        let field = match &error {
            PrepareError::InvalidHeader { step, name, .. } => {
                format!("steps.{step}.request.headers.{name}")
            }
            PrepareError::InvalidUrl { step, .. } | PrepareError::ForeignPageUrl { step, .. } => {
                format!("steps.{step}.request.path")
            }
        };
        let message = match &error {
            PrepareError::InvalidHeader { part, .. } => format!(
                "the rendered header {} is not valid in http",
                match part {
                    HeaderPart::Name => "name",
                    HeaderPart::Value => "value",
                }
            ),
            PrepareError::InvalidUrl { reason, .. } => {
                format!("the rendered url is not valid: {reason}")
            }
            PrepareError::ForeignPageUrl { reason, .. } => reason.clone(),
        };
        RunError::Mapping { field, message }
    }
}

/// Whether `value` may be sent as a header value: no control characters but tab (so no line
/// breaks that would start another header).
pub(crate) fn is_header_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_with_line_breaks_are_refused() {
        assert!(is_header_value("Bearer abc\tdef é"));
        assert!(!is_header_value("a\r\nb"));
        assert!(!is_header_value("a\0"));
    }

    #[test]
    fn sensitive_headers_do_not_show_in_debug() {
        let header = Header::sensitive("authorization", "Bearer s3cret".to_owned());
        assert_eq!(format!("{header:?}"), "authorization: <redacted>");
        let plain = Header::plain("x-id", "1".to_owned());
        assert_eq!(format!("{plain:?}"), "x-id: 1");
    }
}
