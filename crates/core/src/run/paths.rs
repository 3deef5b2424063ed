//! Path values that would change which resource a request names (empty, `.`, `..`): whose fault
//! they are, and the check at start that finds the caller's before anything is sent.

use crate::error::{InputLocation, InputProblem, ProblemKind, RunError};
use crate::expr::{PathError, Reference, Root, Scope, is_truthy};
use crate::plan::{MethodPlan, StepPlan};

/// The scope names that hold the caller's input (the account's context included), with where
/// an input problem in them is reported.
fn input_location(root: &str) -> Option<InputLocation> {
    match root {
        "query" => Some(InputLocation::Query),
        "body" => Some(InputLocation::Body),
        "context" => Some(InputLocation::Context),
        "id" => Some(InputLocation::Path),
        _ => None,
    }
}

/// Names known when a run starts: the input, and the mapping's constants.
fn known_at_start(reference: &Reference) -> bool {
    reference.root == "constants" || input_location(&reference.root).is_some()
}

/// A path error of `step` as the run reports it: a bad value read only from the caller's input
/// is an input problem naming the field; anything else (a provider answer, a constant, a
/// failed expression) is a mapping error.
pub(crate) fn path_error(step: &StepPlan, error: PathError) -> RunError {
    if let PathError::Segment { problem, reads } = &error
        && let Some((location, name)) = input_field(reads)
    {
        return RunError::Input {
            problems: vec![InputProblem {
                location,
                pointer: format!("/{}", crate::source::escape(name)),
                kind: ProblemKind::Invalid,
                message: format!(
                    "`{name}` {problem}: it is a path segment of the provider request, where it would name another resource"
                ),
            }],
            warnings: Vec::new(),
        };
    }
    RunError::Mapping {
        field: format!("steps.{}.request.path", step.id),
        message: error.to_string(),
    }
}

/// The input field an expression reads, when it reads nothing but input.
fn input_field(reads: &[Reference]) -> Option<(InputLocation, &str)> {
    let mut fields = reads.iter().map(|r| {
        let location = input_location(&r.root)?;
        match location {
            InputLocation::Path => Some((location, "id")),
            _ => Some((location, r.key.as_deref()?)),
        }
    });
    let first = fields.next()??;
    fields.all(|f| f.is_some()).then_some(first)
}

/// Checks, before the first request, the paths of the steps that will run whatever the
/// provider answers (no `for_each`, and a `when` that reads only input and constants and
/// holds): each path value read only from input and constants must be a usable segment.
pub(crate) fn check_at_start(plan: &MethodPlan, scope: &Scope) -> Result<(), RunError> {
    let root = Root::Scope(scope);
    for step in plan.steps.iter().filter(|s| s.for_each.is_none()) {
        if let Some(when) = &step.when {
            let reads = when.references();
            let holds =
                reads.iter().all(known_at_start) && when.eval(&root).is_ok_and(|v| is_truthy(&v));
            if !holds {
                continue;
            }
        }
        step.path
            .check_path(&root, known_at_start)
            .map_err(|e| path_error(step, e))?;
    }
    Ok(())
}
