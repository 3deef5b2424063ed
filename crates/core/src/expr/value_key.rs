//! JMESPath values as hash-map keys, so functions that group or match items by a computed key
//! (`group_by`, `merge_by`) do one lookup per item instead of searching what they have so far.

use std::hash::{Hash, Hasher};

use jmespath::{Rcvar, Variable};

/// A JMESPath value compared as JSON: same type and same content, objects key by key, arrays
/// item by item, numbers by value (`1` and `1.0` are one key).
///
/// This is the jmespath crate's `==` except for floating-point numbers a few units in the last
/// place apart (`0.3` and `0.30000000000000004`), which its `==` treats as equal: no hash can
/// honour a tolerance that is not transitive, so they are distinct keys here.
pub(crate) struct ValueKey(pub(crate) Rcvar);

impl PartialEq for ValueKey {
    fn eq(&self, other: &ValueKey) -> bool {
        same_value(&self.0, &other.0)
    }
}

impl Eq for ValueKey {}

impl Hash for ValueKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_value(&self.0, state);
    }
}

fn same_value(a: &Variable, b: &Variable) -> bool {
    match (a, b) {
        (Variable::Null, Variable::Null) => true,
        (Variable::Bool(a), Variable::Bool(b)) => a == b,
        (Variable::String(a), Variable::String(b)) => a == b,
        (Variable::Number(a), Variable::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        (Variable::Array(a), Variable::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_value(a, b))
        }
        (Variable::Object(a), Variable::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((ka, va), (kb, vb))| ka == kb && same_value(va, vb))
        }
        (Variable::Expref(a), Variable::Expref(b)) => a == b,
        _ => false,
    }
}

/// Hashes consistently with [`same_value`]: equal values hash alike.
fn hash_value<H: Hasher>(value: &Variable, state: &mut H) {
    std::mem::discriminant(value).hash(state);
    match value {
        Variable::Null | Variable::Expref(_) => {}
        Variable::Bool(b) => b.hash(state),
        Variable::String(s) => s.hash(state),
        Variable::Number(n) => {
            // `0.0 == -0.0`, so both hash as `0.0`.
            let n = n.as_f64().unwrap_or(0.0);
            let n = if n == 0.0 { 0.0 } else { n };
            n.to_bits().hash(state);
        }
        Variable::Array(items) => {
            items.len().hash(state);
            items.iter().for_each(|item| hash_value(item, state));
        }
        Variable::Object(map) => {
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
    use std::collections::HashSet;

    use super::*;
    use crate::expr::to_jmes;
    use serde_json::json;

    fn key(value: serde_json::Value) -> ValueKey {
        ValueKey(to_jmes(&value))
    }

    #[test]
    fn keys_compare_as_json_with_numbers_by_value() {
        let keys: HashSet<ValueKey> = [
            key(json!(1)),
            key(json!(1.0)),
            key(json!(0.0)),
            key(json!(-0.0)),
            key(json!("1")),
            key(json!(null)),
            key(json!([1, "a"])),
            key(json!([1.0, "a"])),
            key(json!({"a": 1, "b": [true]})),
            key(json!({"b": [true], "a": 1.0})),
            key(json!({"a": 1})),
        ]
        .into_iter()
        .collect();
        assert_eq!(keys.len(), 7);
        assert!(keys.contains(&key(json!(1u64))));
        assert!(!keys.contains(&key(json!(false))));
    }
}
