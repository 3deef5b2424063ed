//! The request log: only authenticated requests, paths cut short, retention by age and count,
//! written off the request path but visible within a second.

use std::time::{Duration, Instant};

use serde_json::Value;
use switchboard_server::{LogEntry, LogFilter, LogRetention};

use crate::common::{TestServer, applicant, candidate, config, send, send_json};

/// Every entry in the store, newest first.
async fn entries(server: &TestServer) -> Vec<LogEntry> {
    let filter = LogFilter {
        limit: 100,
        ..LogFilter::default()
    };
    server.store.list_log(&filter).await.expect("log")
}

/// The request ids in the store, newest first, once `done` holds of them (the writer stores
/// entries shortly after their requests); what is there after `within` when it never does.
async fn settled(
    server: &TestServer,
    within: Duration,
    done: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let deadline = Instant::now() + within;
    loop {
        let ids: Vec<String> = entries(server)
            .await
            .into_iter()
            .map(|e| e.request_id)
            .collect();
        if done(&ids) || Instant::now() >= deadline {
            return ids;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Long enough for the writer on a busy machine; the tests wait only as long as they must.
const PATIENCE: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_logged_request_shows_in_the_log_within_a_second() {
    let server = TestServer::start().await;
    let request = server
        .create(&applicant(), &candidate("seen@example.com"))
        .header("x-request-id", "seen");
    assert_eq!(send(request).await.status(), 201);
    let deadline = Instant::now() + Duration::from_secs(1);
    let listed = loop {
        let (status, log) = send_json(server.get("/log")).await;
        assert_eq!(status, 200);
        let ids: Vec<Value> = log["result"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| e["request_id"].clone())
            .collect();
        if !ids.is_empty() || Instant::now() >= deadline {
            break ids;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(listed, [Value::from("seen")]);
}

#[tokio::test]
async fn unauthenticated_requests_are_not_logged() {
    let server = TestServer::start().await;
    let long = format!("/unified/ats/{}", "a".repeat(20 * 1024));
    for i in 0..60 {
        let request = server.client.post(server.url(&long)).body("{}");
        let request = if i % 2 == 0 {
            request
        } else {
            request.bearer_auth("sb_not_a_token")
        };
        assert_eq!(send(request).await.status(), 401);
    }
    // An authenticated request after them: once it is stored, anything queued before it is too.
    let marker = server
        .create(&applicant(), &candidate("marker@example.com"))
        .header("x-request-id", "marker");
    assert_eq!(send(marker).await.status(), 201);
    let logged = settled(&server, PATIENCE, |ids| !ids.is_empty()).await;
    assert_eq!(logged, ["marker"]);
}

#[tokio::test]
async fn logged_paths_are_cut_to_512_bytes() {
    let server = TestServer::start().await;
    let long = format!("/unified/ats/{}", "é".repeat(10 * 1024));
    let response = send(server.post(&long).body("{}")).await;
    assert!(response.status().is_client_error(), "{}", response.status());
    settled(&server, PATIENCE, |ids| !ids.is_empty()).await;
    let logged = entries(&server).await;
    assert_eq!(logged.len(), 1);
    let path = &logged[0].path;
    assert!(
        path.len() <= 512 && path.len() > 500,
        "{} bytes",
        path.len()
    );
    let sent = url::Url::parse(&server.url(&long)).expect("url");
    assert!(sent.path().starts_with(path.as_str()));
}

#[tokio::test]
async fn the_log_keeps_the_newest_entries_only() {
    let mut config = config();
    config.log_retention = LogRetention {
        max_rows: 3,
        ..LogRetention::default()
    };
    let server = TestServer::start_with(config).await;
    for i in 0..5 {
        let request = server
            .create(&applicant(), &candidate(&format!("c{i}@example.com")))
            .header("x-request-id", format!("req-{i}"));
        assert_eq!(send(request).await.status(), 201);
    }
    let expected = ["req-4", "req-3", "req-2"];
    let kept = settled(&server, PATIENCE, |ids| ids == expected).await;
    assert_eq!(kept, expected);
}

#[tokio::test]
async fn entries_older_than_the_retention_are_deleted() {
    let server = TestServer::start().await;
    let old = LogEntry {
        id: 0,
        time: "2001-01-01T00:00:00Z".into(),
        request_id: "from-long-ago".into(),
        method: "POST".into(),
        path: "/unified/ats/candidates".into(),
        integration: None,
        integrated_account_id: None,
        resource: None,
        unified_method: None,
        status: 201,
        duration_ms: 1,
        exchanges: Vec::new(),
    };
    server.store.insert_log(&old).await.expect("insert");
    let request = server
        .create(&applicant(), &candidate("now@example.com"))
        .header("x-request-id", "recent");
    assert_eq!(send(request).await.status(), 201);
    let kept = settled(&server, PATIENCE, |ids| ids == ["recent"]).await;
    assert_eq!(kept, ["recent"]);
}
