//! The request log: appended in order, listed newest first with filters and paging, pruned by
//! age and count.

use switchboard_server::{LogEntry, LogExchange, LogFilter};

use crate::backends;

fn entry(time: &str, account: Option<&str>) -> LogEntry {
    LogEntry {
        id: 0,
        time: time.to_owned(),
        request_id: format!("req-{time}"),
        method: "POST".into(),
        path: "/unified/ats/candidates".into(),
        integration: account.map(|_| "lever".to_owned()),
        integrated_account_id: account.map(str::to_owned),
        resource: Some("ats/candidates".into()),
        unified_method: Some("create".into()),
        status: 201,
        duration_ms: 12,
        exchanges: vec![LogExchange {
            step: "create".into(),
            method: "POST".into(),
            url: "https://api.example.com/v1/opportunities".into(),
            status: Some(201),
            duration_ms: Some(9),
        }],
    }
}

fn times(entries: &[LogEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.time.as_str()).collect()
}

#[tokio::test]
async fn the_log_lists_newest_first_with_filters_and_pages() {
    for backend in backends("log_listing").await {
        let store = backend.store.as_ref();
        let name = backend.name;
        let written = [
            entry("2024-03-01T00:00:00Z", Some("a")),
            entry("2024-03-02T00:00:00Z", None),
            entry("2024-03-03T00:00:00Z", Some("a")),
            entry("2024-03-04T00:00:00Z", Some("b")),
        ];
        store.insert_logs(&written[..2]).await.expect(name);
        store.insert_logs(&written[2..]).await.expect(name);
        let all = store
            .list_log(&LogFilter {
                limit: 100,
                ..LogFilter::default()
            })
            .await
            .expect(name);
        assert_eq!(
            times(&all),
            [
                "2024-03-04T00:00:00Z",
                "2024-03-03T00:00:00Z",
                "2024-03-02T00:00:00Z",
                "2024-03-01T00:00:00Z"
            ],
            "{name}"
        );
        let mut newest = all[0].clone();
        newest.id = 0;
        assert_eq!(newest, written[3], "{name}: read back whole");
        let page = store
            .list_log(&LogFilter {
                limit: 2,
                before: Some(all[1].id),
                integrated_account_id: None,
            })
            .await
            .expect(name);
        assert_eq!(
            times(&page),
            ["2024-03-02T00:00:00Z", "2024-03-01T00:00:00Z"],
            "{name}"
        );
        let of_a = store
            .list_log(&LogFilter {
                limit: 0,
                before: None,
                integrated_account_id: Some("a".into()),
            })
            .await
            .expect(name);
        assert_eq!(
            times(&of_a),
            ["2024-03-03T00:00:00Z"],
            "{name}: limit 0 is 1"
        );
    }
}

#[tokio::test]
async fn the_log_is_pruned_by_age_and_by_count() {
    for backend in backends("log_pruning").await {
        let store = backend.store.as_ref();
        let name = backend.name;
        for time in [
            "2024-01-01T00:00:00Z",
            "2024-01-02T00:00:00.5Z",
            "2024-03-01T00:00:00Z",
            "2024-03-02T00:00:00Z",
            "2024-03-03T00:00:00Z",
            "2024-03-04T00:00:00Z",
        ] {
            store.insert_log(&entry(time, None)).await.expect(name);
        }
        let all = LogFilter {
            limit: 100,
            ..LogFilter::default()
        };
        let cutoff = "2024-02-01T00:00:00Z";
        assert_eq!(store.prune_log(cutoff, 100).await.expect(name), 2, "{name}");
        assert_eq!(store.list_log(&all).await.expect(name).len(), 4, "{name}");
        assert_eq!(store.prune_log(cutoff, 2).await.expect(name), 2, "{name}");
        assert_eq!(
            times(&store.list_log(&all).await.expect(name)),
            ["2024-03-04T00:00:00Z", "2024-03-03T00:00:00Z"],
            "{name}"
        );
        assert_eq!(store.prune_log(cutoff, 2).await.expect(name), 0, "{name}");
        // Both rows left are old, and one is also in excess: each goes, and counts, once.
        let later = "2099-01-01T00:00:00Z";
        assert_eq!(store.prune_log(later, 1).await.expect(name), 2, "{name}");
        assert!(store.list_log(&all).await.expect(name).is_empty(), "{name}");
    }
}

#[tokio::test]
async fn a_large_batch_is_stored_whole_and_in_order() {
    for backend in backends("log_large_batch").await {
        let store = backend.store.as_ref();
        let name = backend.name;
        // 300 rows: multi-row inserts of 256, 32, 8 and 4 rows, in one transaction.
        let written: Vec<LogEntry> = (0..300)
            .map(|i| {
                let mut e = entry(
                    &format!("2024-03-01T00:{:02}:{:02}Z", i / 60, i % 60),
                    (i % 3 == 0).then_some("a"),
                );
                e.status = 200 + i % 7;
                e
            })
            .collect();
        store.insert_logs(&written).await.expect(name);
        let mut read = Vec::new();
        let mut filter = LogFilter {
            limit: 100,
            ..LogFilter::default()
        };
        loop {
            let page = store.list_log(&filter).await.expect(name);
            let Some(last) = page.last() else { break };
            filter.before = Some(last.id);
            read.extend(page);
        }
        read.reverse();
        let read: Vec<LogEntry> = read.into_iter().map(|e| LogEntry { id: 0, ..e }).collect();
        assert_eq!(read, written, "{name}");
    }
}
