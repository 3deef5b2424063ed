//! Unified resource schemas (`schemas/<model>/<resource>.json`), compiled once into validators.
//!
//! The file convention lives here and nowhere else: the root `properties` describe the record,
//! `$defs/<method>_query` and `$defs/<method>_body` what each method accepts, and every other
//! `$defs` entry a shape records share. Other crates ask [`UnifiedSchema`] for these by meaning
//! ([`UnifiedSchema::query_schema`], [`UnifiedSchema::body_schema`],
//! [`UnifiedSchema::record_definitions`]) and never spell `$defs` themselves.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use jsonschema::ValidationError;
use jsonschema::error::ValidationErrorKind;

use crate::error::{InputLocation, InputProblem, ProblemKind};

/// One unified resource's schema: the record every method returns, and per method what it accepts.
pub struct UnifiedSchema {
    /// `ats/candidates`.
    pub name: String,
    /// The schema document as written.
    pub document: Value,
    methods: BTreeMap<String, MethodSchema>,
}

/// What one unified method accepts.
pub(crate) struct MethodSchema {
    pub(crate) query: InputSchema,
    pub(crate) body: InputSchema,
}

/// What schema validation found in one input.
pub(crate) struct SchemaProblems {
    /// Every problem.
    pub(crate) problems: Vec<InputProblem>,
    /// Whether one of them is a size limit.
    pub(crate) over_limit: bool,
}

/// The longest schema message kept as the validator words it; a longer one (the validator quotes
/// the offending value, which may be megabytes) says `value` instead.
const MAX_MESSAGE_CHARS: usize = 200;

/// The schema of a query or a body: its fields, and a compiled validator.
pub(crate) struct InputSchema {
    /// Field name → its schema (with `$ref`s left as written).
    pub(crate) fields: Map<String, Value>,
    validator: jsonschema::Validator,
}

/// Where a schema document keeps its definitions.
const DEFINITIONS: &str = "$defs";
/// How a `$ref` to one of them starts.
const DEFINITION_REF: &str = "#/$defs/";
/// The suffix of a method's query definition (`list_query`).
const QUERY_SUFFIX: &str = "_query";
/// The suffix of a method's body definition (`create_body`).
const BODY_SUFFIX: &str = "_body";

/// The name of `method`'s query definition: `list` → `list_query`.
fn query_definition(method: &str) -> String {
    format!("{method}{QUERY_SUFFIX}")
}

/// The name of `method`'s body definition: `create` → `create_body`.
fn body_definition(method: &str) -> String {
    format!("{method}{BODY_SUFFIX}")
}

/// Whether a definition describes one method's input rather than a shared record shape.
fn is_input_definition(name: &str) -> bool {
    name.ends_with(QUERY_SUFFIX) || name.ends_with(BODY_SUFFIX)
}

impl UnifiedSchema {
    /// Compiles a schema document; the error says why it cannot be used.
    pub(crate) fn compile(name: &str, document: Value) -> Result<UnifiedSchema, String> {
        let defs = definitions(&document);
        let mut methods = BTreeMap::new();
        // A method is declared by its body or its query definition; a read (`list`, `get`)
        // has no body, and the part not declared accepts nothing.
        for key in defs.keys() {
            let Some(method) = key
                .strip_suffix(BODY_SUFFIX)
                .or_else(|| key.strip_suffix(QUERY_SUFFIX))
            else {
                continue;
            };
            if methods.contains_key(method) {
                continue;
            }
            let part = |def: String| {
                if defs.contains_key(&def) {
                    InputSchema::compile(&document, &def)
                } else {
                    InputSchema::empty()
                }
            };
            let query = part(query_definition(method))?;
            let body = part(body_definition(method))?;
            methods.insert(method.to_owned(), MethodSchema { query, body });
        }
        if document
            .get("properties")
            .and_then(Value::as_object)
            .is_none()
        {
            return Err("the root schema has no `properties`".to_owned());
        }
        Ok(UnifiedSchema {
            name: name.to_owned(),
            document,
            methods,
        })
    }

    /// The fields of the unified record.
    pub fn record_fields(&self) -> Vec<&str> {
        self.document
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// The schema of one record field.
    pub fn record_field(&self, name: &str) -> Option<&Value> {
        self.document.get("properties")?.get(name)
    }

    /// The unified methods the schema describes.
    pub fn methods(&self) -> impl Iterator<Item = &str> {
        self.methods.keys().map(String::as_str)
    }

    pub(crate) fn method(&self, method: &str) -> Option<&MethodSchema> {
        self.methods.get(method)
    }

    /// The record's own schema: the root document without its definitions or meta keywords
    /// (`$schema`, `$id`), for documents that place it beside the definitions.
    pub fn record_schema(&self) -> Value {
        let mut root = self.document.clone();
        if let Value::Object(map) = &mut root {
            for key in [DEFINITIONS, "$schema", "$id"] {
                map.remove(key);
            }
        }
        root
    }

    /// The schema of what `method` accepts in its query, as written.
    pub fn query_schema(&self, method: &str) -> Option<&Value> {
        self.definition(&query_definition(method))
    }

    /// The schema of what `method` accepts in its body, as written.
    pub fn body_schema(&self, method: &str) -> Option<&Value> {
        self.definition(&body_definition(method))
    }

    /// The name under which [`UnifiedSchema::definitions`] lists `method`'s body schema, when
    /// the schema has one.
    pub fn body_definition_name(&self, method: &str) -> Option<String> {
        let name = body_definition(method);
        self.definition(&name).map(|_| name)
    }

    /// The definitions records share (`$ref` targets), without the per-method inputs.
    pub fn record_definitions(&self) -> Map<String, Value> {
        definitions(&self.document)
            .into_iter()
            .filter(|(name, _)| !is_input_definition(name))
            .collect()
    }

    /// `schema` (an object schema built from parts of this one) made standalone: the record
    /// definitions its `$ref`s may point to travel with it.
    pub fn standalone(&self, mut schema: Map<String, Value>) -> Value {
        schema.insert(
            DEFINITIONS.to_owned(),
            Value::Object(self.record_definitions()),
        );
        Value::Object(schema)
    }

    /// Every definition, the per-method inputs included, by name.
    pub fn definitions(&self) -> Map<String, Value> {
        definitions(&self.document)
    }

    /// Points every reference to one of a schema's definitions inside `value` elsewhere:
    /// `target(name)` is the new reference for the definition `name`.
    pub fn relink_definitions(value: &mut Value, target: &impl Fn(&str) -> String) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get_mut("$ref")
                    && let Some(name) = reference.strip_prefix(DEFINITION_REF)
                {
                    *reference = target(name);
                }
                map.values_mut()
                    .for_each(|v| Self::relink_definitions(v, target));
            }
            Value::Array(items) => items
                .iter_mut()
                .for_each(|v| Self::relink_definitions(v, target)),
            _ => {}
        }
    }

    fn definition(&self, name: &str) -> Option<&Value> {
        self.document.get(DEFINITIONS)?.get(name)
    }
}

/// A schema document's definitions, by name.
fn definitions(document: &Value) -> Map<String, Value> {
    document
        .get(DEFINITIONS)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

impl InputSchema {
    /// The schema of an input a method does not take: an object with no fields.
    fn empty() -> Result<InputSchema, String> {
        let schema = serde_json::json!({"type": "object", "properties": {}});
        let validator = jsonschema::validator_for(&schema)
            .map_err(|e| format!("the empty input schema does not compile: {e}"))?;
        Ok(InputSchema {
            fields: Map::new(),
            validator,
        })
    }

    fn compile(document: &Value, def: &str) -> Result<InputSchema, String> {
        let schema = document
            .get(DEFINITIONS)
            .and_then(|defs| defs.get(def))
            .ok_or_else(|| format!("missing `$defs/{def}`"))?;
        let fields = schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut wrapper = Map::new();
        wrapper.insert(
            "$schema".into(),
            Value::from("https://json-schema.org/draft/2020-12/schema"),
        );
        wrapper.insert(
            DEFINITIONS.into(),
            document.get(DEFINITIONS).cloned().unwrap_or_default(),
        );
        wrapper.insert("$ref".into(), Value::from(format!("{DEFINITION_REF}{def}")));
        let validator = jsonschema::validator_for(&Value::Object(wrapper))
            .map_err(|e| format!("`$defs/{def}` does not compile: {e}"))?;
        Ok(InputSchema { fields, validator })
    }

    /// Every type or shape problem in `input`, each with its JSON pointer, and whether one of
    /// them is a size limit (`maxItems`, `maxLength`, `maxProperties`): an input over a limit is
    /// refused as it is, without further checks that would walk all of it.
    pub(crate) fn problems(&self, input: &Value, location: InputLocation) -> SchemaProblems {
        let mut over_limit = false;
        let problems = self
            .validator
            .iter_errors(input)
            .map(|e| {
                let limit = is_size_limit(e.kind());
                over_limit |= limit;
                InputProblem {
                    location,
                    pointer: e.instance_path().to_string(),
                    kind: ProblemKind::Invalid,
                    message: message(&e, limit),
                }
            })
            .collect();
        SchemaProblems {
            problems,
            over_limit,
        }
    }

    /// Whether `name` is a field of this input.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.fields.contains_key(name)
    }
}

fn is_size_limit(kind: &ValidationErrorKind) -> bool {
    matches!(
        kind,
        ValidationErrorKind::MaxItems { .. }
            | ValidationErrorKind::MaxLength { .. }
            | ValidationErrorKind::MaxProperties { .. }
    )
}

/// The validator's message; for a size limit, or when it would be long, without the value.
fn message(error: &ValidationError<'_>, size_limit: bool) -> String {
    if !size_limit {
        let text = error.to_string();
        if text.chars().count() <= MAX_MESSAGE_CHARS {
            return text;
        }
    }
    error.masked().to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> UnifiedSchema {
        let document = json!({
            "properties": {"id": {"type": "string"}, "email": {"$ref": "#/$defs/email"}},
            "$defs": {
                "email": {"type": "string"},
                "create_query": {"properties": {"job_id": {"type": "string"}}},
                "create_body": {"properties": {"email": {"$ref": "#/$defs/email"}}},
            },
        });
        UnifiedSchema::compile("ats/candidates", document).expect("compiles")
    }

    #[test]
    fn inputs_and_record_definitions_are_answered_by_meaning() {
        let schema = schema();
        assert_eq!(schema.methods().collect::<Vec<_>>(), ["create"]);
        assert!(schema.query_schema("create").unwrap()["properties"]["job_id"].is_object());
        assert!(schema.body_schema("create").unwrap()["properties"]["email"].is_object());
        assert!(schema.body_schema("list").is_none());
        assert_eq!(
            schema.body_definition_name("create").as_deref(),
            Some("create_body")
        );
        let shared: Vec<String> = schema.record_definitions().keys().cloned().collect();
        assert_eq!(shared, ["email"]);
        assert!(schema.record_schema().get("$defs").is_none());
    }

    #[test]
    fn references_to_definitions_are_relinked() {
        let mut value = json!({"items": [{"$ref": "#/$defs/email"}], "other": {"$ref": "x"}});
        UnifiedSchema::relink_definitions(&mut value, &|name| format!("#/c/{name}"));
        assert_eq!(
            value,
            json!({"items": [{"$ref": "#/c/email"}], "other": {"$ref": "x"}})
        );
    }
}
