//! The router: every route, its middleware, and the 404 / 405 envelopes.

pub(crate) mod accounts;
pub(crate) mod health;
pub(crate) mod log;
pub(crate) mod meta;
pub(crate) mod openapi;
pub(crate) mod unified;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Method, StatusCode, Uri, header};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::envelope::ApiError;
use crate::state::AppState;
use crate::{auth, idempotency, limits, metrics, panic, telemetry};

/// The whole HTTP API over `state`. `/health` and `/ready` are open; everything else needs a
/// bearer token. From the outside in: the concurrency limit (before anything is logged or
/// stored), the metrics, the request log, the request timeout, and a panic catcher.
pub fn router(state: AppState) -> Router {
    let protected = Router::new()
        .route(
            "/unified/{model}/{resource}",
            post(unified::create).get(unified::list),
        )
        // One pattern, two meanings: the last segment is a custom method for POST and a record
        // id for GET.
        .route(
            "/unified/{model}/{resource}/{method}",
            post(unified::custom).get(unified::get_one),
        )
        .route(
            "/unified/{model}/{resource}/{integration}/meta/{method}",
            get(meta::by_integration),
        )
        .route(
            "/unified/{model}/{resource}/meta/{method}",
            get(meta::by_account),
        )
        .route(
            "/integrated-account",
            get(accounts::list).post(accounts::create),
        )
        .route(
            "/integrated-account/{id}",
            get(accounts::get)
                .patch(accounts::update)
                .delete(accounts::delete),
        )
        .route("/log", get(log::list))
        .route("/connect/{integration}", get(crate::connect::start))
        .route("/openapi.json", get(openapi::document))
        .route("/metrics", get(metrics::scrape))
        // Later layers wrap earlier ones: auth runs first, then idempotency (which runs every
        // POST detached).
        .route_layer(from_fn_with_state(state.clone(), idempotency::idempotency))
        .route_layer(from_fn_with_state(state.clone(), auth::require_token));
    Router::new()
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        // The provider sends the user's browser here: no token, the sealed `state` is the proof.
        .route("/connect/callback", get(crate::connect::callback))
        .merge(protected)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.inner.body_limit))
        .layer(from_fn(panic::catch_panic))
        .layer(from_fn_with_state(state.clone(), limits::limit_time))
        .layer(from_fn_with_state(state.clone(), telemetry::observe))
        .layer(from_fn_with_state(state.clone(), metrics::measure))
        .layer(from_fn_with_state(state.clone(), limits::limit_concurrency))
        .with_state(state)
}

async fn not_found(uri: Uri) -> Response {
    ApiError::not_found("route_not_found", format!("no route for `{}`", uri.path())).into_response()
}

/// `405` with the envelope. On a unified path, `Allow` lists what the mappings serve there (the
/// router's own would list every method the route pattern takes, for every resource).
async fn method_not_allowed(State(state): State<AppState>, method: Method, uri: Uri) -> Response {
    let error = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("`{method}` is not allowed on `{}`", uri.path()),
    );
    match unified::allow_header(&state, uri.path()) {
        Some(allow) => error.header(header::ALLOW, &allow),
        None => error,
    }
    .into_response()
}
