//! Fetching a file into a multipart part: the size is checked on `Content-Length` before the
//! upload starts and again while the bytes stream through, and the bytes are never held whole.
//! A file embedded in a JSON body (base64) is fetched whole instead, under the same limit.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::multipart::Part;
use reqwest::{Body, Client, Response, Url};

use crate::address::{self, Refusal};
use crate::client::{Network, Purpose};
use crate::error::FileErrorKind;

/// Why a file was refused or failed, with its URL (redacted). Shared between the fetch, the
/// stream feeding the upload, and the code that sends the upload: when the upload fails because
/// the stream stopped, this says why.
#[derive(Debug, Clone, Default)]
pub(crate) struct FileFault {
    inner: Arc<Mutex<Option<(String, FileErrorKind)>>>,
}

impl FileFault {
    /// Records a fault (the first one recorded wins).
    pub(crate) fn set(&self, url: &str, kind: FileErrorKind) {
        let mut slot = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some((url.to_owned(), kind));
        }
    }

    /// The fault recorded, if any.
    pub(crate) fn get(&self) -> Option<(String, FileErrorKind)> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// What to fetch and how to label it.
pub(crate) struct FileRequest<'a> {
    pub(crate) url: &'a str,
    pub(crate) file_name: Option<&'a str>,
    pub(crate) content_type: Option<&'a str>,
}

/// Limits for one fetch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FetchLimits {
    pub(crate) max_bytes: u64,
    pub(crate) timeout: Duration,
}

/// Redirects followed when fetching a file.
const MAX_FILE_REDIRECTS: usize = 5;

/// Fetches `file` and returns a part that streams its body. Errors are recorded in `fault` too.
pub(crate) async fn fetch_part(
    client: &Client,
    network: &Network,
    file: &FileRequest<'_>,
    limits: FetchLimits,
    fault: &FileFault,
) -> Result<Part, ()> {
    let shown = crate::redact::origin_and_path_text(file.url);
    fetch(client, network, file, limits, fault, &shown)
        .await
        .map_err(|kind| fault.set(&shown, kind))
}

/// A file fetched whole, to be embedded (base64) in a JSON body.
pub(crate) struct FetchedFile {
    /// The bytes (at most the limit's `max_bytes`).
    pub(crate) bytes: Vec<u8>,
    /// The URL's last path segment, else `file`.
    pub(crate) file_name: String,
    /// The answer's content type, else `application/octet-stream`.
    pub(crate) content_type: String,
}

/// Fetches `url` whole into memory, stopping past `max_bytes` (checked on `Content-Length`
/// before reading, and while reading). Errors are recorded in `fault` too.
pub(crate) async fn fetch_bytes(
    client: &Client,
    network: &Network,
    url: &str,
    limits: FetchLimits,
    fault: &FileFault,
) -> Result<FetchedFile, ()> {
    let shown = crate::redact::origin_and_path_text(url);
    fetch_whole(client, network, url, limits, fault, &shown)
        .await
        .map_err(|kind| fault.set(&shown, kind))
}

/// [`fetch_bytes`], with why it failed.
async fn fetch_whole(
    client: &Client,
    network: &Network,
    url: &str,
    limits: FetchLimits,
    fault: &FileFault,
    shown: &str,
) -> Result<FetchedFile, FileErrorKind> {
    let parsed = Url::parse(url).map_err(|_| FileErrorKind::InvalidUrl)?;
    let file_name = name_from_url(&parsed);
    let response = get_following_redirects(client, network, parsed, limits.timeout).await?;
    let length = acceptable_length(&response, limits.max_bytes)?;
    let unlabelled = FileRequest {
        url,
        file_name: None,
        content_type: None,
    };
    let content_type = content_type(&unlabelled, &response);
    let mut stream = limited(response, length, limits, fault, shown);
    // The announced length was checked against `max_bytes`, so this reserves at most that.
    let mut bytes = Vec::with_capacity(length.map_or(0, |length| length as usize));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| FileErrorKind::Fetch {
            status: None,
            message: error.to_string(),
        })?;
        bytes.extend_from_slice(&chunk);
    }
    Ok(FetchedFile {
        bytes,
        file_name,
        content_type,
    })
}

/// The answer's body, stopped past `max_bytes` or when it differs from the announced length.
fn limited(
    response: Response,
    length: Option<u64>,
    limits: FetchLimits,
    fault: &FileFault,
    shown: &str,
) -> Limited {
    Limited {
        inner: response.bytes_stream().boxed(),
        received: 0,
        max_bytes: limits.max_bytes,
        expected: length,
        url: shown.to_owned(),
        fault: fault.clone(),
        done: false,
    }
}

/// [`fetch_part`], with why it failed; `shown` is the URL as errors show it.
async fn fetch(
    client: &Client,
    network: &Network,
    file: &FileRequest<'_>,
    limits: FetchLimits,
    fault: &FileFault,
    shown: &str,
) -> Result<Part, FileErrorKind> {
    let url = Url::parse(file.url).map_err(|_| FileErrorKind::InvalidUrl)?;
    let file_name = file
        .file_name
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| name_from_url(&url));
    let response = get_following_redirects(client, network, url, limits.timeout).await?;
    let length = acceptable_length(&response, limits.max_bytes)?;
    let content_type = content_type(file, &response);
    let body = Body::wrap_stream(limited(response, length, limits, fault, shown));
    let part = match length {
        Some(length) => Part::stream_with_length(body, length),
        None => Part::stream(body),
    }
    .file_name(file_name);
    part.mime_str(&content_type)
        .map_err(|error| FileErrorKind::Fetch {
            status: None,
            message: format!("unusable content type: {error}"),
        })
}

/// The announced length of a successful answer; an error status or a length over `max_bytes`
/// is refused before any byte is read.
fn acceptable_length(response: &Response, max_bytes: u64) -> Result<Option<u64>, FileErrorKind> {
    let status = response.status();
    if !status.is_success() {
        return Err(FileErrorKind::Fetch {
            status: Some(status.as_u16()),
            message: status
                .canonical_reason()
                .unwrap_or("unexpected status")
                .to_lowercase(),
        });
    }
    let length = response.content_length();
    if length.is_some_and(|length| length > max_bytes) {
        return Err(FileErrorKind::TooLarge { max_bytes });
    }
    Ok(length)
}

/// The part's content type: the mapping's, else the answer's, else
/// `application/octet-stream` (also when the chosen one does not parse, rather than failing
/// the upload).
fn content_type(file: &FileRequest<'_>, response: &Response) -> String {
    let content_type = file
        .content_type
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
        .or_else(|| {
            response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    if Part::text("").mime_str(&content_type).is_ok() {
        content_type
    } else {
        "application/octet-stream".to_owned()
    }
}

/// GETs `url`, following up to [`MAX_FILE_REDIRECTS`] redirects to http(s) URLs; every hop is
/// checked against the file guard first.
async fn get_following_redirects(
    client: &Client,
    network: &Network,
    mut url: Url,
    timeout: Duration,
) -> Result<Response, FileErrorKind> {
    let mut redirects = 0;
    loop {
        check_file_url(network, &url).await?;
        let response = client
            .get(url.clone())
            .timeout(timeout)
            .send()
            .await
            .map_err(fetch_failure)?;
        let location = response
            .headers()
            .get(LOCATION)
            .filter(|_| response.status().is_redirection());
        let Some(location) = location else {
            return Ok(response);
        };
        redirects += 1;
        if redirects > MAX_FILE_REDIRECTS {
            return Err(FileErrorKind::Fetch {
                status: None,
                message: format!("more than {MAX_FILE_REDIRECTS} redirects"),
            });
        }
        url = location
            .to_str()
            .ok()
            .and_then(|location| url.join(location).ok())
            .ok_or_else(|| FileErrorKind::Fetch {
                status: Some(response.status().as_u16()),
                message: "the redirect's location is not a valid url".to_owned(),
            })?;
    }
}

/// Refuses a file URL that is not http(s), or whose address the file guard forbids (looked up
/// here when a proxy resolves names; otherwise the client's resolver checks names).
async fn check_file_url(network: &Network, url: &Url) -> Result<(), FileErrorKind> {
    if !switchboard_core::is_http_url(url) {
        return Err(FileErrorKind::UnsupportedScheme {
            scheme: url.scheme().to_owned(),
        });
    }
    network
        .check_before_sending(Purpose::Files, url)
        .await
        .map_err(|refusal| match refusal {
            Refusal::Forbidden(address) => FileErrorKind::ForbiddenAddress { address },
            Refusal::Unresolved(message) => FileErrorKind::Fetch {
                status: None,
                message,
            },
        })
}

/// Why sending a file request failed: a forbidden address the resolver refused, or the error.
fn fetch_failure(error: reqwest::Error) -> FileErrorKind {
    match address::find_forbidden(&error as &(dyn std::error::Error + 'static)) {
        Some(address) => FileErrorKind::ForbiddenAddress { address },
        None => FileErrorKind::Fetch {
            status: None,
            message: crate::error::describe(error),
        },
    }
}

/// The last path segment of `url`, else `file`.
fn name_from_url(url: &Url) -> String {
    url.path_segments()
        .and_then(|mut segments| segments.next_back())
        .filter(|segment| !segment.is_empty())
        .map(percent_decode)
        .unwrap_or_else(|| "file".to_owned())
}

fn percent_decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// A file body that stops with an error past `max_bytes`, or when the file server sends more or
/// fewer bytes than it announced.
struct Limited {
    inner: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    received: u64,
    max_bytes: u64,
    expected: Option<u64>,
    url: String,
    fault: FileFault,
    done: bool,
}

impl Limited {
    fn fail(&mut self, kind: FileErrorKind) -> Poll<Option<std::io::Result<Bytes>>> {
        let message = kind.to_string();
        self.fault.set(&self.url, kind);
        self.done = true;
        Poll::Ready(Some(Err(std::io::Error::other(message))))
    }
}

impl Stream for Limited {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.inner.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunk))) => {
                self.received += chunk.len() as u64;
                if self.received > self.max_bytes {
                    let max_bytes = self.max_bytes;
                    return self.fail(FileErrorKind::TooLarge { max_bytes });
                }
                if self
                    .expected
                    .is_some_and(|expected| self.received > expected)
                {
                    return self.fail(FileErrorKind::Fetch {
                        status: None,
                        message: "the file server sent more bytes than it announced".to_owned(),
                    });
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(error))) => self.fail(FileErrorKind::Fetch {
                status: None,
                message: format!("the download failed: {}", error.without_url()),
            }),
            Poll::Ready(None) => {
                if let Some(expected) = self.expected
                    && self.received < expected
                {
                    return self.fail(FileErrorKind::Fetch {
                        status: None,
                        message: "the file server sent fewer bytes than it announced".to_owned(),
                    });
                }
                self.done = true;
                Poll::Ready(None)
            }
        }
    }
}
