//! A fake OAuth 2.0 provider on `127.0.0.1:0`: a token endpoint (RFC 6749: client credentials,
//! refresh with rotation, `invalid_grant`, `invalid_client`) and a small protected API that takes
//! the tokens it issued (RFC 6750), with counters and switches for tests.
//!
//! - `POST /token`: grants `client_credentials`, `refresh_token` and `authorization_code` (with
//!   PKCE S256, codes from [`FakeOAuth::authorize`]); the client authenticates with HTTP Basic or in the body
//!   ([`FakeOAuth::CLIENT_ID`], [`FakeOAuth::CLIENT_SECRET`]); every access token lives
//!   [`FakeOAuth::set_expires_in`] seconds (3600 by default); a refresh token works once and is
//!   replaced when rotation is on (the default).
//! - `GET /api/items/{id}` and `POST /api/items`: `Authorization: Bearer <issued token>`; a
//!   token not issued or revoked is `401` with `WWW-Authenticate: Bearer error="invalid_token"`
//!   (or a bare `401` after [`FakeOAuth::plain_401`]). Creates are counted.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A running fake OAuth provider; stops when dropped.
pub struct FakeOAuth {
    address: std::net::SocketAddr,
    state: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct Shared {
    expires_in: AtomicI64,
    rotate: AtomicBool,
    plain_401: AtomicBool,
    counter: AtomicUsize,
    grants: Mutex<HashMap<String, usize>>,
    tokens: Mutex<Tokens>,
    creates: AtomicUsize,
    reads: AtomicUsize,
    last_token_form: Mutex<Vec<(String, String)>>,
    fixed_access_token: Mutex<Option<String>>,
    /// Authorization codes not yet exchanged: code → (PKCE challenge, redirect URI).
    codes: Mutex<HashMap<String, (String, String)>>,
}

#[derive(Default)]
struct Tokens {
    access: HashSet<String>,
    refresh: HashSet<String>,
}

impl FakeOAuth {
    /// The client id the token endpoint accepts.
    pub const CLIENT_ID: &'static str = "fake-client-id";
    /// The client secret the token endpoint accepts.
    pub const CLIENT_SECRET: &'static str = "fake-client-secret";

    /// Starts the fake on a loopback port.
    pub async fn start() -> FakeOAuth {
        let state = Arc::new(Shared {
            expires_in: AtomicI64::new(3600),
            rotate: AtomicBool::new(true),
            ..Shared::default()
        });
        let router = Router::new()
            .route("/token", post(token))
            .route("/api/items", post(create_item))
            .route("/api/items/{id}", get(read_item))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let address = listener.local_addr().expect("local address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        FakeOAuth {
            address,
            state,
            task,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// How long access tokens issued from now on live, in seconds.
    pub fn set_expires_in(&self, seconds: i64) {
        self.state.expires_in.store(seconds, Ordering::SeqCst);
    }

    /// Whether a refresh issues a new refresh token (and retires the old one).
    pub fn set_rotation(&self, rotate: bool) {
        self.state.rotate.store(rotate, Ordering::SeqCst);
    }

    /// Answers refused tokens with a bare `401` (no `WWW-Authenticate` challenge).
    pub fn plain_401(&self) {
        self.state.plain_401.store(true, Ordering::SeqCst);
    }

    /// Issues a refresh token (and an access token) as a finished authorization-code flow
    /// would: `(access_token, refresh_token)`.
    pub fn grant_tokens(&self) -> (String, String) {
        let access = self.next_token("access");
        let refresh = self.next_token("refresh");
        let mut tokens = self.state.lock_tokens();
        tokens.access.insert(access.clone());
        tokens.refresh.insert(refresh.clone());
        (access, refresh)
    }

    /// What a user approving the app on the authorisation page produces: a single-use code
    /// bound to the request's S256 `code_challenge` and `redirect_uri`.
    pub fn authorize(&self, code_challenge: &str, redirect_uri: &str) -> String {
        let code = self.next_token("code");
        self.state
            .codes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                code.clone(),
                (code_challenge.to_owned(), redirect_uri.to_owned()),
            );
        code
    }

    /// Issues `token` as every access token from now on (so another fake provider that knows
    /// one fixed token accepts them).
    pub fn issue_access_token(&self, token: &str) {
        *self
            .state
            .fixed_access_token
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(token.to_owned());
    }

    /// Revokes every access token issued so far (the provider's next answer to them is 401).
    pub fn revoke_access_tokens(&self) {
        self.state.lock_tokens().access.clear();
    }

    /// Revokes every refresh token (the next refresh is `invalid_grant`).
    pub fn revoke_refresh_tokens(&self) {
        self.state.lock_tokens().refresh.clear();
    }

    /// Whether `token` is a live refresh token.
    pub fn refresh_token_is_live(&self, token: &str) -> bool {
        self.state.lock_tokens().refresh.contains(token)
    }

    /// Token requests made with `grant_type` (`client_credentials`, `refresh_token`).
    pub fn token_requests(&self, grant_type: &str) -> usize {
        let grants = self
            .state
            .grants
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        grants.get(grant_type).copied().unwrap_or(0)
    }

    /// The form of the last token request, the client secret and tokens included (tests check
    /// what was sent).
    pub fn last_token_form(&self) -> Vec<(String, String)> {
        self.state
            .last_token_form
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// `POST /api/items` calls, answered or refused.
    pub fn creates(&self) -> usize {
        self.state.creates.load(Ordering::SeqCst)
    }

    /// `GET /api/items/{id}` calls, answered or refused.
    pub fn reads(&self) -> usize {
        self.state.reads.load(Ordering::SeqCst)
    }

    fn next_token(&self, kind: &str) -> String {
        self.state.next_token(kind)
    }
}

impl Drop for FakeOAuth {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Shared {
    fn lock_tokens(&self) -> std::sync::MutexGuard<'_, Tokens> {
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn next_token(&self, kind: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        format!("{kind}-{n}-{}", uuid::Uuid::new_v4().simple())
    }

    /// Whether the form's code is live, for its redirect URI, with the verifier of its challenge
    /// (RFC 7636 S256); a code works once.
    fn redeem_code(&self, form: &HashMap<String, String>) -> bool {
        let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
        let Some((challenge, redirect_uri)) = self
            .codes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(field("code"))
        else {
            return false;
        };
        let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(field("code_verifier").as_bytes()));
        computed == challenge && redirect_uri == field("redirect_uri")
    }

    fn count_grant(&self, grant_type: &str) {
        let mut grants = self.grants.lock().unwrap_or_else(PoisonError::into_inner);
        *grants.entry(grant_type.to_owned()).or_default() += 1;
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        token.is_some_and(|token| self.lock_tokens().access.contains(token))
    }

    fn refused(&self) -> Response {
        if self.plain_401.load(Ordering::SeqCst) {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": "unauthorized"})),
            )
                .into_response();
        }
        (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                r#"Bearer realm="fake", error="invalid_token""#,
            )],
            Json(json!({"error": "invalid_token"})),
        )
            .into_response()
    }
}

fn oauth_error(status: StatusCode, code: &str) -> Response {
    (
        status,
        Json(json!({"error": code, "error_description": format!("fake: {code}")})),
    )
        .into_response()
}

/// The client id and secret from HTTP Basic (form-encoded inside, RFC 6749 §2.3.1) or the body.
fn client(headers: &HeaderMap, form: &HashMap<String, String>) -> Option<(String, String)> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|encoded| STANDARD.decode(encoded).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok());
    if let Some(pair) = basic {
        let (id, secret) = pair.split_once(':')?;
        let decode = |text: &str| url_decode(text);
        return Some((decode(id), decode(secret)));
    }
    Some((
        form.get("client_id")?.clone(),
        form.get("client_secret")?.clone(),
    ))
}

fn url_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

async fn token(
    State(state): State<Arc<Shared>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut sorted: Vec<(String, String)> = form.clone().into_iter().collect();
    sorted.sort();
    *state
        .last_token_form
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = sorted;
    let grant_type = form.get("grant_type").cloned().unwrap_or_default();
    state.count_grant(&grant_type);
    let known_client = client(&headers, &form).is_some_and(|(id, secret)| {
        id == FakeOAuth::CLIENT_ID && secret == FakeOAuth::CLIENT_SECRET
    });
    if !known_client {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let refresh = match grant_type.as_str() {
        "client_credentials" => None,
        "authorization_code" => {
            if !state.redeem_code(&form) {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            let refresh = state.next_token("refresh");
            state.lock_tokens().refresh.insert(refresh.clone());
            Some(refresh)
        }
        "refresh_token" => {
            let presented = form.get("refresh_token").cloned().unwrap_or_default();
            let rotate = state.rotate.load(Ordering::SeqCst);
            let mut tokens = state.lock_tokens();
            if !tokens.refresh.contains(&presented) {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            if rotate {
                tokens.refresh.remove(&presented);
                let next = state.next_token("refresh");
                tokens.refresh.insert(next.clone());
                Some(next)
            } else {
                None
            }
        }
        _ => return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    };
    let fixed = state
        .fixed_access_token
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let access = fixed.unwrap_or_else(|| state.next_token("access"));
    state.lock_tokens().access.insert(access.clone());
    let mut answer = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": state.expires_in.load(Ordering::SeqCst),
    });
    if let (Some(refresh), Value::Object(fields)) = (refresh, &mut answer) {
        fields.insert("refresh_token".to_owned(), Value::String(refresh));
    }
    Json(answer).into_response()
}

async fn read_item(
    State(state): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    state.reads.fetch_add(1, Ordering::SeqCst);
    if !state.authorized(&headers) {
        return state.refused();
    }
    Json(json!({"id": id})).into_response()
}

async fn create_item(State(state): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let n = state.creates.fetch_add(1, Ordering::SeqCst);
    if !state.authorized(&headers) {
        return state.refused();
    }
    (
        StatusCode::CREATED,
        Json(json!({"id": format!("item-{n}")})),
    )
        .into_response()
}
