//! Templates: JSON-shaped values whose strings may hold `{{ expression }}` parts.

use serde_json::{Map, Value};

use super::{Expr, Reference, Root, encode_query_component};

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
        compile_at(value, &mut path, errors)
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
        }
    }

    /// Renders the template.
    pub(crate) fn render(&self, root: &Root<'_>) -> Result<Value, String> {
        Ok(match self {
            Template::Literal(v) => v.clone(),
            Template::Expr(e) => e.eval(root)?,
            Template::Interpolated(pieces) => Value::String(render_text(pieces, root, false)?),
            Template::Object(fields) => {
                let mut map = Map::with_capacity(fields.len());
                for (key, template) in fields {
                    let value = template.render(root).map_err(|e| format!("`{key}`: {e}"))?;
                    if !value.is_null() {
                        map.insert(key.clone(), value);
                    }
                }
                Value::Object(map)
            }
            Template::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|t| t.render(root))
                    .filter(|v| !matches!(v, Ok(Value::Null)))
                    .collect::<Result<_, _>>()?,
            ),
        })
    }

    /// Renders a URL path: every expression's text is percent-encoded, and an empty value is an
    /// error (it would change which resource the path names).
    pub(crate) fn render_path(&self, root: &Root<'_>) -> Result<String, String> {
        match self {
            Template::Literal(Value::String(s)) => Ok(s.clone()),
            Template::Interpolated(pieces) => render_text(pieces, root, true),
            Template::Expr(e) => path_value(e, root),
            _ => Err("a path must be a string".to_owned()),
        }
    }
}

fn path_value(expr: &Expr, root: &Root<'_>) -> Result<String, String> {
    let text = scalar_text(&expr.eval(root)?);
    if text.is_empty() {
        return Err("a path parameter is empty".to_owned());
    }
    if text == "." || text == ".." {
        // Dot segments would be resolved away by URL normalisation.
        return Ok(text.replace('.', "%2E"));
    }
    Ok(encode_query_component(&text))
}

fn render_text(pieces: &[Piece], root: &Root<'_>, encode: bool) -> Result<String, String> {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Expr(e) if encode => out.push_str(&path_value(e, root)?),
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

fn compile_at(value: &Value, path: &mut Vec<String>, errors: &mut Vec<TemplateError>) -> Template {
    match value {
        Value::String(text) => compile_string(text, path, errors),
        Value::Object(map) => Template::Object(
            map.iter()
                .map(|(k, v)| {
                    path.push(k.clone());
                    let t = compile_at(v, path, errors);
                    path.pop();
                    (k.clone(), t)
                })
                .collect(),
        ),
        Value::Array(items) => Template::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    path.push(i.to_string());
                    let t = compile_at(v, path, errors);
                    path.pop();
                    t
                })
                .collect(),
        ),
        other => Template::Literal(other.clone()),
    }
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
    fn path_values_are_percent_encoded_and_must_not_be_empty() {
        let mut scope = Scope::default();
        scope.set("query", json!({"job_id": "../x?y=1", "empty": ""}));
        let mut errors = Vec::new();
        let t = Template::compile(&json!("/postings/{{ query.job_id }}/apply"), &mut errors);
        assert_eq!(
            t.render_path(&Root::Scope(&scope)).unwrap(),
            "/postings/..%2Fx%3Fy%3D1/apply"
        );
        let t = Template::compile(&json!("/postings/{{ query.empty }}/apply"), &mut errors);
        assert!(t.render_path(&Root::Scope(&scope)).is_err());
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
    fn reports_bad_expressions_with_their_place() {
        let mut errors = Vec::new();
        Template::compile(&json!({"a": ["ok", "{{ foo[?? }}"]}), &mut errors);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, vec!["a", "1"]);
    }
}
