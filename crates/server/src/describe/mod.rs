//! The documents that describe the API, generated from the registry once at start: the OpenAPI
//! document and each method's meta document. Pure functions of the registry: they know nothing
//! of requests, state or routes, which serve what is built here.

mod meta;
mod openapi;

use std::collections::HashMap;

use axum::body::Bytes;
use serde_json::Value;
use switchboard_core::Registry;

pub use meta::method_meta;
pub use openapi::openapi;

/// (integration, resource, method): the key of a meta document.
pub(crate) type MethodKey = (String, String, String);

/// Every document, built once.
pub(crate) struct Documents {
    /// The OpenAPI document, serialised.
    pub(crate) openapi: Bytes,
    /// Each method plan's meta document.
    pub(crate) meta: HashMap<MethodKey, MetaDocument>,
}

/// One method's meta document, as a value (to extend per request) and serialised (to answer
/// as it is, with no work per request).
pub(crate) struct MetaDocument {
    /// The document.
    pub(crate) value: Value,
    /// The document serialised, exactly as `axum::Json` would write it.
    pub(crate) serialized: Bytes,
}

impl MetaDocument {
    fn of(value: Value) -> MetaDocument {
        let serialized = Bytes::from(value.to_string());
        MetaDocument { value, serialized }
    }
}

impl Documents {
    /// Builds every document `registry` calls for.
    pub(crate) fn build(registry: &Registry) -> Documents {
        let openapi =
            Bytes::from(serde_json::to_vec(&openapi(registry)).unwrap_or_else(|_| b"{}".to_vec()));
        let meta = registry
            .methods()
            .map(|plan| {
                let key = (
                    plan.integration.clone(),
                    plan.resource.clone(),
                    plan.method.clone(),
                );
                (key, MetaDocument::of(method_meta(plan)))
            })
            .collect();
        Documents { openapi, meta }
    }
}
