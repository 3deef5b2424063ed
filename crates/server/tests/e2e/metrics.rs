//! `GET /metrics`: a create (with a retried call), its replay and a 404 move the counters and
//! the histograms; only an `admin` token may scrape; no account id shows.

use std::time::Duration;

use switchboard_core::RetryPolicy;
use switchboard_server::TokenScope;
use switchboard_testkit::fake_lever::Fault;

use crate::common::{TestServer, applicant, candidate, config, send};

/// The value of the sample named exactly `series` (name and labels), if present.
fn sample(text: &str, series: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.parse().expect("an integer sample"))
}

async fn scrape(server: &TestServer) -> String {
    let response = send(server.get("/metrics")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    response.text().await.expect("body")
}

#[tokio::test]
async fn requests_provider_calls_retries_and_replays_are_counted() {
    let mut config = config();
    let mut retry = RetryPolicy::default();
    retry.max_attempts = 2;
    retry.initial_backoff_ms = 1;
    config.executor.retry = Some(retry);
    config.executor.request_timeout = Some(Duration::from_secs(5));
    let server = TestServer::start_with(config).await;
    let before = scrape(&server).await;
    let create = r#"{route="/unified/{model}/{resource}",method="POST",status="201"}"#;
    assert_eq!(
        sample(&before, &format!("switchboard_http_requests_total{create}")),
        None
    );

    server
        .lever
        .script(Fault::status("POST", "/v1/postings/", 503).retry_after("0"));
    let body = candidate("metrics@example.com");
    let first = send(
        server
            .create(&applicant(), &body)
            .header("idempotency-key", "m-1"),
    )
    .await;
    assert_eq!(first.status(), 201);
    let again = send(
        server
            .create(&applicant(), &body)
            .header("idempotency-key", "m-1"),
    )
    .await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(send(server.get("/no/such/route")).await.status(), 404);

    let text = scrape(&server).await;
    assert_eq!(
        sample(&text, &format!("switchboard_http_requests_total{create}")),
        Some(2),
        "{text}"
    );
    let create = create.trim_end_matches('}');
    for (bucket, count) in [("0.0005", None), ("10", Some(2)), ("+Inf", Some(2))] {
        let series =
            format!("switchboard_http_request_duration_seconds_bucket{create},le=\"{bucket}\"}}");
        let value = sample(&text, &series);
        match count {
            Some(count) => assert_eq!(value, Some(count), "{series} in {text}"),
            // Nothing this test does answers within half a millisecond in a debug build.
            None => assert!(value.is_some_and(|v| v < 2), "{series} in {text}"),
        }
    }
    assert_eq!(
        sample(
            &text,
            &format!("switchboard_http_request_duration_seconds_count{create}}}")
        ),
        Some(2)
    );
    assert_eq!(
        sample(
            &text,
            r#"switchboard_http_requests_total{route="unmatched",method="GET",status="404"}"#
        ),
        Some(1),
        "{text}"
    );
    // The replay made no provider call: each step of the applicant path counted once.
    for step in ["apply", "find", "tag"] {
        assert_eq!(
            sample(
                &text,
                &format!(
                    r#"switchboard_provider_calls_total{{integration="lever",step="{step}",status="200"}}"#
                )
            ),
            Some(1),
            "{step} in {text}"
        );
    }
    assert_eq!(
        sample(
            &text,
            r#"switchboard_provider_call_duration_seconds_count{integration="lever",step="apply",status="200"}"#
        ),
        Some(1)
    );
    assert_eq!(
        sample(
            &text,
            r#"switchboard_provider_retries_total{integration="lever",step="apply",reason="503"}"#
        ),
        Some(1),
        "{text}"
    );
    assert_eq!(
        sample(&text, "switchboard_idempotency_replays_total"),
        Some(1)
    );
    assert_eq!(
        sample(&text, "switchboard_request_log_dropped_total"),
        Some(0)
    );
    assert!(!text.contains(&server.account), "no account id in {text}");
    assert!(!text.contains("metrics@example.com"));
}

#[tokio::test]
async fn only_an_admin_token_may_scrape() {
    let server = TestServer::start().await;
    let unified = server.scoped_token(TokenScope::Unified, &[]).await;
    let url = server.url("/metrics");
    let refused = send(server.client.get(&url).bearer_auth(unified)).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(send(server.client.get(&url)).await.status(), 401);
}
