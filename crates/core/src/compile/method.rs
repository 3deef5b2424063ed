//! One method of a resource mapping → [`MethodPlan`].

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::diagnostic::{Reporter, did_you_mean};
use crate::error::InputLocation;
use crate::expr::{Cached, Expr, FieldPath, Template};
use crate::model::{FieldSpec, MethodSpec, PartSpec, StepSpec};
use crate::plan::{
    BodyPlan, FieldRule, FieldSupport, IntegrationPlan, MethodPlan, PartPlan, RequirePlan,
    ResponsePlan, StepPlan,
};
use crate::policy::Support;
use crate::run::StepReads;
use crate::schema::UnifiedSchema;

use super::integration::compile_errors;
use super::names::Names;
use super::{compile_body_template, compile_expr, compile_template};

/// Everything a method's compilation needs besides its spec.
pub(crate) struct MethodContext<'a> {
    pub(crate) integration: &'a Arc<IntegrationPlan>,
    pub(crate) schema: &'a Arc<UnifiedSchema>,
    pub(crate) resource: &'a str,
    pub(crate) constants: &'a serde_json::Map<String, Value>,
}

/// Compiles one method; `None` when its schema is unknown (already reported).
pub(crate) fn compile(
    cx: &MethodContext<'_>,
    method: &str,
    spec: MethodSpec,
    report: &mut Reporter<'_>,
) -> Option<MethodPlan> {
    let base = format!("/methods/{method}");
    let Some(method_schema) = cx.schema.method(method) else {
        let known: Vec<&str> = cx.schema.methods().collect();
        report.at(
            &base,
            format!("unknown unified method `{method}` for `{}`", cx.resource),
            did_you_mean(method, known.iter().copied()),
        );
        return None;
    };
    let query_names: Vec<&str> = method_schema
        .query
        .fields
        .keys()
        .map(String::as_str)
        .collect();
    let body_names: Vec<&str> = method_schema
        .body
        .fields
        .keys()
        .map(String::as_str)
        .collect();
    let record_names = cx.schema.record_fields();
    let query_fields = field_support(
        &spec.query,
        &query_names,
        &format!("{base}/query"),
        "query parameter",
        report,
    );
    let body_fields = field_support(
        &spec.body,
        &body_names,
        &format!("{base}/body"),
        "field",
        report,
    );

    let context_names: Vec<&str> = cx
        .integration
        .context_fields
        .keys()
        .map(String::as_str)
        .collect();
    let constant_names: Vec<&str> = cx.constants.keys().map(String::as_str).collect();
    let step_ids: Vec<&str> = spec.steps.iter().map(|s| s.id.as_str()).collect();
    let input_names = Names {
        roots: &["query", "body", "context", "constants", "id"],
        steps: &[],
        all_steps: &step_ids,
        query: &query_names,
        body: &body_names,
        context: &context_names,
        constants: &constant_names,
    };

    let requires = compile_requires(&spec, &base, &input_names, report);
    let item_roots = [
        "query",
        "body",
        "context",
        "constants",
        "id",
        "item",
        "index",
    ];
    let item_names = Names {
        roots: &item_roots,
        ..copy(&input_names)
    };
    let rule_names = (&input_names, &item_names);
    let warns = compile_rules(
        spec.warns
            .iter()
            .map(|w| (&w.field, &w.when, false, &w.because))
            .collect(),
        &format!("{base}/warns"),
        rule_names,
        report,
    );
    let rejects = compile_rules(
        spec.rejects
            .iter()
            .map(|r| (&r.field, &r.when, r.per_item, &r.because))
            .collect(),
        &format!("{base}/rejects"),
        rule_names,
        report,
    );
    let steps = compile_steps(&spec, &base, &step_ids, &input_names, cx, report);
    let response = compile_response(&spec, &base, &step_ids, &record_names, report);
    let cursor_step = cursor_step(&spec, method, &base, report);
    let reads_id = steps.iter().any(StepPlan::reads_id);
    let errors = spec
        .errors
        .as_ref()
        .map(|e| compile_errors(e, &format!("{base}/errors"), report));
    Some(MethodPlan {
        integration: cx.integration.name.clone(),
        resource: cx.resource.to_owned(),
        method: method.to_owned(),
        documentation: spec.documentation,
        integration_plan: cx.integration.clone(),
        schema: cx.schema.clone(),
        query_fields,
        body_fields,
        requires,
        warns,
        rejects,
        steps,
        response: response?,
        errors,
        constants: Cached::new(Value::Object(cx.constants.clone())),
        reads_id,
        cursor_step,
    })
}

/// The one step whose next page becomes the list's `next_cursor`: the paginating step without
/// `select`. Only a `list` has one, and at most one.
fn cursor_step(
    spec: &MethodSpec,
    method: &str,
    base: &str,
    report: &mut Reporter<'_>,
) -> Option<usize> {
    // Read from the spec: a `select` that failed to compile is already reported, and still
    // makes its step a lookup.
    let candidates: Vec<usize> = spec
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.paginate.is_some() && s.select.is_none())
        .map(|(i, _)| i)
        .collect();
    if candidates.len() > 1 {
        report.at(
            &format!("{base}/steps"),
            "only one step without `select` may paginate: its next page is the list's `next_cursor`",
            None,
        );
    }
    if let Some(&first) = candidates.first()
        && method != crate::plan::LIST_METHOD
    {
        report.at(
            &format!("{base}/steps/{first}/paginate"),
            "only a `list` answers pages; a step of another method paginates to find something (add `select`)",
            None,
        );
        return None;
    }
    candidates.first().copied()
}

/// The `requires` rules: a field required under a condition.
fn compile_requires(
    spec: &MethodSpec,
    base: &str,
    input_names: &Names<'_>,
    report: &mut Reporter<'_>,
) -> Vec<RequirePlan> {
    spec.requires
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let p = format!("{base}/requires/{i}");
            let (location, name) =
                input_field(&r.field, input_names, &format!("{p}/field"), report)?;
            let when = r.when.as_ref().and_then(|w| {
                let e = checked_expr(w, input_names, &format!("{p}/when"), report)?;
                Some((
                    e,
                    w.trim()
                        .trim_start_matches("{{")
                        .trim_end_matches("}}")
                        .trim()
                        .to_owned(),
                ))
            });
            let present_text = r.present.clone().unwrap_or_else(|| r.field.clone());
            let present =
                checked_expr(&present_text, input_names, &format!("{p}/present"), report)?;
            Some(RequirePlan {
                location,
                name,
                when,
                present,
                because: r.because.clone(),
            })
        })
        .collect()
}

/// `warns` or `rejects` rules, each `(field, when, per_item, because)`, under `path`; a
/// per-item rule's condition may also read `item` and `index` (`names.1`).
fn compile_rules(
    list: Vec<(&String, &String, bool, &String)>,
    path: &str,
    names: (&Names<'_>, &Names<'_>),
    report: &mut Reporter<'_>,
) -> Vec<FieldRule> {
    let (input_names, item_names) = names;
    list.into_iter()
        .enumerate()
        .filter_map(|(i, (field, when, per_item, because))| {
            let p = format!("{path}/{i}");
            let (location, name) = input_field(field, input_names, &format!("{p}/field"), report)?;
            let names = if per_item { item_names } else { input_names };
            let when = checked_expr(when, names, &format!("{p}/when"), report)?;
            Some(FieldRule {
                location,
                name,
                when,
                per_item,
                because: because.clone(),
            })
        })
        .collect()
}

/// Every step, each reading only the steps before it; duplicate ids and a method without steps
/// are reported.
fn compile_steps(
    spec: &MethodSpec,
    base: &str,
    step_ids: &[&str],
    input_names: &Names<'_>,
    cx: &MethodContext<'_>,
    report: &mut Reporter<'_>,
) -> Vec<StepPlan> {
    let mut steps = Vec::with_capacity(spec.steps.len());
    for (i, step) in spec.steps.iter().enumerate() {
        let p = format!("{base}/steps/{i}");
        if step_ids[..i].contains(&step.id.as_str()) {
            report.at(
                &format!("{p}/id"),
                format!("duplicate step id `{}`", step.id),
                None,
            );
        }
        let names = Names {
            steps: &step_ids[..i],
            ..copy(input_names)
        };
        if let Some(plan) = compile_step(step, &p, &names, cx, report) {
            steps.push(plan);
        }
    }
    if spec.steps.is_empty() {
        report.at(
            &format!("{base}/steps"),
            "a method needs at least one step",
            None,
        );
    }
    steps
}

pub(super) fn copy<'a>(n: &Names<'a>) -> Names<'a> {
    Names {
        roots: n.roots,
        steps: n.steps,
        all_steps: n.all_steps,
        query: n.query,
        body: n.body,
        context: n.context,
        constants: n.constants,
    }
}

/// The support table for a query or body: every unified field, in schema order.
fn field_support(
    specs: &std::collections::BTreeMap<String, FieldSpec>,
    known: &[&str],
    pointer: &str,
    what: &str,
    report: &mut Reporter<'_>,
) -> Vec<FieldSupport> {
    for name in specs.keys() {
        if !known.contains(&name.as_str()) {
            report.at(
                &format!("{pointer}/{}", crate::source::escape(name)),
                format!("unknown unified {what} `{name}`"),
                did_you_mean(name, known.iter().copied()),
            );
        }
    }
    known
        .iter()
        .map(|name| {
            let (support, default, note) = match specs.get(*name) {
                None => (Support::Unsupported, None, None),
                Some(FieldSpec::Short(s)) => ((*s).into(), None, None),
                Some(FieldSpec::Detailed(d)) => {
                    (d.support.into(), d.default.clone(), d.note.clone())
                }
            };
            FieldSupport {
                name: (*name).to_owned(),
                support,
                default,
                note,
            }
        })
        .collect()
}

/// Parses `query.x` / `body.x` / `context.x` and checks the name exists.
fn input_field(
    text: &str,
    names: &Names<'_>,
    pointer: &str,
    report: &mut Reporter<'_>,
) -> Option<(InputLocation, String)> {
    let path = FieldPath::parse(text);
    let (root, key) = match &path {
        Some(p) => (p.root().to_owned(), p.second_key().map(str::to_owned)),
        None => (String::new(), None),
    };
    let location = match root.as_str() {
        "query" => InputLocation::Query,
        "body" => InputLocation::Body,
        "context" => InputLocation::Context,
        _ => {
            report.at(
                pointer,
                format!("`{text}` must be `query.<name>`, `body.<name>` or `context.<name>`"),
                None,
            );
            return None;
        }
    };
    let key = key?;
    let refs = [crate::expr::Reference {
        root,
        key: Some(key.clone()),
    }];
    names.check(&refs, pointer, report);
    Some((location, key))
}

/// Compiles an expression and checks the names it reads.
fn checked_expr(
    text: &str,
    names: &Names<'_>,
    pointer: &str,
    report: &mut Reporter<'_>,
) -> Option<Expr> {
    let e = compile_expr(text, pointer, report)?;
    names.check(&e.references(), pointer, report);
    Some(e)
}

fn compile_step(
    step: &StepSpec,
    p: &str,
    names: &Names<'_>,
    cx: &MethodContext<'_>,
    report: &mut Reporter<'_>,
) -> Option<StepPlan> {
    let mut roots: Vec<&str> = names.roots.to_vec();
    roots.push("steps");
    let step_names = Names {
        roots: &roots,
        ..copy(names)
    };
    let when = step
        .when
        .as_ref()
        .and_then(|w| checked_expr(w, &step_names, &format!("{p}/when"), report));
    let for_each = step
        .for_each
        .as_ref()
        .and_then(|f| checked_expr(f, &step_names, &format!("{p}/for_each"), report));
    let mut roots = roots.clone();
    if step.for_each.is_some() {
        roots.extend(["item", "index"]);
    }
    let request_names = Names {
        roots: &roots,
        ..copy(names)
    };
    check_rate_limit(step, p, cx, report);
    let request = RequestCompiler {
        names: &request_names,
        pointer: format!("{p}/request"),
    };
    let path = request.path(&step.request.path, report);
    let query = request.pairs(&step.request.query, "query", report);
    request.check_header_names(&step.request.headers, report);
    let headers = request.pairs(&step.request.headers, "headers", report);
    let body = request.body(&step.request.body, &step.request.multipart, report);
    let mut select_roots = roots.clone();
    select_roots.push("response");
    let select_names = Names {
        roots: &select_roots,
        ..copy(names)
    };
    let select = step
        .select
        .as_ref()
        .and_then(|s| checked_expr(s, &select_names, &format!("{p}/select"), report));
    if step.on_empty.is_some() && step.select.is_none() {
        report.at(
            &format!("{p}/on_empty"),
            "`on_empty` needs a `select`",
            None,
        );
    }
    let pages = step.paginate.as_ref().and_then(|spec| {
        if step.for_each.is_some() {
            report.at(
                &format!("{p}/paginate"),
                "a `for_each` step cannot paginate",
                None,
            );
        }
        super::pagination::compile(spec, &format!("{p}/paginate"), names, report)
    });
    let reread = step.reread.as_ref().map(|spec| {
        super::pagination::compile_reread(
            spec,
            &format!("{p}/reread"),
            step.select.is_some(),
            report,
        )
    });
    let mut plan = StepPlan {
        id: step.id.clone(),
        when,
        for_each,
        passthrough: step.passthrough,
        merge_by: step.merge_by.clone(),
        must_send: step
            .must_send
            .iter()
            .enumerate()
            .filter_map(|(i, rule)| {
                let names = Names {
                    roots: &["request"],
                    ..copy(names)
                };
                let pointer = format!("{p}/must_send/{i}/present");
                let e = checked_expr(&rule.present, &names, &pointer, report)?;
                Some((e, rule.because.clone()))
            })
            .collect(),
        primary: step.primary,
        rate_limit: step.rate_limit.clone(),
        method: step.request.method.into(),
        path,
        query,
        headers,
        body,
        select,
        on_empty: step.on_empty.clone(),
        pages,
        reread,
        reads: StepReads::default(),
    };
    plan.reads = StepReads::of(&plan);
    Some(plan)
}

/// A step's `rate_limit` must name a bucket the integration declares.
fn check_rate_limit(step: &StepSpec, p: &str, cx: &MethodContext<'_>, report: &mut Reporter<'_>) {
    let Some(bucket) = &step.rate_limit else {
        return;
    };
    if cx.integration.rate_limits.contains_key(bucket) {
        return;
    }
    let known: Vec<&str> = cx
        .integration
        .rate_limits
        .keys()
        .map(String::as_str)
        .collect();
    report.at(
        &format!("{p}/rate_limit"),
        format!(
            "unknown rate limit `{bucket}` (declare it under `rate_limits` in integration.yaml)"
        ),
        did_you_mean(bucket, known.iter().copied()),
    );
}

/// Compiles the parts of one step's `request`, each template checked against the names the
/// request may read.
struct RequestCompiler<'a> {
    names: &'a Names<'a>,
    /// The JSON pointer of the request (`/methods/create/steps/0/request`).
    pointer: String,
}

impl RequestCompiler<'_> {
    fn template(&self, value: &Value, pointer: &str, report: &mut Reporter<'_>) -> Template {
        let t = compile_template(value, pointer, report);
        self.names.check(&t.references(), pointer, report);
        t
    }

    fn text(&self, text: &str, pointer: &str, report: &mut Reporter<'_>) -> Template {
        self.template(&Value::String(text.to_owned()), pointer, report)
    }

    /// The path template; a path must start with `/`.
    fn path(&self, path: &str, report: &mut Reporter<'_>) -> Template {
        let pointer = format!("{}/path", self.pointer);
        let template = self.text(path, &pointer, report);
        if !path.starts_with('/') {
            report.at(&pointer, "a path must start with `/`", None);
        }
        template
    }

    /// Named templates (`query`, `headers`).
    fn pairs(
        &self,
        map: &serde_json::Map<String, Value>,
        key: &str,
        report: &mut Reporter<'_>,
    ) -> Vec<(String, Template)> {
        map.iter()
            .map(|(k, v)| {
                let pointer = format!("{}/{key}/{}", self.pointer, crate::source::escape(k));
                (k.clone(), self.template(v, &pointer, report))
            })
            .collect()
    }

    fn check_header_names(
        &self,
        headers: &serde_json::Map<String, Value>,
        report: &mut Reporter<'_>,
    ) {
        for name in headers.keys().filter(|n| !super::is_header_name(n)) {
            let pointer = format!("{}/headers/{}", self.pointer, crate::source::escape(name));
            report.at(
                &pointer,
                format!("`{name}` is not a valid HTTP header name"),
                None,
            );
        }
    }

    /// The body: JSON, multipart, or none (never both).
    fn body(
        &self,
        json: &Option<Value>,
        multipart: &Option<BTreeMap<String, PartSpec>>,
        report: &mut Reporter<'_>,
    ) -> BodyPlan {
        match (json, multipart) {
            (Some(_), Some(_)) => {
                report.at(
                    &self.pointer,
                    "a request has either `body` or `multipart`, not both",
                    None,
                );
                BodyPlan::Empty
            }
            (Some(body), None) => {
                let pointer = format!("{}/body", self.pointer);
                let template = compile_body_template(body, &pointer, report);
                self.names.check(&template.references(), &pointer, report);
                BodyPlan::Json(template)
            }
            (None, Some(parts)) => BodyPlan::Multipart(
                parts
                    .iter()
                    .map(|(name, part)| self.part(name, part, report))
                    .collect(),
            ),
            (None, None) => BodyPlan::Empty,
        }
    }

    fn part(&self, name: &str, part: &PartSpec, report: &mut Reporter<'_>) -> PartPlan {
        let pp = format!("{}/multipart/{}", self.pointer, crate::source::escape(name));
        match part {
            PartSpec::Text(text) => PartPlan::Text {
                name: name.to_owned(),
                value: self.text(text, &pp, report),
            },
            PartSpec::File(file) => {
                let optional = |v: &Option<String>, key: &str, report: &mut Reporter<'_>| {
                    v.as_ref()
                        .map(|t| self.text(t, &format!("{pp}/{key}"), report))
                };
                PartPlan::File {
                    name: name.to_owned(),
                    fetch: self.text(&file.fetch, &format!("{pp}/fetch"), report),
                    file_name: optional(&file.file_name, "file_name", report),
                    content_type: optional(&file.content_type, "content_type", report),
                }
            }
        }
    }
}

fn compile_response(
    spec: &MethodSpec,
    base: &str,
    step_ids: &[&str],
    record_names: &[&str],
    report: &mut Reporter<'_>,
) -> Option<ResponsePlan> {
    let p = format!("{base}/response");
    let names = Names {
        roots: &["steps", "query", "body", "context", "constants"],
        steps: step_ids,
        all_steps: step_ids,
        query: &[],
        body: &[],
        context: &[],
        constants: &[],
    };
    let from = compile_expr(&spec.response.from, &format!("{p}/from"), report);
    if let Some(e) = &from {
        let refs: Vec<_> = e
            .references()
            .into_iter()
            .filter(|r| r.root == "steps")
            .collect();
        names.check(&refs, &format!("{p}/from"), report);
    }
    let fields = spec
        .response
        .fields
        .iter()
        .map(|(name, value)| {
            let fp = format!("{p}/fields/{}", crate::source::escape(name));
            if !record_names.contains(&name.as_str()) {
                report.at(
                    &fp,
                    format!("unknown unified response field `{name}`"),
                    did_you_mean(name, record_names.iter().copied()),
                );
            }
            (name.clone(), compile_template(value, &fp, report))
        })
        .collect();
    Some(ResponsePlan {
        from: from?,
        fields,
    })
}
