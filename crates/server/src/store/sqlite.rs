//! The SQLite backend (sqlx): a file created on first open, or `sqlite::memory:` for tests.
//! Migrations are embedded and applied in order on open.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Row, SqliteConnection};

use crate::private_file;

use super::rows::{self, INSERT_LOG_ROWS, db, json, version_column};
use super::{
    AccountStatus, IdempotencyBegin, LogEntry, LogFilter, Store, StoreError, StoredAccount,
    StoredOAuthTokens, StoredResponse, StoredToken,
};

/// The embedded migrations: version, name, SQL. Append only.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "token_scopes_and_log_retention",
        include_str!("../../migrations/sqlite/0002_token_scopes_and_log_retention.sql"),
    ),
    (
        3,
        "account_status",
        include_str!("../../migrations/sqlite/0003_account_status.sql"),
    ),
    (
        4,
        "oauth_tokens",
        include_str!("../../migrations/sqlite/0004_oauth_tokens.sql"),
    ),
];

/// The most log entries one listing returns.
const MAX_LOG_LIMIT: u32 = 100;

/// A store in one SQLite database.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

/// The file behind a `sqlite:` URL, or `None` for a memory database.
pub(super) fn database_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" || url.contains("mode=memory") {
        None
    } else {
        Some(PathBuf::from(path))
    }
}

impl SqliteStore {
    /// Opens (creating when absent) and migrates the database `url` names.
    pub async fn open(url: &str) -> Result<SqliteStore, StoreError> {
        let file = database_file(url);
        if let Some(path) = &file {
            create_private(path)?;
        }
        let memory = file.is_none();
        let options = SqliteConnectOptions::from_str(url)
            .map_err(db("parsing the database URL"))?
            .create_if_missing(true)
            .foreign_keys(true);
        let pool = if memory {
            // Every connection to `:memory:` is its own database: keep exactly one, forever.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
        } else {
            connect_file(options.journal_mode(SqliteJournalMode::Wal)).await
        }
        .map_err(db("opening the database"))?;
        let store = SqliteStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db("migrating"))?;
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS switchboard_migrations \
             (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
        )
        .execute(&mut *conn)
        .await
        .map_err(db("migrating"))?;
        let applied: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM switchboard_migrations")
                .fetch_one(&mut *conn)
                .await
                .map_err(db("migrating"))?;
        for (version, name, sql) in MIGRATIONS.iter().filter(|(v, _, _)| *v > applied) {
            apply(&mut conn, *version, name, sql).await?;
        }
        Ok(())
    }
}

/// Opens the pool of a database file. Switching a new file to WAL takes a lock that SQLite's busy
/// handler does not wait for, so when several processes open one new file at once (the server
/// and a CLI command, say) the losers see "database is locked": they try again, a few times.
async fn connect_file(options: SqliteConnectOptions) -> Result<SqlitePool, sqlx::Error> {
    const ATTEMPTS: u32 = 10;
    let mut attempt = 1;
    loop {
        match SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone())
            .await
        {
            Err(sqlx::Error::Database(e)) if is_busy(e.as_ref()) && attempt < ATTEMPTS => {
                tokio::time::sleep(std::time::Duration::from_millis(20 * u64::from(attempt))).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// Whether SQLite answered `SQLITE_BUSY` (5) or `SQLITE_LOCKED` (6).
fn is_busy(error: &dyn sqlx::error::DatabaseError) -> bool {
    matches!(error.code().as_deref(), Some("5" | "6"))
}

/// Creates the database file readable and writable by its owner only (0600) when it does not
/// exist yet, before SQLite opens it: SQLite gives the `-wal` and `-shm` files it creates the
/// database file's mode. An existing file keeps its mode; a warning says when others can read it.
fn create_private(path: &Path) -> Result<(), StoreError> {
    match private_file::create_new(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            private_file::warn_when_shared(path, "the database file (and its -wal, -shm files)");
            Ok(())
        }
        Err(e) => Err(StoreError::Database {
            action: "creating the database file",
            message: format!("`{}`: {e}", path.display()),
        }),
    }
}

async fn apply(
    conn: &mut SqliteConnection,
    version: i64,
    name: &str,
    sql: &str,
) -> Result<(), StoreError> {
    let action = "applying a migration";
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut *conn)
        .await
        .map_err(db(action))?;
    let result = async {
        // Read again under the write lock: another process opening the same file may have
        // applied this version since the list of pending ones was read.
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT version FROM switchboard_migrations WHERE version = ?")
                .bind(version)
                .fetch_optional(&mut *conn)
                .await?;
        if applied.is_some() {
            return Ok(());
        }
        sqlx::raw_sql(sql).execute(&mut *conn).await?;
        sqlx::query(
            "INSERT INTO switchboard_migrations (version, name, applied_at) VALUES (?, ?, ?)",
        )
        .bind(version)
        .bind(name)
        .bind(crate::clock::now_rfc3339())
        .execute(&mut *conn)
        .await?;
        Ok::<_, sqlx::Error>(())
    }
    .await;
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    sqlx::raw_sql(end)
        .execute(&mut *conn)
        .await
        .map_err(db(action))?;
    result.map_err(db(action))
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db("pinging"))?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn insert_account(&self, a: &StoredAccount) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO accounts (id, integration, environment, base_url, context, secret_keys, sealed_secrets, \
             created_at, updated_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&a.id)
        .bind(&a.integration)
        .bind(&a.environment)
        .bind(&a.base_url)
        .bind(json(&a.context))
        .bind(json(&a.secret_keys))
        .bind(&a.sealed_secrets)
        .bind(&a.created_at)
        .bind(&a.updated_at)
        .bind(a.status.as_str())
        .execute(&self.pool)
        .await
        .map_err(db("inserting an account"))?;
        Ok(())
    }

    async fn get_account(&self, id: &str) -> Result<Option<StoredAccount>, StoreError> {
        let row = sqlx::query("SELECT * FROM accounts WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading an account"))?;
        row.as_ref().map(rows::account).transpose()
    }

    async fn list_accounts(&self) -> Result<Vec<StoredAccount>, StoreError> {
        let rows = sqlx::query("SELECT * FROM accounts ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await
            .map_err(db("listing accounts"))?;
        rows.iter().map(rows::account).collect()
    }

    async fn update_account(&self, a: &StoredAccount) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE accounts SET integration = ?, environment = ?, base_url = ?, context = ?, secret_keys = ?, \
             sealed_secrets = ?, updated_at = ?, status = ? WHERE id = ?",
        )
        .bind(&a.integration)
        .bind(&a.environment)
        .bind(&a.base_url)
        .bind(json(&a.context))
        .bind(json(&a.secret_keys))
        .bind(&a.sealed_secrets)
        .bind(&a.updated_at)
        .bind(a.status.as_str())
        .bind(&a.id)
        .execute(&self.pool)
        .await
        .map_err(db("updating an account"))?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_account_status(
        &self,
        id: &str,
        status: AccountStatus,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE accounts SET status = ? WHERE id = ?")
            .bind(status.as_str())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db("updating an account's status"))?;
        Ok(done.rows_affected() > 0)
    }

    async fn replace_sealed_secrets(
        &self,
        id: &str,
        current: &[u8],
        sealed: &[u8],
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE accounts SET sealed_secrets = ? WHERE id = ? AND sealed_secrets = ?",
        )
        .bind(sealed)
        .bind(id)
        .bind(current)
        .execute(&self.pool)
        .await
        .map_err(db("sealing an account's credentials again"))?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_account(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM accounts WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db("deleting an account"))?;
        Ok(done.rows_affected() > 0)
    }

    async fn oauth_tokens_load(&self, account: &str) -> Result<StoredOAuthTokens, StoreError> {
        let row = sqlx::query("SELECT version, sealed FROM oauth_tokens WHERE account_id = ?")
            .bind(account)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading oauth tokens"))?;
        let Some(row) = row else {
            return Ok(StoredOAuthTokens::default());
        };
        let version: i64 = row.try_get("version").map_err(db("reading oauth tokens"))?;
        Ok(StoredOAuthTokens {
            version: u64::try_from(version).unwrap_or_default(),
            sealed: row.try_get("sealed").map_err(db("reading oauth tokens"))?,
        })
    }

    async fn oauth_tokens_claim(
        &self,
        account: &str,
        version: u64,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        // One statement: a first claim inserts the row at version 0; a later one takes the lease
        // only when the version still matches and no lease is live.
        let done = sqlx::query(
            "INSERT INTO oauth_tokens (account_id, version, sealed, lease_until) VALUES (?, ?, NULL, ?) \
             ON CONFLICT (account_id) DO UPDATE SET lease_until = excluded.lease_until \
             WHERE oauth_tokens.version = excluded.version \
             AND (oauth_tokens.lease_until IS NULL OR oauth_tokens.lease_until < ?)",
        )
        .bind(account)
        .bind(version_column(version))
        .bind(until)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db("claiming an oauth renewal"))?;
        Ok(done.rows_affected() > 0)
    }

    async fn oauth_tokens_save(
        &self,
        account: &str,
        version: u64,
        sealed: &[u8],
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE oauth_tokens SET version = version + 1, sealed = ?, lease_until = NULL \
             WHERE account_id = ? AND version = ?",
        )
        .bind(sealed)
        .bind(account)
        .bind(version_column(version))
        .execute(&self.pool)
        .await
        .map_err(db("storing oauth tokens"))?;
        Ok(done.rows_affected() > 0)
    }

    async fn oauth_tokens_release(&self, account: &str, version: u64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE oauth_tokens SET lease_until = NULL WHERE account_id = ? AND version = ?",
        )
        .bind(account)
        .bind(version_column(version))
        .execute(&self.pool)
        .await
        .map_err(db("releasing an oauth renewal"))?;
        Ok(())
    }

    async fn insert_token(&self, t: &StoredToken) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_tokens (id, name, hash, scope, accounts, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&t.id)
        .bind(&t.name)
        .bind(&t.hash)
        .bind(t.scope.as_str())
        .bind(json(&t.accounts))
        .bind(&t.created_at)
            .execute(&self.pool)
            .await
            .map_err(db("inserting a token"))?;
        Ok(())
    }

    async fn find_token(&self, hash: &str) -> Result<Option<StoredToken>, StoreError> {
        let row = sqlx::query("SELECT * FROM api_tokens WHERE hash = ?")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading a token"))?;
        row.as_ref().map(rows::token).transpose()
    }

    async fn list_tokens(&self) -> Result<Vec<StoredToken>, StoreError> {
        let rows = sqlx::query("SELECT * FROM api_tokens ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await
            .map_err(db("listing tokens"))?;
        rows.iter().map(rows::token).collect()
    }

    async fn delete_token(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM api_tokens WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db("deleting a token"))?;
        Ok(done.rows_affected() > 0)
    }

    async fn idempotency_begin(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<IdempotencyBegin, StoreError> {
        let action = "recording an idempotency key";
        sqlx::query("DELETE FROM idempotency WHERE expires_at <= ?")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db(action))?;
        // Insert-if-absent is one statement, so two instances cannot both start the same key.
        for _ in 0..3 {
            let inserted = sqlx::query(
                "INSERT INTO idempotency (scope, key, fingerprint, created_at, expires_at) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT (scope, key) DO NOTHING",
            )
            .bind(scope)
            .bind(key)
            .bind(fingerprint)
            .bind(now)
            .bind(expires_at)
            .execute(&self.pool)
            .await
            .map_err(db(action))?;
            if inserted.rows_affected() == 1 {
                return Ok(IdempotencyBegin::Started);
            }
            let row = sqlx::query("SELECT fingerprint, status, headers, body, created_at FROM idempotency WHERE scope = ? AND key = ?")
                .bind(scope)
                .bind(key)
                .fetch_optional(&self.pool)
                .await
                .map_err(db(action))?;
            if let Some(row) = row {
                return rows::idempotency(&row);
            }
        }
        Err(StoreError::Database {
            action,
            message: "the record changed under us three times".to_owned(),
        })
    }

    async fn idempotency_complete(
        &self,
        scope: &str,
        key: &str,
        response: &StoredResponse,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE idempotency SET status = ?, headers = ?, body = ?, expires_at = ? WHERE scope = ? AND key = ?")
            .bind(i64::from(response.status))
            .bind(json(&response.headers))
            .bind(&response.body)
            .bind(expires_at)
            .bind(scope)
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(db("storing an idempotent response"))?;
        Ok(())
    }

    async fn idempotency_abandon(&self, scope: &str, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM idempotency WHERE scope = ? AND key = ? AND status IS NULL")
            .bind(scope)
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(db("forgetting an idempotency key"))?;
        Ok(())
    }

    async fn insert_logs(&self, entries: &[LogEntry]) -> Result<(), StoreError> {
        let action = "writing the request log";
        let mut transaction = self.pool.begin().await.map_err(db(action))?;
        // One statement per chunk of rows, not one per row: a batch costs a few round trips to
        // the database, not hundreds, and the few chunk sizes keep their statements prepared.
        for chunk in rows::log_chunks(entries) {
            let mut insert = sqlx::QueryBuilder::new(INSERT_LOG_ROWS);
            insert.push_values(chunk, |mut row, e| {
                row.push_bind(&e.time)
                    .push_bind(&e.request_id)
                    .push_bind(&e.method)
                    .push_bind(&e.path)
                    .push_bind(&e.integration)
                    .push_bind(&e.integrated_account_id)
                    .push_bind(&e.resource)
                    .push_bind(&e.unified_method)
                    .push_bind(i64::from(e.status))
                    .push_bind(i64::try_from(e.duration_ms).unwrap_or(i64::MAX))
                    .push_bind(json(&e.exchanges));
            });
            insert
                .build()
                .execute(&mut *transaction)
                .await
                .map_err(db(action))?;
        }
        transaction.commit().await.map_err(db(action))
    }

    async fn prune_log(&self, older_than: &str, max_rows: u64) -> Result<u64, StoreError> {
        let action = "pruning the request log";
        let old = sqlx::query("DELETE FROM request_log WHERE time < ?")
            .bind(older_than)
            .execute(&self.pool)
            .await
            .map_err(db(action))?;
        // Ids only grow, so the newest `max_rows` are those above the highest id minus
        // `max_rows` (fewer when ids have gaps): a range delete on the primary key.
        let excess = sqlx::query(
            "DELETE FROM request_log WHERE id <= (SELECT MAX(id) FROM request_log) - ?",
        )
        .bind(i64::try_from(max_rows).unwrap_or(i64::MAX))
        .execute(&self.pool)
        .await
        .map_err(db(action))?;
        Ok(old.rows_affected() + excess.rows_affected())
    }

    async fn list_log(&self, filter: &LogFilter) -> Result<Vec<LogEntry>, StoreError> {
        let limit = filter.limit.clamp(1, MAX_LOG_LIMIT);
        let rows = sqlx::query(
            "SELECT * FROM request_log WHERE (?1 IS NULL OR id < ?1) AND (?2 IS NULL OR integrated_account_id = ?2) \
             ORDER BY id DESC LIMIT ?3",
        )
        .bind(filter.before)
        .bind(&filter.integrated_account_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading the request log"))?;
        rows.iter().map(rows::log_entry).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::TokenScope;

    #[test]
    fn database_files_are_found_in_urls() {
        assert_eq!(
            database_file("sqlite:switchboard.db"),
            Some(PathBuf::from("switchboard.db"))
        );
        assert_eq!(
            database_file("sqlite://data/s.db?mode=rwc"),
            Some(PathBuf::from("data/s.db"))
        );
        assert_eq!(
            database_file("sqlite:///abs/s.db"),
            Some(PathBuf::from("/abs/s.db"))
        );
        assert_eq!(database_file("sqlite::memory:"), None);
        assert_eq!(database_file("postgres://x"), None);
    }

    fn temp_dir(name: &str) -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("switchboard-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    fn entry(time: &str) -> LogEntry {
        LogEntry {
            id: 0,
            time: time.to_owned(),
            request_id: "r".into(),
            method: "POST".into(),
            path: "/unified/ats/candidates".into(),
            integration: None,
            integrated_account_id: None,
            resource: None,
            unified_method: None,
            status: 201,
            duration_ms: 1,
            exchanges: Vec::new(),
        }
    }

    #[tokio::test]
    async fn openers_of_a_new_database_at_once_migrate_it_once() {
        let dir = temp_dir("concurrent-migrations");
        let url = format!("sqlite:{}", dir.join("s.db").display());
        // Each opener on a thread and runtime of its own, as separate processes would be.
        let start = std::sync::Arc::new(std::sync::Barrier::new(4));
        let openers: Vec<_> = (0..4)
            .map(|_| {
                let (url, start) = (url.clone(), start.clone());
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime");
                    start.wait();
                    runtime.block_on(SqliteStore::open(&url)).map(|_| ())
                })
            })
            .collect();
        for opener in openers {
            opener.join().expect("joined").expect("opens and migrates");
        }
        let store = SqliteStore::open(&url).await.expect("open");
        let versions: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM switchboard_migrations ORDER BY version")
                .fetch_all(&store.pool)
                .await
                .expect("versions");
        let expected: Vec<i64> = MIGRATIONS.iter().map(|(v, _, _)| *v).collect();
        assert_eq!(versions, expected);
    }

    /// A database at `url` with only its first `count` migrations applied, as an older release
    /// left it; the pool and a connection to add old rows with.
    async fn migrated_up_to(
        url: &str,
        count: usize,
    ) -> (SqlitePool, sqlx::pool::PoolConnection<sqlx::Sqlite>) {
        let options = SqliteConnectOptions::from_str(url)
            .expect("url")
            .create_if_missing(true);
        let pool = SqlitePool::connect_with(options).await.expect("connect");
        sqlx::raw_sql(
            "CREATE TABLE switchboard_migrations \
             (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
        )
        .execute(&pool)
        .await
        .expect("table");
        let mut conn = pool.acquire().await.expect("conn");
        for (version, name, sql) in &MIGRATIONS[..count] {
            apply(&mut conn, *version, name, sql)
                .await
                .expect("migration");
        }
        (pool, conn)
    }

    #[tokio::test]
    async fn tokens_made_before_scopes_become_admin() {
        let dir = temp_dir("scopes");
        let url = format!("sqlite:{}", dir.join("s.db").display());
        {
            let (pool, mut conn) = migrated_up_to(&url, 1).await;
            sqlx::query("INSERT INTO api_tokens (id, name, hash, created_at) VALUES ('t', 'old', 'h', 'now')")
                .execute(&mut *conn)
                .await
                .expect("old token");
            drop(conn);
            pool.close().await;
        }
        let store = SqliteStore::open(&url).await.expect("migrates");
        let token = store.find_token("h").await.expect("find").expect("kept");
        assert_eq!(token.scope, TokenScope::Admin);
        assert!(token.accounts.is_empty());
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn accounts_made_before_statuses_are_active_and_a_status_can_be_set() {
        let dir = temp_dir("statuses");
        let url = format!("sqlite:{}", dir.join("s.db").display());
        {
            let (pool, mut conn) = migrated_up_to(&url, 2).await;
            sqlx::query(
                "INSERT INTO accounts (id, integration, context, secret_keys, sealed_secrets, \
                 created_at, updated_at) VALUES ('a', 'acme', '{}', '[]', x'00', 'now', 'now')",
            )
            .execute(&mut *conn)
            .await
            .expect("old account");
            drop(conn);
            pool.close().await;
        }
        let store = SqliteStore::open(&url).await.expect("migrates");
        let account = store.get_account("a").await.expect("get").expect("kept");
        assert_eq!(account.status, AccountStatus::Active);
        assert!(
            store
                .set_account_status("a", AccountStatus::NeedsReauth)
                .await
                .expect("set")
        );
        let account = store.get_account("a").await.expect("get").expect("kept");
        assert_eq!(account.status, AccountStatus::NeedsReauth);
        assert!(
            !store
                .set_account_status("nope", AccountStatus::Active)
                .await
                .expect("set")
        );
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_database_and_its_wal_and_shm_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("modes");
        let db = dir.join("s.db");
        let store = SqliteStore::open(&format!("sqlite:{}", db.display()))
            .await
            .expect("open");
        store
            .insert_log(&entry("2024-01-01T00:00:00Z"))
            .await
            .expect("write");
        for name in ["s.db", "s.db-wal", "s.db-shm"] {
            let mode = std::fs::metadata(dir.join(name))
                .unwrap_or_else(|e| panic!("{name}: {e}"))
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
