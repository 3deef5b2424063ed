//! The fast path: a plain field path such as `body.emails[0].email`, pre-split at load.

use serde_json::Value;

/// One step of a plain path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Segment {
    /// An object key.
    Key(String),
    /// An array index (non-negative).
    Index(usize),
}

/// A plain path, split into segments once.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldPath {
    segments: Vec<Segment>,
}

impl FieldPath {
    /// Parses `a.b[0].c`; `None` when the text is not a plain path (then it is JMESPath).
    pub(crate) fn parse(text: &str) -> Option<FieldPath> {
        let mut segments = Vec::new();
        for part in text.split('.') {
            let (key, mut rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if !is_identifier(key) {
                return None;
            }
            segments.push(Segment::Key(key.to_owned()));
            while !rest.is_empty() {
                let close = rest.find(']')?;
                let index = rest.get(1..close)?;
                if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                segments.push(Segment::Index(index.parse().ok()?));
                rest = &rest[close + 1..];
                if !rest.is_empty() && !rest.starts_with('[') {
                    return None;
                }
            }
        }
        Some(FieldPath { segments })
    }

    /// The first key (the scope binding it reads).
    pub(crate) fn root(&self) -> &str {
        match self.segments.first() {
            Some(Segment::Key(k)) => k,
            _ => "",
        }
    }

    /// The key after the root, if any (`emails` in `body.emails[0]`).
    pub(crate) fn second_key(&self) -> Option<&str> {
        match self.segments.get(1) {
            Some(Segment::Key(k)) => Some(k),
            _ => None,
        }
    }

    /// The segments.
    pub(crate) fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Walks the segments from index `from` on, starting at `value`; `None` when absent.
    pub(crate) fn walk<'v>(&self, value: &'v Value, from: usize) -> Option<&'v Value> {
        walk(value, self.segments.get(from..)?)
    }

    /// Walks the whole path from an object (all segments, the first included).
    pub(crate) fn lookup_in<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        self.walk(value, 0)
    }
}

/// Walks `segments` from `value`; `None` when absent.
pub(crate) fn walk<'v>(value: &'v Value, segments: &[Segment]) -> Option<&'v Value> {
    let mut current = value;
    for segment in segments {
        current = match (segment, current) {
            (Segment::Key(k), Value::Object(map)) => map.get(k)?,
            (Segment::Index(i), Value::Array(items)) => items.get(*i)?,
            _ => return None,
        };
    }
    Some(current)
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_plain_paths_and_rejects_expressions() {
        assert!(FieldPath::parse("body.emails[0].email").is_some());
        assert!(FieldPath::parse("a[1][2]").is_some());
        assert!(FieldPath::parse("body.emails[?type]").is_none());
        assert!(FieldPath::parse("join(' ', x)").is_none());
        assert!(FieldPath::parse("a.b[-1]").is_none());
        assert!(FieldPath::parse("a..b").is_none());
    }

    #[test]
    fn tells_absent_from_null() {
        let v = json!({"body": {"a": null, "list": [{"x": 1}]}});
        let p = FieldPath::parse("body.a").unwrap();
        assert_eq!(p.lookup_in(&v), Some(&Value::Null));
        assert_eq!(FieldPath::parse("body.b").unwrap().lookup_in(&v), None);
        assert_eq!(
            FieldPath::parse("body.list[0].x").unwrap().lookup_in(&v),
            Some(&json!(1))
        );
        assert_eq!(
            FieldPath::parse("body.list[3].x").unwrap().lookup_in(&v),
            None
        );
    }
}
