//! Query strings as unified API clients send them, with bracket notation:
//! `remote_query[perform_as]=u1` → `{"remote_query": {"perform_as": "u1"}}`,
//! `truto_exclude_fields[]=id&truto_exclude_fields[]=name` → `{"truto_exclude_fields": ["id", "name"]}`.

use serde_json::{Map, Value};

/// Parses a query string (without the leading `?`; percent-decoded, `+` as space) into a JSON
/// object: `a=1` gives a string; a repeated key or `a[]=…` an array; `a[b]=…` a nested object;
/// `a[][b]=…` an array of objects. Values stay strings: the unified schema decides types. A
/// malformed key (`a[b`, `[b]`, `a[b]c`) or a conflicting one (`a=1&a[b]=2`) is an error naming it.
pub fn parse_query_string(raw: &str) -> Result<Map<String, Value>, String> {
    let mut root = Map::new();
    for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        if key.is_empty() {
            continue;
        }
        let (name, path) = split_key(&key)?;
        insert(
            &mut root,
            &name,
            &path,
            Value::String(value.into_owned()),
            &key,
        )?;
    }
    Ok(root)
}

/// One step below a query parameter's name.
#[derive(Debug, PartialEq)]
enum Segment {
    /// `[]`: append to an array.
    Push,
    /// `[name]`: a key of an object.
    Key(String),
}

/// `a[b][]` → (`a`, [Key(b), Push]).
fn split_key(key: &str) -> Result<(String, Vec<Segment>), String> {
    let Some(open) = key.find('[') else {
        return Ok((key.to_owned(), Vec::new()));
    };
    let name = &key[..open];
    if name.is_empty() {
        return Err(format!("query parameter `{key}` has no name before `[`"));
    }
    let mut rest = &key[open..];
    let mut path = Vec::new();
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            return Err(format!("query parameter `{key}` has an unclosed `[`"));
        };
        let segment = &inner[..close];
        path.push(if segment.is_empty() {
            Segment::Push
        } else {
            Segment::Key(segment.to_owned())
        });
        rest = &inner[close + 1..];
    }
    if !rest.is_empty() {
        return Err(format!(
            "query parameter `{key}` has text after its last `]`"
        ));
    }
    Ok((name.to_owned(), path))
}

fn insert(
    map: &mut Map<String, Value>,
    name: &str,
    path: &[Segment],
    value: Value,
    key: &str,
) -> Result<(), String> {
    let conflict =
        || format!("query parameter `{key}` conflicts with another parameter of the same name");
    match path.split_first() {
        None => {
            match map.get_mut(name) {
                None => {
                    map.insert(name.to_owned(), value);
                }
                Some(Value::String(first)) => {
                    let first = std::mem::take(first);
                    map.insert(
                        name.to_owned(),
                        Value::Array(vec![Value::String(first), value]),
                    );
                }
                Some(Value::Array(items)) => items.push(value),
                Some(_) => return Err(conflict()),
            }
            Ok(())
        }
        Some((Segment::Push, rest)) => {
            let slot = map
                .entry(name.to_owned())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::String(first) = slot {
                *slot = Value::Array(vec![Value::String(std::mem::take(first))]);
            }
            let Value::Array(items) = slot else {
                return Err(conflict());
            };
            if rest.is_empty() {
                items.push(value);
                return Ok(());
            }
            // `a[][b]=1`: each such parameter starts a new object.
            let mut object = Map::new();
            let (first, tail) = match rest.split_first() {
                Some((Segment::Key(k), tail)) => (k.clone(), tail),
                _ => return Err(conflict()),
            };
            insert(&mut object, &first, tail, value, key)?;
            items.push(Value::Object(object));
            Ok(())
        }
        Some((Segment::Key(child), rest)) => {
            let slot = map
                .entry(name.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(object) = slot else {
                return Err(conflict());
            };
            insert(object, child, rest, value, key)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parsed(raw: &str) -> Value {
        Value::Object(parse_query_string(raw).expect("parses"))
    }

    #[test]
    fn brackets_build_objects_and_arrays() {
        assert_eq!(
            parsed("integrated_account_id=a1&remote_query[perform_as]=u1&remote_query[x][y]=2"),
            json!({"integrated_account_id": "a1", "remote_query": {"perform_as": "u1", "x": {"y": "2"}}})
        );
        assert_eq!(
            parsed("truto_exclude_fields[]=id&truto_exclude_fields[]=name"),
            json!({"truto_exclude_fields": ["id", "name"]})
        );
        assert_eq!(parsed("a=1&a=2&a[]=3"), json!({"a": ["1", "2", "3"]}));
        assert_eq!(
            parsed("a[][b]=1&a[][b]=2"),
            json!({"a": [{"b": "1"}, {"b": "2"}]})
        );
    }

    #[test]
    fn percent_encoded_brackets_and_plus_decode() {
        assert_eq!(
            parsed("remote_query%5Bperform_as%5D=u%201&q=a+b"),
            json!({"remote_query": {"perform_as": "u 1"}, "q": "a b"})
        );
    }

    #[test]
    fn malformed_keys_are_errors() {
        assert!(parse_query_string("a[b=1").is_err());
        assert!(parse_query_string("[b]=1").is_err());
        assert!(parse_query_string("a[b]c=1").is_err());
        assert!(parse_query_string("a=1&a[b]=2").is_err());
    }
}
