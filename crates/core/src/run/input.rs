//! Input validation: every problem with the unified query and body, found before anything is sent.

use serde_json::{Map, Value};

use crate::error::{InputLocation, InputProblem, ProblemKind, Warning};
use crate::expr::{Binding, Root, Scope, is_truthy};
use crate::model::Support;
use crate::plan::{FieldSupport, MethodPlan};

/// The unified input of one call.
#[derive(Debug, Clone, Default)]
pub struct RunInput {
    /// Unified query parameters (already without the server's own `truto_*` and account
    /// parameters); `remote_query` is an object of provider query parameters.
    pub query: Map<String, Value>,
    /// The unified body (an object, or null for none).
    pub body: Value,
    /// The integrated account's context; credentials in it are never exposed to mappings.
    pub context: Map<String, Value>,
    /// Reject unknown and unsupported fields instead of warning about them.
    pub strict: bool,
}

/// What a run keeps of its validated input besides the scope: the passthrough values and the
/// warnings.
pub(crate) struct Validated {
    pub(crate) remote_query: Value,
    pub(crate) remote_data: Value,
    pub(crate) warnings: Vec<Warning>,
}

/// Validates `input` against the unified schema and the plan's support and required flags.
pub(crate) fn validate(
    plan: &MethodPlan,
    input: RunInput,
) -> Result<(Validated, Scope), (Vec<InputProblem>, Vec<Warning>)> {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let schema = plan.schema.method(&plan.method);
    let mut query = input.query;
    for field in &plan.query_fields {
        if let (Some(default), false) = (&field.default, query.contains_key(&field.name)) {
            query.insert(field.name.clone(), default.clone());
        }
    }
    let body = match input.body {
        Value::Object(map) => map,
        Value::Null => Map::new(),
        other => {
            problems.push(InputProblem {
                location: InputLocation::Body,
                pointer: String::new(),
                kind: ProblemKind::Invalid,
                message: format!("the body must be a JSON object, not {}", type_name(&other)),
            });
            Map::new()
        }
    };
    let query = Value::Object(query);
    let body = Value::Object(body);
    if let Some(schema) = schema {
        let query_check = schema.query.problems(&query, InputLocation::Query);
        let body_check = schema.body.problems(&body, InputLocation::Body);
        let over_limit = query_check.over_limit || body_check.over_limit;
        problems.extend(query_check.problems);
        problems.extend(body_check.problems);
        if over_limit {
            // The mapping's own checks run expressions over every item: not for an input that
            // is already too large.
            return Err((problems, warnings));
        }
        let label = &plan.integration_plan.label;
        let mut unknown = |location,
                           map: &Map<String, Value>,
                           fields: &[FieldSupport],
                           known: &dyn Fn(&str) -> bool| {
            for (name, value) in map {
                if name == "remote_data" || name == "remote_query" || value.is_null() {
                    continue;
                }
                let message = if !known(name) {
                    format!(
                        "`{name}` is not a unified field; pass provider fields in `remote_data` / `remote_query`"
                    )
                } else if fields
                    .iter()
                    .any(|f| f.name == *name && f.support == Support::Unsupported)
                {
                    format!("`{name}` is not supported by {label} and was not sent")
                } else {
                    continue;
                };
                let pointer = format!("/{}", crate::source::escape(name));
                if input.strict {
                    problems.push(InputProblem {
                        location,
                        pointer,
                        kind: ProblemKind::Unsupported,
                        message,
                    });
                } else {
                    warnings.push(Warning {
                        location,
                        pointer,
                        message,
                    });
                }
            }
        };
        unknown(
            InputLocation::Query,
            as_map(&query),
            &plan.query_fields,
            &|n| schema.query.has(n),
        );
        unknown(
            InputLocation::Body,
            as_map(&body),
            &plan.body_fields,
            &|n| schema.body.has(n),
        );
    }
    for (location, map, fields) in [
        (InputLocation::Query, as_map(&query), &plan.query_fields),
        (InputLocation::Body, as_map(&body), &plan.body_fields),
    ] {
        for field in fields.iter().filter(|f| f.support == Support::Required) {
            if map.get(&field.name).is_none_or(Value::is_null) {
                problems.push(InputProblem {
                    location,
                    pointer: format!("/{}", crate::source::escape(&field.name)),
                    kind: ProblemKind::Missing,
                    message: format!(
                        "`{}` is required by {}",
                        field.name, plan.integration_plan.label
                    ),
                });
            }
        }
    }

    let validated = Validated {
        remote_query: query.get("remote_query").cloned().unwrap_or(Value::Null),
        remote_data: body.get("remote_data").cloned().unwrap_or(Value::Null),
        warnings: Vec::new(),
    };
    let mut scope = Scope::default();
    scope.set("query", query);
    scope.set("body", body);
    scope.set(
        "context",
        Value::Object(plan.integration_plan.public_context(&input.context)),
    );
    scope.bind("constants", Binding::Value(plan.constants.clone()));
    let root = Root::Scope(&scope);
    let holds = |e: &crate::expr::Expr| e.eval(&root).map(|v| is_truthy(&v)).unwrap_or(false);
    for rule in &plan.requires {
        if rule.when.as_ref().is_some_and(|(e, _)| !holds(e)) {
            continue;
        }
        if rule.present.is_present(&root).unwrap_or(false) {
            continue;
        }
        let pointer = format!("/{}", crate::source::escape(&rule.name));
        if problems
            .iter()
            .any(|p| p.location == rule.location && p.pointer == pointer)
        {
            continue;
        }
        let condition = rule
            .when
            .as_ref()
            .map(|(_, text)| format!(" when `{text}`"))
            .unwrap_or_default();
        problems.push(InputProblem {
            location: rule.location,
            pointer,
            kind: ProblemKind::Missing,
            message: format!("`{}` is required{condition}: {}", rule.name, rule.because),
        });
    }
    for rule in &plan.rejects {
        let pointer = format!("/{}", crate::source::escape(&rule.name));
        let invalid: Vec<String> = if rule.per_item {
            let items = scope
                .get_field(rule.location.as_str(), &rule.name)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            items
                .into_iter()
                .enumerate()
                .filter(|(index, item)| {
                    let mut child = scope.clone();
                    child.set("item", item.clone());
                    child.set("index", Value::from(*index));
                    let root = Root::Scope(&child);
                    rule.when.eval(&root).is_ok_and(|v| is_truthy(&v))
                })
                .map(|(index, _)| format!("{pointer}/{index}"))
                .collect()
        } else if holds(&rule.when) {
            vec![pointer]
        } else {
            Vec::new()
        };
        for pointer in invalid {
            problems.push(InputProblem {
                location: rule.location,
                pointer,
                kind: ProblemKind::Invalid,
                message: format!("`{}` is invalid: {}", rule.name, rule.because),
            });
        }
    }
    for rule in &plan.warns {
        let given = scope
            .get_field(rule.location.as_str(), &rule.name)
            .is_some_and(is_truthy);
        if given && holds(&rule.when) {
            warnings.push(Warning {
                location: rule.location,
                pointer: format!("/{}", crate::source::escape(&rule.name)),
                message: format!("`{}` was not sent: {}", rule.name, rule.because),
            });
        }
    }
    if problems.is_empty() {
        Ok((
            Validated {
                warnings,
                ..validated
            },
            scope,
        ))
    } else {
        Err((problems, warnings))
    }
}

fn as_map(value: &Value) -> &Map<String, Value> {
    static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
    value.as_object().unwrap_or(&EMPTY)
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
