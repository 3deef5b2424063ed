//! Query strings as unified API clients send them, with bracket notation:
//! `remote_query[perform_as]=u1` → `{"remote_query": {"perform_as": "u1"}}`,
//! `truto_exclude_fields[]=id&truto_exclude_fields[]=name` → `{"truto_exclude_fields": ["id", "name"]}`.
//!
//! The work one query string can cause is bounded: at most [`MAX_QUERY_PARAMETERS`] parameters,
//! keys of at most [`MAX_QUERY_KEY_BYTES`] bytes, and at most [`MAX_QUERY_DEPTH`] bracket levels
//! per key, so the nested value built (and everything that later walks it) stays shallow.

use serde_json::{Map, Value};

/// The most parameters one query string may hold; the next one is refused.
pub const MAX_QUERY_PARAMETERS: usize = 256;

/// The longest key (percent-decoded, brackets included) a parameter may have, in bytes.
pub const MAX_QUERY_KEY_BYTES: usize = 256;

/// The most bracket levels (`[x]` or `[]`) one key may have: `a[1][2][3][4][5][6][7][8]` is
/// accepted, a ninth level is refused.
pub const MAX_QUERY_DEPTH: usize = 8;

/// How much of a parameter's name an error message repeats.
const SHOWN_KEY_CHARS: usize = 64;

/// A refused query string: which parameter, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("query parameter `{parameter}` {problem}")]
pub struct QueryStringError {
    /// The parameter's key as sent, cut to its first 64 characters (then ending in `…`).
    pub parameter: String,
    /// The rule it broke.
    pub problem: QueryStringProblem,
}

/// The rule a query parameter broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QueryStringProblem {
    /// `[b]=1`.
    #[error("has no name before `[`")]
    NoName,
    /// `a[b=1`.
    #[error("has an unclosed `[`")]
    UnclosedBracket,
    /// `a[b]c=1`.
    #[error("has text after its last `]`")]
    TextAfterBracket,
    /// `a=1&a[b]=2`.
    #[error("conflicts with another parameter of the same name")]
    Conflict,
    /// More than [`MAX_QUERY_DEPTH`] bracket levels.
    #[error("has more than {MAX_QUERY_DEPTH} bracket levels")]
    TooDeep,
    /// A key longer than [`MAX_QUERY_KEY_BYTES`].
    #[error("has a key longer than {MAX_QUERY_KEY_BYTES} bytes")]
    KeyTooLong,
    /// The parameter after the first [`MAX_QUERY_PARAMETERS`].
    #[error("is one too many: a query string holds at most {MAX_QUERY_PARAMETERS} parameters")]
    TooManyParameters,
}

impl QueryStringError {
    fn new(key: &str, problem: QueryStringProblem) -> QueryStringError {
        let parameter = match key.char_indices().nth(SHOWN_KEY_CHARS) {
            Some((cut, _)) => format!("{}…", &key[..cut]),
            None => key.to_owned(),
        };
        QueryStringError { parameter, problem }
    }
}

/// The error's one-line message, for callers that report errors as text.
impl From<QueryStringError> for String {
    fn from(error: QueryStringError) -> String {
        error.to_string()
    }
}

/// Parses a query string (without the leading `?`; percent-decoded, `+` as space) into a JSON
/// object: `a=1` gives a string; a repeated key or `a[]=…` an array; `a[b]=…` a nested object;
/// `a[][b]=…` an array of objects. Values stay strings: the unified schema decides types. A
/// malformed key (`a[b`, `[b]`, `a[b]c`), a conflicting one (`a=1&a[b]=2`), or one past the
/// limits above is an error naming it.
pub fn parse_query_string(raw: &str) -> Result<Map<String, Value>, QueryStringError> {
    let mut root = Map::new();
    for (count, (key, value)) in url::form_urlencoded::parse(raw.as_bytes()).enumerate() {
        if count == MAX_QUERY_PARAMETERS {
            return Err(QueryStringError::new(
                &key,
                QueryStringProblem::TooManyParameters,
            ));
        }
        if key.is_empty() {
            continue;
        }
        if key.len() > MAX_QUERY_KEY_BYTES {
            return Err(QueryStringError::new(&key, QueryStringProblem::KeyTooLong));
        }
        let fail = |problem| QueryStringError::new(&key, problem);
        let (name, path) = split_key(&key).map_err(fail)?;
        insert(&mut root, name, &path, Value::String(value.into_owned())).map_err(fail)?;
    }
    Ok(root)
}

/// One step below a query parameter's name.
#[derive(Debug, PartialEq)]
enum Segment<'a> {
    /// `[]`: append to an array.
    Push,
    /// `[name]`: a key of an object.
    Key(&'a str),
}

/// `a[b][]` → (`a`, [Key(b), Push]), with at most [`MAX_QUERY_DEPTH`] segments.
fn split_key(key: &str) -> Result<(&str, Vec<Segment<'_>>), QueryStringProblem> {
    let Some(open) = key.find('[') else {
        return Ok((key, Vec::new()));
    };
    let name = &key[..open];
    if name.is_empty() {
        return Err(QueryStringProblem::NoName);
    }
    let mut rest = &key[open..];
    let mut path = Vec::new();
    while let Some(inner) = rest.strip_prefix('[') {
        if path.len() == MAX_QUERY_DEPTH {
            return Err(QueryStringProblem::TooDeep);
        }
        let Some(close) = inner.find(']') else {
            return Err(QueryStringProblem::UnclosedBracket);
        };
        let segment = &inner[..close];
        path.push(if segment.is_empty() {
            Segment::Push
        } else {
            Segment::Key(segment)
        });
        rest = &inner[close + 1..];
    }
    if !rest.is_empty() {
        return Err(QueryStringProblem::TextAfterBracket);
    }
    Ok((name, path))
}

/// Puts `value` at `name` + `path` below `map`; recursion is bounded by [`MAX_QUERY_DEPTH`].
fn insert(
    map: &mut Map<String, Value>,
    name: &str,
    path: &[Segment<'_>],
    value: Value,
) -> Result<(), QueryStringProblem> {
    use QueryStringProblem::Conflict;
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
                Some(_) => return Err(Conflict),
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
                return Err(Conflict);
            };
            if rest.is_empty() {
                items.push(value);
                return Ok(());
            }
            // `a[][b]=1`: each such parameter starts a new object.
            let mut object = Map::new();
            let (first, tail) = match rest.split_first() {
                Some((Segment::Key(k), tail)) => (*k, tail),
                _ => return Err(Conflict),
            };
            insert(&mut object, first, tail, value)?;
            items.push(Value::Object(object));
            Ok(())
        }
        Some((Segment::Key(child), rest)) => {
            let slot = map
                .entry(name.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(object) = slot else {
                return Err(Conflict);
            };
            insert(object, child, rest, value)
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

    fn refused(raw: &str) -> QueryStringError {
        parse_query_string(raw).expect_err("refused")
    }

    #[test]
    fn malformed_keys_are_errors() {
        assert_eq!(
            refused("a[b=1").problem,
            QueryStringProblem::UnclosedBracket
        );
        assert_eq!(refused("[b]=1").problem, QueryStringProblem::NoName);
        assert_eq!(
            refused("a[b]c=1").problem,
            QueryStringProblem::TextAfterBracket
        );
        assert_eq!(
            refused("a=1&a[b]=2").to_string(),
            "query parameter `a[b]` conflicts with another parameter of the same name"
        );
    }

    /// Issue 8, row 3: `remote_query[x]` and 5,000 more `[x]` overflowed the stack and aborted
    /// the server. Parsed on a thread with a 64 KiB stack, so any recursion per level would
    /// still overflow.
    #[test]
    fn five_thousand_bracket_levels_are_refused_not_a_crash() {
        let key = format!("remote_query[x]{}", "[x]".repeat(5_000));
        let raw = format!("{key}=1");
        let (parsed, split) = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || (parse_query_string(&raw), split_key(&raw).map(|_| ())))
            .expect("thread starts")
            .join()
            .expect("no stack overflow");
        assert_eq!(
            parsed.expect_err("refused").to_string(),
            format!(
                "query parameter `{}…` has a key longer than 256 bytes",
                &key[..64]
            )
        );
        assert_eq!(split, Err(QueryStringProblem::TooDeep));
    }

    #[test]
    fn eight_bracket_levels_pass_and_a_ninth_is_refused() {
        assert_eq!(
            parsed("a[1][2][3][4][5][6][7][]=x"),
            json!({"a": {"1": {"2": {"3": {"4": {"5": {"6": {"7": ["x"]}}}}}}}})
        );
        assert_eq!(
            refused("ok=1&a[1][2][3][4][5][6][7][8][9]=x").to_string(),
            "query parameter `a[1][2][3][4][5][6][7][8][9]` has more than 8 bracket levels"
        );
    }

    #[test]
    fn parameter_count_and_key_length_are_capped() {
        let full = vec!["a[]=1"; MAX_QUERY_PARAMETERS].join("&");
        assert_eq!(parsed(&full)["a"].as_array().map(Vec::len), Some(256));
        assert_eq!(
            refused(&format!("{full}&next=1")).to_string(),
            "query parameter `next` is one too many: a query string holds at most 256 parameters"
        );
        let longest = "k".repeat(MAX_QUERY_KEY_BYTES);
        assert_eq!(parsed(&format!("{longest}=1"))[&longest], json!("1"));
        let error = refused(&format!("{longest}k=1"));
        assert_eq!(error.problem, QueryStringProblem::KeyTooLong);
        assert_eq!(error.parameter, format!("{}…", "k".repeat(64)));
    }
}
