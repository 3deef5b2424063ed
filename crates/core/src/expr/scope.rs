//! The data an expression reads: named bindings, shared between the scopes cloned from one.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::FieldPath;
use super::path::Segment;

/// A bound value, shared by every clone of the scope.
pub(crate) struct Cached {
    json: Value,
}

impl Cached {
    /// Wraps a value; share it with `Arc` to bind it in several places without copying it.
    pub(crate) fn new(json: Value) -> Arc<Cached> {
        Arc::new(Cached { json })
    }

    /// The value.
    pub(crate) fn json(&self) -> &Value {
        &self.json
    }
}

/// One named value in a scope.
#[derive(Clone)]
pub(crate) enum Binding {
    /// A value.
    Value(Arc<Cached>),
    /// An object whose members are bound one by one (`steps`), so adding a member does not
    /// copy or convert the others.
    Namespace(BTreeMap<String, Binding>),
    /// A value read with the member at a (non-empty) path as `null`, without copying the
    /// value: the drop analysis probes each input value this way.
    Masked(Arc<Cached>, Arc<[Segment]>),
}

impl Binding {
    /// A plain value.
    pub(crate) fn value(value: Value) -> Binding {
        Binding::Value(Cached::new(value))
    }

    /// An object whose members are bound separately.
    pub(crate) fn namespace(members: impl IntoIterator<Item = (String, Binding)>) -> Binding {
        Binding::Namespace(members.into_iter().collect())
    }

    /// The binding as one JSON value (a namespace is assembled).
    pub(crate) fn to_json(&self) -> Value {
        match self {
            Binding::Value(cached) => cached.json.clone(),
            Binding::Masked(cached, mask) => {
                let mut value = cached.json.clone();
                set_null(&mut value, mask);
                value
            }
            Binding::Namespace(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, b)| (k.clone(), b.to_json()))
                    .collect(),
            ),
        }
    }
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
        self.vars.insert(name.to_owned(), Binding::value(value));
    }

    /// Binds `name` to a prepared binding (a shared value or a namespace).
    pub(crate) fn bind(&mut self, name: &str, binding: Binding) {
        self.vars.insert(name.to_owned(), binding);
    }

    /// Binds `namespace.member`; the namespace is created when absent.
    pub(crate) fn set_member(&mut self, namespace: &str, member: &str, binding: Binding) {
        let entry = self
            .vars
            .entry(namespace.to_owned())
            .or_insert_with(|| Binding::Namespace(BTreeMap::new()));
        if !matches!(entry, Binding::Namespace(_)) {
            *entry = Binding::Namespace(BTreeMap::new());
        }
        if let Binding::Namespace(members) = entry {
            members.insert(member.to_owned(), binding);
        }
    }

    /// Binds `name` to its current value with the member at `mask` read as `null` (nothing
    /// changes when `name` is not a plain value or `mask` is empty).
    pub(crate) fn mask(&mut self, name: &str, mask: &[Segment]) {
        if let (Some(Binding::Value(cached)), false) = (self.vars.get(name), mask.is_empty()) {
            let masked = Binding::Masked(cached.clone(), mask.into());
            self.vars.insert(name.to_owned(), masked);
        }
    }

    /// Walks a plain path from the scope, through namespaces; `None` when absent.
    pub(crate) fn lookup(&self, path: &FieldPath) -> Option<Cow<'_, Value>> {
        let mut binding = self.vars.get(path.root())?;
        for (depth, segment) in path.segments().iter().enumerate().skip(1) {
            match (binding, segment) {
                (Binding::Value(cached), _) => {
                    return path.walk(&cached.json, depth).map(Cow::Borrowed);
                }
                (Binding::Masked(cached, mask), _) => {
                    return masked_walk(&cached.json, &path.segments()[depth..], mask);
                }
                (Binding::Namespace(members), Segment::Key(key)) => binding = members.get(key)?,
                (Binding::Namespace(_), Segment::Index(_)) => return None,
            }
        }
        Some(match binding {
            Binding::Value(cached) => Cow::Borrowed(&cached.json),
            Binding::Namespace(_) | Binding::Masked(..) => Cow::Owned(binding.to_json()),
        })
    }

    /// The member `field` of the object bound to `name`, when both are plain values.
    pub(crate) fn get_field(&self, name: &str, field: &str) -> Option<&Value> {
        match self.vars.get(name)? {
            Binding::Value(cached) => cached.json.get(field),
            Binding::Namespace(_) | Binding::Masked(..) => None,
        }
    }

    /// The plain value bound to `name` (none for a namespace).
    pub(crate) fn value(&self, name: &str) -> Option<&Value> {
        match self.vars.get(name)? {
            Binding::Value(cached) => Some(&cached.json),
            Binding::Namespace(_) | Binding::Masked(..) => None,
        }
    }

    /// The value bound to `name` (a namespace is assembled).
    #[cfg(test)]
    pub(crate) fn get(&self, name: &str) -> Option<Value> {
        self.vars.get(name).map(Binding::to_json)
    }

    /// The whole scope as one JSON object (for JSONPath).
    pub(crate) fn to_json(&self) -> Value {
        Value::Object(
            self.vars
                .iter()
                .map(|(k, b)| (k.clone(), b.to_json()))
                .collect(),
        )
    }

    /// The bindings, for JMESPath to read as one object.
    pub(crate) fn bindings(&self) -> &BTreeMap<String, Binding> {
        &self.vars
    }
}

/// Walks `segments` from `value` as if the member at `mask` were `null`.
fn masked_walk<'v>(
    value: &'v Value,
    segments: &[Segment],
    mask: &[Segment],
) -> Option<Cow<'v, Value>> {
    let mut current = value;
    for (depth, segment) in segments.iter().enumerate() {
        if mask.get(depth) != Some(segment) {
            // Off the masked path: what follows is as it is.
            return super::path::walk(current, &segments[depth..]).map(Cow::Borrowed);
        }
        current = match (segment, current) {
            (Segment::Key(k), Value::Object(map)) => map.get(k)?,
            (Segment::Index(i), Value::Array(items)) => items.get(*i)?,
            _ => return None,
        };
        if depth + 1 == mask.len() {
            // The masked value itself: null, and nothing below it.
            return (depth + 1 == segments.len()).then_some(Cow::Owned(Value::Null));
        }
    }
    // An ancestor of the masked value.
    let mut owned = current.clone();
    set_null(&mut owned, &mask[segments.len()..]);
    Some(Cow::Owned(owned))
}

/// Replaces the value at `path` by `null` (nothing when there is none).
pub(crate) fn set_null(value: &mut Value, path: &[Segment]) {
    let mut target = value;
    for segment in path {
        let next = match (segment, target) {
            (Segment::Key(key), Value::Object(map)) => map.get_mut(key),
            (Segment::Index(index), Value::Array(items)) => items.get_mut(*index),
            _ => None,
        };
        match next {
            Some(found) => target = found,
            None => return,
        }
    }
    *target = Value::Null;
}

/// Converts JMESPath's value type to JSON (a parsed literal); an expression reference becomes
/// null.
pub(crate) fn from_jmes(value: &jmespath::Variable) -> Value {
    use jmespath::Variable;
    match value {
        Variable::Null | Variable::Expref(_) => Value::Null,
        Variable::Bool(b) => Value::Bool(*b),
        Variable::Number(n) => Value::Number(n.clone()),
        Variable::String(s) => Value::String(s.clone()),
        Variable::Array(items) => Value::Array(items.iter().map(|v| from_jmes(v)).collect()),
        Variable::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), from_jmes(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{Expr, Root};
    use serde_json::json;

    /// A masked binding reads exactly like a copy with the member set to null, through plain
    /// paths, JMESPath and JSONPath.
    #[test]
    fn masked_values_read_like_a_copy_with_the_member_nulled() {
        let body =
            json!({"a": [{"x": 1, "y": "k"}, {"x": 2}], "b": {"c": {"d": 3}, "e": 4}, "f": "g"});
        let masks: Vec<Vec<Segment>> = vec![
            vec![Segment::Key("a".into())],
            vec![Segment::Key("a".into()), Segment::Index(0)],
            vec![
                Segment::Key("a".into()),
                Segment::Index(0),
                Segment::Key("y".into()),
            ],
            vec![
                Segment::Key("b".into()),
                Segment::Key("c".into()),
                Segment::Key("d".into()),
            ],
            vec![Segment::Key("b".into()), Segment::Key("missing".into())],
            vec![Segment::Key("a".into()), Segment::Index(7)],
            vec![
                Segment::Key("f".into()),
                Segment::Key("under_a_string".into()),
            ],
        ];
        let expressions = [
            "body",
            "body.a",
            "body.a[0]",
            "body.a[0].y",
            "body.a[0].y.z",
            "body.a[1].x",
            "body.b.c",
            "body.b.c.d",
            "body.b.e",
            "body.f",
            "body.a[].y",
            "body.a[*].x",
            "length(body.a)",
            "body.b.*",
            "values(body.b)",
            "to_entries(body)[].key",
            "body.a[?y].x",
            "body == `null`",
            "keys(body.b)",
            "$.body.a[*].x",
            "$.body.b.c",
        ];
        for mask in &masks {
            let mut masked = Scope::default();
            masked.set("body", body.clone());
            masked.mask("body", mask);
            let mut copied = Scope::default();
            let mut nulled = body.clone();
            set_null(&mut nulled, mask);
            copied.set("body", nulled);
            for text in expressions {
                let expr = Expr::compile(text).unwrap();
                assert_eq!(
                    expr.eval(&Root::Scope(&masked)),
                    expr.eval(&Root::Scope(&copied)),
                    "`{text}` with {mask:?} masked"
                );
            }
        }
    }

    #[test]
    fn namespace_members_read_like_one_object() {
        let mut scope = Scope::default();
        scope.set_member(
            "steps",
            "a",
            Binding::namespace([("response".to_owned(), Binding::value(json!({"id": 1})))]),
        );
        scope.set_member("steps", "b", Binding::value(json!([{"n": 2}])));
        let eval = |text: &str| {
            Expr::compile(text)
                .unwrap()
                .eval(&Root::Scope(&scope))
                .unwrap()
        };
        assert_eq!(eval("steps.a.response.id"), json!(1));
        assert_eq!(eval("steps.b[0].n"), json!(2));
        assert_eq!(eval("steps.b[0].n || steps.a.response.id"), json!(2));
        assert_eq!(eval("$.steps.a.response.id"), json!(1));
        assert_eq!(eval("steps.c"), json!(null));
        assert_eq!(
            scope.get("steps"),
            Some(json!({"a": {"response": {"id": 1}}, "b": [{"n": 2}]}))
        );
    }
}
