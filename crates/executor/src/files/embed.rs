//! Files embedded in a JSON body: each is fetched whole (bounded by the integration's
//! `files.max_bytes`), base64-encoded, and written where the core's pointer says. Unlike a
//! multipart part, the bytes are held in memory while the body is built and sent: base64 text
//! inside JSON cannot be streamed by this design, so the limit bounds the memory.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::Client;
use serde_json::Value;
use switchboard_core::EmbeddedFile;

use super::fetch::{FetchLimits, FileFault, fetch_bytes};
use crate::client::Network;

/// `body` with every file of `files` fetched and embedded. When a file is refused or cannot
/// be fetched, `fault` says why and `Err(())` is returned.
pub(crate) async fn embed_files(
    client: &Client,
    network: &Network,
    body: &Value,
    files: &[EmbeddedFile],
    limits: FetchLimits,
    fault: &FileFault,
) -> Result<Value, ()> {
    let mut body = body.clone();
    for file in files {
        let fetched = fetch_bytes(client, network, &file.url, limits, fault).await?;
        fill(
            &mut body,
            Some(&file.content_at),
            STANDARD.encode(&fetched.bytes),
        );
        fill(&mut body, file.file_name_at.as_deref(), fetched.file_name);
        fill(
            &mut body,
            file.content_type_at.as_deref(),
            fetched.content_type,
        );
    }
    Ok(body)
}

/// Writes `value` at the JSON pointer `at` when the body holds an empty string there (a place
/// the core left for it).
fn fill(body: &mut Value, at: Option<&str>, value: String) {
    if let Some(slot) = at.and_then(|at| body.pointer_mut(at))
        && slot.as_str() == Some("")
    {
        *slot = Value::String(value);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fill_writes_only_the_empty_strings_left_for_it() {
        let mut body = json!({"resume": {"fileName": "", "mimeType": "text/plain", "n": 1}});
        fill(&mut body, Some("/resume/fileName"), "cv.pdf".to_owned());
        fill(
            &mut body,
            Some("/resume/mimeType"),
            "application/pdf".to_owned(),
        );
        fill(&mut body, Some("/resume/n"), "x".to_owned());
        fill(&mut body, Some("/resume/missing"), "x".to_owned());
        fill(&mut body, None, "x".to_owned());
        assert_eq!(
            body,
            json!({"resume": {"fileName": "cv.pdf", "mimeType": "text/plain", "n": 1}})
        );
    }
}
