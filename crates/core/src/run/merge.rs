//! Merging the caller's `remote_data` into a step's body, as the mapping declares: objects key
//! by key, arrays listed in the step's `merge_by` item by item on a key, anything else replaced.
//! Then the step's `must_send` values are checked, so a merge that lost one the provider
//! requires is refused before anything is sent.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::error::{InputLocation, InputProblem, ProblemKind};
use crate::expr::{Binding, Root, Scope, is_truthy};
use crate::plan::{MethodPlan, StepPlan};

/// Merges `patch` into `target`; `merge_by` maps the dotted path of an array to the key its
/// items are matched on.
pub(crate) fn merge(target: &mut Value, patch: &Value, merge_by: &BTreeMap<String, String>) {
    merge_at(target, patch, merge_by, "");
}

fn merge_at(target: &mut Value, patch: &Value, merge_by: &BTreeMap<String, String>, path: &str) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (key, value) in p {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match t.get_mut(key) {
                    Some(existing) => merge_at(existing, value, merge_by, &child),
                    None => {
                        t.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (Value::Array(items), Value::Array(extra)) if merge_by.contains_key(path) => {
            let key = &merge_by[path];
            // Where each key value first appears: one pass, whatever the sizes.
            let mut first: HashMap<String, usize> = HashMap::new();
            for (at, item) in items.iter().enumerate() {
                if let Some(k) = item.get(key) {
                    first.entry(k.to_string()).or_insert(at);
                }
            }
            for item in extra {
                match item.get(key).map(Value::to_string) {
                    Some(k) if first.contains_key(&k) => {
                        merge_at(&mut items[first[&k]], item, merge_by, path);
                    }
                    Some(k) => {
                        first.insert(k, items.len());
                        items.push(item.clone());
                    }
                    None => items.push(item.clone()),
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

/// The `must_send` values of the passthrough steps that will run whatever the provider answers
/// (a `when` reading only input, and holding): each one the mapping's request held before
/// `remote_data` was merged must still be there after. A lost value is a problem at
/// `/remote_data`.
pub(crate) fn check_at_start(
    plan: &MethodPlan,
    scope: &Scope,
    remote_data: &Value,
) -> Vec<InputProblem> {
    if remote_data.as_object().is_none_or(|m| m.is_empty()) {
        return Vec::new();
    }
    let root = Root::Scope(scope);
    let mut problems = Vec::new();
    for step in plan
        .steps
        .iter()
        .filter(|s| s.passthrough && !s.must_send.is_empty())
    {
        if step.for_each.is_some() || !runs_at_start(step, scope) {
            continue;
        }
        let Some(Ok(built)) = step.json_body().map(|t| t.render(&root)) else {
            continue;
        };
        let mut merged = built.clone();
        merge(&mut merged, remote_data, &step.merge_by);
        let (built, merged) = (request_scope(built), request_scope(merged));
        for (present, because) in &step.must_send {
            if holds(present, &built) && !holds(present, &merged) {
                problems.push(InputProblem {
                    location: InputLocation::Body,
                    pointer: "/remote_data".to_owned(),
                    kind: ProblemKind::Invalid,
                    message: format!(
                        "merging `remote_data` into the `{}` request removes a value {} requires: {because}",
                        step.id, plan.integration_plan.label
                    ),
                });
            }
        }
    }
    problems
}

/// Whether `step` runs whatever the provider answers: no `when`, or one that reads no step
/// and holds.
fn runs_at_start(step: &StepPlan, scope: &Scope) -> bool {
    step.when.as_ref().is_none_or(|when| {
        when.references().iter().all(|r| r.root != "steps")
            && when.eval(&Root::Scope(scope)).is_ok_and(|v| is_truthy(&v))
    })
}

/// A scope holding `{request: {body}}`, what `must_send` expressions read.
fn request_scope(body: Value) -> Scope {
    let mut scope = Scope::default();
    scope.set_member("request", "body", Binding::value(body));
    scope
}

/// Whether `present` gives a value in `scope`.
fn holds(present: &crate::expr::Expr, scope: &Scope) -> bool {
    present
        .eval(&Root::Scope(scope))
        .is_ok_and(|v| !v.is_null())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_merge_key_by_key_and_unlisted_arrays_are_replaced() {
        let mut body = json!({"a": {"x": 1, "y": 2}, "list": [1], "keep": true});
        merge(
            &mut body,
            &json!({"a": {"y": 3, "z": 4}, "list": [2], "new": "n"}),
            &BTreeMap::new(),
        );
        assert_eq!(
            body,
            json!({"a": {"x": 1, "y": 3, "z": 4}, "list": [2], "keep": true, "new": "n"})
        );
    }

    #[test]
    fn listed_arrays_merge_item_by_item_on_their_key() {
        let merge_by = BTreeMap::from([("info".to_owned(), "name".to_owned())]);
        let mut body = json!({"info": [{"name": "email", "value": "a@x.io"},
                                       {"name": "fullName", "value": "Ada"}]});
        merge(
            &mut body,
            &json!({"info": [{"name": "fullName", "value": "Ada L."},
                             {"name": "pronouns", "value": "she"}, {"value": "no key"}]}),
            &merge_by,
        );
        assert_eq!(
            body,
            json!({"info": [{"name": "email", "value": "a@x.io"},
                            {"name": "fullName", "value": "Ada L."},
                            {"name": "pronouns", "value": "she"}, {"value": "no key"}]})
        );
    }
}
