//! `GET /metrics`: counters and latency histograms in the Prometheus text exposition format
//! (version 0.0.4), written by hand (a few dozen lines; no registry crate needed).
//!
//! - requests by route *template* (`/unified/{model}/{resource}`, never the raw path; requests
//!   no route matched are `unmatched`), method and status, with their latency up to the
//!   response head;
//! - provider calls by integration, step and status (or why no answer came), with their latency
//!   (retries and waits included); retries by integration, step and reason; rate-limit waits and
//!   refusals by integration — reported by the executor through its
//!   [`Observer`](switchboard_executor::Observer);
//! - idempotent replays, and request-log entries dropped because the writer fell behind.
//!
//! Labels hold only names from the routes and the mappings and status codes: no account id, no
//! token, nothing a client sends. Each family is capped at [`MAX_SERIES`] series all the same;
//! what would make more is counted in `switchboard_metrics_series_dropped_total`.
//!
//! Recording is a shared read lock, a hash lookup and a few relaxed atomic adds; the write lock
//! is taken only the first time a series is seen.

use std::fmt::Write as _;
use std::hash::Hash;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hashbrown::{Equivalent, HashMap};
use switchboard_executor::{CallEvent, CallStatus, Observer, RetryReason};

use crate::idempotency::REPLAYED;
use crate::state::AppState;

/// The most series one metric family keeps.
pub(crate) const MAX_SERIES: usize = 4096;

/// The route label of a request no route matched.
const UNMATCHED: &str = "unmatched";

/// The exposition format's content type.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds of the latency buckets, in microseconds (0.5 ms to 10 s; `+Inf` above).
const BOUNDS_MICROS: [u64; 14] = [
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 5_000_000, 10_000_000,
];

/// Every metric the server keeps; shared by the handlers and the executor.
#[derive(Default)]
pub struct Metrics {
    requests: Family<Histogram>,
    provider_calls: Family<Histogram>,
    retries: Family<AtomicU64>,
    rate_limits: Family<Waits>,
    replays: AtomicU64,
    series_dropped: AtomicU64,
}

/// A label value: a name, or a status code (kept as a number so recording formats nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Label<S> {
    Text(S),
    Code(u16),
}

/// A series' label values. Owned (`Box<str>`) in the map; borrowed (`&str`) to look one up:
/// both hash alike, as `str` and `Box<str>` do.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key<S, const N: usize>([Label<S>; N]);

impl<const N: usize> Equivalent<Key<Box<str>, N>> for Key<&str, N> {
    fn equivalent(&self, key: &Key<Box<str>, N>) -> bool {
        self.0.iter().zip(&key.0).all(|pair| match pair {
            (Label::Text(a), Label::Text(b)) => *a == &**b,
            (Label::Code(a), Label::Code(b)) => a == b,
            _ => false,
        })
    }
}

impl<const N: usize> Key<&str, N> {
    /// The key as the map stores it.
    fn to_stored(&self) -> Key<Box<str>, N> {
        Key(self.0.map(|label| match label {
            Label::Text(text) => Label::Text(Box::from(text)),
            Label::Code(code) => Label::Code(code),
        }))
    }
}

/// One metric's series by label values (up to three labels).
struct Family<V> {
    series: RwLock<HashMap<Key<Box<str>, 3>, V>>,
}

impl<V> Default for Family<V> {
    fn default() -> Self {
        Family {
            series: RwLock::new(HashMap::new()),
        }
    }
}

impl<V: Default> Family<V> {
    /// Runs `record` on the series of `key`, made on first use; a series past [`MAX_SERIES`]
    /// is not made and `dropped` counts it.
    fn record(&self, key: Key<&str, 3>, dropped: &AtomicU64, record: impl FnOnce(&V)) {
        {
            let series = self.series.read().unwrap_or_else(|e| e.into_inner());
            if let Some(value) = series.get(&key) {
                record(value);
                return;
            }
        }
        let mut series = self.series.write().unwrap_or_else(|e| e.into_inner());
        if !series.contains_key(&key) {
            if series.len() >= MAX_SERIES {
                dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            series.insert(key.to_stored(), V::default());
        }
        if let Some(value) = series.get(&key) {
            record(value);
        }
    }

    /// Every series, sorted by label values, as `snapshot` reads them.
    fn snapshot<T>(&self, snapshot: impl Fn(&V) -> T) -> Vec<(Key<Box<str>, 3>, T)> {
        let series = self.series.read().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<_> = series
            .iter()
            .map(|(key, value)| (key.clone(), snapshot(value)))
            .collect();
        drop(series);
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }
}

/// A latency histogram: counts per bucket (not cumulative) and the sum.
#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BOUNDS_MICROS.len() + 1],
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let bucket = BOUNDS_MICROS.partition_point(|&bound| bound < micros);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn read(&self) -> HistogramSnapshot {
        HistogramSnapshot {
            buckets: self.buckets.each_ref().map(|b| b.load(Ordering::Relaxed)),
            sum_micros: self.sum_micros.load(Ordering::Relaxed),
        }
    }
}

struct HistogramSnapshot {
    buckets: [u64; BOUNDS_MICROS.len() + 1],
    sum_micros: u64,
}

impl HistogramSnapshot {
    fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }
}

/// Rate-limit waits of one integration.
#[derive(Default)]
struct Waits {
    waits: AtomicU64,
    waited_micros: AtomicU64,
    refused: AtomicU64,
}

impl Metrics {
    /// Counts one answered request.
    pub(crate) fn request(&self, route: &str, method: &Method, status: u16, elapsed: Duration) {
        let key = Key([
            Label::Text(route),
            Label::Text(method_label(method)),
            Label::Code(status),
        ]);
        self.requests
            .record(key, &self.series_dropped, |h| h.observe(elapsed));
    }

    /// Counts one idempotent replay.
    pub(crate) fn replay(&self) {
        self.replays.fetch_add(1, Ordering::Relaxed);
    }

    /// Every metric in the text exposition format; `dropped_log_entries` is the request log's
    /// count.
    pub(crate) fn render(&self, dropped_log_entries: u64) -> String {
        let mut out = String::new();
        let requests = self.requests.snapshot(Histogram::read);
        let labels = ["route", "method", "status"];
        counter_of_histograms(
            &mut out,
            "switchboard_http_requests_total",
            "Requests answered, by route template, method and status.",
            &labels,
            &requests,
        );
        histogram(
            &mut out,
            "switchboard_http_request_duration_seconds",
            "Time from a request's arrival to its response head, by route template, method and status.",
            &labels,
            &requests,
        );
        let calls = self.provider_calls.snapshot(Histogram::read);
        let labels = ["integration", "step", "status"];
        counter_of_histograms(
            &mut out,
            "switchboard_provider_calls_total",
            "Provider calls, by integration, step and final status (or why no answer came).",
            &labels,
            &calls,
        );
        histogram(
            &mut out,
            "switchboard_provider_call_duration_seconds",
            "Time a provider call took, retries and waits included, by integration, step and status.",
            &labels,
            &calls,
        );
        let retries = self.retries.snapshot(|c| c.load(Ordering::Relaxed));
        family_head(
            &mut out,
            "switchboard_provider_retries_total",
            "counter",
            "Provider calls sent again, by integration, step and reason (a status or a transport failure).",
        );
        for (key, value) in &retries {
            sample(
                &mut out,
                "switchboard_provider_retries_total",
                &["integration", "step", "reason"],
                key,
                None,
                *value,
            );
        }
        self.render_rate_limits(&mut out);
        single(
            &mut out,
            "switchboard_idempotency_replays_total",
            "Responses replayed for a repeated Idempotency-Key.",
            self.replays.load(Ordering::Relaxed),
        );
        single(
            &mut out,
            "switchboard_request_log_dropped_total",
            "Request-log entries dropped unwritten because the writer fell behind.",
            dropped_log_entries,
        );
        single(
            &mut out,
            "switchboard_metrics_series_dropped_total",
            "Observations not kept because their metric had too many series.",
            self.series_dropped.load(Ordering::Relaxed),
        );
        out
    }

    fn render_rate_limits(&self, out: &mut String) {
        let waits = self.rate_limits.snapshot(|w| {
            [
                w.waits.load(Ordering::Relaxed),
                w.waited_micros.load(Ordering::Relaxed),
                w.refused.load(Ordering::Relaxed),
            ]
        });
        let metrics = [
            (
                "switchboard_rate_limit_waits_total",
                "Provider calls that waited for their account's rate limit, by integration.",
            ),
            (
                "switchboard_rate_limit_wait_seconds_total",
                "Time provider calls waited for their account's rate limit, by integration.",
            ),
            (
                "switchboard_rate_limit_refusals_total",
                "Provider calls not sent because their rate limit would hold them too long, by integration.",
            ),
        ];
        for (index, (name, help)) in metrics.into_iter().enumerate() {
            family_head(out, name, "counter", help);
            for (key, values) in &waits {
                let value = values[index];
                if index == 1 {
                    let _ = writeln!(
                        out,
                        "{name}{} {}",
                        labels_text(&["integration"], key, None),
                        seconds(value)
                    );
                } else {
                    sample(out, name, &["integration"], key, None, value);
                }
            }
        }
    }
}

impl Observer for Metrics {
    fn provider_call(&self, event: &CallEvent<'_>) {
        let status = match event.status {
            CallStatus::Answered(code) => Label::Code(code),
            CallStatus::Failed(why) => Label::Text(why),
        };
        let key = Key([
            Label::Text(event.integration),
            Label::Text(event.step),
            status,
        ]);
        self.provider_calls
            .record(key, &self.series_dropped, |h| h.observe(event.duration));
    }

    fn retry(&self, integration: &str, step: &str, reason: RetryReason) {
        let reason = match reason {
            RetryReason::Status(code) => Label::Code(code),
            RetryReason::Transport(why) => Label::Text(why),
        };
        let key = Key([Label::Text(integration), Label::Text(step), reason]);
        self.retries.record(key, &self.series_dropped, |c| {
            c.fetch_add(1, Ordering::Relaxed);
        });
    }

    fn rate_limit_wait(&self, integration: &str, waited: Duration) {
        let micros = u64::try_from(waited.as_micros()).unwrap_or(u64::MAX);
        self.rate_limits
            .record(integration_key(integration), &self.series_dropped, |w| {
                w.waits.fetch_add(1, Ordering::Relaxed);
                w.waited_micros.fetch_add(micros, Ordering::Relaxed);
            });
    }

    fn rate_limit_refused(&self, integration: &str) {
        self.rate_limits
            .record(integration_key(integration), &self.series_dropped, |w| {
                w.refused.fetch_add(1, Ordering::Relaxed);
            });
    }
}

/// A key with one label (the others empty and never rendered).
fn integration_key(integration: &str) -> Key<&str, 3> {
    Key([Label::Text(integration), Label::Text(""), Label::Text("")])
}

/// The method as a label: the standard ones by name, anything else `OTHER` (a client may send
/// any token as a method).
fn method_label(method: &Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "TRACE" => "TRACE",
        "CONNECT" => "CONNECT",
        _ => "OTHER",
    }
}

fn family_head(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn single(out: &mut String, name: &str, help: &str, value: u64) {
    family_head(out, name, "counter", help);
    let _ = writeln!(out, "{name} {value}");
}

fn counter_of_histograms(
    out: &mut String,
    name: &str,
    help: &str,
    labels: &[&str],
    series: &[(Key<Box<str>, 3>, HistogramSnapshot)],
) {
    family_head(out, name, "counter", help);
    for (key, histogram) in series {
        sample(out, name, labels, key, None, histogram.count());
    }
}

fn histogram(
    out: &mut String,
    name: &str,
    help: &str,
    labels: &[&str],
    series: &[(Key<Box<str>, 3>, HistogramSnapshot)],
) {
    family_head(out, name, "histogram", help);
    let bucket = format!("{name}_bucket");
    for (key, histogram) in series {
        let mut cumulative = 0;
        for (index, count) in histogram.buckets.iter().enumerate() {
            cumulative += count;
            let le = BOUNDS_MICROS
                .get(index)
                .map_or_else(|| "+Inf".to_owned(), |&bound| seconds(bound));
            sample(out, &bucket, labels, key, Some(&le), cumulative);
        }
        let _ = writeln!(
            out,
            "{name}_sum{} {}",
            labels_text(labels, key, None),
            seconds(histogram.sum_micros)
        );
        sample(
            out,
            &format!("{name}_count"),
            labels,
            key,
            None,
            histogram.count(),
        );
    }
}

fn sample(
    out: &mut String,
    name: &str,
    labels: &[&str],
    key: &Key<Box<str>, 3>,
    le: Option<&str>,
    value: u64,
) {
    let _ = writeln!(out, "{name}{} {value}", labels_text(labels, key, le));
}

/// `{name="value",…}` for the first `names.len()` label values, then `le` when given.
fn labels_text(names: &[&str], key: &Key<Box<str>, 3>, le: Option<&str>) -> String {
    let mut text = String::from("{");
    for (index, (name, value)) in names.iter().zip(&key.0).enumerate() {
        if index > 0 {
            text.push(',');
        }
        let _ = write!(text, "{name}=\"");
        match value {
            Label::Text(value) => escape_into(&mut text, value),
            Label::Code(code) => {
                let _ = write!(text, "{code}");
            }
        }
        text.push('"');
    }
    if let Some(le) = le {
        let _ = write!(text, ",le=\"{le}\"");
    }
    text.push('}');
    text
}

/// A label value escaped as the format asks: `\`, `"` and line feeds.
fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Microseconds as seconds, shortest form (`0.0005`, `1`, `2.5`).
fn seconds(micros: u64) -> String {
    let whole = micros / 1_000_000;
    let fraction = micros % 1_000_000;
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:06}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Middleware: counts every request by route template, method and status, with its latency up
/// to the response head, and idempotent replays.
pub(crate) async fn measure(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = request.method().clone();
    let response = next.run(request).await;
    let metrics = &state.inner.metrics;
    let route = route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
    metrics.request(
        route,
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    if response
        .headers()
        .get(REPLAYED)
        .is_some_and(|value| value == "true")
    {
        metrics.replay();
    }
    response
}

/// `GET /metrics` (an `admin` token): every metric in the Prometheus text format.
pub(crate) async fn scrape(State(state): State<AppState>) -> Response {
    let body = state.inner.metrics.render(state.dropped_log_entries());
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_land_in_the_first_bucket_that_holds_them() {
        let histogram = Histogram::default();
        histogram.observe(Duration::from_micros(500));
        histogram.observe(Duration::from_micros(501));
        histogram.observe(Duration::from_secs(11));
        let read = histogram.read();
        assert_eq!(read.buckets[0], 1);
        assert_eq!(read.buckets[1], 1);
        assert_eq!(read.buckets[BOUNDS_MICROS.len()], 1);
        assert_eq!(read.count(), 3);
        assert_eq!(read.sum_micros, 11_001_001);
    }

    #[test]
    fn seconds_are_written_in_their_shortest_form() {
        assert_eq!(seconds(500), "0.0005");
        assert_eq!(seconds(1_000_000), "1");
        assert_eq!(seconds(2_500_000), "2.5");
        assert_eq!(seconds(0), "0");
    }

    #[test]
    fn label_values_are_escaped() {
        let metrics = Metrics::default();
        metrics.provider_call(&CallEvent {
            integration: "a\"b",
            step: "c\\d\ne",
            status: CallStatus::Failed("timeout"),
            duration: Duration::from_millis(1),
        });
        let text = metrics.render(0);
        assert!(
            text.contains(
                r#"switchboard_provider_calls_total{integration="a\"b",step="c\\d\ne",status="timeout"} 1"#
            ),
            "{text}"
        );
    }

    #[test]
    fn a_family_keeps_at_most_its_cap_of_series() {
        let metrics = Metrics::default();
        for status in 0..=u16::try_from(MAX_SERIES).expect("fits") {
            metrics.request("/x", &Method::GET, status, Duration::ZERO);
        }
        metrics.request("/x", &Method::GET, 0, Duration::ZERO);
        let text = metrics.render(0);
        assert!(
            text.contains("switchboard_metrics_series_dropped_total 1\n"),
            "{text}"
        );
        assert!(text.contains(r#"{route="/x",method="GET",status="0"} 2"#));
    }

    #[test]
    fn rate_limit_waits_and_refusals_are_rendered_by_integration() {
        let metrics = Metrics::default();
        metrics.rate_limit_wait("acme", Duration::from_millis(1500));
        metrics.rate_limit_wait("acme", Duration::from_millis(500));
        metrics.rate_limit_refused("acme");
        let text = metrics.render(0);
        for line in [
            r#"switchboard_rate_limit_waits_total{integration="acme"} 2"#,
            r#"switchboard_rate_limit_wait_seconds_total{integration="acme"} 2"#,
            r#"switchboard_rate_limit_refusals_total{integration="acme"} 1"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in {text}");
        }
    }

    #[test]
    fn unknown_methods_share_one_label() {
        let method = Method::from_bytes(b"BREW").expect("a token");
        assert_eq!(method_label(&method), "OTHER");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
    }
}
