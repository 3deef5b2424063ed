//! Query strings as real clients send them, with bracket notation:
//! `remote_query[perform_as]=u1` → `{"remote_query": {"perform_as": "u1"}}`,
//! `truto_exclude_fields[]=id&truto_exclude_fields[]=name` → `{"truto_exclude_fields": ["id", "name"]}`,
//! a repeated plain key becomes an array. Every leaf is a string; [`coerce`] turns them into the
//! types a unified query schema declares.

use serde_json::{Map, Value};

/// Parses a raw query string (percent-decoded, `+` as space).
pub fn parse(raw: &str) -> Result<Map<String, Value>, String> {
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

/// Reads a boolean parameter: `true`/`false`, `1`/`0`, and a bare `flag=` as true.
pub fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Reads a list parameter: `a[]=x&a[]=y`, `a=x&a=y`, `a[0]=x`, or `a=x,y`.
pub fn list(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        Value::Array(items) => items.iter().flat_map(list).collect(),
        Value::Object(map) => map.values().flat_map(list).collect(),
        _ => Vec::new(),
    }
}

/// Converts string leaves to the types `schema` (a query schema, `{properties: {...}}`) declares
/// for top-level parameters: booleans, integers, numbers, and a single value where an array is
/// expected. Values that do not convert stay strings, so schema validation reports them with
/// their pointer. `remote_query` is never touched: it goes to the provider as sent.
pub fn coerce(query: &mut Map<String, Value>, schema: Option<&Value>) {
    let Some(properties) = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
    else {
        return;
    };
    for (name, value) in query.iter_mut() {
        if name == "remote_query" {
            continue;
        }
        let Some(field) = properties.get(name) else {
            continue;
        };
        let types = declared_types(field);
        let Value::String(text) = value else { continue };
        if types.contains(&"string") {
            continue;
        }
        if types.contains(&"boolean")
            && let Some(b) = boolean(&Value::String(text.clone()))
        {
            *value = Value::Bool(b);
        } else if types.contains(&"integer")
            && let Ok(n) = text.parse::<i64>()
        {
            *value = Value::from(n);
        } else if types.contains(&"number")
            && let Some(n) = text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
        {
            *value = Value::Number(n);
        } else if types.contains(&"array") {
            *value = Value::Array(vec![Value::String(std::mem::take(text))]);
        }
    }
}

fn declared_types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parsed(raw: &str) -> Value {
        Value::Object(parse(raw).expect("parses"))
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
        assert!(parse("a[b=1").is_err());
        assert!(parse("[b]=1").is_err());
        assert!(parse("a[b]c=1").is_err());
        assert!(parse("a=1&a[b]=2").is_err());
    }

    #[test]
    fn booleans_and_lists() {
        assert_eq!(boolean(&json!("true")), Some(true));
        assert_eq!(boolean(&json!("FALSE")), Some(false));
        assert_eq!(boolean(&json!("maybe")), None);
        assert_eq!(
            list(&json!(["id", "emails.email"])),
            vec!["id", "emails.email"]
        );
        assert_eq!(list(&json!("id,name")), vec!["id", "name"]);
        assert_eq!(list(&json!({"0": "id"})), vec!["id"]);
    }

    #[test]
    fn coercion_follows_the_schema() {
        let schema = json!({"properties": {
            "flag": {"type": "boolean"}, "n": {"type": ["integer", "null"]}, "s": {"type": "string"},
            "tags": {"type": "array"}, "remote_query": {"type": "object"}}});
        let mut query =
            parse("flag=true&n=5&s=true&tags=a&remote_query[flag]=true&other=1").expect("parses");
        coerce(&mut query, Some(&schema));
        assert_eq!(
            Value::Object(query),
            json!({"flag": true, "n": 5, "s": "true", "tags": ["a"], "remote_query": {"flag": "true"}, "other": "1"})
        );
    }
}
