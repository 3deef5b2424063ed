//! The fake's Lever Data API routes (axum), with Lever's authentication and error answers.

mod apply;
mod files;
mod opportunities;
mod postings;
mod uploads;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderValue, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::DeserializeOwned;

use super::FakeLever;
use super::error::LeverError;
use super::records::parse_query;
use super::state::Shared;

/// The whole fake: `/v1/...` behind Lever's auth, `/files/{name}` open.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let v1 = Router::new()
        .route("/postings", get(postings::list))
        .route("/postings/{posting}", get(postings::show))
        .route(
            "/postings/{posting}/apply",
            get(postings::form).post(apply::apply),
        )
        .route(
            "/opportunities",
            get(opportunities::list).post(opportunities::create),
        )
        .route("/opportunities/{opportunity}", get(opportunities::show))
        .route(
            "/opportunities/{opportunity}/addTags",
            post(opportunities::add_tags),
        )
        .route(
            "/opportunities/{opportunity}/removeTags",
            post(opportunities::remove_tags),
        )
        .route("/opportunities/{opportunity}/files", post(uploads::attach))
        .route(
            "/opportunities/{opportunity}/files/{file}/download",
            get(uploads::download_attached),
        )
        .route("/uploads", post(uploads::upload))
        .route("/uploads/{upload}", get(uploads::download))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(authenticate));
    Router::new()
        .nest("/v1", v1)
        .route("/files/{name}", get(files::serve))
        .fallback(not_found)
        .layer(DefaultBodyLimit::disable())
        .with_state(shared)
}

/// Lets through requests with `Basic base64("<API_KEY>:")` or `Bearer <ACCESS_TOKEN>`.
async fn authenticate(request: Request, next: Next) -> Response {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .map(|value| value.to_str().unwrap_or_default());
    match header {
        None => LeverError::unauthorized("missing Authorization header").into_response(),
        Some(value) if is_authorized(value) => next.run(request).await,
        Some(_) => LeverError::unauthorized("invalid API key or access token").into_response(),
    }
}

fn is_authorized(header: &str) -> bool {
    let Some((scheme, credentials)) = header.trim().split_once(' ') else {
        return false;
    };
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        STANDARD
            .decode(credentials)
            .is_ok_and(|decoded| decoded == format!("{}:", FakeLever::API_KEY).as_bytes())
    } else if scheme.eq_ignore_ascii_case("bearer") {
        credentials == FakeLever::ACCESS_TOKEN
    } else {
        false
    }
}

async fn not_found(uri: Uri) -> LeverError {
    LeverError::not_found(format!("no route for `{}`", uri.path()))
}

async fn method_not_allowed(uri: Uri) -> LeverError {
    LeverError::method_not_allowed(format!("method not allowed on `{}`", uri.path()))
}

/// The decoded query pairs of a request.
pub(crate) fn query_pairs(raw: Option<String>) -> Vec<(String, String)> {
    raw.as_deref().map(parse_query).unwrap_or_default()
}

/// The first value of query parameter `name`.
pub(crate) fn query_value<'q>(query: &'q [(String, String)], name: &str) -> Option<&'q str> {
    query
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Every value of query parameter `name`, in order.
pub(crate) fn query_values<'q>(query: &'q [(String, String)], name: &str) -> Vec<&'q str> {
    query
        .iter()
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .collect()
}

/// Whether `expand` (repeated or comma-separated) names `what`.
pub(crate) fn expands(query: &[(String, String)], what: &str) -> bool {
    query_values(query, "expand")
        .into_iter()
        .flat_map(|value| value.split(','))
        .any(|item| item.trim() == what)
}

/// The `perform_as` user, which must be given and known.
pub(crate) fn required_user(
    shared: &Shared,
    query: &[(String, String)],
) -> Result<String, LeverError> {
    optional_user(shared, query)?
        .ok_or_else(|| LeverError::bad_request("missing required query parameter `perform_as`"))
}

/// The `perform_as` user if given; it must be known.
pub(crate) fn optional_user(
    shared: &Shared,
    query: &[(String, String)],
) -> Result<Option<String>, LeverError> {
    match query_value(query, "perform_as").filter(|user| !user.is_empty()) {
        None => Ok(None),
        Some(user) if shared.store().has_user(user) => Ok(Some(user.to_owned())),
        Some(user) => Err(LeverError::bad_request(format!(
            "perform_as user `{user}` not found"
        ))),
    }
}

/// Parses a JSON body; an empty body is `T::default()` unless `required`.
pub(crate) fn parse_body<T: DeserializeOwned + Default>(
    body: &Bytes,
    required: bool,
) -> Result<T, LeverError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return if required {
            Err(LeverError::bad_request(
                "request body must be a JSON object",
            ))
        } else {
            Ok(T::default())
        };
    }
    serde_json::from_slice(body)
        .map_err(|error| LeverError::bad_request(format!("invalid JSON body: {error}")))
}

/// A response carrying `bytes` as `content_type`.
pub(crate) fn file_response(content_type: Option<&str>, bytes: Vec<u8>) -> Response {
    let content_type = content_type
        .and_then(|value| HeaderValue::from_str(value).ok())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    ([(CONTENT_TYPE, content_type)], bytes).into_response()
}
