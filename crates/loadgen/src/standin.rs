//! A constant-time Lever stand-in: answers the applicant path's three calls (apply, the
//! opportunities lookup, addTags) with the recorded bodies in `static/`, whatever the request
//! says, on one thread (as `run.sh`'s nginx does with one worker).

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const APPLY: &str = include_str!("../static/apply.json");
const FIND: &str = include_str!("../static/find.json");
const TAG: &str = include_str!("../static/tag.json");

/// The recorded body for a stand-in path, as nginx's locations in `run.sh` match them.
pub(crate) fn body_for(method: &Method, path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["v1", "postings", id, "apply"] if !id.is_empty() => Some(APPLY),
        ["v1", "opportunities"] => Some(FIND),
        ["v1", "opportunities", id, "addTags"] if !id.is_empty() && method == Method::POST => {
            Some(TAG)
        }
        _ => None,
    }
}

async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = body_for(request.method(), request.uri().path());
    // Read the request whole, so the connection is ready for the next one.
    let _ = request.into_body().collect().await;
    let mut response = match body {
        Some(body) => Response::new(Full::new(Bytes::from_static(body.as_bytes()))),
        None => {
            let mut missing = Response::new(Full::new(Bytes::from_static(b"{}")));
            *missing.status_mut() = StatusCode::NOT_FOUND;
            missing
        }
    };
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

/// Binds a loopback port and serves on a thread of its own; returns the address.
pub(crate) fn start() -> anyhow::Result<SocketAddr> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let listener = runtime.block_on(TcpListener::bind(("127.0.0.1", 0)))?;
    let addr = listener.local_addr()?;
    std::thread::Builder::new()
        .name("lever-stand-in".into())
        .spawn(move || runtime.block_on(serve(listener)))?;
    Ok(addr)
}

async fn serve(listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors: give connections a moment to close.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(answer))
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_calls_get_their_recorded_bodies() {
        assert_eq!(
            body_for(&Method::POST, "/v1/postings/p-1/apply"),
            Some(APPLY)
        );
        assert_eq!(body_for(&Method::GET, "/v1/opportunities"), Some(FIND));
        assert_eq!(
            body_for(&Method::POST, "/v1/opportunities/o-1/addTags"),
            Some(TAG)
        );
        assert_eq!(body_for(&Method::GET, "/v1/postings//apply"), None);
        assert_eq!(body_for(&Method::GET, "/v1/users"), None);
    }
}
