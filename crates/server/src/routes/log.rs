//! `GET /log`: the request log of unified calls, newest first. Entries hold no bodies and no
//! credentials: time, request id, method, path, integration, account, status, duration, and
//! each provider exchange's step, method, URL and status.
//!
//! Query: `limit` (1–100, default 50; outside is a 400), `integrated_account_id`, `next_cursor` (from the previous
//! page).

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use serde_json::{Value, json};

use crate::envelope::ApiError;
use crate::query;
use crate::state::AppState;
use crate::store::LogFilter;

/// The default page size.
const DEFAULT_LIMIT: u32 = 50;
/// The largest page size.
const MAX_LIMIT: u32 = 100;

/// `GET /log`: `{result: [...], next_cursor}`.
pub(crate) async fn list(State(state): State<AppState>, uri: Uri) -> Result<Json<Value>, ApiError> {
    let query = query::read(&uri)?;
    // Whole numbers of at most 18 digits, as the OpenAPI document declares them.
    let number = |name: &str| -> Result<Option<i64>, ApiError> {
        let invalid = || {
            ApiError::bad_request(
                "invalid_query",
                format!("`{name}` must be a whole number of at most 18 digits"),
            )
        };
        match query.get(name) {
            None => Ok(None),
            Some(Value::String(text))
                if (1..=18).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()) =>
            {
                text.parse::<i64>().map(Some).map_err(|_| invalid())
            }
            Some(_) => Err(invalid()),
        }
    };
    let limit = match number("limit")? {
        None => DEFAULT_LIMIT,
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_query",
                    format!("`limit` must be from 1 to {MAX_LIMIT}"),
                )
            })?,
    };
    let filter = LogFilter {
        limit,
        before: number("next_cursor")?,
        integrated_account_id: query
            .get("integrated_account_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
    };
    let entries = state.inner.store.list_log(&filter).await?;
    let next = if entries.len() == limit as usize {
        entries.last().map(|e| e.id.to_string())
    } else {
        None
    };
    let count = entries.len();
    Ok(Json(
        json!({"result": entries, "result_count": count, "next_cursor": next}),
    ))
}
