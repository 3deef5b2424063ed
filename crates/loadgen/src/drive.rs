//! The load: `connections` keep-alive HTTP/1 connections on one thread (as `wrk -t1` does), each
//! sending the route's request again as soon as the answer is read, for a fixed time. A
//! connection the server closes (it closes one after `max_requests_per_connection`) is opened
//! again, as wrk does.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::header::{AUTHORIZATION, CONNECTION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One route's request, sent again and again.
#[derive(Clone)]
pub(crate) struct Target {
    /// Its name in the report.
    pub(crate) name: &'static str,
    pub(crate) addr: SocketAddr,
    pub(crate) method: Method,
    /// Path and query.
    pub(crate) path: String,
    pub(crate) token: Option<String>,
    pub(crate) body: Option<Bytes>,
}

/// What a run of one route saw.
#[derive(Default)]
pub(crate) struct Tally {
    /// Every answer's latency, in microseconds (any status).
    pub(crate) latencies: Vec<u32>,
    /// Answers that were not 2xx.
    pub(crate) non_2xx: u64,
    /// Requests that got no answer (the connection failed).
    pub(crate) errors: u64,
    /// How long the run lasted.
    pub(crate) elapsed: Duration,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        self.non_2xx += other.non_2xx;
        self.errors += other.errors;
    }
}

impl Target {
    fn request(&self) -> anyhow::Result<Request<Full<Bytes>>> {
        let mut request = Request::builder()
            .method(self.method.clone())
            .uri(&self.path)
            .header(HOST, HeaderValue::from_str(&self.addr.to_string())?);
        if let Some(token) = &self.token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        if self.body.is_some() {
            request = request.header(CONTENT_TYPE, "application/json");
        }
        Ok(request.body(Full::new(self.body.clone().unwrap_or_default()))?)
    }
}

/// Sends `target`'s request once and answers its status and body.
pub(crate) async fn once(target: &Target) -> anyhow::Result<(u16, Bytes)> {
    let stream = TcpStream::connect(target.addr).await?;
    let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let response = sender.send_request(target.request()?).await?;
    let status = response.status().as_u16();
    Ok((status, response.into_body().collect().await?.to_bytes()))
}

/// Drives `target` over `connections` connections for `duration`.
pub(crate) async fn drive(target: &Target, connections: usize, duration: Duration) -> Tally {
    let started = Instant::now();
    let until = started + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(connection(target.clone(), until)))
        .collect();
    let mut tally = Tally::default();
    for task in tasks {
        if let Ok(one) = task.await {
            tally.merge(one);
        }
    }
    tally.elapsed = started.elapsed();
    tally
}

/// One connection's loop, reconnecting when the server closes it.
async fn connection(target: Target, until: Instant) -> Tally {
    let mut tally = Tally::default();
    while Instant::now() < until {
        if let Err(error) = keep_alive(&target, until, &mut tally).await {
            tally.errors += 1;
            if tally.errors == 1 {
                eprintln!("{}: {error}", target.name);
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    tally
}

/// Sends requests on one connection until `until` or until the server closes it.
async fn keep_alive(target: &Target, until: Instant, tally: &mut Tally) -> anyhow::Result<()> {
    let stream = TcpStream::connect(target.addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    while Instant::now() < until {
        sender.ready().await?;
        let request = target.request()?;
        let sent = Instant::now();
        let response = sender.send_request(request).await?;
        let closing = response
            .headers()
            .get(CONNECTION)
            .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"close"));
        let status = response.status();
        response.into_body().collect().await?;
        let micros = u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX);
        tally.latencies.push(micros);
        if !status.is_success() {
            tally.non_2xx += 1;
        }
        if closing {
            return Ok(());
        }
    }
    Ok(())
}
