//! Load-time checks of the names an expression reads: scope roots, steps, unified fields,
//! context keys and constants.

use crate::diagnostic::{Reporter, did_you_mean};
use crate::expr::Reference;

/// What expressions at one place in a mapping may read.
pub(crate) struct Names<'a> {
    /// The scope roots readable here (`query`, `body`, …).
    pub(crate) roots: &'a [&'a str],
    /// Steps that have run before this point.
    pub(crate) steps: &'a [&'a str],
    /// Every step of the method (to tell "later" from "unknown").
    pub(crate) all_steps: &'a [&'a str],
    /// Unified query parameters.
    pub(crate) query: &'a [&'a str],
    /// Unified body fields.
    pub(crate) body: &'a [&'a str],
    /// Context keys the integration declares.
    pub(crate) context: &'a [&'a str],
    /// The mapping's constants.
    pub(crate) constants: &'a [&'a str],
}

impl Names<'_> {
    /// Reports every reference that names something that does not exist here.
    pub(crate) fn check(&self, refs: &[Reference], pointer: &str, report: &mut Reporter<'_>) {
        for r in refs {
            if !self.roots.contains(&r.root.as_str()) {
                report.at(
                    pointer,
                    format!(
                        "unknown name `{}` (here expressions read {})",
                        r.root,
                        crate::backticked(self.roots)
                    ),
                    did_you_mean(&r.root, self.roots.iter().copied()),
                );
                continue;
            }
            let Some(key) = r.key.as_deref() else {
                continue;
            };
            let (known, what): (&[&str], &str) = match r.root.as_str() {
                "steps" => {
                    if !self.steps.contains(&key) && self.all_steps.contains(&key) {
                        report.at(
                            pointer,
                            format!("step `{key}` is read before it runs"),
                            None,
                        );
                        continue;
                    }
                    (self.steps, "step")
                }
                "query" => (self.query, "unified query parameter"),
                "body" => (self.body, "unified body field"),
                "context" => (
                    self.context,
                    "context key (declare it under `context.fields` in integration.yaml)",
                ),
                "constants" => (self.constants, "constant"),
                _ => continue,
            };
            if !known.contains(&key) {
                report.at(
                    pointer,
                    format!("unknown {what} `{key}`"),
                    did_you_mean(key, known.iter().copied()),
                );
            }
        }
    }
}
