//! One store test suite, run against every backend: SQLite (in memory) and PostgreSQL (a
//! database of its own per test on `SWITCHBOARD_TEST_POSTGRES_URL`; skipped, with a message,
//! when none is reachable outside CI).

#[path = "../support/postgres.rs"]
mod postgres;

mod accounts;
mod idempotency;
mod oauth_tokens;
mod rate_limits;
mod request_log;
mod tokens;

use std::sync::Arc;

use postgres::TestDatabase;
use switchboard_server::Store;

/// A store under test; keeps its PostgreSQL database alive.
pub(crate) struct Backend {
    /// `sqlite` or `postgres`, for assertion messages.
    pub(crate) name: &'static str,
    /// The store.
    pub(crate) store: Arc<dyn Store>,
    /// The URL it was opened with (to open it again).
    pub(crate) url: String,
    _database: Option<TestDatabase>,
}

/// Every backend this machine can run, each with an empty store.
pub(crate) async fn backends(test: &str) -> Vec<Backend> {
    let sqlite_url = "sqlite::memory:".to_owned();
    let mut all = vec![Backend {
        name: "sqlite",
        store: switchboard_server::open_store(&sqlite_url)
            .await
            .expect("open sqlite"),
        url: sqlite_url,
        _database: None,
    }];
    if let Some(database) = TestDatabase::create(test).await {
        all.push(Backend {
            name: "postgres",
            store: switchboard_server::open_store(&database.url)
                .await
                .expect("open postgres"),
            url: database.url.clone(),
            _database: Some(database),
        });
    }
    all
}
