//! An in-process fake of Lever's Data API v1 on `127.0.0.1`, for end-to-end tests.
//!
//! It answers the calls Switchboard's Lever mappings make — list and read postings and their
//! application form, apply to a posting, list and look opportunities up, create an opportunity
//! (deduped by email), add tags, upload files — the way Lever does (see
//! `reference/lever-api.md`): JSON bodies, `{"code", "message"}` errors, timestamps in epoch
//! milliseconds. Every request is recorded, and [`Fault`]s can be scripted
//! for the next matching requests: an error status (with `Retry-After` or other headers), a
//! delay, a connection reset before the request is read, or a connection dropped after the
//! request was processed.
//!
//! ```
//! use switchboard_testkit::fake_lever::{Fault, FakeLever};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let lever = FakeLever::start().await;
//! lever.script(Fault::status("POST", "/v1/opportunities", 429).retry_after("1"));
//! // … point the code under test at `lever.base_url()` with `FakeLever::API_KEY` …
//! assert!(lever.base_url().starts_with("http://127.0.0.1:"));
//! assert_eq!(lever.count("POST", "/v1/opportunities"), 0);
//! # }
//! ```
//!
//! Routes (all under `/v1` need `Authorization: Basic base64("<API_KEY>:")` or
//! `Bearer <ACCESS_TOKEN>`):
//! - `GET /v1/postings` (`limit`/`offset` paging, `{data, hasNext, next}`), `GET /v1/postings/{id}`
//! - `GET|POST /v1/postings/{posting}/apply` (the form: personal information, URLs, one
//!   custom-question card, one EEO question)
//! - `GET|POST /v1/opportunities`, `GET /v1/opportunities/{id}`,
//!   `POST /v1/opportunities/{id}/addTags`, `POST /v1/opportunities/{id}/removeTags`
//! - `POST /v1/uploads`, `GET /v1/uploads/{id}`
//! - `POST /v1/opportunities/{id}/files`, `GET /v1/opportunities/{id}/files/{file}/download`
//! - `GET /files/{name}` (no auth): files registered with [`FakeLever::serve_file`] or
//!   [`FakeLever::serve_generated_file`]
//!
//! Multipart uploads are read as they stream in: the fake keeps a file's length and SHA-256,
//! and its bytes only up to [`Upload::KEPT_BYTES`], so a large upload is never held whole.

mod error;
mod faults;
mod generated;
mod model;
mod records;
mod routes;
mod server;
mod state;
mod store;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use faults::{Fault, FaultKind};
pub use generated::generated_file_sha256;
pub use records::{RecordedCall, Upload};

use state::{FileContent, Shared, StaticFile};
use store::LeverAccount;

/// What must be escaped in a file name used as one URL path segment.
const PATH_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// A running fake Lever server. Dropping it (or [`FakeLever::shutdown`]) stops the server and
/// closes its connections.
#[derive(Debug)]
pub struct FakeLever {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: JoinHandle<()>,
}

impl FakeLever {
    /// The API key accepted as the HTTP Basic username (with an empty password).
    pub const API_KEY: &'static str = "fake-lever-key";
    /// The OAuth access token accepted as `Authorization: Bearer …`.
    pub const ACCESS_TOKEN: &'static str = "fake-lever-access-token";
    /// A user id valid as `perform_as`, `owner` and `followers`.
    pub const USER_ID: &'static str = "68d28c32-e972-4f0f-81c7-83f2e9430293";
    /// A published posting that exists from the start.
    pub const POSTING_ID: &'static str = "f8b7dd19-1d9f-40f1-8090-e4a62e989e0b";
    /// The id of the custom-question card on every posting's application form.
    pub const CARD_ID: &'static str = "911f7ca4-e7a2-4081-9472-0c1f94d9df25";

    /// Starts a fake on `127.0.0.1` with a free port and returns once it is listening.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound (see [`FakeLever::bind`] to handle that). Must be called
    /// inside a tokio runtime.
    pub async fn start() -> FakeLever {
        match FakeLever::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await {
            Ok(lever) => lever,
            Err(error) => panic!("fake lever: cannot listen on 127.0.0.1: {error}"),
        }
    }

    /// Starts a fake listening on `addr` (port 0 picks a free port).
    pub async fn bind(addr: SocketAddr) -> io::Result<FakeLever> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let store = LeverAccount::new(FakeLever::USER_ID, FakeLever::POSTING_ID);
        let shared = Arc::new(Shared::new(format!("http://{addr}"), store));
        let router = routes::router(Arc::clone(&shared));
        let server = tokio::spawn(server::run(listener, Arc::clone(&shared), router));
        Ok(FakeLever {
            shared,
            addr,
            server,
        })
    }

    /// The address the fake listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API root, like `https://api.lever.co/v1`: `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        self.shared.base_url()
    }

    /// The `Authorization` header value for [`FakeLever::API_KEY`]:
    /// `Basic base64("<API_KEY>:")`.
    pub fn basic_authorization() -> String {
        format!(
            "Basic {}",
            STANDARD.encode(format!("{}:", FakeLever::API_KEY))
        )
    }

    /// Adds a published posting that applications and opportunities may name.
    pub fn add_posting(&self, id: &str) {
        self.shared.store().add_posting(id);
    }

    /// Adds a user that `perform_as`, `owner` and `followers` may name.
    pub fn add_user(&self, id: &str) {
        self.shared.store().add_user(id);
    }

    /// Queues a fault for the next request(s) matching its method and path prefix. Faults are
    /// checked before anything else (auth included), first scripted first used.
    pub fn script(&self, fault: Fault) {
        self.shared.script(fault);
    }

    /// Drops every scripted fault not used yet.
    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// The scripted faults not used up yet (with the uses they have left).
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.shared.pending_faults()
    }

    /// Every request received so far, in order of arrival, faulted ones included.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.shared.calls()
    }

    /// How many requests had `method` (case-insensitive) and a path starting with
    /// `path_prefix`, faulted ones included: `count("POST", "/v1/opportunities")`.
    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        self.shared
            .calls()
            .iter()
            .filter(|call| call.matches(method, path_prefix))
            .count()
    }

    /// The stored opportunities, oldest first, as Lever returns them with
    /// `expand=applications`.
    pub fn opportunities(&self) -> Vec<serde_json::Value> {
        self.shared.store().render_where(true, |_, _| true)
    }

    /// Every file received through `/v1/uploads` and `/v1/opportunities/{id}/files`, in order.
    pub fn uploads(&self) -> Vec<Upload> {
        self.shared.store().uploads().to_vec()
    }

    /// Serves `bytes` as `content_type` at `GET /files/{name}` (no auth) and returns its full
    /// URL, e.g. for an attachment's `file_url`.
    pub fn serve_file(&self, name: &str, content_type: &str, bytes: Vec<u8>) -> String {
        self.shared.add_file(
            name,
            StaticFile {
                content_type: content_type.to_owned(),
                content: FileContent::Bytes(bytes),
            },
        );
        self.file_url(name)
    }

    /// Serves a `len`-byte file as `content_type` at `GET /files/{name}` (no auth), generated
    /// while it is sent so that it is never held whole (sent with its `Content-Length`), and
    /// returns its full URL. [`generated_file_sha256`] gives its digest.
    pub fn serve_generated_file(&self, name: &str, content_type: &str, len: u64) -> String {
        self.shared.add_file(
            name,
            StaticFile {
                content_type: content_type.to_owned(),
                content: FileContent::Generated { len },
            },
        );
        self.file_url(name)
    }

    /// The URL of `/files/{name}`.
    fn file_url(&self, name: &str) -> String {
        let name = utf8_percent_encode(name, PATH_SEGMENT);
        format!("{}/files/{name}", self.shared.origin)
    }

    /// Stops the server and closes its connections (also done on drop).
    pub fn shutdown(&self) {
        self.server.abort();
    }
}

impl Drop for FakeLever {
    fn drop(&mut self) {
        self.server.abort();
    }
}
