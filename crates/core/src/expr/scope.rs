//! The data an expression reads: named bindings, each converted to JMESPath's form at most once.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use jmespath::{Rcvar, Variable};
use serde_json::Value;

/// One named value in a scope.
#[derive(Clone)]
struct Binding {
    json: Arc<Value>,
    jmes: OnceLock<Rcvar>,
}

/// Named values (`query`, `body`, `context`, `steps`, `item`, …) that expressions read.
///
/// Cloning is cheap (reference counts), so a child scope for one `for_each` item or one
/// response costs a map clone, not a deep copy.
#[derive(Clone, Default)]
pub(crate) struct Scope {
    vars: BTreeMap<String, Binding>,
}

impl Scope {
    /// Binds `name` to `value`, replacing an earlier binding.
    pub(crate) fn set(&mut self, name: &str, value: Value) {
        self.vars.insert(
            name.to_owned(),
            Binding {
                json: Arc::new(value),
                jmes: OnceLock::new(),
            },
        );
    }

    /// The value bound to `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.vars.get(name).map(|b| b.json.as_ref())
    }

    /// The whole scope as one JSON object (for JSONPath).
    pub(crate) fn to_json(&self) -> Value {
        Value::Object(
            self.vars
                .iter()
                .map(|(k, b)| (k.clone(), b.json.as_ref().clone()))
                .collect(),
        )
    }

    /// The whole scope as one JMESPath object; each binding is converted once and cached.
    pub(crate) fn to_jmes(&self) -> Rcvar {
        let map = self
            .vars
            .iter()
            .map(|(k, b)| (k.clone(), b.jmes.get_or_init(|| to_jmes(&b.json)).clone()))
            .collect();
        Rcvar::new(Variable::Object(map))
    }
}

/// Converts JSON to JMESPath's value type.
pub(crate) fn to_jmes(value: &Value) -> Rcvar {
    Rcvar::new(Variable::try_from(value).unwrap_or(Variable::Null))
}

/// Converts JMESPath's value type back to JSON.
pub(crate) fn from_jmes(value: &Rcvar) -> Value {
    serde_json::to_value(value.as_ref()).unwrap_or(Value::Null)
}
