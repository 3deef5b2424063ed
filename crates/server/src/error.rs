//! Why the server could not start or a command could not finish. Request-time errors are
//! responses instead (see [`crate::ApiError`]).

use switchboard_core::Diagnostics;

use crate::crypto::CryptoError;
use crate::store::StoreError;

/// A start-up or command failure.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A mapping or schema is invalid; the rustc-style diagnostics say where.
    #[error("{0}")]
    Mappings(Diagnostics),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The encryption key could not be had, or stored credentials do not open.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The executor could not be built.
    #[error("cannot build the executor: {0}")]
    Executor(String),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
    /// A command was given bad input (unknown integration, bad context, unknown id).
    #[error("{0}")]
    Invalid(String),
}
