//! Starting and stopping: load and check every mapping (refusing to start with the core's
//! diagnostics), open the store, load the key, bind, serve until the shutdown future resolves,
//! then finish in-flight requests.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use switchboard_core::Registry;
use switchboard_executor::Executor;
use tokio::net::TcpListener;

use crate::account;
use crate::config::ServeConfig;
use crate::crypto::{Cipher, SecretKey};
use crate::error::ServerError;
use crate::metrics::Metrics;
use crate::routes::router;
use crate::serve_loop::{self, ConnectionLimits};
use crate::state::AppState;
use crate::store::{self, Store};
use crate::telemetry;

/// A server bound to its address, ready to run.
pub struct Server {
    listener: TcpListener,
    state: AppState,
    addr: SocketAddr,
    limits: ConnectionLimits,
}

impl Server {
    /// Loads the mappings, opens the store and the key, builds the executor, and binds
    /// `config.listen`.
    pub async fn bind(config: ServeConfig) -> Result<Server, ServerError> {
        let registry = Arc::new(load_registry(&config.mappings, &config.schemas)?);
        let cipher = load_cipher(&config.database, config.secret_key_file.as_deref())?;
        let (store, shared_limiter) = store::open_shared(&config.database).await?;
        let resealed = account::reseal_unbound(store.as_ref(), &cipher)
            .await
            .map_err(|e| ServerError::Invalid(e.to_string()))?;
        if resealed > 0 {
            tracing::info!(
                accounts = resealed,
                "credentials sealed again, bound to their account"
            );
        }
        let mut executor_options = config.executor.clone();
        if executor_options.rate_limiter.is_none() {
            executor_options.rate_limiter = shared_limiter;
        }
        // OAuth tokens live sealed in the database, so instances sharing it renew an account's
        // token one at a time and see each other's renewals.
        executor_options.token_store = Some(Arc::new(crate::oauth_tokens::SealedTokenStore::new(
            store.clone(),
            cipher.clone(),
        )));
        // The server's metrics hear of every provider call (an observer set by an embedder is
        // replaced).
        let metrics = Arc::new(Metrics::default());
        executor_options.observer = Some(metrics.clone());
        let executor =
            Executor::new(executor_options).map_err(|e| ServerError::Executor(e.to_string()))?;
        let state = AppState::new(registry, store, executor, cipher, metrics, &config);
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr()?;
        Ok(Server {
            listener,
            state,
            addr,
            limits: ConnectionLimits::of(&config),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (registry, store, …).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then stops accepting, finishes in-flight requests, and
    /// waits (at most the request timeout) for creates whose clients left to store their answers,
    /// and stores the request-log entries still queued.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let registry = self.state.registry();
        tracing::info!(
            addr = %self.addr,
            integrations = registry.integrations().count(),
            methods = registry.methods().count(),
            "switchboard listening"
        );
        let state = self.state.clone();
        let store = state.store().clone();
        let log_writer = state
            .inner
            .log
            .start(store.clone(), state.inner.log_retention.clone());
        let pruning = tokio::spawn(telemetry::prune_log_periodically(
            store.clone(),
            state.inner.log_retention.clone(),
        ));
        serve_loop::serve(self.listener, router(self.state), self.limits, shutdown).await;
        pruning.abort();
        let inner = &state.inner;
        if !inner.concurrency.drained(inner.request_timeout).await {
            tracing::warn!("stopping with requests still running");
        }
        if let Some(writer) = log_writer {
            writer.finish().await;
        }
        store.close().await;
        tracing::info!("switchboard stopped");
        Ok(())
    }
}

/// Binds and serves `config` until `shutdown` resolves (see [`shutdown_signal`]).
pub async fn serve(
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    Server::bind(config).await?.run(shutdown).await
}

/// Resolves on Ctrl-C, or on SIGTERM on Unix.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Loads every mapping and schema; the error's `Display` is the core's rustc-style report.
pub fn load_registry(mappings: &Path, schemas: &Path) -> Result<Registry, ServerError> {
    Registry::load_dirs(mappings, schemas).map_err(ServerError::Mappings)
}

/// Opens (creating and migrating) the store a database URL names.
pub async fn open_store(database: &str) -> Result<Arc<dyn Store>, ServerError> {
    Ok(store::open(database).await?)
}

/// The credential cipher for a database: the key from `SWITCHBOARD_SECRET_KEY`, else from
/// `key_file`. For SQLite, else from the key file next to the database file (`switchboard.db` →
/// `switchboard.key`), created with mode 0600 on first use; a memory database with no key file
/// gets an ephemeral key. PostgreSQL, shared by several instances, needs the key given (and
/// its file to exist): never one made up, never one found from where the database is. The keys
/// in `SWITCHBOARD_EXTRA_SECRET_KEYS` open credentials too (a key rotation's other key).
pub fn load_cipher(database: &str, key_file: Option<&Path>) -> Result<Cipher, ServerError> {
    let key = if store::is_postgres(database) {
        SecretKey::load_required(key_file)?
    } else {
        let key_file = key_file
            .map(Path::to_path_buf)
            .or_else(|| store::database_file(database).map(|db| db.with_extension("key")));
        SecretKey::load(key_file.as_deref())?
    };
    Ok(Cipher::with_extra(&key, &SecretKey::extra_from_env()?))
}
