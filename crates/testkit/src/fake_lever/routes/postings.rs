//! `/v1/postings`: the list (Lever's `limit` / `offset` paging, `{data, hasNext, next}`), one
//! posting, and a posting's application form (`GET /v1/postings/{posting}/apply`).
//!
//! Every posting of the fake has the same shape and form: the standard personal-information
//! and URL fields, one custom-question card whose fields are answered by position, and one EEO
//! question, as `lever-api.md` §3 describes them.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use serde_json::{Value, json};

use super::super::FakeLever;
use super::super::error::LeverError;
use super::super::state::Shared;
use super::{query_pairs, query_value};

/// The most postings one page holds.
const MAX_LIMIT: usize = 100;
/// When every posting of the fake was created and last changed (epoch milliseconds).
const POSTED_AT: i64 = 1_732_281_331_444;

/// `GET /v1/postings?limit=…&offset=…&state=…`.
pub(super) async fn list(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, LeverError> {
    let query = query_pairs(raw);
    let limit = match query_value(&query, "limit") {
        None => MAX_LIMIT,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|limit| (1..=MAX_LIMIT).contains(limit))
            .ok_or_else(|| {
                LeverError::bad_request(format!(
                    "invalid limit `{text}`; expected 1 to {MAX_LIMIT}"
                ))
            })?,
    };
    let offset = match query_value(&query, "offset") {
        None => 0,
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| LeverError::bad_request(format!("invalid offset `{text}`")))?,
    };
    let state = query_value(&query, "state");
    let ids: Vec<String> = shared
        .store()
        .posting_ids()
        .into_iter()
        .filter(|_| state.is_none_or(|s| s == "published"))
        .collect();
    let total = ids.len();
    let page: Vec<Value> = ids
        .iter()
        .skip(offset)
        .take(limit)
        .map(|id| posting(id))
        .collect();
    let next = offset.saturating_add(limit);
    let mut answer = json!({ "data": page, "hasNext": next < total });
    if next < total {
        answer["next"] = Value::String(next.to_string());
    }
    Ok(Json(answer))
}

/// `GET /v1/postings/{posting}`.
pub(super) async fn show(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, LeverError> {
    if !shared.store().has_posting(&id) {
        return Err(posting_not_found(&id));
    }
    Ok(Json(json!({ "data": posting(&id) })))
}

/// `GET /v1/postings/{posting}/apply`: the posting's application form.
pub(super) async fn form(
    State(shared): State<Arc<Shared>>,
    Path(posting): Path<String>,
) -> Result<Json<Value>, LeverError> {
    if !shared.store().has_posting(&posting) {
        return Err(posting_not_found(&posting));
    }
    let field = |name: &str, kind: &str, required: bool| json!({ "name": name, "type": kind, "required": required });
    let urls: Vec<Value> = ["LinkedIn", "GitHub", "Twitter", "Portfolio", "Other"]
        .into_iter()
        .map(|name| field(name, "text", false))
        .collect();
    let options = |texts: &[&str]| -> Vec<Value> {
        texts.iter().map(|text| json!({ "text": text })).collect()
    };
    Ok(Json(json!({ "data": {
        "id": posting,
        "text": posting_title(&posting),
        "personalInformation": [
            field("fullName", "text", true),
            field("email", "text", true),
            field("phone", "text", false),
            field("currentLocation", "text", false),
            field("currentCompany", "text", false),
            field("resume", "file-upload", false),
            field("additionalInformation", "textarea", false),
        ],
        "urls": urls,
        "customQuestions": [{
            "id": FakeLever::CARD_ID,
            "text": "Application questions",
            "fields": [
                { "type": "text", "text": "Why do you want to work here?", "required": true },
                { "type": "multiple-choice", "text": "Are you authorized to work in Greece?",
                  "required": true, "options": options(&["Yes", "No"]) },
                { "type": "textarea", "text": "Anything else we should know?", "required": false,
                  "description": "Optional" },
            ],
        }],
        "eeoQuestions": {
            "gender": { "type": "dropdown", "required": false,
                        "options": options(&["Female", "Male", "Decline to self-identify"]) },
        },
    }})))
}

/// The posting as Lever returns it (`lever-api.md` §3, `GET /v1/postings/:posting`).
fn posting(id: &str) -> Value {
    json!({
        "id": id,
        "text": posting_title(id),
        "state": "published",
        "distributionChannels": ["public"],
        "user": FakeLever::USER_ID,
        "owner": FakeLever::USER_ID,
        "hiringManager": FakeLever::USER_ID,
        "categories": {
            "commitment": "Full-time",
            "department": "Research & Development",
            "level": null,
            "location": "Athens",
            "team": "Engineering",
            "allLocations": ["Athens"],
        },
        "tags": [],
        "content": {
            "description": "Build things.",
            "descriptionHtml": "<p>Build things.</p>",
            "lists": [],
            "closing": "",
            "closingHtml": "",
        },
        "country": "GR",
        "followers": [FakeLever::USER_ID],
        "reqCode": null,
        "requisitionCodes": [],
        "urls": {
            "list": "https://jobs.lever.co/fake",
            "show": format!("https://jobs.lever.co/fake/{id}"),
            "apply": format!("https://jobs.lever.co/fake/{id}/apply"),
        },
        "confidentiality": "non-confidential",
        "createdAt": POSTED_AT,
        "updatedAt": POSTED_AT,
        "workplaceType": "remote",
    })
}

/// A posting's title: the fake's postings differ by the start of their id.
fn posting_title(id: &str) -> String {
    let short: String = id.chars().take(8).collect();
    format!("Fake posting {short}")
}

fn posting_not_found(posting: &str) -> LeverError {
    LeverError::not_found(format!("posting `{posting}` not found"))
}
