//! `parse_query_string`: any text gives an object or an error; bracket keys build what they say.

use proptest::prelude::*;
use serde_json::{Map, Value};
use switchboard_core::parse_query_string;

/// Text made mostly of the characters that matter to the parser.
fn query_like() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("["),
            Just("]"),
            Just("[]"),
            Just("="),
            Just("&"),
            Just("%5B"),
            Just("%5D"),
            Just("%"),
            Just("+"),
            Just("a"),
            Just("b"),
            Just("x[y]"),
            Just("é"),
            Just("\u{0}"),
        ],
        0..48,
    )
    .prop_map(|parts| parts.concat())
}

/// A nested object of strings, as bracket keys can express it: keys are non-empty words without
/// brackets, every object has at least one member, at most three levels below the top.
fn nested_object() -> impl Strategy<Value = Map<String, Value>> {
    let leaf = ".{0,8}".prop_map(Value::String);
    let tree = leaf.prop_recursive(3, 27, 3, |inner| {
        proptest::collection::btree_map("[a-z0-9_]{1,6}", inner, 1..=3)
            .prop_map(|members| Value::Object(members.into_iter().collect()))
    });
    proptest::collection::btree_map("[a-z][a-z0-9_]{0,5}", tree, 1..=3)
        .prop_map(|members| members.into_iter().collect())
}

/// `{"a": {"b": "c"}}` → `a[b]=c`, values form-encoded.
fn flatten(prefix: &str, value: &Value, pairs: &mut Vec<String>) {
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                flatten(&format!("{prefix}[{key}]"), member, pairs);
            }
        }
        Value::String(text) => {
            let encoded: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
            pairs.push(format!("{prefix}={encoded}"));
        }
        other => unreachable!("only objects and strings are generated, not {other}"),
    }
}

/// Every value a parsed query holds is a string, or an array or object of such values.
fn only_strings(value: &Value) -> bool {
    match value {
        Value::String(_) => true,
        Value::Array(items) => items.iter().all(only_strings),
        Value::Object(members) => members.values().all(only_strings),
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any text at all: an object of strings, or an error with a message, never a panic.
    #[test]
    fn any_text_parses_or_is_refused(raw in any::<String>()) {
        match parse_query_string(&raw) {
            Ok(parsed) => prop_assert!(parsed.values().all(only_strings)),
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }

    /// Text dense in brackets, `=`, `&` and escapes: the same.
    #[test]
    fn bracket_soup_parses_or_is_refused(raw in query_like()) {
        match parse_query_string(&raw) {
            Ok(parsed) => prop_assert!(parsed.values().all(only_strings)),
            Err(error) => prop_assert!(error.to_string().contains("query parameter")),
        }
    }

    /// `a[b][c]=v` pairs flattened from a nested object parse back to that object.
    #[test]
    fn bracket_pairs_parse_to_the_nested_object(expected in nested_object()) {
        let mut pairs = Vec::new();
        for (name, value) in &expected {
            flatten(name, value, &mut pairs);
        }
        let parsed = parse_query_string(&pairs.join("&")).map_err(|e| e.to_string());
        prop_assert_eq!(parsed, Ok(expected));
    }

    /// `a[]=…` (or `a=…` repeated) keeps every value, in order.
    #[test]
    fn repeated_parameters_make_an_array_in_order(
        name in "[a-z]{1,6}",
        values in proptest::collection::vec(".{0,8}", 2..6),
        brackets in any::<bool>(),
    ) {
        let key = if brackets { format!("{name}[]") } else { name.clone() };
        let query: Vec<String> = values
            .iter()
            .map(|v| format!("{key}={}", url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()))
            .collect();
        let parsed = parse_query_string(&query.join("&")).map_err(|e| e.to_string());
        let mut expected = Map::new();
        expected.insert(name, Value::from(values));
        prop_assert_eq!(parsed, Ok(expected));
    }
}
