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
    /// A page URL the provider gave (a `Link: rel="next"` target, a `next` member): sent as it
    /// is instead of the path and query, and only below the account's own base URL (see
    /// [`ProviderRequest::url`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
    /// How long to wait before sending, in milliseconds: a lookup reading again because the
    /// provider may not have indexed a record it just created.
    #[serde(skip_serializing_if = "is_zero")]
    pub delay_ms: u64,
    /// The call only reads (a step of a `list` or `get`, whatever its HTTP method): it may be
    /// retried like an idempotent method.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl ProviderRequest {
    /// Whether sending this request twice has the same effect as sending it once.
    pub fn is_idempotent(&self) -> bool {
        self.read_only || self.method.is_idempotent()
    }

    /// The full URL for this request below `base_url`, query string included. A provider's
    /// page URL is used as it is, but only when it has the base URL's scheme, host and port and
    /// lies below its path: a provider (or anyone who wrote into its answer) cannot send the
    /// account's credentials elsewhere.
    pub fn url(&self, base_url: &str) -> Result<String, String> {
        if let Some(page) = &self.page_url {
            return below_base(page, base_url).map(|()| page.clone());
        }
        let mut url = format!("{}{}", base_url.trim_end_matches('/'), self.path);
        for (i, (key, value)) in self.query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&crate::expr::encode_query_component(key));
            url.push('=');
            url.push_str(&crate::expr::encode_query_component(value));
        }
        Ok(url)
    }
}

/// Whether `page` lies below `base`: same scheme, host and port, no user info, and a path
/// inside the base URL's path.
fn below_base(page: &str, base: &str) -> Result<(), String> {
    let refuse = || {
        Err(format!(
            "the provider's page URL `{page}` is not below the account's base URL; it was not followed"
        ))
    };
    let (Ok(page_url), Ok(base_url)) = (url::Url::parse(page), url::Url::parse(base)) else {
        return refuse();
    };
    let base_path = base_url.path().trim_end_matches('/');
    let path = page_url.path();
    let inside = path == base_path
        || path
            .strip_prefix(base_path)
            .is_some_and(|rest| rest.starts_with('/'));
    let same_origin = page_url.scheme() == base_url.scheme()
        && page_url.host_str() == base_url.host_str()
        && page_url.port_or_known_default() == base_url.port_or_known_default();
    let dot_segment = path.split('/').any(|s| {
        let s = s.to_ascii_lowercase();
        s == ".." || s == "." || s == "%2e%2e" || s == "%2e." || s == ".%2e" || s == "%2e"
    });
    if same_origin
        && inside
        && !dot_segment
        && page_url.username().is_empty()
        && page_url.password().is_none()
        && page_url.fragment().is_none()
    {
        Ok(())
    } else {
        refuse()
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
    /// A JSON body with files to embed in it: the executor fetches each file and writes its
    /// content, base64-encoded, into `body` where [`EmbeddedFile::content_at`] points (see the
    /// mapping format's `$file`).
    JsonWithFiles {
        /// The body, each file's content an empty string until the executor fills it in.
        body: Value,
        /// The files to fetch and embed, in body order.
        files: Vec<EmbeddedFile>,
    },
}

/// A file the executor fetches and embeds, base64-encoded, in a JSON body. Its bytes are held
/// in memory (base64 text cannot be streamed into JSON by this design), so fetch it at most
/// [`IntegrationPlan::files`](crate::IntegrationPlan::files)' `max_bytes`, from public
/// addresses only, as a multipart [`MultipartPart::Fetch`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmbeddedFile {
    /// Where to fetch the file from.
    pub url: String,
    /// The JSON pointer of the (empty) string the base64 content replaces.
    pub content_at: String,
    /// The JSON pointer of an empty file name to fill in (with the URL's last path segment),
    /// when the mapping wants the name and the input had none.
    pub file_name_at: Option<String>,
    /// The JSON pointer of an empty content type to fill in (with the fetched answer's, else
    /// `application/octet-stream`), when the mapping wants it and the input had none.
    pub content_type_at: Option<String>,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn page(url: &str) -> ProviderRequest {
        ProviderRequest {
            step: "list".into(),
            method: HttpMethod::Get,
            path: "/jobs".into(),
            query: vec![("limit".into(), "2".into())],
            headers: Vec::new(),
            body: RequestBody::Empty,
            rate_limit: None,
            page_url: Some(url.into()),
            delay_ms: 0,
            read_only: true,
        }
    }

    #[test]
    fn page_urls_are_followed_only_below_the_base_url() {
        let base = "https://acme.example.com/spi/v3";
        let ok = "https://acme.example.com/spi/v3/jobs?since_id=7&limit=2";
        assert_eq!(page(ok).url(base), Ok(ok.to_owned()));
        for evil in [
            "https://evil.example.com/spi/v3/jobs",
            "http://acme.example.com/spi/v3/jobs",
            "https://acme.example.com:8443/spi/v3/jobs",
            "https://acme.example.com/other/jobs",
            "https://acme.example.com/spi/v3/../../admin",
            "https://acme.example.com/spi/v3x/jobs",
            "https://user:pw@acme.example.com/spi/v3/jobs",
            "not a url",
        ] {
            assert!(page(evil).url(base).is_err(), "{evil} was followed");
        }
    }

    #[test]
    fn reads_over_post_are_idempotent_and_creates_are_not() {
        let mut request = page("https://x.test/");
        request.method = HttpMethod::Post;
        assert!(request.is_idempotent(), "a read, even over POST");
        request.read_only = false;
        assert!(!request.is_idempotent(), "a create");
    }

    #[test]
    fn requests_without_a_page_url_are_built_below_the_base_url() {
        let mut request = page("https://x.test/");
        request.page_url = None;
        assert_eq!(
            request.url("https://api.example.com/v1/"),
            Ok("https://api.example.com/v1/jobs?limit=2".to_owned())
        );
    }
}
