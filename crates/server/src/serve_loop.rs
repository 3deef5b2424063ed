//! The accept loop: each connection is served by hyper's HTTP/1 with a header-read timeout
//! (hyper also runs it while a keep-alive connection is idle, so idle connections close after
//! it too), a cap on requests per connection, and a cap on open connections (a connection over
//! it gets a 503 and is closed). On shutdown it stops accepting, lets every connection finish
//! its request in flight, and returns when all are closed.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, Request, StatusCode, header};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tower_service::Service;

use crate::config::ServeConfig;
use crate::envelope::ApiError;

/// How many refused connections get their 503 at once; beyond that they are closed unanswered.
const MAX_REFUSING: usize = 64;
/// How long a refused connection has to take its 503.
const REFUSAL_TIME: Duration = Duration::from_secs(1);
/// How long to wait after a failed accept (out of file descriptors) before the next one.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The limits on connections.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionLimits {
    header_read_timeout: Duration,
    max_connections: usize,
    max_requests: usize,
}

impl ConnectionLimits {
    /// The connection limits of `config`.
    pub(crate) fn of(config: &ServeConfig) -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: config.header_read_timeout,
            max_connections: config.max_connections.max(1),
            max_requests: config.max_requests_per_connection.max(1),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then finishes in-flight requests.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    let (stop, stopping) = watch::channel(false);
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => match Arc::clone(&open).try_acquire_owned() {
                    Ok(place) => {
                        let router = router.clone();
                        tasks.spawn(connection(stream, router, limits, stopping.clone(), place));
                    }
                    Err(_) => refuse(stream, limits.max_connections, &refusing, &mut tasks),
                },
                Err(error) => {
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    drop(listener);
    let _ = stop.send(true);
    while tasks.join_next().await.is_some() {}
}

/// Serves one connection until the client closes it, a limit closes it, or shutdown.
async fn connection(
    stream: TcpStream,
    router: Router,
    limits: ConnectionLimits,
    mut stopping: watch::Receiver<bool>,
    _place: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let served = AtomicUsize::new(0);
    let service = service_fn(move |request: Request<Incoming>| {
        let count = served.fetch_add(1, Ordering::Relaxed) + 1;
        let mut router = router.clone();
        async move {
            let mut response = router.call(request).await?;
            if count >= limits.max_requests {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok::<_, Infallible>(response)
        }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = stopped(&mut stopping) => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        // Header-read timeouts and clients that hang up mid-request end here.
        tracing::debug!(%error, "connection closed with an error");
    }
}

/// Resolves once shutdown begins.
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// Answers a connection over the limit with a 503 in a short task of its own, or closes it at
/// once when too many are being refused already.
fn refuse(stream: TcpStream, max: usize, refusing: &Arc<Semaphore>, tasks: &mut JoinSet<()>) {
    let Ok(place) = Arc::clone(refusing).try_acquire_owned() else {
        return;
    };
    tasks.spawn(async move {
        let _place = place;
        let _ = tokio::time::timeout(REFUSAL_TIME, answer_refused(stream, max)).await;
    });
}

/// Writes the 503, ends the sending side, and reads until the client closes, so closing does
/// not reset the connection before the client has read the answer.
async fn answer_refused(mut stream: TcpStream, max: usize) -> std::io::Result<()> {
    stream.write_all(refusal(max).as_bytes()).await?;
    stream.shutdown().await?;
    let mut sink = [0u8; 1024];
    while stream.read(&mut sink).await? > 0 {}
    Ok(())
}

/// The HTTP/1.1 answer to a connection over the limit: the standard envelope, 503
/// `too_many_connections`, `Retry-After: 1`.
fn refusal(max: usize) -> String {
    let body = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "too_many_connections",
        format!("the server has its limit of {max} connections open; retry later"),
    )
    .body()
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}
