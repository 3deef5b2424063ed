//! What a plan asks the executor to send, and what the executor hands back.

use serde::Serialize;
use serde_json::Value;

/// Whether `url` is one the engine sends to: `http` or `https`.
pub fn is_http_url(url: &url::Url) -> bool {
    matches!(url.scheme(), "http" | "https")
}

/// An HTTP method a step may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl HttpMethod {
    /// The method's name as it goes on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }

    /// Whether sending the request twice has the same effect as sending it once.
    pub fn is_idempotent(self) -> bool {
        !matches!(self, HttpMethod::Post | HttpMethod::Patch)
    }
}

/// One provider call, rendered from a step: everything but the base URL and the credentials,
/// which the executor adds from the integrated account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderRequest {
    /// The id of the step that produced this request (`apply`, `find`, …).
    pub step: String,
    /// The HTTP method.
    pub method: HttpMethod,
    /// The path below the base URL, starting with `/`, every templated segment percent-encoded.
    pub path: String,
    /// Query parameters in order; a key may repeat.
    pub query: Vec<(String, String)>,
    /// Headers the mapping sets (never credentials).
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: RequestBody,
    /// The rate-limit bucket this call counts against, besides the account's default bucket.
    pub rate_limit: Option<String>,
}

impl ProviderRequest {
    /// The full URL for this request below `base_url`, query string included.
    pub fn url(&self, base_url: &str) -> String {
        let mut url = format!("{}{}", base_url.trim_end_matches('/'), self.path);
        for (i, (key, value)) in self.query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&crate::expr::encode_query_component(key));
            url.push('=');
            url.push_str(&crate::expr::encode_query_component(value));
        }
        url
    }
}

/// The body of a provider request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum RequestBody {
    /// No body.
    Empty,
    /// A JSON body.
    Json(Value),
    /// A `multipart/form-data` body.
    Multipart(Vec<MultipartPart>),
}

/// One part of a multipart body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MultipartPart {
    /// A plain text field.
    Text {
        /// The part's name.
        name: String,
        /// The part's value.
        value: String,
    },
    /// A file the executor fetches from `url` and streams into the part.
    Fetch {
        /// The part's name.
        name: String,
        /// Where to fetch the file from.
        url: String,
        /// The file name to send, if known.
        file_name: Option<String>,
        /// The content type to send, if known (else the fetched response's).
        content_type: Option<String>,
    },
}

/// A provider's answer to one [`ProviderRequest`], as the executor received it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ProviderResponse {
    /// The HTTP status code.
    pub status: u16,
    /// Response headers, names in lower case.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The body: parsed JSON, a JSON string for a non-JSON body, or null when empty.
    #[serde(default)]
    pub body: Value,
}

impl ProviderResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}
