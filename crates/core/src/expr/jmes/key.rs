//! Values as hash-map keys, so functions that group or match items by a computed key
//! (`group_by`, `merge_by`) do one lookup per item instead of searching what they have so far.

use std::hash::{Hash, Hasher};

use serde_json::Value;

use super::val::Val;

/// A value compared as JSON: same type and same content, objects key by key, arrays item by
/// item, numbers by value (`1` and `1.0` are one key).
///
/// This is JMESPath's `==` except for floating-point numbers a few units in the last place
/// apart (`0.3` and `0.30000000000000004`), which its `==` treats as equal: no hash can honour
/// a tolerance that is not transitive, so they are distinct keys here.
pub(crate) struct KeyVal(Value);

impl KeyVal {
    /// The key of `value` (objects' keys sorted, so member order does not matter).
    pub(crate) fn of(value: &Val<'_>) -> KeyVal {
        KeyVal(value.to_json())
    }
}

impl PartialEq for KeyVal {
    fn eq(&self, other: &KeyVal) -> bool {
        same_value(&self.0, &other.0)
    }
}

impl Eq for KeyVal {}

impl Hash for KeyVal {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_value(&self.0, state);
    }
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::String(a), Value::String(b)) => a == b,
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_value(a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((ka, va), (kb, vb))| ka == kb && same_value(va, vb))
        }
        _ => false,
    }
}

/// Hashes consistently with [`same_value`]: equal values hash alike.
fn hash_value<H: Hasher>(value: &Value, state: &mut H) {
    std::mem::discriminant(value).hash(state);
    match value {
        Value::Null => {}
        Value::Bool(b) => b.hash(state),
        Value::String(s) => s.hash(state),
        Value::Number(n) => {
            // `0.0 == -0.0`, so both hash as `0.0`.
            let n = n.as_f64().unwrap_or(0.0);
            let n = if n == 0.0 { 0.0 } else { n };
            n.to_bits().hash(state);
        }
        Value::Array(items) => {
            items.len().hash(state);
            items.iter().for_each(|item| hash_value(item, state));
        }
        Value::Object(map) => {
            map.len().hash(state);
            for (key, item) in map {
                key.hash(state);
                hash_value(item, state);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::hash_map::DefaultHasher;

    fn hash(value: Value) -> u64 {
        let mut hasher = DefaultHasher::new();
        KeyVal::of(&Val::owned(value)).hash(&mut hasher);
        hasher.finish()
    }

    #[test]
    fn numbers_by_value_and_objects_in_any_order_are_one_key() {
        let key = |v: Value| KeyVal::of(&Val::owned(v));
        assert!(key(json!(1)) == key(json!(1.0)));
        assert_eq!(hash(json!(1)), hash(json!(1.0)));
        assert!(key(json!({"a": 1, "b": [2]})) == key(json!({"b": [2.0], "a": 1})));
        assert_eq!(hash(json!({"a": 1, "b": 2})), hash(json!({"b": 2, "a": 1})));
        assert!(key(json!("1")) != key(json!(1)));
        assert!(key(json!(null)) != key(json!(false)));
        assert_eq!(hash(json!(0.0)), hash(json!(-0.0)));
    }
}
