//! A provider's answer as a run reads it: the body is bound once and shared (not copied) by the
//! error check, the pagination and `select` expressions, and the step's result.

use std::sync::Arc;

use serde_json::Value;

use super::render::header_object;
use crate::expr::{Binding, Cached, Scope};
use crate::http::ProviderResponse;

/// A provider answer with its body and headers ready for expressions.
pub(crate) struct Answer {
    /// The HTTP status.
    pub(crate) status: u16,
    headers: Vec<(String, String)>,
    /// The headers as an object with lower-cased names.
    pub(crate) header_object: Arc<Cached>,
    /// The body.
    pub(crate) body: Arc<Cached>,
}

impl Answer {
    /// Takes the response apart, without copying its body.
    pub(crate) fn new(response: ProviderResponse) -> Answer {
        Answer {
            status: response.status,
            header_object: Cached::new(header_object(&response.headers)),
            headers: response.headers,
            body: Cached::new(response.body),
        }
    }

    /// The first header named `name` (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Whether the status is 2xx.
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A scope holding `status`, `headers` and `response`, what error and pagination
    /// expressions read.
    pub(crate) fn scope(&self) -> Scope {
        let mut scope = Scope::default();
        self.bind(&mut scope);
        scope
    }

    /// Binds `status`, `headers` and `response` in `scope`.
    pub(crate) fn bind(&self, scope: &mut Scope) {
        scope.set("status", Value::from(self.status));
        scope.bind("headers", Binding::Value(self.header_object.clone()));
        scope.bind("response", Binding::Value(self.body.clone()));
    }
}
