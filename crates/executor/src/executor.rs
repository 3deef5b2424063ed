//! The executor: drives a plan's runs over HTTP for an account.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use tokio::time::Instant;

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use switchboard_core::{
    AuthScheme, Endpoint, IntegrationPlan, MethodPlan, Next, OAuthFlow, ProviderRequest,
    RetryPolicy, RunInput, UnifiedOutput,
};
use tracing::Instrument;

use crate::account::Account;
use crate::address::AddressGuard;
use crate::client::{Clients, Network, Purpose};
use crate::error::{ExecError, ExecErrorKind};
use crate::exchange::Exchange;
use crate::oauth::{MemoryTokenStore, OAuthApp, TokenManager, TokenStore};
use crate::observer::{Observer, Unobserved};
use crate::rate_limit::{LocalRateLimiter, RateLimiter};

/// The default [`ExecutorOptions::deadline`]: 60 seconds.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);

/// The default [`ExecutorOptions::max_files_per_run`].
pub const DEFAULT_MAX_FILES_PER_RUN: usize = 32;

/// How an [`Executor`] behaves. The integration's own settings (timeouts, retry policy, file
/// and answer limits) apply unless overridden here.
#[derive(Clone)]
pub struct ExecutorOptions {
    /// Fetch files from loopback, private, link-local and other non-public addresses. Off by
    /// default: a file URL comes from the caller and must not reach internal services.
    pub allow_private_file_urls: bool,
    /// Call providers on loopback, private, link-local, metadata and other non-public addresses.
    /// Off by default: an account's base URL must not make the gateway reach internal services.
    pub allow_private_provider_urls: bool,
    /// Provider hosts called whatever they resolve to (an ATS hosted on the internal network),
    /// as written in base URLs: a name or an IP address.
    pub allowed_provider_hosts: Vec<String>,
    /// Send nothing to any provider: every call a run would make (a token request or a file
    /// fetch for it included) and every authorization-code exchange fails with
    /// [`ExecErrorKind::ProviderCallsRefused`] before anything leaves. Inputs are still
    /// validated and requests rendered. For contract tests that must not reach real providers
    /// whatever accounts they create. Off by default.
    pub refuse_provider_calls: bool,
    /// The proxy every call goes through (`http://proxy:3128`). Proxy settings in the
    /// environment (`HTTP_PROXY`, `ALL_PROXY`…) are never read; without this, calls go direct.
    pub proxy: Option<String>,
    /// The longest a run may take, every step, retry and wait included; a wait that would end
    /// past it is not made.
    pub deadline: Duration,
    /// The most files one run fetches for uploads.
    pub max_files_per_run: usize,
    /// The `User-Agent` of every call.
    pub user_agent: String,
    /// Replaces every integration's request timeout (`timeouts.request_secs`).
    pub request_timeout: Option<Duration>,
    /// Replaces every integration's connect timeout (`timeouts.connect_secs`).
    pub connect_timeout: Option<Duration>,
    /// Replaces every integration's retry policy.
    pub retry: Option<RetryPolicy>,
    /// Replaces every integration's file size limit (`files.max_bytes`).
    pub max_file_bytes: Option<u64>,
    /// How long a call may wait for its rate limit before failing; the request timeout when
    /// unset.
    pub rate_limit_wait: Option<Duration>,
    /// Replaces every integration's answer size limit (`responses.max_bytes`).
    pub max_response_bytes: Option<u64>,
    /// Where the per-account rate-limit buckets are kept: in this process when unset
    /// ([`crate::LocalRateLimiter`]); a shared one when several processes call the same
    /// accounts.
    pub rate_limiter: Option<Arc<dyn RateLimiter>>,
    /// The operator's OAuth apps by integration name: the client id and secret that renew
    /// tokens of the authorization-code grant (from the server's configuration only).
    pub oauth_apps: BTreeMap<String, OAuthApp>,
    /// Where OAuth tokens are kept and renewals are coordinated; shared by every instance that
    /// shares it. In this process's memory when unset.
    pub token_store: Option<Arc<dyn TokenStore>>,
    /// Hears of every provider call's end, retry and rate-limit wait (metrics); nothing
    /// listens when unset.
    pub observer: Option<Arc<dyn Observer>>,
}

impl Default for ExecutorOptions {
    fn default() -> Self {
        ExecutorOptions {
            allow_private_file_urls: false,
            allow_private_provider_urls: false,
            allowed_provider_hosts: Vec::new(),
            refuse_provider_calls: false,
            proxy: None,
            deadline: DEFAULT_DEADLINE,
            max_files_per_run: DEFAULT_MAX_FILES_PER_RUN,
            user_agent: concat!("switchboard/", env!("CARGO_PKG_VERSION")).to_owned(),
            request_timeout: None,
            connect_timeout: None,
            retry: None,
            max_file_bytes: None,
            rate_limit_wait: None,
            max_response_bytes: None,
            rate_limiter: None,
            oauth_apps: BTreeMap::new(),
            token_store: None,
            observer: None,
        }
    }
}

impl fmt::Debug for ExecutorOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecutorOptions")
            .field("allow_private_file_urls", &self.allow_private_file_urls)
            .field(
                "allow_private_provider_urls",
                &self.allow_private_provider_urls,
            )
            .field("allowed_provider_hosts", &self.allowed_provider_hosts)
            .field("refuse_provider_calls", &self.refuse_provider_calls)
            // A proxy URL may hold a password.
            .field("proxy", &self.proxy.as_deref().map(crate::redact::url_text))
            .field("deadline", &self.deadline)
            .field("max_files_per_run", &self.max_files_per_run)
            .field("user_agent", &self.user_agent)
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry", &self.retry)
            .field("max_file_bytes", &self.max_file_bytes)
            .field("rate_limit_wait", &self.rate_limit_wait)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("shared_rate_limiter", &self.rate_limiter.is_some())
            .field("oauth_apps", &self.oauth_apps)
            .field("token_store", &self.token_store.as_ref().map(|_| "set"))
            .field("observer", &self.observer.as_ref().map(|_| "set"))
            .finish()
    }
}

/// A run's unified output and every provider exchange that produced it.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The unified record and warnings.
    pub output: UnifiedOutput,
    /// Every provider call made, in order (the last one is what a `raw` answer replays).
    pub exchanges: Vec<Exchange>,
}

impl Outcome {
    /// The last provider exchange, if any call was made.
    pub fn last_exchange(&self) -> Option<&Exchange> {
        self.exchanges.last()
    }
}

/// Runs plans against providers: one pooled HTTP client, auth from the account, timeouts,
/// retries that never duplicate a create, per-account rate limits, streamed file uploads.
///
/// Cheap to clone; clones share clients and rate limits.
#[derive(Clone)]
pub struct Executor {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) options: ExecutorOptions,
    pub(crate) clients: Clients,
    pub(crate) limiter: Arc<dyn RateLimiter>,
    pub(crate) tokens: TokenManager,
    /// Where call events go ([`ExecutorOptions::observer`], or nowhere).
    pub(crate) observer: Arc<dyn Observer>,
}

/// Everything about one account's calls to one integration, resolved once per run.
pub(crate) struct Target<'a> {
    pub(crate) integration: &'a IntegrationPlan,
    pub(crate) account: &'a Account,
    /// The base URL and the credential header, resolved by core; `None` for an OAuth account,
    /// whose endpoint is resolved per call with the current access token in its context.
    pub(crate) endpoint: Option<Endpoint>,
    /// The OAuth 2.0 flow the account's calls get their access token from, if any.
    pub(crate) oauth: Option<&'a OAuthFlow>,
    pub(crate) settings: Settings,
    /// When the run must be over.
    pub(crate) deadline: Instant,
    /// Files fetched so far in the run.
    pub(crate) files_fetched: AtomicUsize,
}

/// The integration's settings with the executor's overrides applied.
pub(crate) struct Settings {
    pub(crate) request_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_file_bytes: u64,
    pub(crate) rate_limit_wait: Duration,
    pub(crate) max_response_bytes: u64,
}

impl Executor {
    /// Builds an executor (and its HTTP clients). Fails when the proxy URL is not usable.
    pub fn new(options: ExecutorOptions) -> Result<Executor, ExecError> {
        let proxy = match &options.proxy {
            Some(url) => Some(reqwest::Proxy::all(url).map_err(|error| {
                ExecError::internal(format!(
                    "the proxy `{}` is not usable: {}",
                    crate::redact::url_text(url),
                    crate::error::describe(error)
                ))
            })?),
            None => None,
        };
        let clients = Clients::new(Network {
            user_agent: options.user_agent.clone(),
            provider_guard: AddressGuard::new(
                options.allow_private_provider_urls,
                &options.allowed_provider_hosts,
            ),
            file_guard: AddressGuard::new(options.allow_private_file_urls, &[]),
            proxy,
        });
        // Build the usual clients now, so a broken TLS set-up fails here rather than on a call.
        let connect = options.connect_timeout.unwrap_or(Duration::from_secs(10));
        for purpose in [Purpose::Provider, Purpose::Files] {
            clients.get(purpose, connect).map_err(|error| {
                ExecError::internal(format!(
                    "cannot build the http client: {}",
                    crate::error::describe(error)
                ))
            })?;
        }
        let limiter = options
            .rate_limiter
            .clone()
            .unwrap_or_else(|| Arc::new(LocalRateLimiter::default()));
        let store = options
            .token_store
            .clone()
            .unwrap_or_else(|| Arc::new(MemoryTokenStore::default()));
        let tokens = TokenManager::new(store, options.oauth_apps.clone());
        let observer = options
            .observer
            .clone()
            .unwrap_or_else(|| Arc::new(Unobserved));
        Ok(Executor {
            inner: Arc::new(Inner {
                options,
                clients,
                limiter,
                tokens,
                observer,
            }),
        })
    }

    /// The options this executor was built with.
    pub fn options(&self) -> &ExecutorOptions {
        &self.inner.options
    }

    /// Runs `plan` for `account`: validates `input`, sends each request the run asks for, and
    /// returns the unified output with every exchange.
    ///
    /// The run reads the account's context (for `context.*` expressions) unless `input.context`
    /// is already filled. Nothing is sent when the input is invalid or the account has no
    /// credentials.
    pub async fn run(
        &self,
        plan: &Arc<MethodPlan>,
        mut input: RunInput,
        account: &Account,
    ) -> Result<Outcome, ExecError> {
        let span = tracing::info_span!(
            "run",
            integration = %plan.integration,
            resource = %plan.resource,
            method = %plan.method,
            account = %account.id,
        );
        if input.context.is_empty() {
            input.context = account.context.clone();
        }
        self.drive(plan, input, account).instrument(span).await
    }

    async fn drive(
        &self,
        plan: &Arc<MethodPlan>,
        input: RunInput,
        account: &Account,
    ) -> Result<Outcome, ExecError> {
        // The deadline counts from here: validating the input is part of the run.
        let deadline = Instant::now() + self.inner.options.deadline;
        let started = {
            let plan = plan.clone();
            off_the_workers(move || plan.start(input)).await?
        };
        let (mut run, mut next) =
            started.map_err(|error| ExecError::from_run(error, Vec::new()))?;
        let target = self.target(plan.integration_plan(), account, deadline)?;
        let mut exchanges: Vec<Exchange> = Vec::new();
        loop {
            let request = match next {
                Next::Done(output) => return Ok(Outcome { output, exchanges }),
                Next::Send(request) => request,
            };
            let exchange = match self.exchange(&target, &request).await {
                Ok(exchange) => exchange,
                Err(error) => return Err(error.after(exchanges)),
            };
            let (resumed, resumed_run, exchange) = off_the_workers(move || {
                let resumed = run.resume(exchange.to_response());
                (resumed, run, exchange)
            })
            .await?;
            run = resumed_run;
            exchanges.push(exchange);
            next = match resumed {
                Ok(next) => next,
                Err(error) => return Err(ExecError::from_run(error, exchanges)),
            };
        }
    }

    /// Sends one rendered request for `account` (auth, rate limits, timeouts and retries
    /// included) and returns its exchange, whatever the status: deciding whether a status is an
    /// error is the plan's job.
    pub async fn send(
        &self,
        integration: &IntegrationPlan,
        account: &Account,
        request: &ProviderRequest,
    ) -> Result<Exchange, ExecError> {
        let deadline = Instant::now() + self.inner.options.deadline;
        let target = self.target(integration, account, deadline)?;
        self.exchange(&target, request).await
    }

    fn target<'a>(
        &self,
        integration: &'a IntegrationPlan,
        account: &'a Account,
        deadline: Instant,
    ) -> Result<Target<'a>, ExecError> {
        let oauth = integration
            .auth_for(&account.context)
            .and_then(AuthScheme::oauth);
        let endpoint = match oauth {
            Some(_) => None,
            None => Some(endpoint(integration, account, &account.context)?),
        };
        Ok(Target {
            integration,
            account,
            endpoint,
            oauth,
            settings: self.settings(integration),
            deadline,
            files_fetched: AtomicUsize::new(0),
        })
    }

    fn settings(&self, integration: &IntegrationPlan) -> Settings {
        let options = &self.inner.options;
        let request_timeout = options.request_timeout.unwrap_or(Duration::from_secs(
            integration.timeouts.request_secs.max(1),
        ));
        Settings {
            request_timeout,
            connect_timeout: options.connect_timeout.unwrap_or(Duration::from_secs(
                integration.timeouts.connect_secs.max(1),
            )),
            retry: options
                .retry
                .clone()
                .unwrap_or_else(|| integration.retry.clone()),
            max_file_bytes: options
                .max_file_bytes
                .unwrap_or(integration.files.max_bytes),
            rate_limit_wait: options.rate_limit_wait.unwrap_or(request_timeout),
            max_response_bytes: options
                .max_response_bytes
                .unwrap_or(integration.responses.max_bytes),
        }
    }
}

/// The account's endpoint resolved by core from `context` (the account's own, or with an OAuth
/// access token added).
pub(crate) fn endpoint(
    integration: &IntegrationPlan,
    account: &Account,
    context: &Map<String, Value>,
) -> Result<Endpoint, ExecError> {
    integration
        .endpoint(&account.connection_with(context))
        .map_err(|error| {
            ExecErrorKind::Account {
                account: account.id.clone(),
                error,
            }
            .into()
        })
}

/// Runs CPU work (validating input, rendering requests, mapping answers) on tokio's blocking
/// pool, so one heavy run cannot stall the async workers that serve every other request.
async fn off_the_workers<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ExecError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| ExecError::internal(format!("the mapping work stopped: {error}")))
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Executor")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}
