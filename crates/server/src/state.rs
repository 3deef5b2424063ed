//! What every handler reads: the registry of plans, the store, the executor, the cipher, limits.

use std::sync::Arc;
use std::time::Duration;

use switchboard_core::Registry;
use switchboard_executor::Executor;

use crate::concurrency::Concurrency;
use crate::config::{LogRetention, ServeConfig};
use crate::crypto::Cipher;
use crate::describe::Documents;
use crate::key_locks::KeyLocks;
use crate::log_writer::{LogQueue, QUEUE_CAPACITY};
use crate::metrics::Metrics;
use crate::store::{CachedStore, LOOKUP_TTL, MAX_CACHED, Store};

/// Shared server state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) registry: Arc<Registry>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) executor: Executor,
    pub(crate) cipher: Cipher,
    pub(crate) locks: KeyLocks,
    pub(crate) body_limit: usize,
    pub(crate) idempotency_ttl: Duration,
    pub(crate) idempotency_wait: Duration,
    pub(crate) log_retention: LogRetention,
    /// Request-log entries on their way to the store.
    pub(crate) log: LogQueue,
    /// How long one request may take (see [`ServeConfig::request_timeout`]).
    pub(crate) request_timeout: Duration,
    /// The requests (and detached runs) under way.
    pub(crate) concurrency: Concurrency,
    /// The OpenAPI and meta documents, generated once at start.
    pub(crate) documents: Documents,
    /// Where providers send the connect flow back to (see [`ServeConfig::connect_callback_url`]).
    pub(crate) connect_callback_url: Option<String>,
    /// What `GET /metrics` shows (the executor reports its provider calls into it too).
    pub(crate) metrics: Arc<Metrics>,
}

impl AppState {
    /// State over loaded plans, an open store, an executor and the credential cipher, with the
    /// limits of `config` (body limit, idempotency TTL and wait, request-log retention, request
    /// timeout, concurrency), counting into `metrics` (which `executor` should observe into).
    pub fn new(
        registry: Arc<Registry>,
        store: Arc<dyn Store>,
        executor: Executor,
        cipher: Cipher,
        metrics: Arc<Metrics>,
        config: &ServeConfig,
    ) -> AppState {
        let documents = Documents::build(&registry);
        let store: Arc<dyn Store> = Arc::new(CachedStore::new(store, MAX_CACHED, LOOKUP_TTL));
        AppState {
            inner: Arc::new(Inner {
                registry,
                store,
                executor,
                cipher,
                locks: KeyLocks::default(),
                body_limit: config.body_limit,
                idempotency_ttl: config.idempotency_ttl,
                idempotency_wait: config.idempotency_wait,
                log_retention: config.log_retention.clone(),
                log: LogQueue::new(QUEUE_CAPACITY),
                request_timeout: config.request_timeout,
                concurrency: Concurrency::new(config.max_concurrent_requests),
                documents,
                connect_callback_url: config.connect_callback_url.clone(),
                metrics,
            }),
        }
    }

    /// The loaded plans.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.inner.registry
    }

    /// The store (token and account lookups answered from memory for a few seconds; changes
    /// made through it take effect at once).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// How many request-log entries were dropped, unwritten, because the writer fell behind.
    pub fn dropped_log_entries(&self) -> u64 {
        self.inner.log.dropped()
    }

    /// The credential cipher.
    pub fn cipher(&self) -> &Cipher {
        &self.inner.cipher
    }
}
