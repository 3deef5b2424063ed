//! Shared rate limits (PostgreSQL): two instances' limiters on one database draw from the same
//! buckets, all of a call's buckets or none.

use std::time::Duration;

use switchboard_core::RateLimit;
use switchboard_executor::{Held, RateLimiter};
use switchboard_server::{PostgresStore, Store};

use crate::postgres::TestDatabase;

#[tokio::test]
async fn instances_on_one_database_share_each_accounts_buckets() {
    let Some(database) = TestDatabase::create("shared rate limits").await else {
        return;
    };
    let first = PostgresStore::open(&database.url).await.expect("open");
    let second = PostgresStore::open(&database.url).await.expect("open");
    let (a, b) = (first.rate_limiter(), second.rate_limiter());
    // A slow bucket (one token per 10 s, burst 2), so the test's own pace cannot refill it.
    let default = RateLimit::new(100.0, 100);
    let slow = RateLimit::new(0.1, 2);
    let limits = [("default", &default), ("applications", &slow)];
    let deadline = Duration::from_secs(15);
    assert_eq!(
        a.reserve("acct", &limits, deadline).await,
        Ok(Duration::ZERO)
    );
    assert_eq!(
        b.reserve("acct", &limits, deadline).await,
        Ok(Duration::ZERO)
    );
    // The burst is spent across both instances: the third call waits for the next token.
    let third = a.reserve("acct", &limits, deadline).await.expect("waits");
    assert!(
        third > Duration::ZERO && third <= Duration::from_secs(10),
        "{third:?}"
    );
    // The fourth would wait past the deadline: held, and nothing is taken from any bucket.
    let held = Err(Held {
        bucket: "applications".to_owned(),
    });
    assert_eq!(b.reserve("acct", &limits, deadline).await, held);
    assert_eq!(a.reserve("acct", &limits, deadline).await, held);
    let longer = Duration::from_secs(25);
    let fourth = b.reserve("acct", &limits, longer).await.expect("waits");
    assert!(fourth > Duration::from_secs(10), "{fourth:?}");
    // Another account has its own buckets.
    assert_eq!(
        b.reserve("other", &limits, deadline).await,
        Ok(Duration::ZERO)
    );
    first.close().await;
    second.close().await;
}

#[tokio::test]
async fn concurrent_calls_are_reserved_in_few_round_trips_and_the_limit_holds_in_total() {
    let Some(database) = TestDatabase::create("batched rate limits").await else {
        return;
    };
    let first = PostgresStore::open(&database.url).await.expect("open");
    let second = PostgresStore::open(&database.url).await.expect("open");
    let limiters = [
        std::sync::Arc::new(first.rate_limiter()),
        std::sync::Arc::new(second.rate_limiter()),
    ];
    // One token per 10 s, burst 3: a 25 s deadline admits the burst plus the tokens due in 10
    // and 20 s, whatever the order; the test's own pace cannot refill it.
    let calls: Vec<_> = (0..40)
        .map(|i| {
            let limiter = std::sync::Arc::clone(&limiters[i % 2]);
            tokio::spawn(async move {
                let slow = RateLimit::new(0.1, 3);
                limiter
                    .reserve("acct", &[("applications", &slow)], Duration::from_secs(25))
                    .await
            })
        })
        .collect();
    let mut waits = Vec::new();
    let mut held = 0;
    for call in calls {
        match call.await.expect("joined") {
            Ok(wait) => waits.push(wait),
            Err(Held { bucket }) => {
                assert_eq!(bucket, "applications");
                held += 1;
            }
        }
    }
    waits.sort();
    assert_eq!((waits.len(), held), (5, 35), "{waits:?}");
    let expected = [0, 0, 0, 10, 20];
    for (wait, due) in waits.iter().zip(expected) {
        let due = Duration::from_secs(due);
        assert!(
            *wait <= due && *wait + Duration::from_secs(2) > due,
            "{waits:?}"
        );
    }
    // Forty calls, far fewer trips to the database.
    let round_trips: u64 = limiters.iter().map(|l| l.round_trips()).sum();
    assert!(round_trips < 20, "{round_trips} round trips for 40 calls");
    first.close().await;
    second.close().await;
}

#[tokio::test]
async fn a_batch_serves_its_calls_in_order_and_a_held_call_takes_nothing() {
    let Some(database) = TestDatabase::create("rate limit batch semantics").await else {
        return;
    };
    let store = PostgresStore::open(&database.url).await.expect("open");
    let pool = sqlx::PgPool::connect(&database.url).await.expect("connect");
    // Calls 1–4 on account `a` (bucket `x`: one token per 10 s, burst 1, plus `y` on call 3),
    // call 5 on account `b`. Call 2 may wait 5 s: held by `x`. Call 3 may wait 15 s: it gets
    // the token call 2 did not take. Call 4 may wait 15 s: `x` is 20 s away, held.
    // Buckets, sorted: 1 = (a, x), 2 = (a, y), 3 = (b, x).
    let rows: Vec<(i32, f64, Option<String>)> = sqlx::query_as(
        "SELECT request, wait, held FROM switchboard_take_rate_limits($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(vec!["a", "a", "b"])
    .bind(vec!["x", "y", "x"])
    .bind(vec![0.0, 5.0, 15.0, 15.0, 0.0])
    .bind(vec![1, 2, 3, 3, 4, 5])
    .bind(vec![1, 1, 2, 1, 1, 3])
    .bind(vec![10.0, 10.0, 1.0, 10.0, 10.0, 10.0])
    .bind(vec![1.0, 1.0, 5.0, 1.0, 1.0, 1.0])
    .fetch_all(&pool)
    .await
    .expect("batch");
    let summary: Vec<(i32, bool, Option<String>)> = rows
        .iter()
        .map(|(request, wait, held)| (*request, *wait <= 0.0, held.clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, true, None),
            (2, false, Some("x".to_owned())),
            (3, false, None),
            (4, false, Some("x".to_owned())),
            (5, true, None),
        ]
    );
    let third = rows[2].1;
    assert!(third > 9.0 && third <= 10.0, "{rows:?}");
    // The next call, alone, comes after call 3: `x` is due in 20 s; `y` had tokens to spare.
    let (wait, held): (f64, Option<String>) = sqlx::query_as(
        "SELECT wait, held FROM switchboard_take_rate_limits($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(vec!["a", "a"])
    .bind(vec!["x", "y"])
    .bind(vec![25.0])
    .bind(vec![1, 1])
    .bind(vec![2, 1])
    .bind(vec![1.0, 10.0])
    .bind(vec![5.0, 1.0])
    .fetch_one(&pool)
    .await
    .expect("alone");
    assert_eq!(held, None);
    assert!(wait > 19.0 && wait <= 20.0, "{wait}");
    pool.close().await;
    store.close().await;
}
