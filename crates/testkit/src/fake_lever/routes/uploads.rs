//! `POST /v1/uploads` (temporary files for applications) and `POST /v1/opportunities/{id}/files`,
//! plus downloads of what was received.

use std::sync::Arc;

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::response::Response;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::super::error::LeverError;
use super::super::generated::hex;
use super::super::records::Upload;
use super::super::state::Shared;
use super::super::store::new_id;
use super::{file_response, query_pairs, required_user};

/// Lever's size limit for one file: 30 MB.
pub(crate) const MAX_FILE_BYTES: usize = 30 * 1024 * 1024;

/// How long an upload's URI stays valid, in milliseconds (24 hours).
const UPLOAD_LIFETIME_MS: i64 = 24 * 60 * 60 * 1000;

/// The multipart part named `file`, as read while it streamed in.
struct FilePart {
    filename: String,
    content_type: Option<String>,
    len: usize,
    /// The content, when at most [`Upload::KEPT_BYTES`] long (else empty).
    bytes: Vec<u8>,
    sha256: String,
}

/// `POST /v1/uploads`: answers `{"data": {"uri", "filename", …}}`.
pub(super) async fn upload(
    State(shared): State<Arc<Shared>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<Value>, LeverError> {
    let part = read_file_part(multipart).await?;
    let id = new_id();
    let uri = format!("{}/uploads/{id}", shared.base_url());
    let mut store = shared.store();
    let expires_at = store.now().saturating_add(UPLOAD_LIFETIME_MS);
    let data = json!({
        "uri": uri,
        "filename": part.filename,
        "contentType": part.content_type,
        "size": part.len,
        "expiresAt": expires_at,
    });
    store.add_upload(Upload {
        id,
        filename: part.filename,
        content_type: part.content_type,
        len: part.len,
        bytes: part.bytes,
        sha256: part.sha256,
        uri: Some(uri),
        opportunity: None,
    });
    Ok(Json(json!({ "data": data })))
}

/// `POST /v1/opportunities/{id}/files?perform_as=…`: answers `{"data": {"id", "name", …}}`.
pub(super) async fn attach(
    State(shared): State<Arc<Shared>>,
    Path(opportunity): Path<String>,
    RawQuery(raw): RawQuery,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<Value>, LeverError> {
    required_user(&shared, &query_pairs(raw))?;
    if !shared.store().has_opportunity(&opportunity) {
        return Err(LeverError::not_found(format!(
            "opportunity `{opportunity}` not found"
        )));
    }
    let part = read_file_part(multipart).await?;
    let id = new_id();
    let mut store = shared.store();
    let ext = part
        .filename
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_owned())
        .unwrap_or_default();
    let data = json!({
        "id": id,
        "name": part.filename,
        "filename": part.filename,
        "ext": ext,
        "size": part.len,
        "uploadedAt": store.now(),
        "status": "processed",
        "downloadUrl": format!(
            "{}/opportunities/{opportunity}/files/{id}/download",
            shared.base_url()
        ),
    });
    store.add_upload(Upload {
        id,
        filename: part.filename,
        content_type: part.content_type,
        len: part.len,
        bytes: part.bytes,
        sha256: part.sha256,
        uri: None,
        opportunity: Some(opportunity),
    });
    Ok(Json(json!({ "data": data })))
}

/// `GET /v1/uploads/{id}`: the bytes of a temporary upload.
pub(super) async fn download(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, LeverError> {
    find_upload(&shared, |upload| upload.id == id && upload.uri.is_some())
}

/// `GET /v1/opportunities/{id}/files/{file}/download`: the bytes of an attached file.
pub(super) async fn download_attached(
    State(shared): State<Arc<Shared>>,
    Path((opportunity, file)): Path<(String, String)>,
) -> Result<Response, LeverError> {
    find_upload(&shared, |upload| {
        upload.id == file && upload.opportunity.as_deref() == Some(opportunity.as_str())
    })
}

fn find_upload(shared: &Shared, wanted: impl Fn(&Upload) -> bool) -> Result<Response, LeverError> {
    let store = shared.store();
    let upload = store
        .uploads()
        .iter()
        .find(|upload| wanted(upload))
        .ok_or_else(|| LeverError::not_found("file not found"))?;
    if upload.len > Upload::KEPT_BYTES {
        return Err(LeverError::not_found(format!(
            "the fake keeps the bytes of files up to {} bytes only; this one has {}",
            Upload::KEPT_BYTES,
            upload.len
        )));
    }
    Ok(file_response(
        upload.content_type.as_deref(),
        upload.bytes.clone(),
    ))
}

/// Reads the part named `file` as it streams in: 400 when missing or the body is not
/// multipart, 413 as soon as it passes 30 MB. Only its length, digest and (when small) bytes
/// are kept.
async fn read_file_part(
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<FilePart, LeverError> {
    let mut multipart = multipart.map_err(|rejection| {
        LeverError::bad_request(format!("expected a multipart/form-data body: {rejection}"))
    })?;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|error| LeverError::bad_request(format!("invalid multipart body: {error}")))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let filename = field.file_name().unwrap_or_default().to_owned();
        let content_type = field.content_type().map(str::to_owned);
        let mut len = 0;
        let mut bytes = Vec::new();
        let mut hasher = Sha256::new();
        while let Some(chunk) = field.chunk().await.map_err(|error| {
            LeverError::bad_request(format!("invalid multipart part `file`: {error}"))
        })? {
            len += chunk.len();
            if len > MAX_FILE_BYTES {
                return Err(LeverError::payload_too_large(format!(
                    "file is over {MAX_FILE_BYTES} bytes (30 MB), the limit"
                )));
            }
            hasher.update(&chunk);
            if len <= Upload::KEPT_BYTES {
                bytes.extend_from_slice(&chunk);
            } else {
                bytes = Vec::new();
            }
        }
        return Ok(FilePart {
            filename,
            content_type,
            len,
            bytes,
            sha256: hex(&hasher.finalize()),
        });
    }
    Err(LeverError::bad_request("missing multipart part `file`"))
}
