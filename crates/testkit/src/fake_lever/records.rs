//! What the fake keeps for tests to inspect: every request received and every file uploaded.

use percent_encoding::percent_decode_str;

use super::faults::FaultKind;

/// One request the fake received, recorded before it was answered (faulted requests included).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedCall {
    /// When its headers arrived (to check the pace of calls, as a provider's rate limit would).
    pub received_at: std::time::Instant,
    /// The HTTP method, upper case (`POST`).
    pub method: String,
    /// The path without the query string (`/v1/opportunities`).
    pub path: String,
    /// The decoded query pairs in order; a repeated key appears once per value.
    pub query: Vec<(String, String)>,
    /// The request headers in order; names are lower case.
    pub headers: Vec<(String, String)>,
    /// The request body as received. Empty for a [`FaultKind::ResetBeforeBody`] request, whose
    /// body the fake never reads, and for a `multipart/form-data` request, whose body streams
    /// to the upload routes unrecorded (see [`Upload`]).
    pub body: Vec<u8>,
    /// The fault applied to this request, if one was scripted for it.
    pub fault: Option<FaultKind>,
    /// The status the fake answered (or, for [`FaultKind::DropAfterBody`], would have answered),
    /// once known. `None` while the request is in flight and when no answer was produced.
    pub status: Option<u16>,
}

impl RecordedCall {
    /// The body parsed as JSON, or `None` when it is empty or not JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The first value of query parameter `name`.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query_values(name).into_iter().next()
    }

    /// Every value of query parameter `name`, in order.
    pub fn query_values(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// Whether this call has `method` (case-insensitive) and a path starting with `path_prefix`.
    pub fn matches(&self, method: &str, path_prefix: &str) -> bool {
        self.method.eq_ignore_ascii_case(method) && self.path.starts_with(path_prefix)
    }
}

/// A file the fake received through `POST /v1/uploads` or `POST /v1/opportunities/{id}/files`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The id the fake gave the file.
    pub id: String,
    /// The part's file name (empty when the part had none).
    pub filename: String,
    /// The part's content type, if it had one.
    pub content_type: Option<String>,
    /// The file's size in bytes.
    pub len: usize,
    /// The file's content when it is at most [`Upload::KEPT_BYTES`] long, else empty (the fake
    /// reads uploads as they stream in and does not hold large ones: see `len` and `sha256`).
    pub bytes: Vec<u8>,
    /// The SHA-256 of the file's content, lower-case hex.
    pub sha256: String,
    /// For `POST /v1/uploads`: the URI returned (`<base_url>/uploads/<id>`).
    pub uri: Option<String>,
    /// For `POST /v1/opportunities/{id}/files`: the opportunity the file was attached to.
    pub opportunity: Option<String>,
}

impl Upload {
    /// The largest file whose bytes the fake keeps (1 MiB).
    pub const KEPT_BYTES: usize = 1024 * 1024;
}

/// Splits an `application/x-www-form-urlencoded` query string into decoded pairs.
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(key), decode_component(value))
        })
        .collect()
}

fn decode_component(text: &str) -> String {
    let text = text.replace('+', " ");
    percent_decode_str(&text).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_query_decodes_pairs_in_order() {
        let pairs = parse_query("email=a%40b.co&expand=applications&expand=stage&flag&q=a+b");
        assert_eq!(
            pairs,
            vec![
                ("email".to_owned(), "a@b.co".to_owned()),
                ("expand".to_owned(), "applications".to_owned()),
                ("expand".to_owned(), "stage".to_owned()),
                ("flag".to_owned(), String::new()),
                ("q".to_owned(), "a b".to_owned()),
            ]
        );
    }
}
