//! The HTTP server under hostile clients: half-sent requests, idle and long-lived keep-alive
//! connections, too many connections, too many requests at once, query strings nested without
//! bound. After each, the server still answers `/health`.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use switchboard_server::{ServeConfig, Server};
use switchboard_testkit::fake_lever::Fault;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use crate::common::{TestServer, candidates_path, config, envelope, json_of, lead, person, send};

/// How long a test waits for something that must happen before calling it a failure (the
/// server closing a connection); a safety net, not a speed check.
const GUARD: Duration = Duration::from_secs(30);

/// A server with no account or client of its own, so every connection is the test's.
struct Bare {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Bare {
    async fn start(config: ServeConfig) -> Bare {
        let server = Server::bind(config).await.expect("server binds");
        let addr = server.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = server
                .run(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Bare {
            addr,
            stop: Some(stop),
            task,
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.expect("server task");
    }
}

fn addr_of(server: &TestServer) -> SocketAddr {
    server
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("address")
}

/// Reads until the server closes the connection; panics if it does not within [`GUARD`].
async fn until_closed(mut stream: TcpStream) -> String {
    let mut seen = Vec::new();
    let read = tokio::time::timeout(GUARD, stream.read_to_end(&mut seen)).await;
    assert!(read.is_ok(), "the server left the connection open");
    String::from_utf8_lossy(&seen).into_owned()
}

/// Sends `GET /health` on an open connection and reads its answer, leaving the connection open.
async fn health_on(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .expect("written");
    let mut seen = Vec::new();
    let mut chunk = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("\"status\":\"ok\"") {
        let n = tokio::time::timeout(GUARD, stream.read(&mut chunk))
            .await
            .expect("answered")
            .expect("read");
        assert!(
            n > 0,
            "closed before answering: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

async fn health(addr: SocketAddr) -> u16 {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let response = client
        .get(format!("http://{addr}/health"))
        .send()
        .await
        .expect("sent");
    response.status().as_u16()
}

#[tokio::test]
async fn half_sent_requests_are_closed_after_the_header_timeout() {
    let mut config = config();
    config.header_read_timeout = Duration::from_millis(300);
    let server = Bare::start(config).await;
    let mut streams = Vec::new();
    for i in 0..30 {
        let mut stream = TcpStream::connect(server.addr).await.expect("connects");
        // Half of them send half a request head; the others send nothing at all.
        if i % 2 == 0 {
            stream
                .write_all(b"POST /unified/ats/candidates HTTP/1.1\r\nHost: test\r\n")
                .await
                .expect("written");
        }
        streams.push(stream);
    }
    for stream in streams {
        until_closed(stream).await;
    }
    assert_eq!(health(server.addr).await, 200);
    server.stop().await;
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    let mut config = config();
    config.header_read_timeout = Duration::from_millis(300);
    let server = Bare::start(config).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connects");
    assert!(health_on(&mut stream).await.starts_with("HTTP/1.1 200"));
    until_closed(stream).await;
    server.stop().await;
}

#[tokio::test]
async fn a_connection_carries_at_most_the_configured_requests() {
    let mut config = config();
    config.max_requests_per_connection = 2;
    let server = Bare::start(config).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connects");
    let three = "GET /health HTTP/1.1\r\nHost: test\r\n\r\n".repeat(3);
    stream.write_all(three.as_bytes()).await.expect("written");
    let seen = until_closed(stream).await.to_ascii_lowercase();
    assert_eq!(seen.matches("http/1.1 200").count(), 2, "{seen}");
    assert!(seen.contains("connection: close"), "{seen}");
    server.stop().await;
}

#[tokio::test]
async fn connections_over_the_limit_get_a_503_and_are_closed() {
    let mut config = config();
    config.max_connections = 2;
    let server = Bare::start(config).await;
    let mut first = TcpStream::connect(server.addr).await.expect("connects");
    let mut second = TcpStream::connect(server.addr).await.expect("connects");
    // Both are being served: each holds a place.
    health_on(&mut first).await;
    health_on(&mut second).await;

    let third = TcpStream::connect(server.addr).await.expect("connects");
    let seen = until_closed(third).await;
    assert!(seen.starts_with("HTTP/1.1 503"), "{seen}");
    assert!(
        seen.to_ascii_lowercase().contains("retry-after: 1"),
        "{seen}"
    );
    let body: Value =
        serde_json::from_str(seen.split("\r\n\r\n").nth(1).expect("body")).expect("json body");
    envelope(503, &body);
    assert_eq!(body["code"], "too_many_connections");

    // A place frees when a connection closes.
    drop(first);
    let mut answered = false;
    for _ in 0..200 {
        let mut stream = TcpStream::connect(server.addr).await.expect("connects");
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            .await
            .expect("written");
        if until_closed(stream).await.starts_with("HTTP/1.1 200") {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(answered, "a freed place is reused");
    drop(second);
    server.stop().await;
}

#[tokio::test]
async fn requests_over_the_concurrency_limit_get_a_503_with_retry_after() {
    let mut config = config();
    config.max_concurrent_requests = 1;
    let server = TestServer::start_with(config).await;
    server.lever.script(Fault::delay(
        "POST",
        "/v1/opportunities",
        Duration::from_secs(2),
    ));
    let path = candidates_path(&server.account, &lead());
    let create = tokio::spawn(server.post(&path).json(&person("Busy", "busy@x.io")).send());
    for _ in 0..500 {
        if server.lever.count("POST", "/v1/opportunities") > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        server.lever.count("POST", "/v1/opportunities"),
        1,
        "the create is in flight"
    );

    let busy = send(server.get("/openapi.json")).await;
    assert_eq!(busy.status(), 503);
    assert_eq!(busy.headers()["retry-after"], "1");
    let (status, body) = json_of(busy).await;
    envelope(status, &body);
    assert_eq!(body["code"], "server_busy");
    // The liveness probe is not counted.
    assert_eq!(health(addr_of(&server)).await, 200);

    let created = create.await.expect("joined").expect("sent");
    assert_eq!(created.status(), 201);
    assert_eq!(send(server.get("/openapi.json")).await.status(), 200);
    assert_eq!(server.lever.count("POST", "/v1/opportunities"), 1);
}

/// A parameter name with 5,000 nested brackets (15 KB), percent-encoded as browsers send it.
fn nested_without_bound() -> String {
    format!("remote_query%5Bx%5D{}=1", "%5Bx%5D".repeat(5000))
}

#[tokio::test]
async fn query_strings_nested_without_bound_are_a_400_on_unified_routes() {
    let server = TestServer::start().await;
    let path = candidates_path(
        &server.account,
        &format!("{}&{}", lead(), nested_without_bound()),
    );
    let (status, body) =
        json_of(send(server.post(&path).json(&person("Deep", "deep@x.io"))).await).await;
    assert_eq!(status, 400, "{body}");
    envelope(400, &body);
    assert_eq!(body["code"], "invalid_query");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("remote_query")
    );
    assert_eq!(
        server.lever.calls().len(),
        0,
        "nothing reached the provider"
    );

    let meta = format!(
        "/unified/ats/candidates/meta/create?integrated_account_id={}&{}",
        server.account,
        nested_without_bound()
    );
    let (status, _) = json_of(send(server.get(&meta)).await).await;
    assert_eq!(status, 400);
    assert_eq!(health(addr_of(&server)).await, 200);
}

#[tokio::test]
async fn query_strings_nested_without_bound_are_a_400_on_the_log() {
    let server = TestServer::start().await;
    let (status, body) =
        json_of(send(server.get(&format!("/log?{}", nested_without_bound()))).await).await;
    assert_eq!(status, 400, "{body}");
    envelope(400, &body);
    assert_eq!(body["code"], "invalid_query");
    assert_eq!(health(addr_of(&server)).await, 200);
}

#[tokio::test]
async fn a_request_over_the_timeout_is_a_504_and_its_create_still_finishes() {
    let mut config = config();
    config.request_timeout = Duration::from_secs(1);
    let server = TestServer::start_with(config).await;
    server.lever.script(Fault::delay(
        "POST",
        "/v1/opportunities",
        Duration::from_secs(3),
    ));
    let path = candidates_path(&server.account, &lead());
    let create = || {
        server
            .post(&path)
            .header("idempotency-key", "k-timeout")
            .json(&person("Late", "late@x.io"))
    };
    let (status, body) = json_of(send(create()).await).await;
    assert_eq!(status, 504, "{body}");
    envelope(504, &body);
    assert_eq!(body["code"], "request_timeout");

    // The run went on; the same key waits for it (at most half its own timeout, then 409: retry
    // later), and once it finished replays it.
    let mut replayed = None;
    for _ in 0..50 {
        let response = send(create()).await;
        if response.status() != 504 && response.status() != 409 {
            replayed = Some(response);
            break;
        }
    }
    let replayed = replayed.expect("an answer within the request timeout");
    assert_eq!(replayed.status(), 201);
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");
    assert_eq!(server.lever.count("POST", "/v1/opportunities"), 1);
}
