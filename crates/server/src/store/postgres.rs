//! The PostgreSQL backend (sqlx): several instances share one database. Migrations are embedded
//! (`migrations/postgres`) and applied in order on open, under an advisory lock so that
//! instances starting together apply each one once.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{PgConnection, Row};

use super::rows::{self, db, json, version_column};
use super::shared_rate_limit::PostgresRateLimiter;
use super::{
    AccountStatus, IdempotencyBegin, LogEntry, LogFilter, Store, StoreError, StoredAccount,
    StoredOAuthTokens, StoredResponse, StoredToken,
};

/// The embedded migrations: version, name, SQL. Append only.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "rate_limits",
        include_str!("../../migrations/postgres/0002_rate_limits.sql"),
    ),
    (
        3,
        "oauth_tokens",
        include_str!("../../migrations/postgres/0003_oauth_tokens.sql"),
    ),
    (
        4,
        "rate_limit_batches",
        include_str!("../../migrations/postgres/0004_rate_limit_batches.sql"),
    ),
];

/// The advisory lock held while migrating (any constant unlikely to be used by others).
const MIGRATION_LOCK: i64 = 0x5357_4254_4348_4442;

/// The most expired idempotency records one request deletes.
const EXPIRED_BATCH: i64 = 100;

/// The most log entries one listing returns.
const MAX_LOG_LIMIT: u32 = 100;

/// The most connections one instance opens.
const MAX_CONNECTIONS: u32 = 16;

/// How long a query waits for a connection before failing (so `/ready` answers promptly while
/// the database is unreachable).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// A store in one PostgreSQL database, shared with other instances.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database `url` names (`postgres://user@host:5432/db`) and migrates it.
    pub async fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await
            .map_err(db("connecting to the database"))?;
        let store = PostgresStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// The provider rate limiter instances on this database share.
    pub fn rate_limiter(&self) -> PostgresRateLimiter {
        PostgresRateLimiter::new(self.pool.clone())
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let action = "migrating";
        let mut transaction = self.pool.begin().await.map_err(db(action))?;
        // Held until the transaction ends: another instance migrating waits, then finds nothing
        // left to apply.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *transaction)
            .await
            .map_err(db(action))?;
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS switchboard_migrations \
             (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
        )
        .execute(&mut *transaction)
        .await
        .map_err(db(action))?;
        let applied: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM switchboard_migrations")
                .fetch_one(&mut *transaction)
                .await
                .map_err(db(action))?;
        for (version, name, sql) in MIGRATIONS.iter().filter(|(v, _, _)| *v > applied) {
            apply(&mut transaction, *version, name, sql).await?;
        }
        transaction.commit().await.map_err(db(action))
    }
}

async fn apply(
    conn: &mut PgConnection,
    version: i64,
    name: &str,
    sql: &str,
) -> Result<(), StoreError> {
    let action = "applying a migration";
    sqlx::raw_sql(sql)
        .execute(&mut *conn)
        .await
        .map_err(db(action))?;
    sqlx::query(
        "INSERT INTO switchboard_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
    )
    .bind(version)
    .bind(name)
    .bind(crate::clock::now_rfc3339())
    .execute(&mut *conn)
    .await
    .map_err(db(action))?;
    Ok(())
}

#[async_trait]
impl Store for PostgresStore {
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
             created_at, updated_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
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
        let row = sqlx::query("SELECT * FROM accounts WHERE id = $1")
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
            "UPDATE accounts SET integration = $1, environment = $2, base_url = $3, context = $4, secret_keys = $5, \
             sealed_secrets = $6, updated_at = $7, status = $8 WHERE id = $9",
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
        let done = sqlx::query("UPDATE accounts SET status = $1 WHERE id = $2")
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
            "UPDATE accounts SET sealed_secrets = $1 WHERE id = $2 AND sealed_secrets = $3",
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
        let done = sqlx::query("DELETE FROM accounts WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db("deleting an account"))?;
        Ok(done.rows_affected() > 0)
    }

    async fn oauth_tokens_load(&self, account: &str) -> Result<StoredOAuthTokens, StoreError> {
        let row = sqlx::query("SELECT version, sealed FROM oauth_tokens WHERE account_id = $1")
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
        // One statement, as on SQLite: a first claim inserts the row at version 0; a later one
        // takes the lease only when the version still matches and no lease is live.
        let done = sqlx::query(
            "INSERT INTO oauth_tokens (account_id, version, sealed, lease_until) VALUES ($1, $2, NULL, $3) \
             ON CONFLICT (account_id) DO UPDATE SET lease_until = excluded.lease_until \
             WHERE oauth_tokens.version = excluded.version \
             AND (oauth_tokens.lease_until IS NULL OR oauth_tokens.lease_until < $4)",
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
            "UPDATE oauth_tokens SET version = version + 1, sealed = $1, lease_until = NULL \
             WHERE account_id = $2 AND version = $3",
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
            "UPDATE oauth_tokens SET lease_until = NULL WHERE account_id = $1 AND version = $2",
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
            "INSERT INTO api_tokens (id, name, hash, scope, accounts, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
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
        let row = sqlx::query("SELECT * FROM api_tokens WHERE hash = $1")
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
        let done = sqlx::query("DELETE FROM api_tokens WHERE id = $1")
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
        let mut transaction = self.pool.begin().await.map_err(db(action))?;
        // Expired records go, a batch at a time: rows another instance is deleting are skipped
        // rather than waited for, so concurrent requests never queue (or deadlock) here.
        sqlx::query(
            "DELETE FROM idempotency WHERE ctid IN (SELECT ctid FROM idempotency \
             WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(now)
        .bind(EXPIRED_BATCH)
        .execute(&mut *transaction)
        .await
        .map_err(db(action))?;
        // This key's record, if expired, goes whoever else is deleting it.
        sqlx::query("DELETE FROM idempotency WHERE scope = $1 AND key = $2 AND expires_at <= $3")
            .bind(scope)
            .bind(key)
            .bind(now)
            .execute(&mut *transaction)
            .await
            .map_err(db(action))?;
        // The first instance to insert the key wins; a concurrent insert of the same key waits
        // for the winner's transaction, then does nothing and reads the winner's record.
        let inserted = sqlx::query(
            "INSERT INTO idempotency (scope, key, fingerprint, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (scope, key) DO NOTHING",
        )
        .bind(scope)
        .bind(key)
        .bind(fingerprint)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *transaction)
        .await
        .map_err(db(action))?;
        let begin = if inserted.rows_affected() == 1 {
            IdempotencyBegin::Started
        } else {
            let row = sqlx::query(
                "SELECT fingerprint, status, headers, body, created_at FROM idempotency WHERE scope = $1 AND key = $2",
            )
            .bind(scope)
            .bind(key)
            .fetch_one(&mut *transaction)
            .await
            .map_err(db(action))?;
            rows::idempotency(&row)?
        };
        transaction.commit().await.map_err(db(action))?;
        Ok(begin)
    }

    async fn idempotency_complete(
        &self,
        scope: &str,
        key: &str,
        response: &StoredResponse,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE idempotency SET status = $1, headers = $2, body = $3, expires_at = $4 WHERE scope = $5 AND key = $6",
        )
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
        sqlx::query("DELETE FROM idempotency WHERE scope = $1 AND key = $2 AND status IS NULL")
            .bind(scope)
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(db("forgetting an idempotency key"))?;
        Ok(())
    }

    async fn insert_logs(&self, entries: &[LogEntry]) -> Result<(), StoreError> {
        let action = "writing the request log";
        if entries.is_empty() {
            return Ok(());
        }
        let columns = LogColumns::of(entries);
        // One statement, its own transaction, for the whole batch; rows keep the batch's order,
        // and so its ids. `set_config(…, true)` lasts until that transaction ends: the log does
        // not wait for its commit to reach the disk. A database crash may so lose the last
        // fraction of a second of entries (whole committed batches, never a torn row), which
        // the log already allows for (a full queue drops entries, a crashed instance loses what
        // it had not written). Nothing else commits in this transaction: idempotency records and
        // credentials stay durable.
        sqlx::query(
            "WITH no_flush_wait AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true)) \
             INSERT INTO request_log (time, request_id, method, path, integration, integrated_account_id, resource, \
             unified_method, status, duration_ms, exchanges) \
             SELECT entry.* FROM no_flush_wait, UNNEST($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], \
             $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::BIGINT[], $10::BIGINT[], $11::TEXT[]) AS entry",
        )
        .bind(&columns.time)
        .bind(&columns.request_id)
        .bind(&columns.method)
        .bind(&columns.path)
        .bind(&columns.integration)
        .bind(&columns.integrated_account_id)
        .bind(&columns.resource)
        .bind(&columns.unified_method)
        .bind(&columns.status)
        .bind(&columns.duration_ms)
        .bind(&columns.exchanges)
        .execute(&self.pool)
        .await
        .map_err(db(action))?;
        Ok(())
    }

    async fn prune_log(&self, older_than: &str, max_rows: u64) -> Result<u64, StoreError> {
        // One round trip (the writer prunes after every batch), without waiting for the disk,
        // as the log's inserts. Ids only grow, so the newest `max_rows` are those above the
        // highest id minus `max_rows` (fewer when ids have gaps): a range delete on the primary
        // key. A row both old and in excess is deleted (and counted) once.
        let pruned: i64 = sqlx::query_scalar(
            "WITH no_flush_wait AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true)), \
             old AS (DELETE FROM request_log WHERE time < $1 RETURNING 1), \
             excess AS (DELETE FROM request_log WHERE id <= (SELECT MAX(id) FROM request_log) - $2 RETURNING 1) \
             SELECT (SELECT COUNT(*) FROM old) + (SELECT COUNT(*) FROM excess) FROM no_flush_wait",
        )
        .bind(older_than)
        .bind(i64::try_from(max_rows).unwrap_or(i64::MAX))
        .fetch_one(&self.pool)
        .await
        .map_err(db("pruning the request log"))?;
        Ok(u64::try_from(pruned).unwrap_or_default())
    }

    async fn list_log(&self, filter: &LogFilter) -> Result<Vec<LogEntry>, StoreError> {
        let limit = filter.limit.clamp(1, MAX_LOG_LIMIT);
        let rows = sqlx::query(
            "SELECT * FROM request_log WHERE ($1::BIGINT IS NULL OR id < $1) \
             AND ($2::TEXT IS NULL OR integrated_account_id = $2) ORDER BY id DESC LIMIT $3",
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

/// Log entries as columns, for one `INSERT … SELECT * FROM UNNEST(…)`.
struct LogColumns<'a> {
    time: Vec<&'a str>,
    request_id: Vec<&'a str>,
    method: Vec<&'a str>,
    path: Vec<&'a str>,
    integration: Vec<Option<&'a str>>,
    integrated_account_id: Vec<Option<&'a str>>,
    resource: Vec<Option<&'a str>>,
    unified_method: Vec<Option<&'a str>>,
    status: Vec<i64>,
    duration_ms: Vec<i64>,
    exchanges: Vec<String>,
}

impl<'a> LogColumns<'a> {
    fn of(entries: &'a [LogEntry]) -> LogColumns<'a> {
        LogColumns {
            time: entries.iter().map(|e| e.time.as_str()).collect(),
            request_id: entries.iter().map(|e| e.request_id.as_str()).collect(),
            method: entries.iter().map(|e| e.method.as_str()).collect(),
            path: entries.iter().map(|e| e.path.as_str()).collect(),
            integration: entries.iter().map(|e| e.integration.as_deref()).collect(),
            integrated_account_id: entries
                .iter()
                .map(|e| e.integrated_account_id.as_deref())
                .collect(),
            resource: entries.iter().map(|e| e.resource.as_deref()).collect(),
            unified_method: entries
                .iter()
                .map(|e| e.unified_method.as_deref())
                .collect(),
            status: entries.iter().map(|e| i64::from(e.status)).collect(),
            duration_ms: entries
                .iter()
                .map(|e| i64::try_from(e.duration_ms).unwrap_or(i64::MAX))
                .collect(),
            exchanges: entries.iter().map(|e| json(&e.exchanges)).collect(),
        }
    }
}
