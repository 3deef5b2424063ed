//! The connect flow for integrations with an `oauth2_authorization_code` scheme (RFC 6749 §4.1
//! with PKCE, RFC 7636):
//!
//! - `GET /connect/{integration}` (an `admin` token) answers `303` to the provider's
//!   authorisation page with `state` and a S256 `code_challenge`. The state is sealed under the
//!   credential key (integration, environment, public context, PKCE verifier, expiry), so any
//!   instance can check it and nothing is stored until the flow ends.
//! - `GET /connect/callback?code&state` (no token: the sealed state is the proof) opens the
//!   state, exchanges the code with the operator's app, and creates the integrated account
//!   holding the tokens (`201`, the account as `GET /integrated-account/{id}` shows it).
//!
//! Client ids and secrets come from the server's configuration only.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use switchboard_core::{IntegrationPlan, OAuthGrant};
use switchboard_executor::AuthorizationCode;

use crate::account::{self, NewAccount};
use crate::crypto::random_bytes;
use crate::envelope::ApiError;
use crate::state::AppState;

/// How long a connect link's state stays valid.
const STATE_LIFETIME_SECS: i64 = 600;
/// Associated data binding a sealed state to its purpose.
const STATE_BINDING: &[u8] = b"switchboard-connect-state";
/// Query parameters of the start route that are not public context values: where the account's
/// calls go, as `POST /integrated-account` takes them.
const ENVIRONMENT_PARAM: &str = "environment";
const BASE_URL_PARAM: &str = "base_url";

/// What the sealed `state` carries from the start to the callback.
#[derive(Serialize, Deserialize)]
struct ConnectState {
    integration: String,
    environment: Option<String>,
    base_url: Option<String>,
    context: Map<String, Value>,
    verifier: String,
    expires_at: i64,
}

/// `GET /connect/{integration}?environment=…&<public context field>=…`: the redirect to the
/// provider's authorisation page.
pub(crate) async fn start(
    State(state): State<AppState>,
    Path(integration_name): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let s = &state.inner;
    let callback = callback_url(&state)?;
    let integration = s
        .registry
        .integration(&integration_name)
        .map_err(|error| ApiError::not_found("unknown_integration", error.to_string()))?;
    let authorization = authorization(integration)?;
    let app = s
        .executor
        .options()
        .oauth_apps
        .get(&integration.name)
        .ok_or_else(|| no_app(&integration.name))?;
    let destination = start_context(integration, params)?;
    let verifier =
        URL_SAFE_NO_PAD.encode(random_bytes::<32>().map_err(|e| ApiError::internal(&e))?);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let sealed = ConnectState {
        integration: integration.name.clone(),
        environment: destination.environment,
        base_url: destination.base_url,
        context: destination.context,
        verifier,
        expires_at: now() + STATE_LIFETIME_SECS,
    };
    let plaintext = serde_json::to_vec(&sealed).map_err(|e| ApiError::internal(&e))?;
    let sealed = s
        .cipher
        .seal(&plaintext, STATE_BINDING)
        .map_err(|e| ApiError::internal(&e))?;
    let mut url = url::Url::parse(authorization.url).map_err(|e| ApiError::internal(&e))?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &app.client_id)
            .append_pair("redirect_uri", callback)
            .append_pair("state", &URL_SAFE_NO_PAD.encode(sealed))
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        if let Some(scope) = &authorization.scope {
            query.append_pair("scope", scope);
        }
        for (name, value) in &authorization.parameters {
            query.append_pair(name, value);
        }
    }
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, url.to_string())]).into_response())
}

/// The callback's query: a code and the state, or the provider's refusal.
#[derive(Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /connect/callback?code=…&state=…`: exchanges the code and creates the account.
pub(crate) async fn callback(
    State(state): State<AppState>,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, ApiError> {
    let s = &state.inner;
    let callback = callback_url(&state)?;
    let connect = open_state(&state, query.state.as_deref())?;
    if let Some(error) = query.error {
        let error: String = error.chars().take(100).collect();
        return Err(ApiError::bad_request(
            "authorization_denied",
            format!("the provider did not authorise the app: `{error}`"),
        ));
    }
    let code = query
        .code
        .ok_or_else(|| ApiError::bad_request("missing_code", "the callback carries no `code`"))?;
    let integration = s
        .registry
        .integration(&connect.integration)
        .map_err(|_| ApiError::bad_request("invalid_state", "the state names no integration"))?;
    let tokens = s
        .executor
        .exchange_authorization_code(
            integration,
            AuthorizationCode {
                code: &code,
                redirect_uri: callback,
                code_verifier: &connect.verifier,
            },
        )
        .await
        .map_err(|error| {
            if error.needs_reauth() {
                // A code that is used, expired or not bound to this flow's verifier.
                return ApiError::bad_request(
                    "authorization_code_refused",
                    format!("the provider refused the authorization code: {error}"),
                );
            }
            crate::exec_envelope::for_error(&error).0
        })?;
    let (access_key, refresh_key) = token_keys(integration)?;
    let mut context = connect.context;
    context.insert(
        access_key.to_owned(),
        Value::String(tokens.access_token.clone()),
    );
    if let Some(refresh) = &tokens.refresh_token {
        context.insert(refresh_key.to_owned(), Value::String(refresh.clone()));
    }
    let new = NewAccount {
        integration: connect.integration,
        environment: connect.environment,
        base_url: connect.base_url,
        context,
    };
    let view = account::create_account(s.store.as_ref(), &s.registry, &s.cipher, new).await?;
    tracing::info!(account = %view.id, integration = %view.integration, "integrated account connected");
    // The tokens' expiry is known now: recorded, the first call after it renews them. The account
    // exists either way; without the record, the tokens are renewed when first refused.
    let stored = s.store.get_account(&view.id).await?;
    if let Some(stored) = stored {
        match account::open(&s.cipher, &stored) {
            Ok(opened) => {
                if let Err(error) = s
                    .executor
                    .adopt_issued_tokens(integration, &opened, &tokens)
                    .await
                {
                    tracing::warn!(error = %error, "could not record the connected account's token expiry");
                }
            }
            Err(error) => tracing::warn!(error = %error, "could not open the connected account"),
        }
    }
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

fn callback_url(state: &AppState) -> Result<&str, ApiError> {
    state.inner.connect_callback_url.as_deref().ok_or_else(|| {
        ApiError::not_found(
            "connect_not_configured",
            "the connect flow is off: the server has no connect callback URL configured",
        )
    })
}

fn no_app(integration: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "oauth_app_not_configured",
        format!("no OAuth app is configured for `{integration}`"),
    )
}

/// What the authorisation redirect needs from the integration's authorization-code scheme.
struct Authorization<'a> {
    url: &'a str,
    parameters: Vec<(&'a str, &'a str)>,
    scope: Option<String>,
}

/// The authorisation endpoint, its extra parameters and the scope of the integration's
/// authorization-code scheme.
fn authorization(integration: &IntegrationPlan) -> Result<Authorization<'_>, ApiError> {
    integration
        .auth
        .iter()
        .filter_map(|scheme| scheme.oauth())
        .find_map(|flow| match &flow.grant {
            OAuthGrant::AuthorizationCode {
                authorize_url,
                authorize_parameters,
                ..
            } => Some(Authorization {
                url: authorize_url.as_str(),
                parameters: authorize_parameters
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_str()))
                    .collect(),
                scope: flow.scope_parameter(),
            }),
            OAuthGrant::ClientCredentials { .. } => None,
        })
        .ok_or_else(|| not_connectable(&integration.name))
}

/// The context keys the integration's authorization-code scheme keeps its tokens under.
fn token_keys(integration: &IntegrationPlan) -> Result<(&str, &str), ApiError> {
    integration
        .auth
        .iter()
        .filter_map(|scheme| scheme.oauth())
        .find_map(|flow| match &flow.grant {
            OAuthGrant::AuthorizationCode {
                access_token_key,
                refresh_token_key,
                ..
            } => Some((access_token_key.as_str(), refresh_token_key.as_str())),
            OAuthGrant::ClientCredentials { .. } => None,
        })
        .ok_or_else(|| not_connectable(&integration.name))
}

fn not_connectable(integration: &str) -> ApiError {
    ApiError::not_found(
        "no_authorization_flow",
        format!("`{integration}` declares no oauth2_authorization_code scheme to connect with"),
    )
}

/// Where the connected account's calls go and its public context, as the start route was given
/// them.
struct Destination {
    environment: Option<String>,
    base_url: Option<String>,
    context: Map<String, Value>,
}

/// The environment, base URL and public context values the start route was given; credentials
/// and undeclared keys are refused (they would otherwise travel in the state). The account's
/// creation checks them as `POST /integrated-account` does.
fn start_context(
    integration: &IntegrationPlan,
    params: Vec<(String, String)>,
) -> Result<Destination, ApiError> {
    let mut destination = Destination {
        environment: None,
        base_url: None,
        context: Map::new(),
    };
    for (name, value) in params {
        if name == ENVIRONMENT_PARAM {
            destination.environment = Some(value);
        } else if name == BASE_URL_PARAM {
            destination.base_url = Some(value);
        } else if integration.context_fields.contains_key(&name) {
            destination.context.insert(name, Value::String(value));
        } else {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!(
                    "`{name}` is not a public context field of `{}`; credentials come from the flow",
                    integration.name
                ),
            ));
        }
    }
    Ok(destination)
}

/// The state the callback carries, opened and checked.
fn open_state(state: &AppState, text: Option<&str>) -> Result<ConnectState, ApiError> {
    let invalid = || {
        ApiError::bad_request(
            "invalid_state",
            "the connect state is missing, altered or from elsewhere",
        )
    };
    let sealed = URL_SAFE_NO_PAD
        .decode(text.ok_or_else(invalid)?)
        .map_err(|_| invalid())?;
    let plaintext = state
        .inner
        .cipher
        .open(&sealed, STATE_BINDING)
        .map_err(|_| invalid())?;
    let connect: ConnectState = serde_json::from_slice(&plaintext).map_err(|_| invalid())?;
    if connect.expires_at < now() {
        return Err(ApiError::bad_request(
            "state_expired",
            "the connect link expired; start the connect flow again",
        ));
    }
    Ok(connect)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}
