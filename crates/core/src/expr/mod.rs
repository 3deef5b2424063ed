//! Expressions and templates, compiled once at load.
//!
//! A template string may hold `{{ expression }}` parts. The expression inside is, in order of
//! preference:
//! - a plain path (`body.emails[0].email`), walked directly, which can tell absent from null;
//! - JSONPath when it starts with `$` (`$.body.emails[0].email`); several matches give an array;
//! - JMESPath otherwise, with the standard library in [`functions`].

mod file_node;
mod jmes;
pub(crate) mod path;
mod references;
mod scope;
mod template;
pub(crate) mod touched;

use jsonpath_rust::parser::model::JpQuery;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

pub(crate) use path::FieldPath;
pub(crate) use references::Reference;
pub(crate) use scope::{Binding, Cached, Scope, from_jmes};
pub(crate) use template::{
    PathError, SegmentProblem, Template, TemplateError, scalar_text as template_text,
};

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
    /// JMESPath, with what it reads from its root (found once, at load).
    JmesPath(Box<Jmes>),
}

/// A compiled JMESPath expression and the names it reads from its root.
pub(crate) struct Jmes {
    node: jmes::Node,
    reads: Vec<Reference>,
}

/// What an expression is evaluated against.
pub(crate) enum Root<'a> {
    /// Named bindings: `query`, `body`, `context`, `steps`, …
    Scope(&'a Scope),
    /// One record (a provider object being mapped).
    Record(&'a Value),
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
        let ast = jmespath::parse(text)
            .map_err(|e| format!("invalid JMESPath `{text}`: {}", e.reason))?;
        if references::has_ambiguous_not(&ast) {
            return Err(format!(
                "`{text}`: `!a.b` negates `a` and then reads `.b`; write `!(a.b)`"
            ));
        }
        let unknown: Vec<String> = references::functions(&ast)
            .into_iter()
            .filter(|name| !jmes::has_function(name))
            .collect();
        if let Some(name) = unknown.first() {
            return Err(format!(
                "unknown function `{name}` in `{text}` (see the function table in README.md)"
            ));
        }
        let node = jmes::compile(&ast).map_err(|e| format!("`{text}`: {e}"))?;
        let reads = references::roots(&ast);
        Ok(Expr::JmesPath(Box::new(Jmes { node, reads })))
    }

    /// The scope names (and second keys) this expression reads from its root.
    pub(crate) fn references(&self) -> Vec<Reference> {
        match self {
            Expr::Path(path) => vec![Reference {
                root: path.root().to_owned(),
                key: path.second_key().map(str::to_owned),
            }],
            Expr::JsonPath(_) => Vec::new(),
            Expr::JmesPath(jmes) => jmes.reads.clone(),
        }
    }

    /// Whether the expression may read member `field` of the scope binding `root`: it reads
    /// that member, or the whole binding, or is JSONPath (whose reads are not tracked). Costs
    /// no allocation: the drop analysis asks it for every expression of a step per probe.
    pub(crate) fn may_read(&self, root: &str, field: &str) -> bool {
        let hits = |reference_root: &str, key: Option<&str>| {
            reference_root == root && key.is_none_or(|k| k == field)
        };
        match self {
            Expr::Path(path) => hits(path.root(), path.second_key()),
            Expr::JsonPath(_) => true,
            Expr::JmesPath(jmes) => jmes.reads.iter().any(|r| hits(&r.root, r.key.as_deref())),
        }
    }

    /// Evaluates against `root`; absent values are `null`.
    pub(crate) fn eval(&self, root: &Root<'_>) -> Result<Value, String> {
        match self {
            Expr::Path(path) => Ok(match root {
                Root::Scope(scope) => scope.lookup(path).map(|found| {
                    if let std::borrow::Cow::Borrowed(value) = found {
                        touched::subtree(value);
                    }
                    found.into_owned()
                }),
                Root::Record(json) => path.lookup_in(json).cloned(),
            }
            .unwrap_or(Value::Null)),
            Expr::JsonPath(query) => {
                let owned;
                let json = match root {
                    Root::Scope(scope) => {
                        touched::everything();
                        owned = scope.to_json();
                        &owned
                    }
                    Root::Record(json) => *json,
                };
                let found = jsonpath_rust::query::js_path_process(query, json)
                    .map_err(|e| format!("JSONPath failed: {e}"))?;
                Ok(match found.len() {
                    0 => Value::Null,
                    1 => found[0].clone().val().clone(),
                    _ => Value::Array(found.into_iter().map(|r| r.val().clone()).collect()),
                })
            }
            Expr::JmesPath(compiled) => {
                let data = match root {
                    Root::Scope(scope) => jmes::Val::Bindings(scope.bindings()),
                    Root::Record(json) => jmes::Val::of(json),
                };
                jmes::eval(&compiled.node, &data).map(|v| v.to_json())
            }
        }
    }

    /// Evaluates against `root` and gives the value as JMESPath returns it, objects' keys in
    /// order, whatever the kind of expression (a provider record is mapped from this form).
    pub(crate) fn eval_sorted(&self, root: &Root<'_>) -> Result<Value, String> {
        match self {
            Expr::JmesPath(_) => self.eval(root),
            other => other.eval(root).map(|v| jmes::sorted(&v)),
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
