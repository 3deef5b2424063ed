//! The one place YAML is read: text → JSON value (duplicate keys rejected) → checked against the
//! format's JSON Schema (every problem reported) → the typed file.

#[cfg(feature = "format-check")]
use std::sync::LazyLock;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::diagnostic::{Diagnostic, Reporter, diagnostic};
#[cfg(feature = "format-check")]
use crate::source::escape;
use crate::source::{PositionIndex, SourceFile};

/// A file format the loader reads: with the `format-check` feature, one whose JSON Schema is
/// generated from its type, so every format problem is reported at once with its place;
/// without it, serde's first error is.
#[cfg(feature = "format-check")]
pub(crate) trait Format: schemars::JsonSchema {}
#[cfg(feature = "format-check")]
impl<T: schemars::JsonSchema> Format for T {}
/// A file format the loader reads (without `format-check`: serde's first error is reported).
#[cfg(not(feature = "format-check"))]
pub(crate) trait Format {}
#[cfg(not(feature = "format-check"))]
impl<T> Format for T {}

/// Parses a YAML file into `T`, reporting every format problem with its line.
///
/// Returns the typed file and the file's position index (for later, semantic diagnostics).
pub(crate) fn load_yaml<T: DeserializeOwned + Format>(
    file: &SourceFile,
    found: &mut Vec<Diagnostic>,
) -> Option<(T, PositionIndex)> {
    let index = PositionIndex::build(&file.text);
    let yaml: serde_yaml::Value = match serde_yaml::from_str(&file.text) {
        Ok(v) => v,
        Err(e) => {
            if !index.duplicates.is_empty() {
                // serde_yaml points at the mapping; the index knows where each repeat is.
                for (pointer, (line, column)) in &index.duplicates {
                    let key = pointer.rsplit('/').next().unwrap_or_default();
                    let message = format!("duplicate key `{key}`");
                    found.push(diagnostic(
                        file,
                        *line,
                        *column,
                        pointer,
                        message,
                        Some("already set above".to_owned()),
                    ));
                }
                return None;
            }
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((1, 1));
            let message = e.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_owned();
            found.push(diagnostic(file, line, column, "", message, None));
            return None;
        }
    };
    let json: Value = match serde_json::to_value(&yaml) {
        Ok(v) => v,
        Err(e) => {
            found.push(diagnostic(
                file,
                1,
                1,
                "",
                format!("not representable as JSON: {e}"),
                None,
            ));
            return None;
        }
    };
    #[cfg(feature = "format-check")]
    {
        let before = found.len();
        check_format::<T>(&json, &mut Reporter::new(file, &index, found));
        if found.len() > before {
            return None;
        }
    }
    match serde_json::from_value(json) {
        Ok(typed) => Some((typed, index)),
        Err(e) => {
            Reporter::new(file, &index, found).at("", e.to_string(), None);
            None
        }
    }
}

/// The JSON Schema of a file format, generated from its Rust types.
#[cfg(feature = "format-check")]
pub(crate) fn format_schema<T: schemars::JsonSchema>() -> Value {
    serde_json::to_value(schemars::schema_for!(T)).unwrap_or(Value::Null)
}

#[cfg(feature = "format-check")]
fn check_format<T: schemars::JsonSchema>(json: &Value, report: &mut Reporter<'_>) {
    static VALIDATORS: LazyLock<
        std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<jsonschema::Validator>>>,
    > = LazyLock::new(Default::default);
    let name = std::any::type_name::<T>().to_owned();
    let validator = {
        let mut cache = VALIDATORS.lock().unwrap_or_else(|p| p.into_inner());
        match cache.get(&name) {
            Some(v) => v.clone(),
            None => match jsonschema::validator_for(&format_schema::<T>()) {
                Ok(v) => {
                    let v = std::sync::Arc::new(v);
                    cache.insert(name, v.clone());
                    v
                }
                Err(e) => {
                    report.at(
                        "",
                        format!("internal: the format schema does not compile: {e}"),
                        None,
                    );
                    return;
                }
            },
        }
    };
    for error in validator.iter_errors(json) {
        report_error(&error, report);
    }
}

/// Reports one format error; for "none of the alternatives" errors, the closest alternative's
/// own errors say more than the summary.
#[cfg(feature = "format-check")]
fn report_error(error: &jsonschema::ValidationError<'_>, report: &mut Reporter<'_>) {
    use jsonschema::error::ValidationErrorKind as Kind;
    let pointer = error.instance_path().to_string();
    match error.kind() {
        Kind::AdditionalProperties { unexpected } => {
            for key in unexpected {
                report.at(
                    &format!("{pointer}/{}", escape(key)),
                    format!("unknown key `{key}`"),
                    None,
                );
            }
        }
        Kind::AnyOf { context } | Kind::OneOfNotValid { context } => {
            // A branch that fails only because the value has another type or constant is not
            // the one the author meant.
            let meant = |branch: &&Vec<jsonschema::ValidationError<'_>>| {
                !branch.is_empty()
                    && !branch.iter().all(|e| {
                        e.instance_path().to_string() == pointer
                            && matches!(
                                e.kind(),
                                Kind::Type { .. } | Kind::Enum { .. } | Kind::Constant { .. }
                            )
                    })
            };
            match context
                .iter()
                .filter(meant)
                .min_by_key(|branch| branch.len())
            {
                Some(closest) if context.len() > 1 => {
                    closest.iter().for_each(|e| report_error(e, report))
                }
                _ => report.at(&pointer, error.to_string(), None),
            }
        }
        _ => report.at(&pointer, error.to_string(), None),
    }
}
