//! Query strings as unified API clients send them, with bracket notation:
//! `remote_query[perform_as]=u1`, `truto_exclude_fields[]=id&truto_exclude_fields[]=name`.

use serde_json::{Map, Value};

/// Parses a query string (without the leading `?`) into a JSON object.
///
/// `a=1` gives a string; a repeated key or `a[]=…` gives an array; `a[b]=…` gives a nested
/// object (`a[b][c]=…` nests further). Values stay strings: the unified schema decides types.
pub fn parse_query_string(query: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if key.is_empty() {
            continue;
        }
        let (head, path) = split_key(&key);
        insert(&mut out, head, &path, Value::String(value.into_owned()));
    }
    out
}

/// `a[b][]` → (`a`, [`b`, ``]).
fn split_key(key: &str) -> (&str, Vec<&str>) {
    let Some(open) = key.find('[') else {
        return (key, Vec::new());
    };
    let mut path = Vec::new();
    let mut rest = &key[open..];
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(close) = stripped.find(']') else {
            break;
        };
        path.push(&stripped[..close]);
        rest = &stripped[close + 1..];
    }
    (&key[..open], path)
}

fn insert(map: &mut Map<String, Value>, key: &str, path: &[&str], value: Value) {
    match path.split_first() {
        None => match map.get_mut(key) {
            Some(Value::Array(items)) => items.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
            None => {
                map.insert(key.to_owned(), value);
            }
        },
        Some((&"", _)) => match map
            .entry(key.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            Value::Array(items) => items.push(value),
            other => {
                let first = other.take();
                *other = Value::Array(vec![first, value]);
            }
        },
        Some((next, rest)) => {
            let slot = map
                .entry(key.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(child) = slot {
                insert(child, next, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_brackets_arrays_and_repeats() {
        let q = parse_query_string(
            "job_id=j%201&remote_query[perform_as]=u1&remote_query[a][b]=c&x[]=1&x[]=2&r=1&r=2&flag=true",
        );
        assert_eq!(
            Value::Object(q),
            json!({"job_id": "j 1", "remote_query": {"perform_as": "u1", "a": {"b": "c"}}, "x": ["1", "2"], "r": ["1", "2"], "flag": "true"})
        );
    }
}
