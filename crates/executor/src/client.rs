//! The HTTP clients: one pooled client for provider calls and one for file fetches, per connect
//! timeout in use (reqwest sets connect timeouts per client; almost always there is one).

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use reqwest::Client;
use reqwest::redirect::{Attempt, Policy};

use crate::files::address::{self, PublicOnlyResolver};

/// Redirects followed when fetching a file.
const MAX_FILE_REDIRECTS: usize = 5;

/// Idle pooled connections are closed after this long: below common server keep-alive limits, so
/// a create is rarely sent on a connection the server is closing.
const POOL_IDLE: Duration = Duration::from_secs(30);

/// What a client is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Provider calls: no redirects followed, no automatic retries.
    Provider,
    /// File fetches: a few redirects, public addresses only unless allowed.
    Files,
}

/// Clients by purpose and connect timeout, built on first use and shared afterwards.
#[derive(Debug)]
pub(crate) struct Clients {
    user_agent: String,
    allow_private_files: bool,
    built: Mutex<Vec<(Purpose, Duration, Client)>>,
}

impl Clients {
    pub(crate) fn new(user_agent: String, allow_private_files: bool) -> Clients {
        Clients {
            user_agent,
            allow_private_files,
            built: Mutex::new(Vec::new()),
        }
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
        let builder = Client::builder()
            .user_agent(self.user_agent.clone())
            .connect_timeout(connect_timeout)
            .pool_idle_timeout(POOL_IDLE)
            .tcp_nodelay(true)
            // Retries are this crate's decision, made with the method and the policy in hand.
            .retry(reqwest::retry::never());
        match purpose {
            Purpose::Provider => builder.redirect(Policy::none()).build(),
            Purpose::Files if self.allow_private_files => builder
                .redirect(Policy::custom(|attempt| {
                    follow_file_redirect(attempt, true)
                }))
                .build(),
            Purpose::Files => builder
                .redirect(Policy::custom(|attempt| {
                    follow_file_redirect(attempt, false)
                }))
                .dns_resolver(PublicOnlyResolver)
                .build(),
        }
    }
}

/// Follows a file redirect to http(s) only, to a public IP literal unless private ones are
/// allowed (host names are checked by the resolver), at most [`MAX_FILE_REDIRECTS`] times.
fn follow_file_redirect(attempt: Attempt<'_>, allow_private: bool) -> reqwest::redirect::Action {
    if attempt.previous().len() > MAX_FILE_REDIRECTS {
        return attempt.error("too many redirects");
    }
    if !matches!(attempt.url().scheme(), "http" | "https") {
        return attempt.error("redirected to a url that is not http or https");
    }
    if !allow_private && let Err(forbidden) = address::check_literal(attempt.url()) {
        return attempt.error(forbidden);
    }
    attempt.follow()
}
