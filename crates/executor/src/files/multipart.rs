//! Multipart bodies: text parts as they are, file parts fetched and streamed in.

use reqwest::Client;
use reqwest::multipart::Form;
use switchboard_core::MultipartPart;

use super::fetch::{FetchLimits, FileFault, FileRequest, fetch_part};
use crate::client::Network;

/// Builds the form for `parts`, fetching every file part. When a file is refused or cannot be
/// fetched, `fault` says why and `Err(())` is returned.
pub(crate) async fn build_form(
    client: &Client,
    network: &Network,
    parts: &[MultipartPart],
    limits: FetchLimits,
    fault: &FileFault,
) -> Result<Form, ()> {
    let mut form = Form::new();
    for part in parts {
        form = match part {
            MultipartPart::Text { name, value } => form.text(name.clone(), value.clone()),
            MultipartPart::Fetch {
                name,
                url,
                file_name,
                content_type,
            } => {
                let file = FileRequest {
                    url,
                    file_name: file_name.as_deref(),
                    content_type: content_type.as_deref(),
                };
                let part = fetch_part(client, network, &file, limits, fault).await?;
                form.part(name.clone(), part)
            }
        };
    }
    Ok(form)
}
