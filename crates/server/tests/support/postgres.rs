//! A PostgreSQL database of its own for a test, created on the server
//! `SWITCHBOARD_TEST_POSTGRES_URL` names and dropped when the test ends. With no such server the
//! test prints that it was skipped, except under CI (env `CI` set), where it fails.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// The variable naming the PostgreSQL server tests may create databases on.
pub(crate) const POSTGRES_URL_ENV: &str = "SWITCHBOARD_TEST_POSTGRES_URL";

/// A database created for one test; dropped (connections closed by force) on drop.
pub(crate) struct TestDatabase {
    /// Its URL.
    pub(crate) url: String,
    admin_url: String,
    name: String,
}

impl TestDatabase {
    /// A fresh, empty database, or `None` (after printing why) when no PostgreSQL server is
    /// configured or reachable outside CI. `test` names the test for the message.
    pub(crate) async fn create(test: &str) -> Option<TestDatabase> {
        let under_ci = std::env::var_os("CI").is_some();
        let Ok(admin_url) = std::env::var(POSTGRES_URL_ENV) else {
            assert!(!under_ci, "{POSTGRES_URL_ENV} must be set under CI");
            eprintln!("skipped {test} on PostgreSQL: {POSTGRES_URL_ENV} is not set");
            return None;
        };
        let mut admin = match PgConnection::connect(&admin_url).await {
            Ok(conn) => conn,
            Err(error) => {
                assert!(
                    !under_ci,
                    "PostgreSQL at {POSTGRES_URL_ENV} is unreachable: {error}"
                );
                eprintln!("skipped {test} on PostgreSQL: unreachable ({error})");
                return None;
            }
        };
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "switchboard_test_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create the test database");
        let _ = admin.close().await;
        let mut url = url::Url::parse(&admin_url).expect("a PostgreSQL URL");
        url.set_path(&name);
        Some(TestDatabase {
            url: url.to_string(),
            admin_url,
            name,
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime: use a runtime of its own on another thread.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await?;
                sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test database {}", self.name);
        }
    }
}
