//! One provider call as it happened: what was asked, what came back, raw bytes included.

use std::fmt;
use std::time::SystemTime;

use bytes::Bytes;
use serde_json::Value;
use switchboard_core::{HttpMethod, ProviderResponse};

/// One provider call and its final answer (after any retries).
#[derive(Clone, PartialEq)]
pub struct Exchange {
    /// The step that made the call.
    pub step: String,
    /// The HTTP method.
    pub method: HttpMethod,
    /// The full URL, query included, without credentials.
    pub url: String,
    /// The provider's status.
    pub status: u16,
    /// Attempts made, the answered one included.
    pub attempts: u32,
    /// The response headers in order, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The response's `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The response body exactly as received (for replaying it as-is).
    pub body: Bytes,
    /// When the answered attempt was sent.
    pub started_at: SystemTime,
    /// How long the answered attempt took, body included, in milliseconds.
    pub duration_ms: u64,
}

impl Exchange {
    /// The body as core reads it: parsed JSON; a JSON string for a body that is not JSON; null
    /// for an empty body.
    pub fn body_value(&self) -> Value {
        decode_body(self.content_type.as_deref(), &self.body)
    }

    /// The answer as core's runs take it.
    pub fn to_response(&self) -> ProviderResponse {
        ProviderResponse {
            status: self.status,
            headers: self.headers.clone(),
            body: self.body_value(),
        }
    }

    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

impl fmt::Debug for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exchange")
            .field("step", &self.step)
            .field("method", &self.method)
            .field("url", &self.url)
            .field("status", &self.status)
            .field("attempts", &self.attempts)
            .field("content_type", &self.content_type)
            .field("body_len", &self.body.len())
            .field("duration_ms", &self.duration_ms)
            .finish_non_exhaustive()
    }
}

/// Reads a provider body: JSON when it parses as JSON (and is declared JSON, undeclared, or looks
/// like an object or array), else the text; null when empty.
pub(crate) fn decode_body(content_type: Option<&str>, bytes: &[u8]) -> Value {
    let Some(first) = bytes.iter().find(|b| !b.is_ascii_whitespace()) else {
        return Value::Null;
    };
    let declared_json = content_type.is_none_or(is_json);
    if (declared_json || matches!(first, b'{' | b'['))
        && let Ok(value) = serde_json::from_slice(bytes)
    {
        return value;
    }
    Value::String(String::from_utf8_lossy(bytes).into_owned())
}

/// Whether a content type is JSON (`application/json`, `application/problem+json`, …).
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn bodies_decode_to_json_text_or_null() {
        assert_eq!(decode_body(Some("application/json"), b""), Value::Null);
        assert_eq!(decode_body(None, b" \n"), Value::Null);
        assert_eq!(
            decode_body(Some("application/json; charset=utf-8"), br#"{"a":1}"#),
            json!({"a": 1})
        );
        assert_eq!(
            decode_body(Some("text/plain"), br#"{"a":1}"#),
            json!({"a": 1})
        );
        assert_eq!(decode_body(Some("text/plain"), b"42"), json!("42"));
        assert_eq!(
            decode_body(Some("text/html"), b"<h1>bad gateway</h1>"),
            json!("<h1>bad gateway</h1>")
        );
        assert_eq!(
            decode_body(Some("application/json"), b"{not json"),
            json!("{not json")
        );
        assert_eq!(
            decode_body(Some("application/problem+json"), b"[1]"),
            json!([1])
        );
    }
}
