//! Rendering one step's request from the run's scope.

use serde_json::{Map, Value};

use crate::error::RunError;
use crate::expr::template_text;
use crate::expr::{Root, Scope, Template};
use crate::http::{EmbeddedFile, MultipartPart, ProviderRequest, RequestBody};
use crate::plan::{BodyPlan, PartPlan, StepPlan};

/// Renders `step`'s request; `remote` is the caller's `(remote_query, remote_data)` for
/// passthrough steps.
pub(crate) fn render(
    step: &StepPlan,
    scope: &Scope,
    remote: (&Value, &Value),
) -> Result<ProviderRequest, RunError> {
    let root = Root::Scope(scope);
    let field = |part: &str| format!("steps.{}.request.{part}", step.id);
    let fail = |part: &str| {
        let field = field(part);
        move |message: String| RunError::Mapping {
            field: field.clone(),
            message,
        }
    };
    let path = step
        .path
        .render_path(&root)
        .map_err(|e| super::paths::path_error(step, e))?;
    let mut query = pairs(&step.query, &root).map_err(fail("query"))?;
    let headers = pairs(&step.headers, &root).map_err(fail("headers"))?;
    let body = match &step.body {
        BodyPlan::Empty => RequestBody::Empty,
        BodyPlan::Json(template) => {
            let (mut body, files) = template.render_body(&root).map_err(fail("body"))?;
            if step.passthrough && remote.1.is_object() {
                super::merge::merge(&mut body, remote.1, &step.merge_by);
            }
            json_body(body, files)
        }
        BodyPlan::Multipart(parts) => {
            RequestBody::Multipart(multipart(parts, &root).map_err(fail("multipart"))?)
        }
    };
    if step.passthrough
        && let Value::Object(overrides) = remote.0
    {
        for (key, value) in overrides {
            query.retain(|(k, _)| k != key);
            push_query(&mut query, key, value)?;
        }
    }
    Ok(ProviderRequest {
        step: step.id.clone(),
        method: step.method,
        path,
        query,
        headers,
        body,
        rate_limit: step.rate_limit.clone(),
        page_url: None,
        delay_ms: 0,
        read_only: false,
    })
}

/// What one call of a step sends, part by part: compared by the drop analysis.
pub(crate) struct Call {
    /// Path, query, headers and body (the caller's `remote_data` merged in as for the real
    /// request; its `remote_query` left out), an error kept as its text.
    parts: [Result<Value, String>; 4],
    /// The JSON body before `remote_data` was merged in, when it was.
    unmerged: Option<Value>,
}

impl Call {
    /// Each part of `step`'s request rendered on its own.
    pub(crate) fn render(step: &StepPlan, root: &Root<'_>, remote_data: &Value) -> Call {
        let mut unmerged = None;
        let body = match &step.body {
            BodyPlan::Empty => Ok(Value::Null),
            BodyPlan::Json(template) => json_part(step, template, root, remote_data, |before| {
                unmerged = Some(before.clone())
            }),
            BodyPlan::Multipart(parts) => multipart_text(parts, root),
        };
        Call {
            parts: [
                path_text(step, root),
                pairs(&step.query, root).map(listed),
                pairs(&step.headers, root).map(listed),
                body,
            ],
            unmerged,
        }
    }

    /// Every part's value (not the errors).
    pub(crate) fn values(&self) -> impl Iterator<Item = &Value> {
        self.parts.iter().flatten()
    }

    /// Whether the parts equal another call's.
    pub(crate) fn same_as(&self, other: &Call) -> bool {
        self.parts == other.parts
    }

    /// Whether rendering `step` under `root` would send something else than this call, where
    /// `root` differs from the scope this call was rendered under only in member `read.1` of
    /// binding `read.0`: only the parts (and, in a JSON body, the members) that may read it
    /// are rendered again.
    pub(crate) fn changes(
        &self,
        step: &StepPlan,
        root: &Root<'_>,
        remote_data: &Value,
        read: (&str, &str),
    ) -> bool {
        let (name, field) = read;
        let reads_pairs =
            |pairs: &[(String, Template)]| pairs.iter().any(|(_, t)| t.may_read(name, field));
        if step.path.may_read(name, field) && path_text(step, root) != self.parts[0] {
            return true;
        }
        if reads_pairs(&step.query) && pairs(&step.query, root).map(listed) != self.parts[1] {
            return true;
        }
        if reads_pairs(&step.headers) && pairs(&step.headers, root).map(listed) != self.parts[2] {
            return true;
        }
        let body = match &step.body {
            BodyPlan::Empty => return false,
            // A body embedding files is compared with its file list: rendered whole.
            BodyPlan::Json(template) if template.has_files() => {
                json_part(step, template, root, remote_data, |_| {})
            }
            BodyPlan::Json(template) if template.may_read(name, field) => {
                let before = self.unmerged.as_ref().or(self.parts[3].as_ref().ok());
                let rendered = match before {
                    Some(before) => template.rerender(root, before, read),
                    None => template.render(root),
                };
                rendered.map(|body| merged(step, body, remote_data, |_| {}))
            }
            BodyPlan::Multipart(parts) if parts.iter().any(|p| p.may_read(name, field)) => {
                multipart_text(parts, root)
            }
            _ => return false,
        };
        body != self.parts[3]
    }
}

/// `body` with `remote_data` merged in when the step is a passthrough; `keep` sees the body
/// before a merge.
fn merged(
    step: &StepPlan,
    mut body: Value,
    remote_data: &Value,
    keep: impl FnOnce(&Value),
) -> Value {
    if step.passthrough && remote_data.is_object() {
        keep(&body);
        super::merge::merge(&mut body, remote_data, &step.merge_by);
    }
    body
}

/// A JSON body as the drop analysis compares it: `remote_data` merged in (`keep` sees the body
/// before), and, when it embeds files, with their list (a file's URL is sent too, as the content
/// it names, so it counts).
fn json_part(
    step: &StepPlan,
    template: &Template,
    root: &Root<'_>,
    remote_data: &Value,
    keep: impl FnOnce(&Value),
) -> Result<Value, String> {
    let (body, files) = template.render_body(root)?;
    Ok(
        match json_body(merged(step, body, remote_data, keep), files) {
            RequestBody::JsonWithFiles { body, files } => {
                serde_json::json!({"body": body, "files": files})
            }
            RequestBody::Json(body) => body,
            RequestBody::Empty | RequestBody::Multipart(_) => Value::Null,
        },
    )
}

fn path_text(step: &StepPlan, root: &Root<'_>) -> Result<Value, String> {
    step.path
        .render_path(root)
        .map(Value::String)
        .map_err(|e| e.to_string())
}

fn multipart_text(parts: &[PartPlan], root: &Root<'_>) -> Result<Value, String> {
    multipart(parts, root).map(|parts| Value::String(format!("{parts:?}")))
}

fn listed(pairs: Vec<(String, String)>) -> Value {
    Value::Array(
        pairs
            .into_iter()
            .map(|(k, v)| Value::Array(vec![Value::String(k), Value::String(v)]))
            .collect(),
    )
}

/// A JSON body, with the files to embed in it. A file whose place `remote_data` filled or
/// replaced is not fetched: the caller's value stands.
fn json_body(body: Value, mut files: Vec<EmbeddedFile>) -> RequestBody {
    files.retain(|file| body.pointer(&file.content_at).and_then(Value::as_str) == Some(""));
    if files.is_empty() {
        RequestBody::Json(body)
    } else {
        RequestBody::JsonWithFiles { body, files }
    }
}

fn pairs(
    templates: &[(String, Template)],
    root: &Root<'_>,
) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (key, template) in templates {
        let value = template.render(root).map_err(|e| format!("`{key}`: {e}"))?;
        push_query(&mut out, key, &value).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Adds `value` under `key`: scalars once, arrays once per item, null not at all.
fn push_query(out: &mut Vec<(String, String)>, key: &str, value: &Value) -> Result<(), RunError> {
    match value {
        Value::Null => {}
        Value::Array(items) => {
            for item in items.iter().filter(|i| !i.is_null()) {
                out.push((key.to_owned(), template_text(item)));
            }
        }
        Value::Object(_) => {
            return Err(RunError::Mapping {
                field: key.to_owned(),
                message: "a query parameter cannot be an object".to_owned(),
            });
        }
        other => out.push((key.to_owned(), template_text(other))),
    }
    Ok(())
}

fn multipart(parts: &[PartPlan], root: &Root<'_>) -> Result<Vec<MultipartPart>, String> {
    let text = |t: &Template| t.render(root).map(|v| template_text(&v));
    let optional = |t: &Option<Template>| -> Result<Option<String>, String> {
        Ok(t.as_ref().map(&text).transpose()?.filter(|s| !s.is_empty()))
    };
    parts
        .iter()
        .map(|part| match part {
            PartPlan::Text { name, value } => Ok(MultipartPart::Text {
                name: name.clone(),
                value: text(value)?,
            }),
            PartPlan::File {
                name,
                fetch,
                file_name,
                content_type,
            } => {
                let url = text(fetch)?;
                if url.is_empty() {
                    return Err(format!("`{name}`: the file URL is empty"));
                }
                Ok(MultipartPart::Fetch {
                    name: name.clone(),
                    url,
                    file_name: optional(file_name)?,
                    content_type: optional(content_type)?,
                })
            }
        })
        .collect()
}

/// Lower-cased header names → values, as an object expressions can read.
pub(crate) fn header_object(headers: &[(String, String)]) -> Value {
    let mut map = Map::new();
    for (k, v) in headers {
        map.entry(k.to_lowercase())
            .or_insert_with(|| Value::String(v.clone()));
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn file(content_at: &str) -> EmbeddedFile {
        EmbeddedFile {
            url: "https://f.example/cv.pdf".to_owned(),
            content_at: content_at.to_owned(),
            file_name_at: None,
            content_type_at: None,
        }
    }

    #[test]
    fn files_whose_place_remote_data_filled_or_removed_are_not_fetched() {
        let body =
            json!({"resume": {"fileContent": ""}, "mine": {"fileContent": "abc"}, "gone": 1});
        let files = vec![
            file("/resume/fileContent"),
            file("/mine/fileContent"),
            file("/gone/fileContent"),
        ];
        assert_eq!(
            json_body(body.clone(), files),
            RequestBody::JsonWithFiles {
                body,
                files: vec![file("/resume/fileContent")]
            }
        );
    }

    #[test]
    fn a_body_without_files_left_is_plain_json() {
        let body = json!({"resume": {"fileContent": "from remote_data"}});
        assert_eq!(
            json_body(body.clone(), vec![file("/resume/fileContent")]),
            RequestBody::Json(body)
        );
    }
}
