//! What every handler reads: the registry of plans, the store, the executor, the cipher, limits.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use serde_json::Value;
use switchboard_core::Registry;
use switchboard_executor::Executor;

use crate::config::{LogRetention, ServeConfig};
use crate::crypto::Cipher;
use crate::idempotency::KeyLocks;
use crate::limits::Concurrency;
use crate::routes::meta::method_meta;
use crate::routes::openapi::openapi;
use crate::store::Store;

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
    /// How long one request may take (see [`ServeConfig::request_timeout`]).
    pub(crate) request_timeout: Duration,
    /// The requests (and detached runs) under way.
    pub(crate) concurrency: Concurrency,
    /// The OpenAPI document, generated and serialised once at start.
    pub(crate) openapi: Bytes,
    /// Each method plan's meta document, generated once at start.
    pub(crate) meta: HashMap<(String, String, String), Value>,
}

impl AppState {
    /// State over loaded plans, an open store, an executor and the credential cipher, with the
    /// limits of `config` (body limit, idempotency TTL and wait, request-log retention, request
    /// timeout, concurrency).
    pub fn new(
        registry: Arc<Registry>,
        store: Arc<dyn Store>,
        executor: Executor,
        cipher: Cipher,
        config: &ServeConfig,
    ) -> AppState {
        let openapi =
            Bytes::from(serde_json::to_vec(&openapi(&registry)).unwrap_or_else(|_| b"{}".to_vec()));
        let meta = registry
            .methods()
            .map(|plan| {
                let key = (
                    plan.integration.clone(),
                    plan.resource.clone(),
                    plan.method.clone(),
                );
                (key, method_meta(plan))
            })
            .collect();
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
                request_timeout: config.request_timeout,
                concurrency: Concurrency::new(config.max_concurrent_requests),
                openapi,
                meta,
            }),
        }
    }

    /// The loaded plans.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.inner.registry
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The credential cipher.
    pub fn cipher(&self) -> &Cipher {
        &self.inner.cipher
    }
}
