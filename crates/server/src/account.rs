//! Integrated accounts: validated against their integration, credentials sealed before they
//! reach the store, and never shown again. Shared by the HTTP routes and the CLI.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use switchboard_core::{DEFAULT_ENVIRONMENT, IntegrationPlan, Registry, backticked, is_http_url};
use switchboard_executor::Account;

use crate::clock;
use crate::crypto::{self, Cipher, CryptoError};
use crate::store::{AccountStatus, Store, StoreError, StoredAccount};

/// A new integrated account, as `POST /integrated-account` and `switchboard accounts create`
/// take it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// The integration's name (as named by its folder under `mappings/`).
    pub integration: String,
    /// One of the integration's environments; `production` when neither this nor `base_url` is set.
    #[serde(default)]
    pub environment: Option<String>,
    /// A base URL replacing the environment's (a self-hosted provider, a test server).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Context values and credentials; the integration says which keys are credentials.
    #[serde(default)]
    pub context: Map<String, Value>,
}

/// A change to an account (`PATCH /integrated-account/{id}`). `context` is merged key by key;
/// a key set to null is removed. `environment` / `base_url` set to null are cleared.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    /// The new environment (null clears it).
    #[serde(default, deserialize_with = "present")]
    pub environment: Option<Option<String>>,
    /// The new base URL (null clears it).
    #[serde(default, deserialize_with = "present")]
    pub base_url: Option<Option<String>>,
    /// Context keys to set (or, with null, to remove).
    #[serde(default)]
    pub context: Option<Map<String, Value>>,
}

fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// An account as the API shows it: the context without credentials, and the names of the
/// credentials it holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountView {
    /// The account id.
    pub id: String,
    /// The integration's name.
    pub integration: String,
    /// The environment.
    pub environment: Option<String>,
    /// The base URL override (a `user:password@` stored before such URLs were refused shows as
    /// `redacted@`).
    pub base_url: Option<String>,
    /// Context values, credentials left out.
    pub context: Map<String, Value>,
    /// The names of the credentials the account holds (their values are never returned).
    pub secret_keys: Vec<String>,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// RFC 3339 time of the last change.
    pub updated_at: String,
    /// `active`, or `needs_reauth` once the provider refused the credentials (until they are
    /// updated).
    pub status: AccountStatus,
}

impl From<&StoredAccount> for AccountView {
    fn from(a: &StoredAccount) -> AccountView {
        AccountView {
            id: a.id.clone(),
            integration: a.integration.clone(),
            environment: a.environment.clone(),
            base_url: a.base_url.as_deref().map(redact_userinfo),
            context: a.context.clone(),
            secret_keys: a.secret_keys.clone(),
            created_at: a.created_at.clone(),
            updated_at: a.updated_at.clone(),
            status: a.status,
        }
    }
}

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// No integration by that name is loaded.
    #[error("unknown integration `{name}` (known: {known})")]
    UnknownIntegration {
        /// The name given.
        name: String,
        /// The loaded integrations, comma-separated.
        known: String,
    },
    /// The account is invalid; every problem is listed.
    #[error("invalid integrated account: {}", .0.join("; "))]
    Invalid(Vec<String>),
    /// A change would send the account's calls elsewhere, and its credentials were not sent
    /// again: stored credentials never follow a new destination.
    #[error(
        "changing {changed} sends the account's calls to a new destination: send its credentials again in `context` (one of {keys}); the stored ones are not kept"
    )]
    CredentialsRequired {
        /// What changed, in backticks.
        changed: String,
        /// The credential keys the integration takes, in backticks.
        keys: String,
    },
    /// No account with that id.
    #[error("no integrated account `{0}`")]
    NotFound(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Credentials could not be sealed or opened.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// Validates and stores a new account; returns its view (credentials left out).
pub async fn create_account(
    store: &dyn Store,
    registry: &Registry,
    cipher: &Cipher,
    new: NewAccount,
) -> Result<AccountView, AccountError> {
    let integration = integration(registry, &new.integration)?;
    let environment = or_default_environment(new.environment, new.base_url.as_deref());
    let context: Map<String, Value> = new
        .context
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .collect();
    validate(
        integration,
        environment.as_deref(),
        new.base_url.as_deref(),
        &context,
    )?;
    let now = clock::now_rfc3339();
    let stored = seal(
        cipher,
        integration,
        uuid::Uuid::new_v4().to_string(),
        environment,
        new.base_url,
        context,
        (now.clone(), now),
    )?;
    store.insert_account(&stored).await?;
    Ok(AccountView::from(&stored))
}

/// One account's view.
pub async fn get_account(store: &dyn Store, id: &str) -> Result<AccountView, AccountError> {
    let stored = find(store, id).await?;
    Ok(AccountView::from(&stored))
}

/// Every account's view, oldest first.
pub async fn list_accounts(store: &dyn Store) -> Result<Vec<AccountView>, AccountError> {
    Ok(store
        .list_accounts()
        .await?
        .iter()
        .map(AccountView::from)
        .collect())
}

/// Applies a change to an account, validating the result as a whole. A change of where the
/// account's calls go (`environment`, `base_url`, or a context value the base URL is built from)
/// drops the stored credentials: the change must carry them again
/// ([`AccountError::CredentialsRequired`] otherwise). New credentials make a `needs_reauth`
/// account `active` again.
pub async fn update_account(
    store: &dyn Store,
    registry: &Registry,
    cipher: &Cipher,
    id: &str,
    patch: AccountPatch,
) -> Result<AccountView, AccountError> {
    let stored = find(store, id).await?;
    let integration = integration(registry, &stored.integration)?;
    let old = open(cipher, &stored)?;
    let changes = patch.context.unwrap_or_default();
    let new_credentials = changes
        .iter()
        .any(|(key, value)| integration.is_secret(key) && !value.is_null());
    let environment = patch.environment.unwrap_or(stored.environment.clone());
    let base_url = patch.base_url.unwrap_or(stored.base_url.clone());
    let environment = or_default_environment(environment, base_url.as_deref());
    let mut context = old.context;
    let moved = moved(
        integration,
        (&stored.environment, &stored.base_url, &context),
        (&environment, &base_url, &merged(context.clone(), &changes)),
    );
    if !moved.is_empty() {
        if !new_credentials {
            return Err(AccountError::CredentialsRequired {
                changed: moved.join(", "),
                keys: credential_choices(integration),
            });
        }
        context.retain(|key, _| !integration.is_secret(key));
    }
    let context = merged(context, &changes);
    validate(
        integration,
        environment.as_deref(),
        base_url.as_deref(),
        &context,
    )?;
    let mut updated = seal(
        cipher,
        integration,
        stored.id,
        environment,
        base_url,
        context,
        (stored.created_at, clock::now_rfc3339()),
    )?;
    // New credentials are what a refused account waits for.
    if !new_credentials {
        updated.status = stored.status;
    }
    if !store.update_account(&updated).await? {
        return Err(AccountError::NotFound(id.to_owned()));
    }
    Ok(AccountView::from(&updated))
}

/// `context` with `changes` applied: a null value removes its key.
fn merged(mut context: Map<String, Value>, changes: &Map<String, Value>) -> Map<String, Value> {
    for (key, value) in changes {
        if value.is_null() {
            context.remove(key);
        } else {
            context.insert(key.clone(), value.clone());
        }
    }
    context
}

/// Where an account's calls go: (environment, base URL override, context).
type Destination<'a> = (
    &'a Option<String>,
    &'a Option<String>,
    &'a Map<String, Value>,
);

/// What differs between two destinations, in backticks: `environment`, `base_url`, and
/// `context` when the base URL built from the context differs.
fn moved(integration: &IntegrationPlan, before: Destination, after: Destination) -> Vec<String> {
    let mut changed = Vec::new();
    if before.0 != after.0 {
        changed.push("`environment`".to_owned());
    }
    if before.1 != after.1 {
        changed.push("`base_url`".to_owned());
    }
    let built = |(environment, base_url, context): Destination| match (environment, base_url) {
        (Some(env), None) => integration.base_url(env, context).ok(),
        _ => None,
    };
    if changed.is_empty() && built(before) != built(after) {
        changed.push("the `context` values the base URL is built from".to_owned());
    }
    changed
}

/// Seals again, bound to their account, the credentials of every account sealed before
/// associated data existed; answers how many. Run at start. A row that does not open under this
/// key is left as it is (with a warning): its requests fail as they would have.
pub async fn reseal_unbound(store: &dyn Store, cipher: &Cipher) -> Result<usize, AccountError> {
    let done = reseal_where(store, cipher, |_, sealed| Cipher::is_unbound(sealed)).await?;
    Ok(done.resealed)
}

/// What [`rotate_key`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Accounts whose credentials were sealed again under the current key.
    pub resealed: usize,
    /// Accounts whose credentials opened under none of the keys given (left as they are).
    pub unreadable: usize,
}

/// Seals again under the cipher's current key the credentials of every account sealed under
/// another key (or the old ways), while instances keep serving: each row is replaced only if
/// it did not change meanwhile (else it is read again), so a concurrent update is never lost.
/// The cipher must hold the previous key as an extra key.
pub async fn rotate_key(store: &dyn Store, cipher: &Cipher) -> Result<Rotation, AccountError> {
    reseal_where(store, cipher, |cipher, sealed| !cipher.is_current(sealed)).await
}

/// How many times one account is read again when it keeps changing under a reseal.
const RESEAL_ATTEMPTS: usize = 5;

/// Seals again every account whose sealed credentials are `stale`.
async fn reseal_where(
    store: &dyn Store,
    cipher: &Cipher,
    stale: impl Fn(&Cipher, &[u8]) -> bool,
) -> Result<Rotation, AccountError> {
    let mut done = Rotation::default();
    for listed in store.list_accounts().await? {
        let mut stored = listed;
        for _ in 0..RESEAL_ATTEMPTS {
            if !stale(cipher, &stored.sealed_secrets) {
                break;
            }
            let Ok(plaintext) = cipher.open(&stored.sealed_secrets, &binding(&stored)) else {
                tracing::warn!(account = %stored.id, "stored credentials do not open with the keys given; left as they are");
                done.unreadable += 1;
                break;
            };
            let sealed = cipher.seal(&plaintext, &binding(&stored))?;
            if store
                .replace_sealed_secrets(&stored.id, &stored.sealed_secrets, &sealed)
                .await?
            {
                done.resealed += 1;
                break;
            }
            // Changed (or deleted) meanwhile: look again.
            match store.get_account(&stored.id).await? {
                Some(now) => stored = now,
                None => break,
            }
        }
    }
    Ok(done)
}

/// Deletes an account.
pub async fn delete_account(store: &dyn Store, id: &str) -> Result<(), AccountError> {
    if store.delete_account(id).await? {
        Ok(())
    } else {
        Err(AccountError::NotFound(id.to_owned()))
    }
}

/// The stored account with this id, or [`AccountError::NotFound`].
async fn find(store: &dyn Store, id: &str) -> Result<StoredAccount, AccountError> {
    store
        .get_account(id)
        .await?
        .ok_or_else(|| AccountError::NotFound(id.to_owned()))
}

/// [`DEFAULT_ENVIRONMENT`] when an account names neither an environment nor a base URL.
fn or_default_environment(environment: Option<String>, base_url: Option<&str>) -> Option<String> {
    match (environment, base_url) {
        (None, None) => Some(DEFAULT_ENVIRONMENT.to_owned()),
        (env, _) => env,
    }
}

/// The account as the executor needs it, credentials opened.
pub(crate) fn open(cipher: &Cipher, stored: &StoredAccount) -> Result<Account, CryptoError> {
    let plaintext = cipher.open(&stored.sealed_secrets, &binding(stored))?;
    let secrets: Map<String, Value> =
        serde_json::from_slice(&plaintext).map_err(|_| CryptoError::Open)?;
    let mut context = stored.context.clone();
    context.extend(secrets);
    Ok(Account {
        id: stored.id.clone(),
        environment: stored.environment.clone(),
        base_url: stored.base_url.clone(),
        context,
    })
}

fn integration<'a>(
    registry: &'a Registry,
    name: &str,
) -> Result<&'a IntegrationPlan, AccountError> {
    registry
        .integration(name)
        .map(|i| i.as_ref())
        .map_err(|_| AccountError::UnknownIntegration {
            name: name.to_owned(),
            known: backticked(registry.integrations().map(|i| &i.name)),
        })
}

/// Splits the context into public values and sealed credentials.
fn seal(
    cipher: &Cipher,
    integration: &IntegrationPlan,
    id: String,
    environment: Option<String>,
    base_url: Option<String>,
    context: Map<String, Value>,
    (created_at, updated_at): (String, String),
) -> Result<StoredAccount, AccountError> {
    let (secrets, public): (Map<String, Value>, Map<String, Value>) = context
        .into_iter()
        .partition(|(k, _)| integration.is_secret(k));
    let plaintext = serde_json::to_vec(&secrets).map_err(|_| CryptoError::Open)?;
    let mut stored = StoredAccount {
        id,
        integration: integration.name.clone(),
        environment,
        base_url,
        context: public,
        secret_keys: {
            let mut names: Vec<String> = secrets.keys().cloned().collect();
            names.sort();
            names
        },
        sealed_secrets: Vec::new(),
        created_at,
        updated_at,
        status: AccountStatus::Active,
    };
    stored.sealed_secrets = cipher.seal(&plaintext, &binding(&stored))?;
    Ok(stored)
}

/// The associated data an account's credentials are sealed with: its id, integration, where its
/// calls go (environment, base URL) and its public context (a per-account host is built from
/// it). Credentials copied to another row, or a row whose destination was changed in the
/// database, do not open.
fn binding(account: &StoredAccount) -> Vec<u8> {
    let optional = |value: &Option<String>| match value {
        Some(text) => format!("={text}"),
        None => String::new(),
    };
    let context = serde_json::to_string(&account.context).unwrap_or_default();
    crypto::fingerprint(&[
        b"switchboard account credentials v2",
        account.id.as_bytes(),
        account.integration.as_bytes(),
        optional(&account.environment).as_bytes(),
        optional(&account.base_url).as_bytes(),
        context.as_bytes(),
    ])
    .into_bytes()
}

/// Every problem with an account, at once.
fn validate(
    integration: &IntegrationPlan,
    environment: Option<&str>,
    base_url: Option<&str>,
    context: &Map<String, Value>,
) -> Result<(), AccountError> {
    let mut problems = Vec::new();
    let known: Vec<&str> = integration
        .context_fields
        .keys()
        .map(String::as_str)
        .chain(integration.secret_keys.iter().map(String::as_str))
        .collect();
    for (key, value) in context {
        if !known.contains(&key.as_str()) {
            problems.push(format!(
                "unknown context key `{key}` for `{}` (known: {})",
                integration.name,
                backticked(&known)
            ));
        } else if integration.is_secret(key) && !value.as_str().is_some_and(is_credential) {
            problems.push(format!(
                "context key `{key}` is a credential and must be a non-empty string without \
                 control characters (it may be sent in a header)"
            ));
        }
    }
    for key in base_url_keys(integration) {
        if let Some(value) = context.get(&key)
            && !is_url_part(value)
        {
            problems.push(format!(
                "context key `{key}` is part of the base URL: it must be a string of letters, digits, `-`, `.`, `_` or `~` (at most 63, starting with a letter or digit)"
            ));
        }
    }
    if integration.auth_for(context).is_none() && !integration.auth.is_empty() {
        problems.push(format!(
            "the context holds no credentials for `{}`: set one of {}",
            integration.name,
            credential_choices(integration)
        ));
    }
    match base_url {
        Some(url) => {
            if let Err(why) = check_base_url(url) {
                problems.push(format!("`base_url` `{}` {why}", redact_userinfo(url)));
            }
        }
        None => {
            if let Some(env) = environment
                && let Err(error) = integration.base_url(env, context)
            {
                problems.push(error.to_string());
            }
        }
    }
    if let Some(env) = environment
        && !integration.environments().any(|e| e == env)
        && base_url.is_some()
    {
        problems.push(format!(
            "unknown environment `{env}` (known: {})",
            backticked(integration.environments())
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AccountError::Invalid(problems))
    }
}

/// The credentials an account of `integration` may hold, one choice per auth scheme, each
/// naming every key it needs (`` `client_id` with `client_secret` ``).
fn credential_choices(integration: &IntegrationPlan) -> String {
    integration
        .auth
        .iter()
        .map(|scheme| {
            scheme
                .required_keys()
                .into_iter()
                .map(|key| format!("`{key}`"))
                .collect::<Vec<_>>()
                .join(" with ")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The context keys any environment's base URL is built from.
pub(crate) fn base_url_keys(integration: &IntegrationPlan) -> Vec<String> {
    let mut keys: Vec<String> = integration
        .environments()
        .flat_map(|env| integration.base_url_context_keys(env))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The pattern of a context value a base URL is built from, as the OpenAPI document states it.
pub(crate) const URL_PART_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9._~-]{0,62}$";

/// Whether `value` matches [`URL_PART_PATTERN`]: it can sit in a host or a path as it is.
fn is_url_part(value: &Value) -> bool {
    value.as_str().is_some_and(|s| {
        (1..=63).contains(&s.len())
            && s.bytes().enumerate().all(|(i, b)| {
                b.is_ascii_alphanumeric() || (i > 0 && matches!(b, b'.' | b'_' | b'~' | b'-'))
            })
    })
}

/// Why a base URL cannot be stored, if it cannot: http or https with a host, and nothing that
/// changes the URL a mapping's path is appended to (a fragment or query would cut it off or
/// bend it) or that carries credentials outside the sealed context (userinfo).
fn check_base_url(url: &str) -> Result<(), String> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain whitespace or control characters".to_owned());
    }
    let parsed = url::Url::parse(url).map_err(|e| format!("is not a URL: {e}"))?;
    if !is_http_url(&parsed) || !parsed.has_host() {
        return Err("must be an http or https URL with a host".to_owned());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() || authority(url).contains('@')
    {
        return Err(
            "must not hold credentials (`user:password@`): put them in `context`, where they are encrypted"
                .to_owned(),
        );
    }
    if parsed.query().is_some() {
        return Err(
            "must not have a query string (`?`): the mapping's path is appended to it".to_owned(),
        );
    }
    if parsed.fragment().is_some() {
        return Err(
            "must not have a fragment (`#`): it would cut off the mapping's path".to_owned(),
        );
    }
    if !BASE_URL
        .as_ref()
        .is_some_and(|grammar| grammar.is_match(url))
    {
        return Err(
            "must be `http(s)://host[:port][/path]`: the host a DNS name (letters, digits and \
             inner hyphens in dot-separated labels, the last starting with a letter), an IPv4 \
             address (a.b.c.d) or an IPv6 address in brackets; the port at most 65535; the path \
             of URL characters"
                .to_owned(),
        );
    }
    Ok(())
}

/// What a credential may hold, as the OpenAPI document publishes it: no ASCII control character
/// but tab, so that it can be sent in a header (a line break would start another one).
pub(crate) const CREDENTIAL_PATTERN: &str = "^[^\\x00-\\x08\\x0A-\\x1F\\x7F]+$";

/// Whether `value` matches [`CREDENTIAL_PATTERN`].
fn is_credential(value: &str) -> bool {
    !value.is_empty() && !value.chars().any(|c| c != '\t' && c.is_ascii_control())
}

/// The grammar of a `base_url` (also its `pattern` in the OpenAPI document, so what the
/// document says and what the server accepts are one thing): `http(s)://`, a host, an optional
/// port, path segments of URL characters. Hosts are those the WHATWG URL parser reads as they
/// are: DNS names whose last label starts with a letter (a numeric last label would be read as
/// an IPv4 number), dotted IPv4 without leading zeros, and IPv6 without an embedded IPv4 part.
pub(crate) const BASE_URL_PATTERN: &str = concat!(
    "^[Hh][Tt][Tt][Pp][Ss]?://",
    "(",
    // A DNS name: LDH labels (no leading, trailing or doubled hyphen, so no `xn--`), the last
    // starting with a letter.
    "([A-Za-z0-9]+(-[A-Za-z0-9]+)*\\.)*[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*",
    "|((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])",
    "|\\[(",
    "([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}",
    "|([0-9A-Fa-f]{1,4}:){1,7}:",
    "|([0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}",
    "|([0-9A-Fa-f]{1,4}:){1,5}(:[0-9A-Fa-f]{1,4}){1,2}",
    "|([0-9A-Fa-f]{1,4}:){1,4}(:[0-9A-Fa-f]{1,4}){1,3}",
    "|([0-9A-Fa-f]{1,4}:){1,3}(:[0-9A-Fa-f]{1,4}){1,4}",
    "|([0-9A-Fa-f]{1,4}:){1,2}(:[0-9A-Fa-f]{1,4}){1,5}",
    "|[0-9A-Fa-f]{1,4}:(:[0-9A-Fa-f]{1,4}){1,6}",
    "|:((:[0-9A-Fa-f]{1,4}){1,7}|:)",
    ")\\]",
    ")",
    "(:([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?",
    "(/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)*$",
);

/// [`BASE_URL_PATTERN`], compiled on first use; `None` (every base URL refused) cannot happen
/// for the constant above, which a test compiles.
static BASE_URL: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(BASE_URL_PATTERN).ok());

/// The authority of a URL as written (between `scheme://` and the path, query or fragment).
fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or("", |(_, rest)| rest);
    rest.split(['/', '\\', '?', '#']).next().unwrap_or_default()
}

/// The URL with any `user:password@` replaced by `redacted@`, as written otherwise.
pub(crate) fn redact_userinfo(url: &str) -> String {
    let authority = authority(url);
    match authority.rfind('@') {
        Some(at) => {
            let start = url.len() - url.split_once("://").map_or(0, |(_, rest)| rest.len());
            format!("{}redacted{}", &url[..start], &url[start + at..])
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::crypto::{SecretKey, seal_unbound};
    use crate::store::SqliteStore;

    const ACME: &str = r#"
version: 1
label: Acme
base_url:
  production: https://api.acme.example/v1
  sandbox: https://sandbox.acme.example/v1
auth:
  - { type: basic, username: api_key }
  - { type: bearer, token: access_token }
context:
  secrets: [api_key, access_token]
  fields:
    perform_as: the user to act as
errors:
  message: "{{ response.message }}"
"#;

    /// A registry of one made-up integration, `acme`: two environments, an API key (basic) or
    /// an access token (bearer), and one public context field.
    fn registry() -> Registry {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "switchboard-accounts-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(dir.join("acme")).expect("temp dir");
        std::fs::write(dir.join("acme/integration.yaml"), ACME).expect("written");
        let registry = Registry::load_dirs(&dir, &root.join("schemas")).expect("loads");
        let _ = std::fs::remove_dir_all(&dir);
        registry
    }

    fn acme(base_url: &str, api_key: &str) -> NewAccount {
        NewAccount {
            integration: "acme".into(),
            base_url: Some(base_url.into()),
            context: json!({"api_key": api_key, "perform_as": "u-1"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            ..NewAccount::default()
        }
    }

    struct Fixture {
        store: SqliteStore,
        registry: Registry,
        cipher: Cipher,
    }

    async fn fixture() -> Fixture {
        Fixture {
            store: SqliteStore::open("sqlite::memory:").await.expect("store"),
            registry: registry(),
            cipher: Cipher::new(&SecretKey::generate().expect("key")),
        }
    }

    impl Fixture {
        async fn create(&self, new: NewAccount) -> Result<AccountView, AccountError> {
            create_account(&self.store, &self.registry, &self.cipher, new).await
        }

        async fn stored(&self, id: &str) -> StoredAccount {
            self.store
                .get_account(id)
                .await
                .expect("read")
                .expect("exists")
        }

        async fn patch(&self, id: &str, patch: Value) -> Result<AccountView, AccountError> {
            let patch: AccountPatch = serde_json::from_value(patch).expect("a patch");
            update_account(&self.store, &self.registry, &self.cipher, id, patch).await
        }
    }

    #[tokio::test]
    async fn credentials_swapped_between_accounts_do_not_open() {
        let f = fixture().await;
        let a = f
            .create(acme("https://a.example/v1", "key-a"))
            .await
            .expect("a");
        let b = f
            .create(acme("https://a.example/v1", "key-b"))
            .await
            .expect("b");
        let (mut a, b) = (f.stored(&a.id).await, f.stored(&b.id).await);
        assert_eq!(
            open(&f.cipher, &a).expect("opens").context["api_key"],
            "key-a"
        );
        a.sealed_secrets = b.sealed_secrets.clone();
        assert!(matches!(open(&f.cipher, &a), Err(CryptoError::Open)));
        // Moving a row to another destination in the database breaks it the same way.
        let mut moved = b.clone();
        moved.base_url = Some("https://attacker.example/v1".into());
        assert!(matches!(open(&f.cipher, &moved), Err(CryptoError::Open)));
    }

    #[tokio::test]
    async fn credentials_sealed_without_binding_open_and_are_sealed_again() {
        let f = fixture().await;
        let view = f
            .create(acme("https://a.example/v1", "old-key"))
            .await
            .expect("a");
        let mut stored = f.stored(&view.id).await;
        stored.sealed_secrets = seal_unbound(&f.cipher, br#"{"api_key":"old-key"}"#);
        f.store.update_account(&stored).await.expect("write");
        assert_eq!(
            open(&f.cipher, &stored).expect("opens").context["api_key"],
            "old-key"
        );

        assert_eq!(
            reseal_unbound(&f.store, &f.cipher).await.expect("reseal"),
            1
        );
        let resealed = f.stored(&view.id).await;
        assert!(!Cipher::is_unbound(&resealed.sealed_secrets));
        assert_eq!(
            open(&f.cipher, &resealed).expect("opens").context["api_key"],
            "old-key"
        );
        assert_eq!(reseal_unbound(&f.store, &f.cipher).await.expect("again"), 0);

        // One that does not open under this key is left alone, and does not stop the start.
        let stranger = Cipher::new(&SecretKey::generate().expect("key"));
        let mut foreign = f.stored(&view.id).await;
        foreign.sealed_secrets = seal_unbound(&stranger, b"{}");
        f.store.update_account(&foreign).await.expect("write");
        assert_eq!(reseal_unbound(&f.store, &f.cipher).await.expect("skips"), 0);
        assert_eq!(
            f.stored(&view.id).await.sealed_secrets,
            foreign.sealed_secrets
        );
    }

    #[tokio::test]
    async fn a_key_rotation_reseals_everything_once_and_keeps_concurrent_changes() {
        let f = fixture().await;
        let first = f
            .create(acme("https://a.example/v1", "key-a"))
            .await
            .expect("a");
        let second = f
            .create(acme("https://b.example/v1", "key-b"))
            .await
            .expect("b");
        let old_key = SecretKey::generate().expect("key");
        let old = Cipher::new(&old_key);
        // Both accounts sealed under the old key (the fixture's cipher stands for "old" here).
        for id in [&first.id, &second.id] {
            let mut stored = f.stored(id).await;
            let plaintext = f
                .cipher
                .open(&stored.sealed_secrets, &binding(&stored))
                .expect("opens");
            stored.sealed_secrets = old.seal(&plaintext, &binding(&stored)).expect("seal");
            f.store.update_account(&stored).await.expect("write");
        }
        let new = Cipher::with_extra(&SecretKey::generate().expect("key"), &[old_key]);
        // Without the old key nothing opens, and nothing is changed.
        let stranger = Cipher::new(&SecretKey::generate().expect("key"));
        let refused = rotate_key(&f.store, &stranger).await.expect("runs");
        assert_eq!(
            refused,
            Rotation {
                resealed: 0,
                unreadable: 2
            }
        );
        // A change made meanwhile (another instance's) is never overwritten by the rotation.
        let before = f.stored(&first.id).await;
        assert!(
            !f.store
                .replace_sealed_secrets(&first.id, b"not what is stored", b"x")
                .await
                .expect("swap")
        );
        assert_eq!(f.stored(&first.id).await, before);

        let done = rotate_key(&f.store, &new).await.expect("rotates");
        assert_eq!(
            done,
            Rotation {
                resealed: 2,
                unreadable: 0
            }
        );
        for (id, key) in [(&first.id, "key-a"), (&second.id, "key-b")] {
            let stored = f.stored(id).await;
            assert!(new.is_current(&stored.sealed_secrets));
            assert_eq!(open(&new, &stored).expect("opens").context["api_key"], key);
            assert!(
                open(&old, &stored).is_err(),
                "the old key no longer opens it"
            );
        }
        let again = rotate_key(&f.store, &new).await.expect("rotates");
        assert_eq!(again, Rotation::default());
    }

    #[tokio::test]
    async fn a_new_destination_needs_the_credentials_again() {
        let f = fixture().await;
        let view = f
            .create(acme("https://a.example/v1", "key-a"))
            .await
            .expect("a");
        let refused = f
            .patch(
                &view.id,
                json!({"base_url": "https://attacker.example/steal"}),
            )
            .await
            .expect_err("refused");
        assert_eq!(
            refused.to_string(),
            "changing `base_url` sends the account's calls to a new destination: send its \
             credentials again in `context` (one of `api_key`, `access_token`); the stored ones \
             are not kept"
        );
        let refused = f
            .patch(
                &view.id,
                json!({"base_url": null, "context": {"perform_as": "u-2"}}),
            )
            .await
            .expect_err("refused");
        assert!(matches!(refused, AccountError::CredentialsRequired { .. }));
        assert_eq!(
            open(&f.cipher, &f.stored(&view.id).await)
                .expect("opens")
                .base_url
                .as_deref(),
            Some("https://a.example/v1"),
            "a refused change changes nothing"
        );

        // With the credentials, the old ones are dropped, not merged.
        let moved = f
            .patch(
                &view.id,
                json!({"environment": "sandbox", "base_url": null, "context": {"access_token": "t"}}),
            )
            .await
            .expect("moved");
        assert_eq!(moved.secret_keys, vec!["access_token".to_owned()]);
        let account = open(&f.cipher, &f.stored(&view.id).await).expect("opens");
        assert_eq!(account.context.get("api_key"), None);

        // Changes that keep the destination keep the credentials.
        let same = f
            .patch(&view.id, json!({"context": {"perform_as": "u-3"}}))
            .await
            .expect("kept");
        assert_eq!(same.secret_keys, vec!["access_token".to_owned()]);
    }

    #[test]
    fn base_urls_with_fragments_queries_or_credentials_are_refused() {
        for (url, why) in [
            ("http://127.0.0.1:1/internal#", "fragment"),
            ("https://a.example/v1?x=1", "query string"),
            ("https://a.example/v1?", "query string"),
            ("https://user:pass@a.example/v1", "credentials"),
            ("https://user@a.example/v1", "credentials"),
            ("ftp://a.example/", "http or https"),
            ("https://a.example/v1\n", "whitespace"),
            ("not-a-url", "not a URL"),
        ] {
            let error = check_base_url(url).expect_err(url);
            assert!(error.contains(why), "{url}: {error}");
        }
        assert_eq!(check_base_url("https://api.example.com/v1"), Ok(()));
        assert_eq!(check_base_url("http://127.0.0.1:9090/v1"), Ok(()));
    }

    /// Issue 11, item 10: a credential that cannot be sent in a header is refused when the
    /// account is made (it was accepted, and every call then failed), by the rule the document
    /// publishes.
    #[test]
    fn credentials_follow_the_published_pattern() {
        let published = Regex::new(CREDENTIAL_PATTERN).expect("compiles");
        let mut samples: Vec<String> = (0u8..=0x7f).map(|b| format!("k{}y", b as char)).collect();
        samples.extend([
            "".into(),
            "é\u{85}€".into(),
            "tok\ten".into(),
            "a\r\nb".into(),
        ]);
        for sample in samples {
            assert_eq!(
                is_credential(&sample),
                published.is_match(&sample),
                "{sample:?}"
            );
        }
        assert!(!is_credential("line\nbreak"));
        assert!(is_credential("sk_live_0123"));
    }

    /// Issue 11, item 10: the server checks the very pattern the OpenAPI document publishes,
    /// and every URL it matches is one the URL parser reads.
    #[test]
    fn base_urls_follow_the_published_grammar() {
        assert!(BASE_URL.is_some(), "BASE_URL_PATTERN compiles");
        for url in [
            "https://api.ats.example/v1",
            "http://localhost:8080",
            "http://[::1]:9090/v1",
            "http://[2001:db8::7]/",
            "http://0.0.0.0:1/x",
            "https://a-b.c-d.example:65535/p*q/(r);s=t/~u%41@v",
        ] {
            assert_eq!(check_base_url(url), Ok(()), "{url}");
        }
        // URLs the parser reads (the server used to accept them) that the grammar refuses.
        for url in [
            "http://2130706433/v1",
            "http://0x7f.0.0.1/v1",
            "http://10.0.0.01/v1",
            "http://[::ffff:127.0.0.1]/v1",
            "http://-ats.example.com/v1",
            "http://ats.example.com/a\\b",
            "http://ats.example.com/a^b",
        ] {
            let error = check_base_url(url).expect_err(url);
            assert!(error.contains("host[:port][/path]"), "{url}: {error}");
        }
        // And ones the parser refuses already, which the grammar does not match either.
        for url in [
            "http://ats.1/v1",
            "http://ats.example.com:65536/v1",
            "http://xn--zz.example.com/v1",
        ] {
            assert!(check_base_url(url).is_err(), "{url}");
            assert!(!BASE_URL.as_ref().is_some_and(|g| g.is_match(url)), "{url}");
        }
    }

    #[test]
    fn userinfo_is_redacted_for_display() {
        assert_eq!(
            redact_userinfo("https://user:pa@ss@a.example/v1?q=@"),
            "https://redacted@a.example/v1?q=@"
        );
        assert_eq!(
            redact_userinfo("https://a.example/v@1"),
            "https://a.example/v@1"
        );
        assert_eq!(redact_userinfo("no scheme@host"), "no scheme@host");
    }
}
