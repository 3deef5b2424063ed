//! `/v1/opportunities`: create (with dedupe by email), list with filters, show, add/remove tags.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::error::LeverError;
use super::super::model::{
    Application, ContactDetails, ORIGINS, Opportunity, PHONE_TYPES, Phone, push_unique,
};
use super::super::state::Shared;
use super::super::store::new_id;
use super::{
    expands, optional_user, parse_body, query_pairs, query_value, query_values, required_user,
};

/// The most opportunities one page holds.
const MAX_LIMIT: usize = 100;

/// The body of `POST /v1/opportunities` (JSON).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    name: Option<String>,
    headline: Option<String>,
    stage: Option<String>,
    location: Option<String>,
    phones: Option<Vec<PhoneBody>>,
    emails: Option<Vec<String>>,
    links: Option<Vec<String>>,
    tags: Option<Vec<String>>,
    sources: Option<Vec<String>>,
    origin: Option<String>,
    owner: Option<String>,
    followers: Option<Vec<String>>,
    postings: Option<Vec<String>>,
    created_at: Option<i64>,
    archived: Option<ArchivedBody>,
    contact: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PhoneBody {
    value: String,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArchivedBody {
    reason: Option<String>,
    archived_at: Option<i64>,
}

/// The body of `addTags` / `removeTags`.
#[derive(Debug, Default, Deserialize)]
struct TagsBody {
    tags: Option<Vec<String>>,
}

/// `POST /v1/opportunities?perform_as=…`: answers 201 `{"deduped": bool, "data": opportunity}`.
pub(super) async fn create(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), LeverError> {
    let query = query_pairs(raw);
    let user = required_user(&shared, &query)?;
    let body: CreateBody = parse_body(&body, false)?;

    let origin = body.origin.unwrap_or_else(|| "sourced".to_owned());
    if !ORIGINS.contains(&origin.as_str()) {
        return Err(LeverError::bad_request(format!(
            "invalid origin `{origin}`; expected one of {}",
            ORIGINS.join(", ")
        )));
    }
    let phones = body
        .phones
        .unwrap_or_default()
        .into_iter()
        .map(|phone| {
            let kind = phone.kind.unwrap_or_else(|| "other".to_owned());
            if PHONE_TYPES.contains(&kind.as_str()) {
                Ok(Phone {
                    kind,
                    value: phone.value,
                })
            } else {
                Err(LeverError::bad_request(format!(
                    "invalid phone type `{kind}`; expected one of {}",
                    PHONE_TYPES.join(", ")
                )))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let emails = non_empty(body.emails);
    if let Some(bad) = emails.iter().find(|email| !email.contains('@')) {
        return Err(LeverError::bad_request(format!("invalid email `{bad}`")));
    }
    let postings = non_empty(body.postings);
    if postings.len() > 1 {
        return Err(LeverError::bad_request(
            "only one posting may be specified per request",
        ));
    }

    let mut store = shared.store();
    if let Some(unknown) = postings.iter().find(|posting| !store.has_posting(posting)) {
        return Err(LeverError::bad_request(format!(
            "posting `{unknown}` not found"
        )));
    }
    let owner = body.owner.unwrap_or_else(|| user.clone());
    let mut followers = vec![user.clone()];
    push_unique(&mut followers, non_empty(body.followers));
    if let Some(unknown) = std::iter::once(&owner)
        .chain(&followers)
        .find(|id| !store.has_user(id))
    {
        return Err(LeverError::bad_request(format!(
            "user `{unknown}` not found"
        )));
    }
    let now = store.now();
    let created_at = body.created_at.unwrap_or(now);
    if created_at > now {
        return Err(LeverError::bad_request("createdAt cannot be in the future"));
    }
    let archived = match body.archived {
        None => None,
        Some(ArchivedBody { reason: None, .. }) => {
            return Err(LeverError::bad_request(
                "archived.reason is required when archiving",
            ));
        }
        Some(ArchivedBody {
            reason: Some(reason),
            archived_at,
        }) => {
            let archived_at = archived_at.unwrap_or(now);
            if archived_at < created_at {
                return Err(LeverError::bad_request(
                    "archived.archivedAt must not be before createdAt",
                ));
            }
            Some(json!({ "archivedAt": archived_at, "reason": reason }))
        }
    };

    let details = ContactDetails {
        name: body.name.clone(),
        headline: body.headline,
        location: body.location,
        emails: emails.clone(),
        phones: phones.clone(),
        links: non_empty(body.links),
    };
    let (contact, deduped) = store.resolve_contact(body.contact.as_deref(), details)?;
    let id = new_id();
    let applications = postings
        .into_iter()
        .map(|posting| Application {
            id: new_id(),
            opportunity_id: id.clone(),
            kind: "user",
            posting,
            user: Some(user.clone()),
            name: body.name.clone(),
            email: emails.first().cloned(),
            phone: phones.first().cloned(),
            company: None,
            links: Vec::new(),
            comments: None,
            custom_questions: Vec::new(),
            created_at,
        })
        .collect();
    let stage = body.stage.unwrap_or_else(|| {
        if origin == "sourced" {
            "lead-new".to_owned()
        } else {
            "applicant-new".to_owned()
        }
    });
    let mut tags = Vec::new();
    push_unique(&mut tags, non_empty(body.tags));
    let mut sources = Vec::new();
    push_unique(&mut sources, non_empty(body.sources));
    store.insert(Opportunity {
        id: id.clone(),
        contact,
        stage,
        origin,
        confidentiality: "non-confidential",
        tags,
        sources,
        owner: Some(owner),
        followers,
        archived,
        applications,
        created_at,
        updated_at: now,
        last_interaction_at: now,
        last_advanced_at: created_at,
        stage_user: Some(user),
    });
    let data = store.render(&id, false).unwrap_or(Value::Null);
    Ok((
        StatusCode::CREATED,
        Json(json!({ "deduped": deduped, "data": data })),
    ))
}

/// `GET /v1/opportunities`: filters `email`, `posting_id`, `contact_id`, `tag`, `origin`,
/// `stage_id`, `archived`; pages with `limit` and `offset`; `expand=applications`.
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
    let archived = match query_value(&query, "archived") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            return Err(LeverError::bad_request(format!(
                "invalid archived `{other}`; expected true or false"
            )));
        }
    };
    let emails = query_values(&query, "email");
    let postings = query_values(&query, "posting_id");
    let contacts = query_values(&query, "contact_id");
    let tags = query_values(&query, "tag");
    let origins = query_values(&query, "origin");
    let stages = query_values(&query, "stage_id");
    let matching =
        shared
            .store()
            .render_where(expands(&query, "applications"), |opportunity, contact| {
                any_or_all(&emails, |email| {
                    contact.is_some_and(|contact| contact.has_email(email))
                }) && any_or_all(&postings, |posting| {
                    opportunity
                        .applications
                        .iter()
                        .any(|application| application.posting == posting)
                }) && any_or_all(&contacts, |id| opportunity.contact == id)
                    && any_or_all(&tags, |tag| opportunity.tags.iter().any(|t| t == tag))
                    && any_or_all(&origins, |origin| opportunity.origin == origin)
                    && any_or_all(&stages, |stage| opportunity.stage == stage)
                    && archived.is_none_or(|archived| archived == opportunity.archived.is_some())
            });
    let total = matching.len();
    let page: Vec<Value> = matching.into_iter().skip(offset).take(limit).collect();
    let next = offset.saturating_add(limit);
    let mut answer = json!({ "data": page, "hasNext": next < total });
    if next < total {
        answer["next"] = Value::String(next.to_string());
    }
    Ok(Json(answer))
}

/// `GET /v1/opportunities/{id}`.
pub(super) async fn show(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, LeverError> {
    let query = query_pairs(raw);
    let data = shared
        .store()
        .render(&id, expands(&query, "applications"))
        .ok_or_else(|| opportunity_not_found(&id))?;
    Ok(Json(json!({ "data": data })))
}

/// `POST /v1/opportunities/{id}/addTags` with `{"tags": [...]}`.
pub(super) async fn add_tags(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Json<Value>, LeverError> {
    change_tags(&shared, &id, raw, &body, push_unique)
}

/// `POST /v1/opportunities/{id}/removeTags` with `{"tags": [...]}`.
pub(super) async fn remove_tags(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Json<Value>, LeverError> {
    change_tags(&shared, &id, raw, &body, |tags, gone| {
        tags.retain(|tag| !gone.contains(tag));
    })
}

fn change_tags(
    shared: &Shared,
    id: &str,
    raw: Option<String>,
    body: &Bytes,
    change: impl FnOnce(&mut Vec<String>, Vec<String>),
) -> Result<Json<Value>, LeverError> {
    let query = query_pairs(raw);
    optional_user(shared, &query)?;
    if !shared.store().has_opportunity(id) {
        return Err(opportunity_not_found(id));
    }
    let body: TagsBody = parse_body(body, true)?;
    let tags = body
        .tags
        .ok_or_else(|| LeverError::bad_request("`tags` must be an array of strings"))?;
    let mut store = shared.store();
    let now = store.now();
    let opportunity = store
        .opportunity_mut(id)
        .ok_or_else(|| opportunity_not_found(id))?;
    change(&mut opportunity.tags, non_empty(Some(tags)));
    opportunity.updated_at = now;
    let data = store.render(id, false).unwrap_or(Value::Null);
    Ok(Json(json!({ "data": data })))
}

fn opportunity_not_found(id: &str) -> LeverError {
    LeverError::not_found(format!("opportunity `{id}` not found"))
}

/// The trimmed, non-empty strings of an optional list.
fn non_empty(list: Option<Vec<String>>) -> Vec<String> {
    list.unwrap_or_default()
        .into_iter()
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect()
}

/// True when no value was asked for, else whether any asked value matches.
fn any_or_all(values: &[&str], matches: impl Fn(&str) -> bool) -> bool {
    values.is_empty() || values.iter().any(|value| matches(value))
}
