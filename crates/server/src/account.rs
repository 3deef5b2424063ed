//! Integrated accounts: validated against their integration, credentials sealed before they
//! reach the store, and never shown again. Shared by the HTTP routes and the CLI.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use switchboard_core::{AuthSpec, IntegrationPlan, Registry};
use switchboard_executor::Account;

use crate::clock;
use crate::crypto::{Cipher, CryptoError};
use crate::store::{Store, StoreError, StoredAccount};

/// The environment an account gets when it names neither an environment nor a base URL.
pub const DEFAULT_ENVIRONMENT: &str = "production";

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
    /// The base URL override.
    pub base_url: Option<String>,
    /// Context values, credentials left out.
    pub context: Map<String, Value>,
    /// The names of the credentials the account holds (their values are never returned).
    pub secret_keys: Vec<String>,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// RFC 3339 time of the last change.
    pub updated_at: String,
}

impl From<&StoredAccount> for AccountView {
    fn from(a: &StoredAccount) -> AccountView {
        AccountView {
            id: a.id.clone(),
            integration: a.integration.clone(),
            environment: a.environment.clone(),
            base_url: a.base_url.clone(),
            context: a.context.clone(),
            secret_keys: a.secret_keys.clone(),
            created_at: a.created_at.clone(),
            updated_at: a.updated_at.clone(),
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

/// Applies a change to an account, validating the result as a whole.
pub async fn update_account(
    store: &dyn Store,
    registry: &Registry,
    cipher: &Cipher,
    id: &str,
    patch: AccountPatch,
) -> Result<AccountView, AccountError> {
    let stored = find(store, id).await?;
    let integration = integration(registry, &stored.integration)?;
    let mut context = open(cipher, &stored)?.context;
    for (key, value) in patch.context.unwrap_or_default() {
        if value.is_null() {
            context.remove(&key);
        } else {
            context.insert(key, value);
        }
    }
    let environment = patch.environment.unwrap_or(stored.environment);
    let base_url = patch.base_url.unwrap_or(stored.base_url);
    let environment = or_default_environment(environment, base_url.as_deref());
    validate(
        integration,
        environment.as_deref(),
        base_url.as_deref(),
        &context,
    )?;
    let updated = seal(
        cipher,
        integration,
        stored.id,
        environment,
        base_url,
        context,
        (stored.created_at, clock::now_rfc3339()),
    )?;
    if !store.update_account(&updated).await? {
        return Err(AccountError::NotFound(id.to_owned()));
    }
    Ok(AccountView::from(&updated))
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

/// `` `a`, `b`, `c` ``: names in backticks, comma-separated (for messages).
fn backticked<T: std::fmt::Display>(names: impl IntoIterator<Item = T>) -> String {
    names
        .into_iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The account as the executor needs it, credentials opened.
pub(crate) fn open(cipher: &Cipher, stored: &StoredAccount) -> Result<Account, CryptoError> {
    let secrets: Map<String, Value> = serde_json::from_slice(&cipher.open(&stored.sealed_secrets)?)
        .map_err(|_| CryptoError::Open)?;
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
        .ok_or_else(|| AccountError::UnknownIntegration {
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
    Ok(StoredAccount {
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
        sealed_secrets: cipher.seal(&plaintext)?,
        created_at,
        updated_at,
    })
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
        } else if integration.is_secret(key) && value.as_str().is_none_or(str::is_empty) {
            problems.push(format!(
                "context key `{key}` is a credential and must be a non-empty string"
            ));
        }
    }
    if integration.auth_for(context).is_none() && !integration.auth.is_empty() {
        problems.push(format!(
            "the context holds no credentials for `{}`: set one of {}",
            integration.name,
            backticked(integration.auth.iter().map(credential_key))
        ));
    }
    match base_url {
        Some(url) => match url::Url::parse(url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => {}
            Ok(_) => problems.push(format!(
                "`base_url` `{url}` must be an http or https URL with a host"
            )),
            Err(e) => problems.push(format!("`base_url` `{url}` is not a URL: {e}")),
        },
        None => {
            if let Some(env) = environment
                && let Err(message) = integration.base_url(env, context)
            {
                problems.push(message);
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

fn credential_key(auth: &AuthSpec) -> &str {
    match auth {
        AuthSpec::Basic { username, .. } => username,
        AuthSpec::Bearer { token } => token,
        AuthSpec::Header { value, .. } => value,
    }
}
