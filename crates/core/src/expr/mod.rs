//! Expressions and templates, compiled once at load.
//!
//! A template string may hold `{{ expression }}` parts. The expression inside is, in order of
//! preference:
//! - a plain path (`body.emails[0].email`), walked directly, which can tell absent from null;
//! - JSONPath when it starts with `$` (`$.body.emails[0].email`); several matches give an array;
//! - JMESPath otherwise, with the standard library in [`functions`].

mod file_node;
pub(crate) mod functions;
pub(crate) mod path;
mod references;
mod scope;
mod template;
mod value_key;

use std::sync::LazyLock;

use jmespath::{Expression, Rcvar, Runtime};
use jsonpath_rust::parser::model::JpQuery;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

pub(crate) use path::FieldPath;
pub(crate) use references::Reference;
pub(crate) use scope::{Binding, Cached, Scope, from_jmes, to_jmes};
pub(crate) use template::{
    PathError, SegmentProblem, Template, TemplateError, scalar_text as template_text,
};

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    let mut runtime = Runtime::new();
    runtime.register_builtin_functions();
    functions::register(&mut runtime);
    runtime
});

/// Characters left as they are in a path segment or query component (RFC 3986 unreserved).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one path segment or query component.
pub(crate) fn encode_query_component(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// A compiled expression.
pub(crate) enum Expr {
    /// A plain path.
    Path(FieldPath),
    /// JSONPath (`$…`).
    JsonPath(Box<JpQuery>),
    /// JMESPath.
    JmesPath(Box<Expression<'static>>),
}

/// What an expression is evaluated against.
pub(crate) enum Root<'a> {
    /// Named bindings: `query`, `body`, `context`, `steps`, …
    Scope(&'a Scope),
    /// One record (a provider object being mapped), in both forms.
    Record {
        /// As JSON.
        json: &'a Value,
        /// As JMESPath.
        jmes: &'a Rcvar,
    },
}

impl Expr {
    /// Compiles `text`; the error says why it does not parse or names an unknown function.
    pub(crate) fn compile(text: &str) -> Result<Expr, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty expression".to_owned());
        }
        if text.starts_with('$') {
            return jsonpath_rust::parser::parse_json_path(text)
                .map(|q| Expr::JsonPath(Box::new(q)))
                .map_err(|e| format!("invalid JSONPath `{text}`: {e}"));
        }
        if let Some(path) = FieldPath::parse(text) {
            return Ok(Expr::Path(path));
        }
        let expression = RUNTIME
            .compile(text)
            .map_err(|e| format!("invalid JMESPath `{text}`: {}", e.reason))?;
        if references::has_ambiguous_not(expression.as_ast()) {
            return Err(format!(
                "`{text}`: `!a.b` negates `a` and then reads `.b`; write `!(a.b)`"
            ));
        }
        let unknown: Vec<String> = references::functions(expression.as_ast())
            .into_iter()
            .filter(|name| RUNTIME.get_function(name).is_none())
            .collect();
        if let Some(name) = unknown.first() {
            return Err(format!(
                "unknown function `{name}` in `{text}` (see the function table in README.md)"
            ));
        }
        Ok(Expr::JmesPath(Box::new(expression)))
    }

    /// The scope names (and second keys) this expression reads from its root.
    pub(crate) fn references(&self) -> Vec<Reference> {
        match self {
            Expr::Path(path) => vec![Reference {
                root: path.root().to_owned(),
                key: path.second_key().map(str::to_owned),
            }],
            Expr::JsonPath(_) => Vec::new(),
            Expr::JmesPath(expression) => references::roots(expression.as_ast()),
        }
    }

    /// Evaluates against `root`; absent values are `null`.
    pub(crate) fn eval(&self, root: &Root<'_>) -> Result<Value, String> {
        match self {
            Expr::Path(path) => Ok(match root {
                Root::Scope(scope) => scope.lookup(path).map(std::borrow::Cow::into_owned),
                Root::Record { json, .. } => path.lookup_in(json).cloned(),
            }
            .unwrap_or(Value::Null)),
            Expr::JsonPath(query) => {
                let owned;
                let json = match root {
                    Root::Scope(scope) => {
                        owned = scope.to_json();
                        &owned
                    }
                    Root::Record { json, .. } => *json,
                };
                let found = jsonpath_rust::query::js_path_process(query, json)
                    .map_err(|e| format!("JSONPath failed: {e}"))?;
                Ok(match found.len() {
                    0 => Value::Null,
                    1 => found[0].clone().val().clone(),
                    _ => Value::Array(found.into_iter().map(|r| r.val().clone()).collect()),
                })
            }
            Expr::JmesPath(_) => self.eval_jmes(root).map(|v| from_jmes(&v)),
        }
    }

    /// Evaluates against `root`, giving JMESPath's form (no round trip through JSON for JMESPath
    /// expressions).
    pub(crate) fn eval_jmes(&self, root: &Root<'_>) -> Result<Rcvar, String> {
        match self {
            Expr::JmesPath(expression) => {
                let data = match root {
                    Root::Scope(scope) => scope.to_jmes(),
                    Root::Record { jmes, .. } => Rcvar::clone(jmes),
                };
                let mut ctx = jmespath::Context::new(expression.as_str(), &RUNTIME);
                jmespath::interpret(&data, expression.as_ast(), &mut ctx)
                    .map_err(|e| e.reason.to_string())
            }
            other => other.eval(root).map(|v| to_jmes(&v)),
        }
    }

    /// Whether a plain-path expression finds a value (present and not null); other expressions
    /// count a non-null result as present.
    pub(crate) fn is_present(&self, root: &Root<'_>) -> Result<bool, String> {
        self.eval(root).map(|v| !v.is_null())
    }
}

/// JMESPath truthiness: `false`, `null`, `""`, `[]` and `{}` are false.
pub(crate) fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Number(_) => true,
    }
}
