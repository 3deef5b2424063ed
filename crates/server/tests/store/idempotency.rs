//! Idempotency records: the first begin starts, later ones see it in progress, then completed;
//! concurrent begins start exactly one.

use std::sync::Arc;

use switchboard_server::{IdempotencyBegin, StoredResponse};

use crate::backends;

fn response() -> StoredResponse {
    StoredResponse {
        status: 201,
        headers: vec![("content-type".into(), "application/json".into())],
        body: br#"{"id":"x"}"#.to_vec(),
    }
}

#[tokio::test]
async fn records_start_once_then_replay_and_expire() {
    for backend in backends("idempotency_records").await {
        let store = backend.store.as_ref();
        let name = backend.name;
        let begin = |scope: &'static str, print: &'static str, now: i64| {
            store.idempotency_begin(scope, "k", print, now, now + 100)
        };
        assert_eq!(
            begin("t", "f1", 100).await.expect(name),
            IdempotencyBegin::Started
        );
        assert_eq!(
            begin("t", "f1", 101).await.expect(name),
            IdempotencyBegin::InProgress {
                fingerprint: "f1".into(),
                started_at: 100
            },
            "{name}"
        );
        store
            .idempotency_complete("t", "k", &response(), 200)
            .await
            .expect(name);
        assert_eq!(
            begin("t", "f2", 150).await.expect(name),
            IdempotencyBegin::Completed {
                fingerprint: "f1".into(),
                response: response()
            },
            "{name}"
        );
        // Another scope is another key; an expired record is gone.
        assert_eq!(
            begin("u", "f1", 150).await.expect(name),
            IdempotencyBegin::Started,
            "{name}"
        );
        assert_eq!(
            begin("t", "f2", 200).await.expect(name),
            IdempotencyBegin::Started,
            "{name}"
        );
    }
}

#[tokio::test]
async fn abandoning_forgets_only_a_record_in_progress() {
    for backend in backends("idempotency_abandon").await {
        let store = backend.store.as_ref();
        let name = backend.name;
        for key in ["running", "done"] {
            store
                .idempotency_begin("t", key, "f", 10, 1000)
                .await
                .expect(name);
        }
        store
            .idempotency_complete("t", "done", &response(), 1000)
            .await
            .expect(name);
        store.idempotency_abandon("t", "running").await.expect(name);
        store.idempotency_abandon("t", "done").await.expect(name);
        assert_eq!(
            store
                .idempotency_begin("t", "running", "g", 11, 1000)
                .await
                .expect(name),
            IdempotencyBegin::Started,
            "{name}"
        );
        assert!(
            matches!(
                store
                    .idempotency_begin("t", "done", "f", 11, 1000)
                    .await
                    .expect(name),
                IdempotencyBegin::Completed { .. }
            ),
            "{name}"
        );
    }
}

#[tokio::test]
async fn concurrent_begins_of_one_key_start_it_once() {
    for backend in backends("idempotency_concurrent").await {
        let name = backend.name;
        let store = Arc::clone(&backend.store);
        let begins = (0..16).map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.idempotency_begin("t", "k", "f", 10, 1000).await })
        });
        let mut started = 0;
        for begin in futures_util::future::join_all(begins).await {
            match begin.expect("joined").expect(name) {
                IdempotencyBegin::Started => started += 1,
                IdempotencyBegin::InProgress { started_at, .. } => assert_eq!(started_at, 10),
                other => panic!("{name}: {other:?}"),
            }
        }
        assert_eq!(started, 1, "{name}");
    }
}
