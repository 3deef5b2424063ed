//! The token manager: the account's current access token, renewed at most once at a time per
//! account, here and across processes sharing the [`TokenStore`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use switchboard_core::{OAuthFlow, OAuthGrant};
use tokio::time::Instant;

use super::endpoint::{self, Client, Grant, Issued};
use super::error::{OAuthError, OAuthErrorKind};
use super::store::{OAuthApp, StoredTokens, TokenState, TokenStore};

/// A token this close to its expiry is renewed before use.
const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(60);
/// How often a caller waiting for another process's renewal looks at the store again.
const LEASE_POLL: Duration = Duration::from_millis(50);
/// How much longer than the token request's timeout a renewal lease lasts.
const LEASE_MARGIN: Duration = Duration::from_secs(5);

/// What a renewal needs besides the account: where to send it and how long it may take.
pub(crate) struct Renewal<'a> {
    pub(crate) integration: &'a str,
    pub(crate) account: &'a str,
    pub(crate) context: &'a Map<String, Value>,
    pub(crate) flow: &'a OAuthFlow,
    /// The flow's extra token parameters, rendered from the account's context.
    pub(crate) parameters: Vec<(String, String)>,
    pub(crate) http: &'a reqwest::Client,
    pub(crate) url: reqwest::Url,
    pub(crate) timeout: Duration,
    pub(crate) deadline: Instant,
}

impl Renewal<'_> {
    fn error(&self, kind: OAuthErrorKind, message: impl Into<String>) -> OAuthError {
        OAuthError {
            integration: self.integration.to_owned(),
            account: self.account.to_owned(),
            kind,
            message: message.into(),
        }
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.context
            .get(key)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
    }
}

/// Access tokens of every OAuth account an executor calls for.
pub(crate) struct TokenManager {
    store: Arc<dyn TokenStore>,
    apps: BTreeMap<String, OAuthApp>,
    /// One lock per account renewing or waiting; an entry goes when nobody holds it.
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// The newest tokens seen per account, so a fresh token costs no store read.
    fresh: Mutex<HashMap<String, TokenState>>,
}

impl TokenManager {
    pub(crate) fn new(store: Arc<dyn TokenStore>, apps: BTreeMap<String, OAuthApp>) -> Self {
        TokenManager {
            store,
            apps,
            locks: Mutex::new(HashMap::new()),
            fresh: Mutex::new(HashMap::new()),
        }
    }

    /// The account's access token: the one held when it is not about to expire (and is not
    /// `rejected`, the token a provider just refused), else a renewed one.
    pub(crate) async fn token(
        &self,
        renewal: &Renewal<'_>,
        rejected: Option<&str>,
    ) -> Result<String, OAuthError> {
        let seed = seed(renewal);
        if let Some(token) = self.remembered(renewal.account, &seed, rejected) {
            return Ok(token);
        }
        let lock = self.lock_for(renewal.account);
        let result = match tokio::time::timeout_at(renewal.deadline, lock.lock()).await {
            Ok(_guard) => self.current_or_renewed(renewal, &seed, rejected).await,
            Err(_) => Err(renewal.error(
                OAuthErrorKind::Busy,
                "the run's deadline passed while another call renewed the token",
            )),
        };
        drop(lock);
        self.forget_idle_lock(renewal.account);
        let state = result?;
        let token = state.access_token.clone().unwrap_or_default();
        self.fresh
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(renewal.account.to_owned(), state);
        Ok(token)
    }

    /// Stores freshly issued tokens as a new account's first record (the connect flow), so
    /// their expiry is known from the first call. False when the account already has one.
    pub(crate) async fn adopt(
        &self,
        account: &str,
        state: TokenState,
        lease: Duration,
    ) -> Result<bool, super::TokenStoreError> {
        let now = now();
        if !self.store.claim(account, 0, now, now + secs(lease)).await? {
            return Ok(false);
        }
        self.store.save(account, 0, &state).await
    }

    fn remembered(&self, account: &str, seed: &str, rejected: Option<&str>) -> Option<String> {
        let fresh = self.fresh.lock().unwrap_or_else(PoisonError::into_inner);
        let state = fresh.get(account).filter(|state| state.seed == seed)?;
        usable(state, rejected, now()).map(str::to_owned)
    }

    fn lock_for(&self, account: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        locks.entry(account.to_owned()).or_default().clone()
    }

    fn forget_idle_lock(&self, account: &str) {
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        if locks
            .get(account)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            locks.remove(account);
        }
    }

    /// Under the account's lock: the stored token when usable; else the lease is claimed and the
    /// token renewed, or, when another process holds the lease, its result awaited.
    async fn current_or_renewed(
        &self,
        renewal: &Renewal<'_>,
        seed: &str,
        rejected: Option<&str>,
    ) -> Result<TokenState, OAuthError> {
        let store_error =
            |error: super::TokenStoreError| renewal.error(OAuthErrorKind::Store, error.0);
        loop {
            let stored = self
                .store
                .load(renewal.account)
                .await
                .map_err(store_error)?;
            let state = current_state(&stored, renewal, seed);
            if usable(&state, rejected, now()).is_some() {
                return Ok(state);
            }
            let lease_until = now() + secs(renewal.timeout + LEASE_MARGIN);
            let claimed = self
                .store
                .claim(renewal.account, stored.version, now(), lease_until)
                .await
                .map_err(store_error)?;
            if !claimed {
                if Instant::now() + LEASE_POLL >= renewal.deadline {
                    return Err(renewal.error(
                        OAuthErrorKind::Busy,
                        "the run's deadline passed while another instance renewed the token",
                    ));
                }
                tokio::time::sleep(LEASE_POLL).await;
                continue;
            }
            let renewed = self.renew(renewal, &state).await;
            match renewed {
                Ok(issued) => {
                    let new = next_state(issued, &state, seed);
                    let saved = self
                        .store
                        .save(renewal.account, stored.version, &new)
                        .await
                        .map_err(store_error)?;
                    if saved {
                        tracing::info!(account = renewal.account, "oauth access token renewed");
                        return Ok(new);
                    }
                    // The record moved on (the account's credentials were replaced): look again.
                }
                Err(error) => {
                    if let Err(release) = self.store.release(renewal.account, stored.version).await
                    {
                        tracing::warn!(error = %release, "could not release an oauth renewal lease");
                    }
                    if error.kind == OAuthErrorKind::NeedsReauth {
                        self.store
                            .mark_needs_reauth(renewal.account)
                            .await
                            .map_err(store_error)?;
                    }
                    tracing::info!(account = renewal.account, error = %error, "oauth token renewal failed");
                    return Err(error);
                }
            }
        }
    }

    /// One token request: client credentials, or the refresh token with the operator's app.
    async fn renew(&self, renewal: &Renewal<'_>, state: &TokenState) -> Result<Issued, OAuthError> {
        let (grant, client) = match &renewal.flow.grant {
            OAuthGrant::ClientCredentials {
                client_id_key,
                client_secret_key,
            } => {
                let (Some(id), Some(secret)) =
                    (renewal.text(client_id_key), renewal.text(client_secret_key))
                else {
                    return Err(renewal.error(
                        OAuthErrorKind::NeedsReauth,
                        format!("the account holds no `{client_id_key}` and `{client_secret_key}`"),
                    ));
                };
                (Grant::ClientCredentials, Client { id, secret })
            }
            OAuthGrant::AuthorizationCode {
                refresh_token_key, ..
            } => {
                let Some(refresh_token) = state.refresh_token.as_deref() else {
                    return Err(renewal.error(
                        OAuthErrorKind::NeedsReauth,
                        format!(
                            "the access token expired or was refused and the account holds no `{refresh_token_key}`"
                        ),
                    ));
                };
                let app = self.apps.get(renewal.integration).ok_or_else(|| {
                    renewal.error(
                        OAuthErrorKind::NoApp,
                        "set the integration's OAuth client id and secret in the server's configuration",
                    )
                })?;
                (
                    Grant::Refresh { refresh_token },
                    Client {
                        id: &app.client_id,
                        secret: &app.client_secret,
                    },
                )
            }
        };
        let left = renewal.deadline.saturating_duration_since(Instant::now());
        endpoint::request(
            renewal.http,
            renewal.url.clone(),
            renewal.flow,
            &grant,
            &client,
            &renewal.parameters,
            renewal.timeout.min(left),
        )
        .await
        .map_err(|refused| renewal.error(refused.kind, refused.message))
    }
}

/// The account's tokens: the stored ones when they descend from the account's credentials,
/// else those its context holds (an access token to use until refused, a refresh token).
fn current_state(stored: &StoredTokens, renewal: &Renewal<'_>, seed: &str) -> TokenState {
    if let Some(state) = stored.state.as_ref().filter(|state| state.seed == seed) {
        return state.clone();
    }
    let (access_token, refresh_token) = match &renewal.flow.grant {
        OAuthGrant::ClientCredentials { .. } => (None, None),
        OAuthGrant::AuthorizationCode {
            access_token_key,
            refresh_token_key,
            ..
        } => (
            renewal.text(access_token_key).map(str::to_owned),
            renewal.text(refresh_token_key).map(str::to_owned),
        ),
    };
    TokenState {
        access_token,
        refresh_token,
        expires_at: None,
        seed: seed.to_owned(),
    }
}

/// The tokens after a renewal: a refresh token not rotated is kept.
fn next_state(issued: Issued, before: &TokenState, seed: &str) -> TokenState {
    TokenState {
        access_token: Some(issued.access_token),
        refresh_token: issued
            .refresh_token
            .or_else(|| before.refresh_token.clone()),
        expires_at: issued
            .expires_in
            .map(|seconds| now().saturating_add(seconds.max(0))),
        seed: seed.to_owned(),
    }
}

/// The access token when it may be used at `now`: held, not `rejected`, not about to expire.
fn usable<'s>(state: &'s TokenState, rejected: Option<&str>, now: i64) -> Option<&'s str> {
    let token = state.access_token.as_deref()?;
    let expiring = state
        .expires_at
        .is_some_and(|at| at - now <= secs(RENEW_BEFORE_EXPIRY));
    (!expiring && rejected != Some(token)).then_some(token)
}

/// A fingerprint of the credentials the account's tokens descend from: the client id and
/// secret with the token parameters rendered for the account (a token fetched for another
/// acting user is not reused), or the refresh (else access) token the account was given.
fn seed(renewal: &Renewal<'_>) -> String {
    seed_of(renewal.flow, renewal.context, &renewal.parameters)
}

/// [`seed`] from a flow, an account context and the flow's token parameters rendered for it.
pub(crate) fn seed_of(
    flow: &OAuthFlow,
    context: &Map<String, Value>,
    parameters: &[(String, String)],
) -> String {
    let parts: Vec<&str> = match &flow.grant {
        OAuthGrant::ClientCredentials {
            client_id_key,
            client_secret_key,
        } => vec![client_id_key, client_secret_key],
        OAuthGrant::AuthorizationCode {
            access_token_key,
            refresh_token_key,
            ..
        } => vec![refresh_token_key, access_token_key],
    };
    let mut hash = Sha256::new();
    for key in parts {
        let text = context.get(key).and_then(Value::as_str).unwrap_or_default();
        hash.update(text.as_bytes());
        hash.update([0]);
    }
    if matches!(flow.grant, OAuthGrant::ClientCredentials { .. }) {
        for (name, value) in parameters {
            hash.update(name.as_bytes());
            hash.update([1]);
            hash.update(value.as_bytes());
            hash.update([0]);
        }
    }
    hash.finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(access: Option<&str>, expires_at: Option<i64>) -> TokenState {
        TokenState {
            access_token: access.map(str::to_owned),
            refresh_token: Some("r".to_owned()),
            expires_at,
            seed: "s".to_owned(),
        }
    }

    #[test]
    fn a_token_is_usable_until_a_minute_before_expiry_and_never_once_refused() {
        assert_eq!(usable(&state(Some("a"), Some(1_000)), None, 900), Some("a"));
        assert_eq!(usable(&state(Some("a"), Some(1_000)), None, 940), None);
        assert_eq!(usable(&state(Some("a"), None), None, 5_000), Some("a"));
        assert_eq!(usable(&state(Some("a"), None), Some("a"), 0), None);
        assert_eq!(usable(&state(Some("b"), None), Some("a"), 0), Some("b"));
        assert_eq!(usable(&state(None, None), None, 0), None);
    }

    #[test]
    fn a_refresh_token_not_rotated_is_kept() {
        let before = state(Some("a"), None);
        let kept = next_state(
            Issued {
                access_token: "b".to_owned(),
                refresh_token: None,
                expires_in: Some(10),
            },
            &before,
            "s",
        );
        assert_eq!(kept.refresh_token.as_deref(), Some("r"));
        let rotated = next_state(
            Issued {
                access_token: "b".to_owned(),
                refresh_token: Some("r2".to_owned()),
                expires_in: None,
            },
            &before,
            "s",
        );
        assert_eq!(rotated.refresh_token.as_deref(), Some("r2"));
        assert_eq!(rotated.expires_at, None);
    }
}
