//! Input validation: every problem with the unified query and body, found before anything is sent.

use serde_json::{Map, Value};

use crate::error::{InputLocation, InputProblem, ProblemKind, Warning};
use crate::expr::{Binding, Expr, Root, Scope, is_truthy};
use crate::plan::{FieldRule, FieldSupport, MethodPlan};
use crate::policy::Support;
use crate::schema::{InputSchema, MethodSchema};

/// The unified input of one call. Deserialises from `{"query": {…}, "body": {…}, "context":
/// {…}}`, every member optional (`strict` too).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
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
    /// The record id a `get` names (the `{id}` of `GET /unified/{model}/{resource}/{id}`);
    /// mappings read it as `id`.
    pub id: Option<String>,
    /// Where a list resumes: the `next_cursor` of an earlier page's [`UnifiedOutput`](crate::UnifiedOutput)
    /// (`crate::UnifiedOutput`), as it was issued.
    pub cursor: Option<Value>,
}

/// What a run keeps of its validated input besides the scope: the passthrough values and the
/// warnings.
pub(crate) struct Validated {
    pub(crate) remote_query: Value,
    pub(crate) remote_data: Value,
    pub(crate) warnings: Vec<Warning>,
    /// Whether the call is strict: a dropped value is then an error, not a warning.
    pub(crate) strict: bool,
}

/// Everything validation found: problems refuse the input, warnings travel with the run.
#[derive(Default)]
pub(crate) struct Findings {
    pub(crate) problems: Vec<InputProblem>,
    pub(crate) warnings: Vec<Warning>,
}

impl Findings {
    fn problem(
        &mut self,
        location: InputLocation,
        pointer: String,
        kind: ProblemKind,
        message: String,
    ) {
        self.problems.push(InputProblem {
            location,
            pointer,
            kind,
            message,
        });
    }

    fn warning(&mut self, location: InputLocation, pointer: String, message: String) {
        self.warnings.push(Warning {
            location,
            pointer,
            message,
        });
    }

    /// Whether a problem is already reported at this place.
    fn has_problem_at(&self, location: InputLocation, pointer: &str) -> bool {
        self.problems
            .iter()
            .any(|p| p.location == location && p.pointer == pointer)
    }
}

/// Validates `input` against the unified schema and the plan's support and required flags,
/// then its conditional rules: each kind of rule below is one function adding to one
/// [`Findings`].
pub(crate) fn validate(plan: &MethodPlan, input: RunInput) -> Result<(Validated, Scope), Findings> {
    let mut findings = Findings::default();
    let query = Value::Object(with_defaults(plan, input.query));
    let body = Value::Object(body_object(input.body, &mut findings));
    if let Some(schema) = plan.schema.method(&plan.method) {
        if check_schema(schema, &query, &body, &mut findings) {
            // The mapping's own checks run expressions over every item: not for an input that
            // is already too large.
            return Err(findings);
        }
        check_unknown(plan, schema, &query, &body, input.strict, &mut findings);
    }
    check_required(plan, &query, &body, &mut findings);
    check_id(plan, input.id.as_deref(), &mut findings);
    let validated = Validated {
        remote_query: query.get("remote_query").cloned().unwrap_or(Value::Null),
        remote_data: body.get("remote_data").cloned().unwrap_or(Value::Null),
        warnings: Vec::new(),
        strict: input.strict,
    };
    let mut scope = input_scope(plan, query, body, &input.context);
    scope.set("id", input.id.map_or(Value::Null, Value::String));
    check_requires(plan, &scope, &mut findings);
    check_rejects(plan, &scope, &mut findings);
    check_warns(plan, &scope, &mut findings);
    if findings.problems.is_empty() {
        let warnings = findings.warnings;
        Ok((
            Validated {
                warnings,
                ..validated
            },
            scope,
        ))
    } else {
        Err(findings)
    }
}

/// A method whose requests name a record by `id` needs one.
fn check_id(plan: &MethodPlan, id: Option<&str>, findings: &mut Findings) {
    if plan.reads_id && id.is_none_or(|id| id.is_empty()) {
        findings.problem(
            InputLocation::Path,
            "/id".to_owned(),
            ProblemKind::Missing,
            format!(
                "`{}` `{}` needs the id of a record",
                plan.resource, plan.method
            ),
        );
    }
}

/// The query with each field's default filled in where the caller sent none.
fn with_defaults(plan: &MethodPlan, mut query: Map<String, Value>) -> Map<String, Value> {
    for field in &plan.query_fields {
        if let (Some(default), false) = (&field.default, query.contains_key(&field.name)) {
            query.insert(field.name.clone(), default.clone());
        }
    }
    query
}

/// The body as an object (none is an empty one); anything else is a problem.
fn body_object(body: Value, findings: &mut Findings) -> Map<String, Value> {
    match body {
        Value::Object(map) => map,
        Value::Null => Map::new(),
        other => {
            findings.problem(
                InputLocation::Body,
                String::new(),
                ProblemKind::Invalid,
                format!("the body must be a JSON object, not {}", type_name(&other)),
            );
            Map::new()
        }
    }
}

/// Type and shape problems against the unified schema; true when one is a size limit.
fn check_schema(
    schema: &MethodSchema,
    query: &Value,
    body: &Value,
    findings: &mut Findings,
) -> bool {
    let query_check = schema.query.problems(query, InputLocation::Query);
    let body_check = schema.body.problems(body, InputLocation::Body);
    findings.problems.extend(query_check.problems);
    findings.problems.extend(body_check.problems);
    query_check.over_limit || body_check.over_limit
}

/// Fields that are not unified fields, or that the integration does not support: warnings, or
/// problems when the call is strict.
fn check_unknown(
    plan: &MethodPlan,
    schema: &MethodSchema,
    query: &Value,
    body: &Value,
    strict: bool,
    findings: &mut Findings,
) {
    let inputs: [(InputLocation, &Value, &[FieldSupport], &InputSchema); 2] = [
        (
            InputLocation::Query,
            query,
            &plan.query_fields,
            &schema.query,
        ),
        (InputLocation::Body, body, &plan.body_fields, &schema.body),
    ];
    let label = &plan.integration_plan.label;
    for (location, input, fields, declared) in inputs {
        for (name, value) in as_map(input) {
            if name == "remote_data" || name == "remote_query" || value.is_null() {
                continue;
            }
            let message = if !declared.has(name) {
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
            if strict {
                findings.problem(location, pointer, ProblemKind::Unsupported, message);
            } else {
                findings.warning(location, pointer, message);
            }
        }
    }
}

/// Fields the integration always requires.
fn check_required(plan: &MethodPlan, query: &Value, body: &Value, findings: &mut Findings) {
    for (location, map, fields) in [
        (InputLocation::Query, as_map(query), &plan.query_fields),
        (InputLocation::Body, as_map(body), &plan.body_fields),
    ] {
        for field in fields.iter().filter(|f| f.support == Support::Required) {
            if map.get(&field.name).is_none_or(Value::is_null) {
                findings.problem(
                    location,
                    format!("/{}", crate::source::escape(&field.name)),
                    ProblemKind::Missing,
                    format!(
                        "`{}` is required by {}",
                        field.name, plan.integration_plan.label
                    ),
                );
            }
        }
    }
}

/// The scope the conditional rules (and then the run) read: query, body, the public context,
/// the constants.
fn input_scope(
    plan: &MethodPlan,
    query: Value,
    body: Value,
    context: &Map<String, Value>,
) -> Scope {
    let mut scope = Scope::default();
    scope.set("query", query);
    scope.set("body", body);
    scope.set(
        "context",
        Value::Object(plan.integration_plan.public_context(context)),
    );
    scope.bind("constants", Binding::Value(plan.constants.clone()));
    scope
}

/// Whether `expr` holds in `scope` (an expression that fails does not).
fn holds(expr: &Expr, scope: &Scope) -> bool {
    expr.eval(&Root::Scope(scope))
        .map(|v| is_truthy(&v))
        .unwrap_or(false)
}

/// `requires` rules: a field required under a condition, unless already reported missing.
fn check_requires(plan: &MethodPlan, scope: &Scope, findings: &mut Findings) {
    let root = Root::Scope(scope);
    for rule in &plan.requires {
        if rule.when.as_ref().is_some_and(|(e, _)| !holds(e, scope)) {
            continue;
        }
        if rule.present.is_present(&root).unwrap_or(false) {
            continue;
        }
        let pointer = format!("/{}", crate::source::escape(&rule.name));
        if findings.has_problem_at(rule.location, &pointer) {
            continue;
        }
        let condition = rule
            .when
            .as_ref()
            .map(|(_, text)| format!(" when `{text}`"))
            .unwrap_or_default();
        findings.problem(
            rule.location,
            pointer,
            ProblemKind::Missing,
            format!("`{}` is required{condition}: {}", rule.name, rule.because),
        );
    }
}

/// `rejects` rules: a value (or each item of one) refused under a condition.
fn check_rejects(plan: &MethodPlan, scope: &Scope, findings: &mut Findings) {
    for rule in &plan.rejects {
        let pointer = format!("/{}", crate::source::escape(&rule.name));
        let invalid: Vec<String> = if rule.per_item {
            rejected_items(rule, scope)
                .into_iter()
                .map(|index| format!("{pointer}/{index}"))
                .collect()
        } else if holds(&rule.when, scope) {
            vec![pointer]
        } else {
            Vec::new()
        };
        for pointer in invalid {
            findings.problem(
                rule.location,
                pointer,
                ProblemKind::Invalid,
                format!("`{}` is invalid: {}", rule.name, rule.because),
            );
        }
    }
}

/// The indexes of the items of a per-item rule's field for which its condition holds.
fn rejected_items(rule: &FieldRule, scope: &Scope) -> Vec<usize> {
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
            holds(&rule.when, &child)
        })
        .map(|(index, _)| index)
        .collect()
}

/// `warns` rules: a given field dropped under a condition.
fn check_warns(plan: &MethodPlan, scope: &Scope, findings: &mut Findings) {
    for rule in &plan.warns {
        let given = scope
            .get_field(rule.location.as_str(), &rule.name)
            .is_some_and(is_truthy);
        if given && holds(&rule.when, scope) {
            findings.warning(
                rule.location,
                format!("/{}", crate::source::escape(&rule.name)),
                format!("`{}` was not sent: {}", rule.name, rule.because),
            );
        }
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
