//! Which of the caller's values reach a provider request. A value of the unified query or body
//! that no request depends on was dropped, and the caller is told so: the engine finds this by
//! itself, so a mapping author cannot forget to declare a drop.
//!
//! A value is *carried* when replacing it by `null` changes a request the run would send: its
//! path, query, headers or body (the caller's `remote_data` merged in), which items a `for_each`
//! walks, or whether a step runs. The analysis runs before anything is sent, so strict mode can
//! refuse a drop: a step whose `when` reads earlier steps' answers is assumed to run when those
//! steps run, and the earlier answers read as `null`. Objects and arrays are probed whole first, and their members
//! only when the whole is carried, so a dropped field is reported once, at its highest pointer.

use std::collections::{BTreeSet, HashSet};

use serde_json::Value;

use super::render::Call;
use crate::error::{InputLocation, Warning};
use crate::expr::path::Segment;
use crate::expr::touched::{self, Touched};
use crate::expr::{Expr, Root, Scope, is_truthy};
use crate::plan::{BodyPlan, MethodPlan, PartPlan, StepPlan};

/// Strings shorter than this are probed even when a request holds an equal one: a short value
/// (`12`, `yes`) may be there by coincidence.
const MIN_SENT_LEN: usize = 6;

/// At most this many values are probed per call; a larger input is reported as not fully
/// checked rather than costing unbounded work.
const MAX_PROBES: usize = 256;

/// The input fields a step reads, found at load.
#[derive(Debug, Default, Clone)]
pub(crate) struct StepReads {
    /// `(scope name, field)` pairs read (`("body", "emails")`).
    fields: BTreeSet<(String, String)>,
    /// Reads the whole query or body, or through JSONPath: any value may matter.
    everything: bool,
    /// The `when` reads an earlier step's answer, unknown before the run.
    when_reads_steps: bool,
    /// The steps that `when` reads: the step is assumed to run when they all do.
    when_steps: Vec<String>,
}

impl StepReads {
    /// What `step` reads from the caller's input.
    pub(crate) fn of(step: &StepPlan) -> StepReads {
        let mut reads = StepReads::default();
        let mut exprs: Vec<&Expr> = step.when.iter().chain(&step.for_each).collect();
        let mut templates = vec![&step.path];
        templates.extend(step.query.iter().map(|(_, t)| t));
        templates.extend(step.headers.iter().map(|(_, t)| t));
        match &step.body {
            BodyPlan::Empty => {}
            BodyPlan::Json(template) => templates.push(template),
            BodyPlan::Multipart(parts) => {
                for part in parts {
                    match part {
                        PartPlan::Text { value, .. } => templates.push(value),
                        PartPlan::File {
                            fetch,
                            file_name,
                            content_type,
                            ..
                        } => {
                            templates.push(fetch);
                            templates.extend(file_name.iter().chain(content_type));
                        }
                    }
                }
            }
        }
        let mut references = Vec::new();
        for expr in exprs.drain(..) {
            reads.everything |= matches!(expr, Expr::JsonPath(_));
            references.extend(expr.references());
        }
        for template in templates {
            reads.everything |= template.has_json_path();
            references.extend(template.references());
        }
        for reference in references {
            if !matches!(reference.root.as_str(), "query" | "body") {
                continue;
            }
            match reference.key {
                Some(key) => {
                    reads.fields.insert((reference.root, key));
                }
                None => reads.everything = true,
            }
        }
        let when_reads = step.when.as_ref().map(Expr::references).unwrap_or_default();
        for reference in when_reads.into_iter().filter(|r| r.root == "steps") {
            reads.when_reads_steps = true;
            reads.when_steps.extend(reference.key);
        }
        reads
    }

    fn reads(&self, location: InputLocation, field: &str) -> bool {
        self.everything
            || self
                .fields
                .contains(&(location.as_str().to_owned(), field.to_owned()))
    }
}

/// What a step would send; compared between the real input and a probed one.
enum Sends {
    /// The step would not run.
    Skipped,
    /// Its `when` or `for_each` fails, with this message.
    Failed(String),
    /// The calls it would make: one, or one per `for_each` item (the items kept, to render
    /// them again under a probed input).
    Calls {
        items: Option<Vec<Value>>,
        calls: Vec<Call>,
    },
}

impl Sends {
    fn same_as(&self, other: &Sends) -> bool {
        match (self, other) {
            (Sends::Skipped, Sends::Skipped) => true,
            (Sends::Failed(a), Sends::Failed(b)) => a == b,
            (Sends::Calls { calls: a, .. }, Sends::Calls { calls: b, .. }) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_as(y))
            }
            _ => false,
        }
    }

    fn runs(&self) -> bool {
        matches!(self, Sends::Calls { .. })
    }
}

/// The values of the caller's query and body (but `remote_query` / `remote_data`, sent as they
/// are) that reach no request, each as a warning; values under a pointer already warned about
/// are not probed again.
pub(crate) fn dropped(
    plan: &MethodPlan,
    scope: &Scope,
    remote_data: &Value,
    warned: &[Warning],
) -> Vec<Warning> {
    let (baseline, touched) = touched::record(|| {
        let mut baseline: Vec<Sends> = Vec::with_capacity(plan.steps.len());
        for step in &plan.steps {
            let dependencies_run = dependencies_run(plan, step, &baseline);
            baseline.push(sends(step, scope, remote_data, dependencies_run));
        }
        baseline
    });
    let mut sent = HashSet::new();
    for step in &baseline {
        if let Sends::Calls { calls, .. } = step {
            for value in calls.iter().flat_map(Call::values) {
                collect_strings(value, &mut sent);
            }
        }
    }
    let mut analysis = Analysis {
        plan,
        scope,
        remote_data,
        sent,
        baseline,
        touched,
        probes: 0,
        found: Vec::new(),
    };
    for location in [InputLocation::Query, InputLocation::Body] {
        let Some(Value::Object(fields)) = scope.value(location.as_str()) else {
            continue;
        };
        let supports = match location {
            InputLocation::Query => plan.query_fields(),
            _ => plan.body_fields(),
        };
        for (name, value) in fields {
            // A value equal to the field's default chose nothing the default would not have.
            let is_default = supports
                .iter()
                .any(|f| f.name == *name && f.default.as_ref() == Some(value));
            if name == "remote_query" || name == "remote_data" || is_default {
                continue;
            }
            let mut path = vec![Segment::Key(name.clone())];
            analysis.probe(location, &mut path, value, warned);
        }
    }
    if analysis.probes > MAX_PROBES {
        analysis.found.push(Warning {
            location: InputLocation::Body,
            pointer: String::new(),
            message: format!(
                "the input holds more than {MAX_PROBES} values: those past that were not checked for drops"
            ),
        });
    }
    analysis.found
}

struct Analysis<'a> {
    plan: &'a MethodPlan,
    scope: &'a Scope,
    remote_data: &'a Value,
    /// Every string of at least [`MIN_SENT_LEN`] bytes the requests hold, as sent.
    sent: HashSet<String>,
    /// What each step sends with the caller's input.
    baseline: Vec<Sends>,
    /// What rendering those requests read of the input: a value it did not read is dropped
    /// without a probe.
    touched: Touched,
    probes: usize,
    found: Vec<Warning>,
}

impl Analysis<'_> {
    /// Probes the value at `path`, then its members when it is carried.
    fn probe(
        &mut self,
        location: InputLocation,
        path: &mut Vec<Segment>,
        value: &Value,
        warned: &[Warning],
    ) {
        if !is_truthy(value) && !matches!(value, Value::Bool(false) | Value::Number(_)) {
            return;
        }
        let pointer = pointer_of(path);
        if warned
            .iter()
            .any(|w| w.location == location && covers(&w.pointer, &pointer))
        {
            return;
        }
        // A value a request holds as it is was carried: no probe needed.
        let seen = is_sent(value, &self.sent);
        if !seen {
            self.probes += 1;
            if self.probes > MAX_PROBES {
                return;
            }
        }
        if !seen && !self.is_carried(location, path) {
            self.found.push(Warning {
                location,
                pointer,
                message: format!(
                    "was not sent: every request to {} would be the same without it",
                    self.plan.integration_plan.label
                ),
            });
            return;
        }
        match value {
            Value::Object(members) => {
                for (key, member) in members {
                    path.push(Segment::Key(key.clone()));
                    self.probe(location, path, member, warned);
                    path.pop();
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    path.push(Segment::Index(index));
                    self.probe(location, path, item, warned);
                    path.pop();
                }
            }
            _ => {}
        }
    }

    /// Whether nulling the value at `path` changes what a step reading its field would send.
    fn is_carried(&mut self, location: InputLocation, path: &[Segment]) -> bool {
        let Some(Segment::Key(field)) = path.first() else {
            return true;
        };
        let Some(input) = self.scope.value(location.as_str()) else {
            return true;
        };
        if !self.touched.may_matter(input, path) {
            return false;
        }
        // The probed value reads as null; nothing is copied.
        let mut probed = self.scope.clone();
        probed.mask(location.as_str(), path);
        // Up to the first step that differs, every step runs as with the caller's input, so the
        // baseline says whether a step's dependencies run.
        let plan = self.plan;
        let read = (location.as_str(), field.as_str());
        plan.steps.iter().enumerate().any(|(index, step)| {
            step.reads.reads(location, field) && {
                let runs = dependencies_run(plan, step, &self.baseline[..index]);
                changes(
                    step,
                    &probed,
                    self.remote_data,
                    runs,
                    &self.baseline[index],
                    read,
                )
            }
        })
    }
}

/// Whether the steps `step`'s `when` reads all run, by what is known of the steps before it.
fn dependencies_run(plan: &MethodPlan, step: &StepPlan, before: &[Sends]) -> bool {
    step.reads.when_steps.iter().all(|id| {
        plan.steps
            .iter()
            .zip(before)
            .find(|(earlier, _)| earlier.id == *id)
            .is_none_or(|(_, sends)| sends.runs())
    })
}

/// What `step` would send under `scope`; `dependencies_run` says whether the earlier steps its
/// `when` reads run.
fn sends(step: &StepPlan, scope: &Scope, remote_data: &Value, dependencies_run: bool) -> Sends {
    let root = Root::Scope(scope);
    if let Some(decided) = when_decides(step, &root, dependencies_run) {
        return decided;
    }
    let Some(for_each) = &step.for_each else {
        return Sends::Calls {
            items: None,
            calls: vec![Call::render(step, &root, remote_data)],
        };
    };
    let items = match for_each.eval(&root) {
        Ok(Value::Array(items)) => items,
        Ok(Value::Null) => Vec::new(),
        Ok(other) => vec![other],
        Err(message) => return Sends::Failed(message),
    };
    let calls = items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let child = item_scope(scope, item, index);
            Call::render(step, &Root::Scope(&child), remote_data)
        })
        .collect();
    Sends::Calls {
        items: Some(items),
        calls,
    }
}

/// The step's `when`, when it stops the step (skipped or failed); `None` when the step runs.
fn when_decides(step: &StepPlan, root: &Root<'_>, dependencies_run: bool) -> Option<Sends> {
    match &step.when {
        Some(_) if step.reads.when_reads_steps && !dependencies_run => Some(Sends::Skipped),
        Some(_) if step.reads.when_reads_steps => None,
        Some(when) => match when.eval(root) {
            Ok(value) if !is_truthy(&value) => Some(Sends::Skipped),
            Ok(_) => None,
            Err(message) => Some(Sends::Failed(message)),
        },
        None => None,
    }
}

/// Whether `step` would send something else under `probed` than `before`, what it sends with
/// the caller's input, when the two differ only in member `read.1` of binding `read.0`: only
/// what may read that member is evaluated again.
fn changes(
    step: &StepPlan,
    probed: &Scope,
    remote_data: &Value,
    dependencies_run: bool,
    before: &Sends,
    read: (&str, &str),
) -> bool {
    let (name, field) = read;
    let reads = |expr: &Option<Expr>| expr.as_ref().is_some_and(|e| e.may_read(name, field));
    let when_reads = reads(&step.when) && !step.reads.when_reads_steps;
    if when_reads || reads(&step.for_each) {
        return !sends(step, probed, remote_data, dependencies_run).same_as(before);
    }
    // The step runs (or not) and walks the same items as with the caller's input.
    let Sends::Calls { items, calls } = before else {
        return false;
    };
    let root = Root::Scope(probed);
    match items {
        None => calls
            .iter()
            .any(|call| call.changes(step, &root, remote_data, read)),
        Some(items) => items
            .iter()
            .zip(calls)
            .enumerate()
            .any(|(index, (item, call))| {
                let child = item_scope(probed, item, index);
                call.changes(step, &Root::Scope(&child), remote_data, read)
            }),
    }
}

/// `scope` with `item` and `index` bound, for one call of a `for_each` step.
fn item_scope(scope: &Scope, item: &Value, index: usize) -> Scope {
    let mut child = scope.clone();
    child.set("item", item.clone());
    child.set("index", Value::from(index));
    child
}

/// Adds every string of at least [`MIN_SENT_LEN`] bytes in `value` to `out`.
fn collect_strings(value: &Value, out: &mut HashSet<String>) {
    match value {
        Value::String(s) if s.len() >= MIN_SENT_LEN => {
            out.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(members) => members.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

/// Whether `value` is a string a request holds as it is, or holds one among its members.
fn is_sent(value: &Value, sent: &HashSet<String>) -> bool {
    match value {
        Value::String(s) => s.len() >= MIN_SENT_LEN && sent.contains(s),
        Value::Array(items) => items.iter().any(|v| is_sent(v, sent)),
        Value::Object(members) => members.values().any(|v| is_sent(v, sent)),
        _ => false,
    }
}

/// The JSON pointer of `path`.
fn pointer_of(path: &[Segment]) -> String {
    path.iter()
        .map(|segment| match segment {
            Segment::Key(key) => format!("/{}", crate::source::escape(key)),
            Segment::Index(index) => format!("/{index}"),
        })
        .collect()
}

/// Whether `outer` is `inner` or one of its ancestors.
fn covers(outer: &str, inner: &str) -> bool {
    inner == outer
        || inner
            .strip_prefix(outer)
            .is_some_and(|rest| rest.starts_with('/'))
}
