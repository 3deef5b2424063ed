//! Templates: JSON-shaped values whose strings may hold `{{ expression }}` parts.

use serde_json::{Map, Value};

use super::file_node::{FILE_KEY, FileNode, FileSink};
use super::{Expr, Reference, Root, encode_query_component};
use crate::http::EmbeddedFile;

/// A compiled template.
pub(crate) enum Template {
    /// A value with no expression in it.
    Literal(Value),
    /// A string that is exactly one `{{ expression }}`: yields the expression's value, typed.
    Expr(Expr),
    /// A string mixing text and expressions: yields a string.
    Interpolated(Vec<Piece>),
    /// An object whose values are templates; keys whose value is null are left out.
    Object(Vec<(String, Template)>),
    /// An array whose items are templates; null items are left out.
    Array(Vec<Template>),
    /// Files embedded in a JSON body (`{"$file": …}`; only in request bodies).
    File(Box<FileNode>),
}

/// A piece of an interpolated string.
pub(crate) enum Piece {
    /// Literal text.
    Text(String),
    /// An expression, rendered as text.
    Expr(Expr),
}

/// A template that failed to compile: where inside the value, and why.
#[derive(Debug)]
pub(crate) struct TemplateError {
    /// Dotted path below the template's own field (empty for the value itself).
    pub(crate) path: Vec<String>,
    /// Why.
    pub(crate) message: String,
}

impl Template {
    /// Compiles a JSON value as a template, collecting every error.
    pub(crate) fn compile(value: &Value, errors: &mut Vec<TemplateError>) -> Template {
        let mut path = Vec::new();
        compile_at(value, &mut path, errors, Files::Plain)
    }

    /// Compiles a JSON request body: as [`Template::compile`], and an object whose only key is
    /// `$file` embeds files.
    pub(crate) fn compile_body(value: &Value, errors: &mut Vec<TemplateError>) -> Template {
        let mut path = Vec::new();
        compile_at(value, &mut path, errors, Files::Embedded)
    }

    /// Compiles a string that must be one expression (`when`, `for_each`, …): braces optional.
    pub(crate) fn compile_expr(text: &str) -> Result<Expr, String> {
        let inner = text.trim();
        let inner = inner
            .strip_prefix("{{")
            .and_then(|t| t.strip_suffix("}}"))
            .unwrap_or(inner);
        Expr::compile(inner)
    }

    /// Every name the template's expressions read from their root.
    pub(crate) fn references(&self) -> Vec<Reference> {
        let mut found = Vec::new();
        self.walk_exprs(&mut |e| found.extend(e.references()));
        found
    }

    /// Whether an expression of the template is JSONPath, whose reads are not tracked.
    pub(crate) fn has_json_path(&self) -> bool {
        let mut found = false;
        self.walk_exprs(&mut |e| found |= matches!(e, Expr::JsonPath(_)));
        found
    }

    /// Whether an expression of the template may read member `field` of the binding `root`
    /// (see [`Expr::may_read`]).
    pub(crate) fn may_read(&self, root: &str, field: &str) -> bool {
        self.any_expr(&|e| e.may_read(root, field))
    }

    /// Whether `f` holds for an expression of the template; stops at the first.
    fn any_expr(&self, f: &impl Fn(&Expr) -> bool) -> bool {
        match self {
            Template::Literal(_) => false,
            Template::Expr(e) => f(e),
            Template::Interpolated(pieces) => {
                pieces.iter().any(|p| matches!(p, Piece::Expr(e) if f(e)))
            }
            Template::Object(fields) => fields.iter().any(|(_, t)| t.any_expr(f)),
            Template::Array(items) => items.iter().any(|t| t.any_expr(f)),
            Template::File(node) => f(&node.from),
        }
    }

    /// Whether the template embeds files (`$file` nodes).
    pub(crate) fn has_files(&self) -> bool {
        match self {
            Template::File(_) => true,
            Template::Object(fields) => fields.iter().any(|(_, t)| t.has_files()),
            Template::Array(items) => items.iter().any(Template::has_files),
            Template::Literal(_) | Template::Expr(_) | Template::Interpolated(_) => false,
        }
    }

    /// Renders the template again where it may read member `field` of the binding `root`, and
    /// takes the rest from `baseline`, what the same template rendered before. Gives what
    /// [`Template::render`] would, at the cost of the parts that read the field: the drop
    /// analysis re-renders a request for each input value it probes.
    pub(crate) fn rerender(
        &self,
        scope_root: &Root<'_>,
        baseline: &Value,
        (root, field): (&str, &str),
    ) -> Result<Value, String> {
        if !self.may_read(root, field) {
            return Ok(baseline.clone());
        }
        let (Template::Object(fields), Value::Object(before)) = (self, baseline) else {
            return self.render(scope_root);
        };
        let mut map = Map::with_capacity(fields.len());
        for (key, template) in fields {
            let earlier = before.get(key).unwrap_or(&Value::Null);
            let value = template
                .rerender(scope_root, earlier, (root, field))
                .map_err(|e| format!("`{key}`: {e}"))?;
            if !value.is_null() {
                map.insert(key.clone(), value);
            }
        }
        Ok(Value::Object(map))
    }

    fn walk_exprs(&self, f: &mut impl FnMut(&Expr)) {
        match self {
            Template::Literal(_) => {}
            Template::Expr(e) => f(e),
            Template::Interpolated(pieces) => pieces.iter().for_each(|p| {
                if let Piece::Expr(e) = p {
                    f(e)
                }
            }),
            Template::Object(fields) => fields.iter().for_each(|(_, t)| t.walk_exprs(f)),
            Template::Array(items) => items.iter().for_each(|t| t.walk_exprs(f)),
            Template::File(node) => f(&node.from),
        }
    }

    /// Renders the template (a file node as the body it would be sent in, content empty).
    pub(crate) fn render(&self, root: &Root<'_>) -> Result<Value, String> {
        self.render_in(root, &mut FileSink::default())
    }

    /// Renders a JSON body, with the files its `$file` nodes embed (pointers into the body).
    pub(crate) fn render_body(
        &self,
        root: &Root<'_>,
    ) -> Result<(Value, Vec<EmbeddedFile>), String> {
        let mut sink = FileSink::wanted();
        let body = self.render_in(root, &mut sink)?;
        Ok((body, sink.files))
    }

    fn render_in<'t>(&'t self, root: &Root<'_>, sink: &mut FileSink<'t>) -> Result<Value, String> {
        Ok(match self {
            Template::Literal(v) => v.clone(),
            Template::Expr(e) => e.eval(root)?,
            Template::Interpolated(pieces) => Value::String(render_text(pieces, root)?),
            Template::Object(fields) => {
                let mut map = Map::with_capacity(fields.len());
                for (key, template) in fields {
                    sink.push_key(key);
                    let value = template.render_in(root, sink);
                    sink.pop();
                    let value = value.map_err(|e| format!("`{key}`: {e}"))?;
                    if !value.is_null() {
                        map.insert(key.clone(), value);
                    }
                }
                Value::Object(map)
            }
            Template::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    sink.push_index(out.len());
                    let value = item.render_in(root, sink);
                    sink.pop();
                    match value? {
                        Value::Null => {}
                        value => out.push(value),
                    }
                }
                Value::Array(out)
            }
            Template::File(node) => node.render(root, sink)?,
        })
    }

    /// Renders a URL path: every expression's text is percent-encoded, and a value that would
    /// change which resource the path names (empty, `.`, `..`) is an error.
    pub(crate) fn render_path(&self, root: &Root<'_>) -> Result<String, PathError> {
        match self {
            Template::Literal(Value::String(s)) => Ok(s.clone()),
            Template::Interpolated(pieces) => {
                let mut out = String::new();
                for piece in pieces {
                    match piece {
                        Piece::Text(t) => out.push_str(t),
                        Piece::Expr(e) => out.push_str(&path_value(e, root)?),
                    }
                }
                Ok(out)
            }
            Template::Expr(e) => path_value(e, root),
            _ => Err(PathError::Render("a path must be a string".to_owned())),
        }
    }

    /// Checks the path's expressions that read only names `ready` accepts (and at least one):
    /// each must give a usable path segment. The others are left for [`Template::render_path`].
    pub(crate) fn check_path(
        &self,
        root: &Root<'_>,
        ready: impl Fn(&Reference) -> bool,
    ) -> Result<(), PathError> {
        let mut result = Ok(());
        self.walk_exprs(&mut |e| {
            let reads = e.references();
            if result.is_ok() && !reads.is_empty() && reads.iter().all(&ready) {
                result = path_value(e, root).map(drop);
            }
        });
        result
    }
}

/// A path that cannot be rendered.
#[derive(Debug)]
pub(crate) enum PathError {
    /// An expression failed, or the template is not a string.
    Render(String),
    /// An expression's value cannot be a path segment.
    Segment {
        /// Why.
        problem: SegmentProblem,
        /// What the expression reads, to tell the caller's input from provider answers.
        reads: Vec<Reference>,
    },
}

/// Why a value cannot be a path segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SegmentProblem {
    /// Empty or null: `/postings//apply` names another resource.
    Empty,
    /// `.` or `..`, possibly percent-encoded (`%2e%2E`): URL parsers resolve it away, so
    /// `/postings/../apply` becomes `/apply`.
    DotSegment(String),
}

impl std::fmt::Display for SegmentProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SegmentProblem::Empty => write!(f, "is empty"),
            SegmentProblem::DotSegment(text) => write!(f, "is `{text}`, a dot segment"),
        }
    }
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathError::Render(message) => write!(f, "{message}"),
            PathError::Segment { problem, .. } => write!(f, "a path segment {problem}"),
        }
    }
}

/// The longest dot segment an error repeats (`%2E%2E` is six characters).
const SHOWN_DOT_CHARS: usize = 6;

fn path_value(expr: &Expr, root: &Root<'_>) -> Result<String, PathError> {
    let text = scalar_text(&expr.eval(root).map_err(PathError::Render)?);
    let problem = if text.is_empty() {
        Some(SegmentProblem::Empty)
    } else if text.len() <= SHOWN_DOT_CHARS && is_dot_segment(&text) {
        Some(SegmentProblem::DotSegment(text.clone()))
    } else {
        None
    };
    match problem {
        Some(problem) => Err(PathError::Segment {
            problem,
            reads: expr.references(),
        }),
        None => Ok(encode_query_component(&text)),
    }
}

/// `.` or `..`, each dot possibly written `%2e` or `%2E`.
fn is_dot_segment(text: &str) -> bool {
    let decoded = percent_encoding::percent_decode_str(text).collect::<Vec<u8>>();
    decoded == b"." || decoded == b".."
}

fn render_text(pieces: &[Piece], root: &Root<'_>) -> Result<String, String> {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Expr(e) => out.push_str(&scalar_text(&e.eval(root)?)),
        }
    }
    Ok(out)
}

/// A scalar as text: strings as they are, null as empty, others as JSON.
pub(crate) fn scalar_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The offset of the `}}` that closes an expression, skipping braces and quotes inside it.
fn closing_braces(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'\'' | b'"' | b'`' => quote = Some(b),
                b'{' => depth += 1,
                b'}' if depth > 0 => depth -= 1,
                b'}' if bytes.get(i + 1) == Some(&b'}') => return Some(i),
                _ => {}
            },
        }
        i += 1;
    }
    None
}

/// Whether `{"$file": …}` objects are file nodes (in request bodies) or plain objects.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Files {
    Plain,
    Embedded,
}

fn compile_at(
    value: &Value,
    path: &mut Vec<String>,
    errors: &mut Vec<TemplateError>,
    files: Files,
) -> Template {
    match value {
        Value::String(text) => compile_string(text, path, errors),
        Value::Object(map) if files == Files::Embedded && map.len() == 1 => {
            match map.get(FILE_KEY) {
                Some(spec) => FileNode::compile(spec, path, errors)
                    .map(|node| Template::File(Box::new(node)))
                    .unwrap_or(Template::Literal(Value::Null)),
                None => compile_object(map, path, errors, files),
            }
        }
        Value::Object(map) => compile_object(map, path, errors, files),
        Value::Array(items) => Template::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    path.push(i.to_string());
                    let t = compile_at(v, path, errors, files);
                    path.pop();
                    t
                })
                .collect(),
        ),
        other => Template::Literal(other.clone()),
    }
}

fn compile_object(
    map: &Map<String, Value>,
    path: &mut Vec<String>,
    errors: &mut Vec<TemplateError>,
    files: Files,
) -> Template {
    Template::Object(
        map.iter()
            .map(|(k, v)| {
                path.push(k.clone());
                let t = compile_at(v, path, errors, files);
                path.pop();
                (k.clone(), t)
            })
            .collect(),
    )
}

fn compile_string(text: &str, path: &[String], errors: &mut Vec<TemplateError>) -> Template {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            pieces.push(Piece::Text(rest[..open].to_owned()));
        }
        let after = &rest[open + 2..];
        let Some(close) = closing_braces(after) else {
            errors.push(TemplateError {
                path: path.to_vec(),
                message: format!("unclosed `{{{{` in `{text}`"),
            });
            return Template::Literal(Value::String(text.to_owned()));
        };
        match Expr::compile(&after[..close]) {
            Ok(e) => pieces.push(Piece::Expr(e)),
            Err(message) => errors.push(TemplateError {
                path: path.to_vec(),
                message,
            }),
        }
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_owned()));
    }
    match pieces.len() {
        0 => Template::Literal(Value::String(text.to_owned())),
        1 => match pieces.pop() {
            Some(Piece::Expr(e)) => Template::Expr(e),
            Some(Piece::Text(t)) => Template::Literal(Value::String(t)),
            None => Template::Literal(Value::Null),
        },
        _ => Template::Interpolated(pieces),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Scope;
    use serde_json::json;

    fn render(template: Value, scope: &Scope) -> Value {
        let mut errors = Vec::new();
        let t = Template::compile(&template, &mut errors);
        assert!(errors.is_empty());
        t.render(&Root::Scope(scope)).unwrap()
    }

    #[test]
    fn keeps_types_drops_nulls_and_interpolates() {
        let mut scope = Scope::default();
        scope.set("body", json!({"n": 3, "name": "Ada", "none": null}));
        let out = render(
            json!({"n": "{{ body.n }}", "greeting": "hi {{ body.name }}!", "gone": "{{ body.none }}", "lit": true}),
            &scope,
        );
        assert_eq!(out, json!({"n": 3, "greeting": "hi Ada!", "lit": true}));
    }

    #[test]
    fn path_values_are_percent_encoded_and_must_not_be_empty_or_dots() {
        let mut scope = Scope::default();
        scope.set(
            "query",
            json!({"job_id": "../x?y=1", "dots": "...", "n": 7}),
        );
        fn path(text: &str, scope: &Scope) -> Result<String, PathError> {
            Template::compile(&json!(text), &mut Vec::new()).render_path(&Root::Scope(scope))
        }
        assert_eq!(
            path("/postings/{{ query.job_id }}/apply", &scope).unwrap(),
            "/postings/..%2Fx%3Fy%3D1/apply"
        );
        assert_eq!(
            path("/p/{{ query.dots }}/{{ query.n }}", &scope).unwrap(),
            "/p/.../7"
        );
        for (value, problem) in [
            (json!(""), SegmentProblem::Empty),
            (json!(null), SegmentProblem::Empty),
            (json!("."), SegmentProblem::DotSegment(".".into())),
            (json!(".."), SegmentProblem::DotSegment("..".into())),
            (json!("%2e"), SegmentProblem::DotSegment("%2e".into())),
            (json!("%2E%2e"), SegmentProblem::DotSegment("%2E%2e".into())),
            (json!(".%2E"), SegmentProblem::DotSegment(".%2E".into())),
        ] {
            scope.set("query", json!({ "id": value }));
            let Err(PathError::Segment {
                problem: got,
                reads,
            }) = path("/p/{{ query.id }}/x", &scope)
            else {
                panic!("{value}: refused");
            };
            assert_eq!(got, problem);
            assert_eq!(reads[0].root, "query");
            assert_eq!(reads[0].key.as_deref(), Some("id"));
        }
    }

    #[test]
    fn expressions_may_hold_braces_and_quoted_braces() {
        let mut scope = Scope::default();
        scope.set("body", json!({"list": [{"v": 1}]}));
        let out = render(json!("{{ body.list[].{value: v} }}"), &scope);
        assert_eq!(out, json!([{"value": 1}]));
        let out = render(json!("{{ '}}' }}"), &scope);
        assert_eq!(out, json!("}}"));
    }

    #[test]
    fn rerender_renders_only_the_members_that_read_the_field() {
        let template = Template::compile(
            &json!({
                "first": "{{ body.a }}",
                "second": {"b": "{{ body.b }}", "both": "{{ [body.a, body.b][?@] }}"},
                "third": "{{ join('-', body.c) }}",
                "fixed": 7
            }),
            &mut Vec::new(),
        );
        let mut scope = Scope::default();
        scope.set("body", json!({"a": 1, "b": 2, "c": ["x", "y"]}));
        let baseline = template.render(&Root::Scope(&scope)).unwrap();
        // `a` changes too, but only `b` is declared changed: members reading only `a` or `c`
        // keep their baseline values, which shows they were not rendered again.
        scope.set("body", json!({"a": 10, "b": null, "c": "not an array"}));
        let again = template
            .rerender(&Root::Scope(&scope), &baseline, ("body", "b"))
            .unwrap();
        assert_eq!(
            again,
            json!({"first": 1, "second": {"both": [10]}, "third": "x-y", "fixed": 7})
        );
        // A member that fails when rendered again fails the whole, as `render` does.
        let failed = template.rerender(&Root::Scope(&scope), &baseline, ("body", "c"));
        assert_eq!(
            failed.unwrap_err(),
            template.render(&Root::Scope(&scope)).unwrap_err()
        );
        // Nothing reads `d`: the baseline as it is.
        assert_eq!(
            template
                .rerender(&Root::Scope(&scope), &baseline, ("body", "d"))
                .unwrap(),
            baseline
        );
    }

    #[test]
    fn reports_bad_expressions_with_their_place() {
        let mut errors = Vec::new();
        Template::compile(&json!({"a": ["ok", "{{ foo[?? }}"]}), &mut errors);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, vec!["a", "1"]);
    }
}
