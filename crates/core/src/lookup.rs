//! Looking plans up by name: a name that is not loaded says what is.

use crate::wording::backticked;

/// A lookup in the [`Registry`](crate::Registry) that found nothing, with what does exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// No integration by that name is loaded.
    #[error("no integration `{integration}` is loaded (loaded: {})", listed(known))]
    UnknownIntegration {
        /// The name asked for.
        integration: String,
        /// The integrations loaded.
        known: Vec<String>,
    },
    /// The integration maps no method of that resource.
    #[error(
        "`{integration}` maps no method of `{resource}` (mapped resources: {})",
        listed(known)
    )]
    UnknownResource {
        /// The integration.
        integration: String,
        /// The resource asked for (`ats/candidates`).
        resource: String,
        /// The resources the integration maps.
        known: Vec<String>,
    },
    /// The integration maps the resource, but not that method.
    #[error(
        "`{integration}` maps no `{method}` of `{resource}` (mapped: {})",
        listed(known)
    )]
    UnknownMethod {
        /// The integration.
        integration: String,
        /// The resource.
        resource: String,
        /// The method asked for.
        method: String,
        /// The methods mapped for the resource.
        known: Vec<String>,
    },
}

fn listed(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        backticked(names)
    }
}
