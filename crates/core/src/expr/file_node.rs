//! `{"$file": …}` in a JSON body template: files the executor fetches and embeds in the body,
//! base64-encoded. The core renders where each file goes (an empty string for its content, and
//! for a name or content type the input lacks) and lists the files with JSON pointers to
//! those places; it never touches the bytes.

use serde_json::{Map, Value};

use super::{Expr, Root, TemplateError};
use crate::http::EmbeddedFile;
use crate::model::{BodyFileSpec, FileFacetSpec};

/// The key that marks a file node.
pub(crate) const FILE_KEY: &str = "$file";

/// A compiled `$file` node.
pub(crate) struct FileNode {
    /// Gives one file `{url, file_name?, content_type?}`, a list of them, or null.
    pub(crate) from: Expr,
    /// Provider key → fact, in key order; `None`: the file is its base64 content alone.
    shape: Option<Vec<(String, FileFacetSpec)>>,
}

/// The files a body render found, with the JSON pointer of the value being rendered (tracked
/// only when the files are wanted, so plain renders pay nothing for it).
#[derive(Default)]
pub(crate) struct FileSink<'t> {
    /// Whether to track pointers and keep files.
    wanted: bool,
    /// Pointer segments of the value being rendered.
    at: Vec<Segment<'t>>,
    /// The files found so far.
    pub(crate) files: Vec<EmbeddedFile>,
}

/// One segment of a JSON pointer: a template's key, or an index in a rendered array.
enum Segment<'t> {
    Key(&'t str),
    Index(usize),
}

impl<'t> FileSink<'t> {
    /// A sink that tracks pointers and keeps files.
    pub(crate) fn wanted() -> FileSink<'t> {
        FileSink {
            wanted: true,
            ..FileSink::default()
        }
    }

    /// Enters the member `key` of the object being rendered.
    pub(crate) fn push_key(&mut self, key: &'t str) {
        if self.wanted {
            self.at.push(Segment::Key(key));
        }
    }

    /// Enters item `index` of the array being rendered.
    pub(crate) fn push_index(&mut self, index: usize) {
        if self.wanted {
            self.at.push(Segment::Index(index));
        }
    }

    /// Leaves the member or item last entered.
    pub(crate) fn pop(&mut self) {
        self.at.pop();
    }

    fn add(&mut self, file: EmbeddedFile) {
        if self.wanted {
            self.files.push(file);
        }
    }

    /// The JSON pointer of the value being rendered, below it `extra` segments.
    fn pointer(&self, extra: &[&str]) -> String {
        let mut pointer = String::new();
        let mut push = |segment: &str| {
            pointer.push('/');
            pointer.push_str(&segment.replace('~', "~0").replace('/', "~1"));
        };
        for segment in &self.at {
            match segment {
                Segment::Key(key) => push(key),
                Segment::Index(index) => push(&index.to_string()),
            }
        }
        extra.iter().for_each(|segment| push(segment));
        pointer
    }
}

impl FileNode {
    /// Compiles the value of `$file`; errors are reported below `path`.
    pub(crate) fn compile(
        value: &Value,
        path: &mut Vec<String>,
        errors: &mut Vec<TemplateError>,
    ) -> Option<FileNode> {
        path.push(FILE_KEY.to_owned());
        let node = compile_spec(value, path, errors);
        path.pop();
        node
    }

    /// Renders the node: null when there is no file, else the file's value (or a list of
    /// them); every file is added to `sink`.
    pub(crate) fn render(&self, root: &Root<'_>, sink: &mut FileSink<'_>) -> Result<Value, String> {
        let described = self
            .from
            .eval(root)
            .map_err(|e| format!("`$file.from`: {e}"))?;
        match described {
            Value::Null => Ok(Value::Null),
            Value::Array(items) => {
                let mut rendered = Vec::with_capacity(items.len());
                for item in items.iter().filter(|item| !item.is_null()) {
                    sink.push_index(rendered.len());
                    let value = self.render_one(item, sink);
                    sink.pop();
                    rendered.push(value?);
                }
                Ok(if rendered.is_empty() {
                    Value::Null
                } else {
                    Value::Array(rendered)
                })
            }
            one => self.render_one(&one, sink),
        }
    }

    /// One file's value in the body, with its entry in `sink`.
    fn render_one(&self, described: &Value, sink: &mut FileSink<'_>) -> Result<Value, String> {
        let file = Described::read(described)?;
        let Some(shape) = &self.shape else {
            let content_at = sink.pointer(&[]);
            sink.add(EmbeddedFile {
                url: file.url,
                content_at,
                file_name_at: None,
                content_type_at: None,
            });
            return Ok(Value::String(String::new()));
        };
        let mut object = Map::new();
        let mut embedded = EmbeddedFile {
            url: file.url.clone(),
            content_at: String::new(),
            file_name_at: None,
            content_type_at: None,
        };
        for (key, facet) in shape {
            let value = match facet {
                FileFacetSpec::Base64 => {
                    embedded.content_at = sink.pointer(&[key]);
                    String::new()
                }
                FileFacetSpec::FileName => known_or_later(
                    &file.file_name,
                    &mut embedded.file_name_at,
                    sink.pointer(&[key]),
                ),
                FileFacetSpec::ContentType => known_or_later(
                    &file.content_type,
                    &mut embedded.content_type_at,
                    sink.pointer(&[key]),
                ),
            };
            object.insert(key.clone(), Value::String(value));
        }
        sink.add(embedded);
        Ok(Value::Object(object))
    }
}

/// The input's value when it has one; else an empty string, and `later` points at it for
/// the executor to fill in.
fn known_or_later(known: &Option<String>, later: &mut Option<String>, at: String) -> String {
    match known {
        Some(value) => value.clone(),
        None => {
            *later = Some(at);
            String::new()
        }
    }
}

/// One file as `$file.from` describes it.
struct Described {
    url: String,
    file_name: Option<String>,
    content_type: Option<String>,
}

impl Described {
    fn read(value: &Value) -> Result<Described, String> {
        let Value::Object(object) = value else {
            return Err(format!(
                "`$file.from` must give a file {{url, file_name, content_type}}, a list of them \
                 or null, not {}",
                kind(value)
            ));
        };
        let text = |key: &str| -> Result<Option<String>, String> {
            match object.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(text)) if text.is_empty() => Ok(None),
                Some(Value::String(text)) => Ok(Some(text.clone())),
                Some(other) => Err(format!(
                    "`$file.from`: a file's `{key}` must be a string, not {}",
                    kind(other)
                )),
            }
        };
        let url = text("url")?.ok_or("`$file.from`: a file's `url` is missing or empty")?;
        Ok(Described {
            url,
            file_name: text("file_name")?,
            content_type: text("content_type")?,
        })
    }
}

/// A JSON value's kind, for errors.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn compile_spec(
    value: &Value,
    path: &[String],
    errors: &mut Vec<TemplateError>,
) -> Option<FileNode> {
    let mut fail = |message: String| {
        errors.push(TemplateError {
            path: path.to_vec(),
            message,
        });
        None
    };
    let spec: BodyFileSpec = match serde_json::from_value(value.clone()) {
        Ok(spec) => spec,
        Err(error) => return fail(format!("invalid `$file`: {error}")),
    };
    let from = match super::template::Template::compile_expr(&spec.from) {
        Ok(from) => from,
        Err(message) => return fail(format!("`from`: {message}")),
    };
    let shape = match spec.shape {
        None => None,
        Some(shape) => {
            for facet in [
                FileFacetSpec::Base64,
                FileFacetSpec::FileName,
                FileFacetSpec::ContentType,
            ] {
                let count = shape.values().filter(|f| **f == facet).count();
                if count > 1 || (facet == FileFacetSpec::Base64 && count == 0) {
                    return fail(format!(
                        "`as` must give the base64 content to exactly one key, and the file name \
                         and content type to one key at most ({} keys get `{}`)",
                        count,
                        facet_name(facet)
                    ));
                }
            }
            Some(shape.into_iter().collect())
        }
    };
    Some(FileNode { from, shape })
}

fn facet_name(facet: FileFacetSpec) -> &'static str {
    match facet {
        FileFacetSpec::FileName => "file_name",
        FileFacetSpec::ContentType => "content_type",
        FileFacetSpec::Base64 => "base64",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::{Scope, Template};
    use super::*;

    fn compile_body(body: Value) -> Template {
        let mut errors = Vec::new();
        let template = Template::compile_body(&body, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        template
    }

    fn render_body(template: &Template, input: Value) -> (Value, Vec<EmbeddedFile>) {
        let mut scope = Scope::default();
        scope.set("body", input);
        template.render_body(&Root::Scope(&scope)).expect("renders")
    }

    fn file(
        url: &str,
        content_at: &str,
        name_at: Option<&str>,
        type_at: Option<&str>,
    ) -> EmbeddedFile {
        EmbeddedFile {
            url: url.to_owned(),
            content_at: content_at.to_owned(),
            file_name_at: name_at.map(str::to_owned),
            content_type_at: type_at.map(str::to_owned),
        }
    }

    #[test]
    fn a_file_without_a_shape_is_its_base64_content_alone() {
        let template = compile_body(json!({
            "name": "{{ body.name }}",
            "cv": {"$file": {"from": "{{ {url: body.cv} }}"}}
        }));
        let (body, files) = render_body(
            &template,
            json!({"name": "Ada", "cv": "https://f.example/cv.pdf"}),
        );
        assert_eq!(body, json!({"name": "Ada", "cv": ""}));
        assert_eq!(
            files,
            vec![file("https://f.example/cv.pdf", "/cv", None, None)]
        );
    }

    #[test]
    fn a_list_becomes_one_shaped_object_per_file_with_the_missing_facts_left_to_fill() {
        let template = compile_body(json!({
            "attachments": {"$file": {
                "from": "{{ body.files[].{url: u, file_name: n, content_type: t} }}",
                "as": {"fileName": "file_name", "mimeType": "content_type", "fileContent": "base64"}
            }}
        }));
        let (body, files) = render_body(
            &template,
            json!({"files": [
                {"u": "https://f.example/a.pdf", "n": "a.pdf", "t": "application/pdf"},
                {"u": "https://f.example/b"}
            ]}),
        );
        assert_eq!(
            body,
            json!({"attachments": [
                {"fileName": "a.pdf", "mimeType": "application/pdf", "fileContent": ""},
                {"fileName": "", "mimeType": "", "fileContent": ""}
            ]})
        );
        assert_eq!(
            files,
            vec![
                file(
                    "https://f.example/a.pdf",
                    "/attachments/0/fileContent",
                    None,
                    None
                ),
                file(
                    "https://f.example/b",
                    "/attachments/1/fileContent",
                    Some("/attachments/1/fileName"),
                    Some("/attachments/1/mimeType")
                ),
            ]
        );
    }

    #[test]
    fn no_file_leaves_the_key_out_and_fetches_nothing() {
        let template = compile_body(json!({
            "a": 1,
            "cv": {"$file": {"from": "{{ body.cv && {url: body.cv} }}"}},
            "more": {"$file": {"from": "{{ body.more }}"}}
        }));
        let (body, files) = render_body(&template, json!({"more": []}));
        assert_eq!(body, json!({"a": 1}));
        assert!(files.is_empty());
    }

    #[test]
    fn pointers_escape_keys_and_count_only_the_items_kept() {
        let template = compile_body(json!({
            "a/b~c": [null, {"$file": {"from": "{{ {url: 'https://f.example/x'} }}"}}]
        }));
        let (body, files) = render_body(&template, json!({}));
        assert_eq!(body, json!({"a/b~c": [""]}));
        assert_eq!(files[0].content_at, "/a~1b~0c/0");
    }

    #[test]
    fn a_file_without_a_url_or_of_the_wrong_type_is_a_clear_error() {
        let template = compile_body(json!({"cv": {"$file": {"from": "{{ body.cv }}"}}}));
        let mut scope = Scope::default();
        for (input, wanted) in [
            (
                json!("https://f.example/cv"),
                "a list of them or null, not a string",
            ),
            (
                json!({"file_name": "cv.pdf"}),
                "a file's `url` is missing or empty",
            ),
            (
                json!({"url": 7}),
                "a file's `url` must be a string, not a number",
            ),
        ] {
            scope.set("body", json!({ "cv": input }));
            let error = template
                .render_body(&Root::Scope(&scope))
                .expect_err("refused");
            assert!(
                error.starts_with("`cv`: `$file.from`") && error.contains(wanted),
                "{error}"
            );
        }
    }

    #[test]
    fn a_shape_needs_exactly_one_base64_key_and_unknown_facts_are_refused() {
        for shape in [
            json!({"a": "file_name"}),
            json!({"a": "base64", "b": "base64"}),
            json!({"a": "base64", "b": "file_name", "c": "file_name"}),
            json!({"a": "base64", "b": "size"}),
        ] {
            let mut errors = Vec::new();
            Template::compile_body(
                &json!({"cv": {"$file": {"from": "{{ body.cv }}", "as": shape}}}),
                &mut errors,
            );
            assert_eq!(errors.len(), 1, "{shape}: {errors:?}");
            assert_eq!(errors[0].path, vec!["cv".to_owned(), "$file".to_owned()]);
        }
    }

    #[test]
    fn outside_a_body_and_beside_other_keys_dollar_file_is_a_plain_key() {
        let value = json!({"$file": {"from": "{{ body.cv }}"}});
        let mut errors = Vec::new();
        let plain = Template::compile(&value, &mut errors);
        assert!(matches!(plain, Template::Object(_)));
        let beside = compile_body(json!({"$file": "x", "other": 1}));
        assert!(matches!(beside, Template::Object(_)));
        assert!(errors.is_empty());
    }
}
