//! Unified resource schemas (`schemas/<model>/<resource>.json`), compiled once into validators.

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

impl UnifiedSchema {
    /// Compiles a schema document; the error says why it cannot be used.
    pub(crate) fn compile(name: &str, document: Value) -> Result<UnifiedSchema, String> {
        let defs = document
            .get("$defs")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut methods = BTreeMap::new();
        for key in defs.keys() {
            let Some(method) = key.strip_suffix("_body") else {
                continue;
            };
            let query = InputSchema::compile(&document, &format!("{method}_query"))?;
            let body = InputSchema::compile(&document, key)?;
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

    /// The schema of `$defs/<name>`, for documents that embed parts of it.
    pub fn definitions(&self) -> Map<String, Value> {
        self.document
            .get("$defs")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }
}

impl InputSchema {
    fn compile(document: &Value, def: &str) -> Result<InputSchema, String> {
        let schema = document
            .pointer(&format!("/$defs/{def}"))
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
            "$defs".into(),
            document.get("$defs").cloned().unwrap_or_default(),
        );
        wrapper.insert("$ref".into(), Value::from(format!("#/$defs/{def}")));
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
