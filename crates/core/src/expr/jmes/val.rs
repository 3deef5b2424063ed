//! The values a JMESPath expression works on: borrowed from the data where they can be, owned
//! (and cheap to clone) where an expression builds them.
//!
//! Semantics follow the `jmespath` crate this engine used before (and whose parser it keeps):
//! objects are seen in key order, so an object an expression returns has its keys sorted;
//! numbers are equal when their `f64` values are (within a relative epsilon); values of
//! different types are never equal and order as equal.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::rc::Rc;

use serde_json::{Map, Number, Value};

use super::node::Node;
use crate::expr::Binding;
use crate::expr::path::Segment;
use crate::expr::scope::set_null;

/// A value during evaluation.
#[derive(Clone)]
pub(crate) enum Val<'a> {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    Str(Cow<'a, str>),
    /// An array of the data, not copied.
    JsonArray(&'a [Value]),
    /// An object of the data, not copied.
    JsonObject(&'a Map<String, Value>),
    /// An array an expression built.
    Array(Rc<Vec<Val<'a>>>),
    /// An object an expression built, by key.
    Object(Rc<BTreeMap<Cow<'a, str>, Val<'a>>>),
    /// An expression reference (`&expr`), for functions that take one.
    Expref(&'a Node),
    /// Named bindings (a scope, or a namespace in one), read as an object.
    Bindings(&'a BTreeMap<String, Binding>),
    /// An array or object of the data read with the member at a non-empty path as `null`.
    Masked(&'a Value, &'a [Segment]),
}

/// JMESPath's type names, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Null,
    String,
    Number,
    Boolean,
    Array,
    Object,
    Expref,
}

impl Kind {
    /// The name `type()` returns.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::String => "string",
            Kind::Number => "number",
            Kind::Boolean => "boolean",
            Kind::Array => "array",
            Kind::Object => "object",
            Kind::Expref => "expref",
        }
    }
}

impl<'a> Val<'a> {
    /// A value of the data, borrowed.
    pub(crate) fn of(value: &'a Value) -> Val<'a> {
        crate::expr::touched::value(value);
        match value {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => Val::Number(n.clone()),
            Value::String(s) => Val::Str(Cow::Borrowed(s)),
            Value::Array(items) => Val::JsonArray(items),
            Value::Object(map) => Val::JsonObject(map),
        }
    }

    /// A value made from JSON the evaluation owns (such as `to_number`'s parse).
    pub(crate) fn owned(value: Value) -> Val<'a> {
        match value {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(b),
            Value::Number(n) => Val::Number(n),
            Value::String(s) => Val::Str(Cow::Owned(s)),
            Value::Array(items) => Val::array(items.into_iter().map(Val::owned).collect()),
            Value::Object(map) => Val::object(
                map.into_iter()
                    .map(|(k, v)| (Cow::Owned(k), Val::owned(v)))
                    .collect(),
            ),
        }
    }

    /// What a binding holds.
    pub(crate) fn of_binding(binding: &'a Binding) -> Val<'a> {
        match binding {
            Binding::Value(cached) => Val::of(cached.json()),
            Binding::Namespace(members) => Val::Bindings(members),
            Binding::Masked(cached, mask) => Val::masked(cached.json(), mask),
        }
    }

    /// `value` with the member at `mask` read as `null`.
    fn masked(value: &'a Value, mask: &'a [Segment]) -> Val<'a> {
        match (mask.is_empty(), value) {
            (true, _) => Val::Null,
            (false, Value::Array(_) | Value::Object(_)) => Val::Masked(value, mask),
            (false, _) => Val::of(value),
        }
    }

    /// Member `segment` of `value` (masked as `mask` says, when the mask goes through it).
    fn masked_member(value: &'a Value, mask: &'a [Segment], segment: &Segment) -> Val<'a> {
        let member = match (segment, value) {
            (Segment::Key(k), Value::Object(map)) => map.get(k),
            (Segment::Index(i), Value::Array(items)) => items.get(*i),
            _ => None,
        };
        match member {
            Some(member) if mask.first() == Some(segment) => Val::masked(member, &mask[1..]),
            Some(member) => Val::of(member),
            None => Val::Null,
        }
    }

    /// An owned string.
    pub(crate) fn string(text: String) -> Val<'a> {
        Val::Str(Cow::Owned(text))
    }

    /// An owned array.
    pub(crate) fn array(items: Vec<Val<'a>>) -> Val<'a> {
        Val::Array(Rc::new(items))
    }

    /// An owned object.
    pub(crate) fn object(members: BTreeMap<Cow<'a, str>, Val<'a>>) -> Val<'a> {
        Val::Object(Rc::new(members))
    }

    /// A number from an `f64`; `None` when it is not finite.
    pub(crate) fn float(n: f64) -> Option<Val<'a>> {
        Number::from_f64(n).map(Val::Number)
    }

    /// The value's type.
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Val::Null => Kind::Null,
            Val::Bool(_) => Kind::Boolean,
            Val::Number(_) => Kind::Number,
            Val::Str(_) => Kind::String,
            Val::JsonArray(_) | Val::Array(_) => Kind::Array,
            Val::JsonObject(_) | Val::Object(_) | Val::Bindings(_) => Kind::Object,
            Val::Masked(value, _) => Val::of(value).kind(),
            Val::Expref(_) => Kind::Expref,
        }
    }

    /// Whether it is `null`.
    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    /// JMESPath truthiness: `false`, `null`, `""`, `[]` and `{}` are false (and an expression
    /// reference).
    pub(crate) fn is_truthy(&self) -> bool {
        match self {
            Val::Null | Val::Expref(_) => false,
            Val::Bool(b) => *b,
            Val::Number(_) => true,
            Val::Str(s) => !s.is_empty(),
            Val::JsonArray(items) => !items.is_empty(),
            Val::Array(items) => !items.is_empty(),
            Val::JsonObject(map) => !map.is_empty(),
            Val::Object(map) => !map.is_empty(),
            Val::Bindings(map) => !map.is_empty(),
            Val::Masked(value, _) => Val::of(value).is_truthy(),
        }
    }

    /// The string, when it is one.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number as `f64`, when it is one.
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    /// The expression reference, when it is one.
    pub(crate) fn as_expref(&self) -> Option<&'a Node> {
        match self {
            Val::Expref(node) => Some(node),
            _ => None,
        }
    }

    /// The array's items (cheap: borrowed items or shared ones), when it is an array.
    pub(crate) fn items(&self) -> Option<Vec<Val<'a>>> {
        match self {
            Val::JsonArray(items) => Some(items.iter().map(Val::of).collect()),
            Val::Array(items) => Some(items.as_ref().clone()),
            Val::Masked(Value::Array(items), mask) => Some(
                (0..items.len())
                    .map(|i| Val::masked_member(self.masked_value(), mask, &Segment::Index(i)))
                    .collect(),
            ),
            _ => None,
        }
    }

    fn masked_value(&self) -> &'a Value {
        match self {
            Val::Masked(value, _) => value,
            _ => &Value::Null,
        }
    }

    /// The array's length, when it is an array.
    pub(crate) fn array_len(&self) -> Option<usize> {
        match self {
            Val::JsonArray(items) => Some(items.len()),
            Val::Array(items) => Some(items.len()),
            Val::Masked(Value::Array(items), _) => Some(items.len()),
            _ => None,
        }
    }

    /// The object's members in key order, when it is an object.
    pub(crate) fn entries(&self) -> Option<Vec<(Cow<'a, str>, Val<'a>)>> {
        match self {
            Val::JsonObject(map) => {
                let mut members: Vec<(Cow<'a, str>, Val<'a>)> = map
                    .iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Val::of(v)))
                    .collect();
                members.sort_by(|a, b| a.0.cmp(&b.0));
                Some(members)
            }
            Val::Object(map) => Some(map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            Val::Bindings(map) => Some(
                map.iter()
                    .map(|(k, b)| (Cow::Borrowed(k.as_str()), Val::of_binding(b)))
                    .collect(),
            ),
            Val::Masked(Value::Object(map), mask) => {
                let mut members: Vec<(Cow<'a, str>, Val<'a>)> = map
                    .keys()
                    .map(|k| {
                        let member =
                            Val::masked_member(self.masked_value(), mask, &Segment::Key(k.clone()));
                        (Cow::Borrowed(k.as_str()), member)
                    })
                    .collect();
                members.sort_by(|a, b| a.0.cmp(&b.0));
                Some(members)
            }
            _ => None,
        }
    }

    /// The object's members by key, when it is an object.
    pub(crate) fn to_map(&self) -> Option<BTreeMap<Cow<'a, str>, Val<'a>>> {
        match self {
            Val::Object(map) => Some(map.as_ref().clone()),
            _ => self.entries().map(|e| e.into_iter().collect()),
        }
    }

    /// The object's number of members, when it is an object.
    pub(crate) fn object_len(&self) -> Option<usize> {
        match self {
            Val::JsonObject(map) => Some(map.len()),
            Val::Object(map) => Some(map.len()),
            Val::Bindings(map) => Some(map.len()),
            Val::Masked(Value::Object(map), _) => Some(map.len()),
            _ => None,
        }
    }

    /// Member `key` of an object; `null` when absent or not an object.
    pub(crate) fn field(&self, key: &str) -> Val<'a> {
        match self {
            Val::JsonObject(map) => map.get(key).map_or(Val::Null, Val::of),
            Val::Object(map) => map.get(key).cloned().unwrap_or(Val::Null),
            Val::Bindings(map) => map.get(key).map_or(Val::Null, Val::of_binding),
            Val::Masked(value, mask) => match mask.first() {
                Some(Segment::Key(k)) if k == key => Val::masked_member(value, mask, &mask[0]),
                _ => value.get(key).map_or(Val::Null, Val::of),
            },
            _ => Val::Null,
        }
    }

    /// Item `index` of an array; `null` when absent or not an array.
    pub(crate) fn index(&self, index: usize) -> Val<'a> {
        match self {
            Val::JsonArray(items) => items.get(index).map_or(Val::Null, Val::of),
            Val::Array(items) => items.get(index).cloned().unwrap_or(Val::Null),
            Val::Masked(value @ Value::Array(_), mask) => {
                Val::masked_member(value, mask, &Segment::Index(index))
            }
            _ => Val::Null,
        }
    }

    /// The value as JSON, objects' keys in order (as JMESPath sees them).
    pub(crate) fn to_json(&self) -> Value {
        match self {
            Val::Null | Val::Expref(_) => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Number(n) => Value::Number(n.clone()),
            Val::Str(s) => Value::String(s.as_ref().to_owned()),
            Val::JsonArray(items) => {
                items.iter().for_each(crate::expr::touched::subtree);
                Value::Array(items.iter().map(sorted).collect())
            }
            Val::Array(items) => Value::Array(items.iter().map(Val::to_json).collect()),
            Val::JsonObject(map) => {
                map.values().for_each(crate::expr::touched::subtree);
                sorted_object(map)
            }
            Val::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.as_ref().to_owned(), v.to_json()))
                    .collect(),
            ),
            Val::Bindings(map) => Value::Object(
                map.iter()
                    .map(|(k, b)| (k.clone(), Val::of_binding(b).to_json()))
                    .collect(),
            ),
            Val::Masked(value, mask) => {
                crate::expr::touched::subtree(value);
                let mut out = sorted(value);
                set_null(&mut out, mask);
                out
            }
        }
    }

    /// JMESPath equality: same type and content; numbers by value, within a relative epsilon.
    pub(crate) fn equals(&self, other: &Val<'_>) -> bool {
        if self.kind() != other.kind() {
            return false;
        }
        match (self, other) {
            (Val::Number(_), Val::Number(_)) => match (self.as_f64(), other.as_f64()) {
                (Some(a), Some(b)) => float_eq(a, b),
                _ => false,
            },
            (Val::Str(a), Val::Str(b)) => a == b,
            (Val::Bool(a), Val::Bool(b)) => a == b,
            (Val::Null, Val::Null) => true,
            (Val::Expref(a), Val::Expref(b)) => std::ptr::eq(*a, *b),
            _ if self.kind() == Kind::Array => match (self.items(), other.items()) {
                (Some(a), Some(b)) => {
                    a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x.equals(y))
                }
                _ => false,
            },
            _ => match (self.entries(), other.entries()) {
                (Some(a), Some(b)) => {
                    a.len() == b.len()
                        && a.iter()
                            .zip(&b)
                            .all(|((ka, va), (kb, vb))| ka == kb && va.equals(vb))
                }
                _ => false,
            },
        }
    }

    /// JMESPath ordering: strings by text, numbers by value; anything else (values of two
    /// types included) orders as equal.
    pub(crate) fn order(&self, other: &Val<'_>) -> Ordering {
        match (self, other) {
            (Val::Str(a), Val::Str(b)) => a.as_ref().cmp(b.as_ref()),
            (Val::Number(_), Val::Number(_)) => match (self.as_f64(), other.as_f64()) {
                (Some(a), Some(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Less),
                _ => Ordering::Equal,
            },
            _ => Ordering::Equal,
        }
    }
}

/// A JSON value of the data as JMESPath returns it: objects' keys sorted, at every depth.
pub(crate) fn sorted(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        Value::Object(map) => sorted_object(map),
        other => other.clone(),
    }
}

fn sorted_object(map: &Map<String, Value>) -> Value {
    let mut members: Vec<(&String, &Value)> = map.iter().collect();
    members.sort_by(|a, b| a.0.cmp(b.0));
    Value::Object(
        members
            .into_iter()
            .map(|(k, v)| (k.clone(), sorted(v)))
            .collect(),
    )
}

/// Equality of two numbers within a relative epsilon (the jmespath crate's rule).
fn float_eq(a: f64, b: f64) -> bool {
    let diff = (a - b).abs();
    if a == b {
        true
    } else if !a.is_normal() || !b.is_normal() {
        diff < (f64::EPSILON * f64::MIN_POSITIVE)
    } else {
        diff / (a.abs() + b.abs()) < f64::EPSILON
    }
}
