//! The request log: only authenticated requests, paths cut short, retention by age and count.

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
    assert!(entries(&server).await.is_empty());
    let (status, log) = send_json(server.get("/log")).await;
    assert_eq!((status, log["result_count"].clone()), (200, Value::from(0)));
}

#[tokio::test]
async fn logged_paths_are_cut_to_512_bytes() {
    let server = TestServer::start().await;
    let long = format!("/unified/ats/{}", "é".repeat(10 * 1024));
    let response = send(server.post(&long).body("{}")).await;
    assert!(response.status().is_client_error(), "{}", response.status());
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
    let kept: Vec<String> = entries(&server)
        .await
        .into_iter()
        .map(|e| e.request_id)
        .collect();
    assert_eq!(kept, ["req-4", "req-3", "req-2"]);
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
    let kept: Vec<String> = entries(&server)
        .await
        .into_iter()
        .map(|e| e.request_id)
        .collect();
    assert_eq!(kept, ["recent"]);
}
