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
