//! Reading stored rows back, the same way for every backend: the columns have the same names and
//! kinds (text, bytes, 64-bit integers) in SQLite and PostgreSQL.

use serde_json::{Map, Value};
use sqlx::{ColumnIndex, Decode, Row, Type};

use super::{
    AccountStatus, IdempotencyBegin, LogEntry, StoreError, StoredAccount, StoredResponse,
    StoredToken,
};

/// Maps a driver error to a [`StoreError`] naming what the store was doing.
pub(super) fn db(action: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| StoreError::Database {
        action,
        message: e.to_string(),
    }
}

/// Maps a JSON error to a [`StoreError::Corrupt`] naming what was stored.
pub(super) fn corrupt(what: &'static str) -> impl Fn(serde_json::Error) -> StoreError {
    move |e| StoreError::Corrupt {
        what,
        message: e.to_string(),
    }
}

/// The start of a multi-row insert into the request log; the values follow.
pub(super) const INSERT_LOG_ROWS: &str = "INSERT INTO request_log (time, request_id, method, path, integration, \
     integrated_account_id, resource, unified_method, status, duration_ms, exchanges) ";

/// The most request-log rows one insert statement carries: 11 parameters a row stays far below
/// both databases' limits on parameters in one statement (SQLite 32,766, PostgreSQL 65,535).
pub(super) const LOG_ROWS_PER_INSERT: usize = 256;

/// `entries` cut, in order, into pieces of [`LOG_ROWS_PER_INSERT`] rows and then of halving
/// powers of two: one multi-row insert each, and as its statement depends only on its row count,
/// at most nine distinct statements, each prepared once and kept.
pub(super) fn log_chunks<T>(mut entries: &[T]) -> impl Iterator<Item = &[T]> {
    let mut size = LOG_ROWS_PER_INSERT;
    std::iter::from_fn(move || {
        if entries.is_empty() {
            return None;
        }
        while size > entries.len() {
            size /= 2;
        }
        let (chunk, rest) = entries.split_at(size);
        entries = rest;
        Some(chunk)
    })
}

/// A token record's version as the databases store it (a signed 64-bit integer).
pub(super) fn version_column(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(i64::MAX)
}

/// The JSON text stored for a value.
pub(super) fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// One column of `row`, decoded; a failure names `action`.
fn column<'r, R, T>(row: &'r R, name: &str, action: &'static str) -> Result<T, StoreError>
where
    R: Row,
    T: Decode<'r, R::Database> + Type<R::Database>,
    for<'n> &'n str: ColumnIndex<R>,
{
    row.try_get(name).map_err(db(action))
}

/// An `accounts` row.
pub(super) fn account<R>(row: &R) -> Result<StoredAccount, StoreError>
where
    R: Row,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    for<'n> &'n str: ColumnIndex<R>,
{
    let action = "reading an account";
    let text = |name: &str| column::<R, String>(row, name, action);
    let context: Map<String, Value> =
        serde_json::from_str(&text("context")?).map_err(corrupt("account context"))?;
    let secret_keys: Vec<String> =
        serde_json::from_str(&text("secret_keys")?).map_err(corrupt("account secret names"))?;
    Ok(StoredAccount {
        id: text("id")?,
        integration: text("integration")?,
        environment: column(row, "environment", action)?,
        base_url: column(row, "base_url", action)?,
        context,
        secret_keys,
        sealed_secrets: column(row, "sealed_secrets", action)?,
        created_at: text("created_at")?,
        updated_at: text("updated_at")?,
        status: AccountStatus::parse(&text("status")?).ok_or_else(|| StoreError::Corrupt {
            what: "account status",
            message: "not `active` or `needs_reauth`".to_owned(),
        })?,
    })
}

/// An `api_tokens` row.
pub(super) fn token<R>(row: &R) -> Result<StoredToken, StoreError>
where
    R: Row,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'n> &'n str: ColumnIndex<R>,
{
    let text = |name: &str| column::<R, String>(row, name, "reading a token");
    let scope = text("scope")?
        .parse()
        .map_err(|message| StoreError::Corrupt {
            what: "token scope",
            message,
        })?;
    let accounts: Vec<String> =
        serde_json::from_str(&text("accounts")?).map_err(corrupt("token accounts"))?;
    Ok(StoredToken {
        id: text("id")?,
        name: text("name")?,
        hash: text("hash")?,
        scope,
        accounts,
        created_at: text("created_at")?,
    })
}

/// A `request_log` row.
pub(super) fn log_entry<R>(row: &R) -> Result<LogEntry, StoreError>
where
    R: Row,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'n> &'n str: ColumnIndex<R>,
{
    let action = "reading the request log";
    let exchanges: String = column(row, "exchanges", action)?;
    Ok(LogEntry {
        id: column(row, "id", action)?,
        time: column(row, "time", action)?,
        request_id: column(row, "request_id", action)?,
        method: column(row, "method", action)?,
        path: column(row, "path", action)?,
        integration: column(row, "integration", action)?,
        integrated_account_id: column(row, "integrated_account_id", action)?,
        resource: column(row, "resource", action)?,
        unified_method: column(row, "unified_method", action)?,
        status: u16::try_from(column::<R, i64>(row, "status", action)?).unwrap_or(0),
        duration_ms: u64::try_from(column::<R, i64>(row, "duration_ms", action)?).unwrap_or(0),
        exchanges: serde_json::from_str(&exchanges).map_err(corrupt("log exchanges"))?,
    })
}

/// An `idempotency` row (`fingerprint, status, headers, body, created_at`): in progress while
/// its status is null, else completed.
pub(super) fn idempotency<R>(row: &R) -> Result<IdempotencyBegin, StoreError>
where
    R: Row,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<Vec<u8>>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
    for<'n> &'n str: ColumnIndex<R>,
{
    let action = "reading an idempotency record";
    let fingerprint: String = column(row, "fingerprint", action)?;
    let Some(status) = column::<R, Option<i64>>(row, "status", action)? else {
        return Ok(IdempotencyBegin::InProgress {
            fingerprint,
            started_at: column(row, "created_at", action)?,
        });
    };
    let headers: Option<String> = column(row, "headers", action)?;
    let headers = serde_json::from_str(headers.as_deref().unwrap_or("[]"))
        .map_err(corrupt("idempotency headers"))?;
    let body: Option<Vec<u8>> = column(row, "body", action)?;
    Ok(IdempotencyBegin::Completed {
        fingerprint,
        response: StoredResponse {
            status: u16::try_from(status).unwrap_or(500),
            headers,
            body: body.unwrap_or_default(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_chunks_cover_the_rows_in_order_with_few_distinct_sizes() {
        let rows: Vec<usize> = (0..1000).collect();
        let sizes: Vec<usize> = log_chunks(&rows).map(<[usize]>::len).collect();
        assert_eq!(sizes, [256, 256, 256, 128, 64, 32, 8]);
        let joined: Vec<usize> = log_chunks(&rows).flatten().copied().collect();
        assert_eq!(joined, rows);
        assert_eq!(log_chunks::<usize>(&[]).count(), 0);
        assert_eq!(log_chunks(&[7]).collect::<Vec<_>>(), [&[7][..]]);
    }
}
