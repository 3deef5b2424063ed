//! The fake's HTTP server. It accepts TCP connections itself and serves each with hyper, so a
//! scripted fault can cut a connection in the middle of a request — which `axum::serve` cannot.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};
use axum::response::IntoResponse;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tower::ServiceExt;

use super::error::LeverError;
use super::faults::FaultKind;
use super::records::{RecordedCall, parse_query};
use super::state::Shared;

/// The largest non-multipart request body the fake reads; a larger one is answered 413 without
/// being routed. (Multipart bodies stream to the upload routes, which stop at Lever's 30 MB.)
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// How a handler asks its connection to end without an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// Close with a TCP reset (`SO_LINGER` 0).
    Reset,
    /// Close normally (FIN) with no response written.
    Close,
}

/// Accepts connections until the task is aborted; aborting also ends every open connection.
pub(crate) async fn run(listener: TcpListener, shared: Arc<Shared>, router: Router) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve(stream, Arc::clone(&shared), router.clone()));
                }
                Err(error) => {
                    tracing::debug!(%error, "fake lever: accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Serves one connection with HTTP/1.1 until the client closes it or a fault cuts it.
async fn serve(mut stream: TcpStream, shared: Arc<Shared>, router: Router) {
    let _ = stream.set_nodelay(true);
    let (cut_tx, mut cut_rx) = mpsc::unbounded_channel();
    let service = service_fn(move |request| {
        handle(request, Arc::clone(&shared), router.clone(), cut_tx.clone())
    });
    let cut = {
        let connection = http1::Builder::new().serve_connection(TokioIo::new(&mut stream), service);
        tokio::select! {
            result = connection => {
                if let Err(error) = result {
                    tracing::debug!(%error, "fake lever: connection ended with an error");
                }
                None
            }
            Some(cut) = cut_rx.recv() => Some(cut),
        }
    };
    if cut == Some(Cut::Reset) {
        let _ = stream.set_zero_linger();
    }
}

/// Records the request, applies a scripted fault if one matches, else routes it.
async fn handle(
    request: Request<Incoming>,
    shared: Arc<Shared>,
    router: Router,
    cut: mpsc::UnboundedSender<Cut>,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = request.into_parts();
    let mut call = RecordedCall {
        received_at: std::time::Instant::now(),
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(parse_query).unwrap_or_default(),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect(),
        body: Vec::new(),
        fault: None,
        status: None,
    };
    let fault = shared.take_fault(&call.method, &call.path);
    call.fault = fault.clone();
    if fault == Some(FaultKind::ResetBeforeBody) {
        shared.record(call);
        return cut_connection(&cut, Cut::Reset).await;
    }

    let (body, index) = if is_multipart(&parts.headers) {
        // Streamed to the upload routes as it arrives, so that a large file is never held
        // whole; recorded without its body.
        (Body::new(body), shared.record(call))
    } else {
        match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(collected) => {
                let bytes = collected.to_bytes();
                call.body = bytes.to_vec();
                (Body::from(bytes), shared.record(call))
            }
            Err(error) => {
                let index = shared.record(call);
                let error = if error.is::<LengthLimitError>() {
                    LeverError::payload_too_large(format!(
                        "request body is larger than {MAX_BODY_BYTES} bytes"
                    ))
                } else {
                    LeverError::bad_request(format!("could not read the request body: {error}"))
                };
                let response = error.into_response();
                shared.set_status(index, response.status().as_u16());
                return Ok(response);
            }
        }
    };
    let request = Request::from_parts(parts, body);

    let response = match fault {
        // `ResetBeforeBody` was handled above.
        None | Some(FaultKind::ResetBeforeBody) => answer(&shared, index, router, request).await,
        Some(FaultKind::Status {
            status,
            body,
            retry_after,
            headers,
        }) => {
            let response = status_response(status, &body, retry_after.as_deref(), &headers);
            shared.set_status(index, response.status().as_u16());
            response
        }
        Some(FaultKind::WithHeaders(headers)) => {
            let mut response = answer(&shared, index, router, request).await;
            for (name, value) in headers {
                if let (Ok(name), Ok(value)) =
                    (HeaderName::try_from(name), HeaderValue::try_from(value))
                {
                    response.headers_mut().append(name, value);
                }
            }
            response
        }
        Some(FaultKind::Delay(delay)) => {
            // Processed in its own task so that it completes even if the client gives up.
            let shared = Arc::clone(&shared);
            let task = tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                answer(&shared, index, router, request).await
            });
            match task.await {
                Ok(response) => response,
                Err(error) => {
                    LeverError::internal(format!("delayed request failed: {error}")).into_response()
                }
            }
        }
        Some(FaultKind::DropAfterBody) => {
            answer(&shared, index, router, request).await;
            return cut_connection(&cut, Cut::Close).await;
        }
    };
    Ok(response)
}

/// Whether the request's body is `multipart/form-data`.
fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// Routes a request through the Lever routes and notes the status.
async fn answer(
    shared: &Shared,
    index: usize,
    router: Router,
    request: Request<Body>,
) -> Response<Body> {
    let response = match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    shared.set_status(index, response.status().as_u16());
    response
}

/// Asks the connection to end, then waits (forever) to be dropped with it.
async fn cut_connection(
    cut: &mpsc::UnboundedSender<Cut>,
    how: Cut,
) -> Result<Response<Body>, Infallible> {
    // The receiver lives as long as the connection, which is serving this request.
    let _ = cut.send(how);
    std::future::pending().await
}

/// A scripted error answer. Header names or values that HTTP cannot carry are left out.
fn status_response(
    status: u16,
    body: &Value,
    retry_after: Option<&str>,
    extra: &[(String, String)],
) -> Response<Body> {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(value) = retry_after.and_then(|value| HeaderValue::from_str(value).ok()) {
        headers.insert(RETRY_AFTER, value);
    }
    for (name, value) in extra {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    }
    response
}
