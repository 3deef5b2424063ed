//! The HTTP clients: one pooled client for provider calls and one for file fetches, per connect
//! timeout in use (reqwest sets connect timeouts per client; almost always there is one).
//!
//! Neither client follows redirects on its own (file redirects are followed by the fetch, which
//! checks every hop) nor reads proxy settings from the environment (`HTTP_PROXY`, `ALL_PROXY`…):
//! a proxy is used only when the operator configures one.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::redirect::Policy;
use reqwest::{Client, Proxy};

use reqwest::Url;

use crate::address::{AddressGuard, ForbiddenAddress, GuardedResolver, Refusal};

/// Idle pooled connections are closed after this long: below common server keep-alive limits, so
/// a create is rarely sent on a connection the server is closing.
const POOL_IDLE: Duration = Duration::from_secs(30);

/// What a client is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Provider calls.
    Provider,
    /// File fetches.
    Files,
}

/// How the clients reach the network: the user agent, the address guard of each purpose and
/// the operator's proxy, if any.
#[derive(Debug, Clone)]
pub(crate) struct Network {
    pub(crate) user_agent: String,
    pub(crate) provider_guard: AddressGuard,
    pub(crate) file_guard: AddressGuard,
    pub(crate) proxy: Option<Proxy>,
}

impl Network {
    /// The address guard of `purpose`.
    pub(crate) fn guard(&self, purpose: Purpose) -> &AddressGuard {
        match purpose {
            Purpose::Provider => &self.provider_guard,
            Purpose::Files => &self.file_guard,
        }
    }

    /// Whether calls go through a proxy (which resolves names itself, so targets are looked up
    /// and checked before each request).
    pub(crate) fn proxied(&self) -> bool {
        self.proxy.is_some()
    }

    /// Checks `url` against the guard of `purpose` before a request: its IP literal here (host
    /// names are checked by the client's resolver when connected to), or, through a proxy, every
    /// address the host resolves to now.
    pub(crate) async fn check_before_sending(
        &self,
        purpose: Purpose,
        url: &Url,
    ) -> Result<(), Refusal> {
        let guard = self.guard(purpose);
        if self.proxied() {
            guard.check_resolved(url).await
        } else {
            guard
                .check_literal(url)
                .map_err(|ForbiddenAddress(ip)| Refusal::Forbidden(ip))
        }
    }
}

/// Clients by purpose and connect timeout, built on first use and shared afterwards.
#[derive(Debug)]
pub(crate) struct Clients {
    network: Arc<Network>,
    built: Mutex<Vec<(Purpose, Duration, Client)>>,
}

impl Clients {
    pub(crate) fn new(network: Network) -> Clients {
        Clients {
            network: Arc::new(network),
            built: Mutex::new(Vec::new()),
        }
    }

    /// How the clients reach the network.
    pub(crate) fn network(&self) -> &Network {
        &self.network
    }

    /// The client for `purpose` with `connect_timeout`.
    pub(crate) fn get(
        &self,
        purpose: Purpose,
        connect_timeout: Duration,
    ) -> Result<Client, reqwest::Error> {
        let mut built = self.built.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, _, client)) = built
            .iter()
            .find(|(p, timeout, _)| *p == purpose && *timeout == connect_timeout)
        {
            return Ok(client.clone());
        }
        let client = self.build(purpose, connect_timeout)?;
        built.push((purpose, connect_timeout, client.clone()));
        Ok(client)
    }

    fn build(&self, purpose: Purpose, connect_timeout: Duration) -> Result<Client, reqwest::Error> {
        let network = &self.network;
        let builder = Client::builder()
            .user_agent(network.user_agent.clone())
            .connect_timeout(connect_timeout)
            .pool_idle_timeout(POOL_IDLE)
            .tcp_nodelay(true)
            .redirect(Policy::none())
            // Retries are this crate's decision, made with the method and the policy in hand.
            .retry(reqwest::retry::never());
        let builder = match &network.proxy {
            Some(proxy) => builder.proxy(proxy.clone()),
            None => builder.no_proxy(),
        };
        let guard = network.guard(purpose);
        // Through a proxy the resolver only ever sees the proxy's own name: the targets are
        // checked before each request instead.
        if guard.allows_all() || network.proxied() {
            builder.build()
        } else {
            builder.dns_resolver(GuardedResolver(guard.clone())).build()
        }
    }
}
