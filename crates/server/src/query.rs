//! Query strings as real clients send them, with bracket notation:
//! `remote_query[perform_as]=u1` → `{"remote_query": {"perform_as": "u1"}}`,
//! `truto_exclude_fields[]=id&truto_exclude_fields[]=name` → `{"truto_exclude_fields": ["id", "name"]}`,
//! a repeated plain key becomes an array (parsed by [`parse`], the core's parser). Every leaf is a
//! string; [`coerce`] turns them into the types a unified query schema declares.

use axum::http::Uri;
use serde_json::{Map, Value, json};
use switchboard_core::{MethodPlan, RunInput};

pub use switchboard_core::parse_query_string as parse;

use crate::envelope::ApiError;

/// The query parameter naming the integrated account a call acts for.
pub const ACCOUNT_PARAM: &str = "integrated_account_id";

/// A request's query string, parsed ([`parse`]); 400 `invalid_query` naming the parameter when
/// it cannot be. The core's parser bounds the work: at most
/// [`MAX_QUERY_PARAMETERS`](switchboard_core::MAX_QUERY_PARAMETERS) parameters, keys of at most
/// [`MAX_QUERY_KEY_BYTES`](switchboard_core::MAX_QUERY_KEY_BYTES) bytes and
/// [`MAX_QUERY_DEPTH`](switchboard_core::MAX_QUERY_DEPTH) bracket levels.
pub(crate) fn read(uri: &Uri) -> Result<Map<String, Value>, ApiError> {
    parse(uri.query().unwrap_or_default()).map_err(|error| {
        ApiError::bad_request("invalid_query", error.to_string())
            .with("details", json!({"parameter": error.parameter}))
    })
}

/// The query parameter that makes a call strict: unknown, unsupported and dropped fields are a
/// `400` instead of warnings.
pub(crate) const STRICT_PARAM: &str = "switchboard_strict";

/// Takes `switchboard_strict` out of a parsed query: absent is false; anything but a boolean
/// (`true`/`false`, `1`/`0`) is a 400 naming it.
pub(crate) fn take_strict(query: &mut Map<String, Value>) -> Result<bool, ApiError> {
    let Some(value) = query.remove(STRICT_PARAM) else {
        return Ok(false);
    };
    boolean(&value).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_query",
            format!("`{STRICT_PARAM}` must be `true` or `false`"),
        )
        .with("details", json!({"parameter": STRICT_PARAM}))
    })
}

/// The run input the unified route hands to a plan, from the caller's unified query (the
/// response options and the account id already taken out) and body: query values are
/// [`coerce`]d to the types the method's query schema declares. `switchboard render` builds its
/// input here too, so a dry run sees what the server would.
pub fn run_input(plan: &MethodPlan, mut query: Map<String, Value>, body: Value) -> RunInput {
    coerce(&mut query, plan.schema().query_schema(&plan.method));
    RunInput {
        query,
        body,
        context: Map::new(),
        strict: false,
        id: None,
        cursor: None,
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
    fn names_nested_too_deep_are_refused_by_name() {
        let deep = format!("a=1&remote_query[x]{}=1", "[x]".repeat(5000));
        let uri: Uri = format!("/log?{deep}").parse().expect("uri");
        let error = read(&uri).expect_err("too deep");
        assert_eq!(error.code(), "invalid_query");
        assert!(
            error.message().contains("`remote_query[x][x]"),
            "{}",
            error.message()
        );
        assert!(error.message().len() < 200);
        let eight = format!("/log?a{}=1", "[x]".repeat(8));
        assert!(read(&eight.parse().expect("uri")).is_ok());
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
