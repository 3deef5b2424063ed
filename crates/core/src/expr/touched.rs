//! Which values of the data an evaluation looked at, recorded while the drop analysis renders
//! the requests the caller's input gives. A value nothing looked at cannot change a request
//! (evaluation is deterministic), so the analysis reports it as dropped without rendering the
//! requests again with it nulled. Recording is off except inside [`record`], and then costs a
//! set insertion per value an expression reads.

use std::cell::RefCell;
use std::collections::HashSet;

use serde_json::Value;

use super::path::Segment;

thread_local! {
    static RECORDING: RefCell<Option<Touched>> = const { RefCell::new(None) };
}

/// What an evaluation looked at, by address (the data must not move while it is used).
#[derive(Default)]
pub(crate) struct Touched {
    /// Values read as they are (a container's members may not have been).
    values: HashSet<usize>,
    /// Values read with everything inside them (copied out, compared whole).
    subtrees: HashSet<usize>,
    /// Something read the whole scope (JSONPath).
    everything: bool,
}

fn address(value: &Value) -> usize {
    std::ptr::from_ref(value) as usize
}

fn with(f: impl FnOnce(&mut Touched)) {
    RECORDING.with(|cell| {
        if let Ok(mut recording) = cell.try_borrow_mut()
            && let Some(touched) = recording.as_mut()
        {
            f(touched);
        }
    });
}

/// Runs `f`, recording what it reads.
pub(crate) fn record<T>(f: impl FnOnce() -> T) -> (T, Touched) {
    let outer = RECORDING.with(|cell| cell.replace(Some(Touched::default())));
    let out = f();
    let touched = RECORDING
        .with(|cell| cell.replace(outer))
        .unwrap_or_default();
    (out, touched)
}

/// `value` was read.
pub(crate) fn value(value: &Value) {
    with(|t| {
        t.values.insert(address(value));
    });
}

/// `value` was read with everything inside it.
pub(crate) fn subtree(value: &Value) {
    with(|t| {
        t.subtrees.insert(address(value));
    });
}

/// The whole scope was read.
pub(crate) fn everything() {
    with(|t| t.everything = true);
}

impl Touched {
    /// Whether the value at `path` below `root` (or something inside it) may have been read.
    pub(crate) fn may_matter(&self, root: &Value, path: &[Segment]) -> bool {
        if self.everything || self.subtrees.contains(&address(root)) {
            return true;
        }
        let mut current = root;
        for segment in path {
            let next = match (segment, current) {
                (Segment::Key(k), Value::Object(map)) => map.get(k),
                (Segment::Index(i), Value::Array(items)) => items.get(*i),
                _ => None,
            };
            // A path that is not there reads as it always did: nothing to tell apart.
            let Some(next) = next else { return true };
            if self.subtrees.contains(&address(next)) {
                return true;
            }
            current = next;
        }
        self.inside_was_read(current)
    }

    fn inside_was_read(&self, value: &Value) -> bool {
        let here = address(value);
        self.values.contains(&here)
            || self.subtrees.contains(&here)
            || match value {
                Value::Array(items) => items.iter().any(|v| self.inside_was_read(v)),
                Value::Object(map) => map.values().any(|v| self.inside_was_read(v)),
                _ => false,
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{Expr, Root, Scope};
    use serde_json::json;

    fn key(k: &str) -> Segment {
        Segment::Key(k.to_owned())
    }

    #[test]
    fn only_what_an_expression_reads_may_matter() {
        let mut scope = Scope::default();
        scope.set(
            "body",
            json!({"emails": [{"email": "a@x", "type": "work"}, {"email": "b@x"}],
                   "links": [{"url": "u", "type": "t"}], "whole": {"deep": [1]}, "unread": 1}),
        );
        let exprs = [
            "body.emails[0].email",
            "body.links[].{u: url}",
            "body.whole",
        ]
        .map(|t| Expr::compile(t).unwrap());
        let ((), touched) = record(|| {
            for expr in &exprs {
                expr.eval(&Root::Scope(&scope)).unwrap();
            }
        });
        let body = scope.value("body").unwrap();
        let matters = |path: &[Segment]| touched.may_matter(body, path);
        assert!(matters(&[key("emails")]));
        assert!(matters(&[key("emails"), Segment::Index(0), key("email")]));
        assert!(!matters(&[key("emails"), Segment::Index(0), key("type")]));
        assert!(!matters(&[key("emails"), Segment::Index(1)]));
        assert!(matters(&[key("links"), Segment::Index(0), key("url")]));
        assert!(!matters(&[key("links"), Segment::Index(0), key("type")]));
        assert!(matters(&[key("whole"), key("deep"), Segment::Index(0)]));
        assert!(!matters(&[key("unread")]));
        // Outside a recording nothing is kept.
        exprs[0].eval(&Root::Scope(&scope)).unwrap();
        let ((), nothing) = record(|| {});
        assert!(!nothing.may_matter(body, &[key("emails")]));
    }
}
