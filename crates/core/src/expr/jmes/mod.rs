//! JMESPath evaluated by the engine itself: the `jmespath` crate parses an expression, the
//! parse is compiled once into [`Node`]s (functions resolved, constant sub-expressions folded),
//! and evaluation walks them over borrowed `serde_json::Value`s: a scope is never converted to
//! another value type, and what an expression selects is not copied until its result is.

mod eval;
mod functions;
mod key;
mod node;
mod val;

use serde_json::Value;

pub(crate) use node::Node;
pub(crate) use val::Val;

/// Compiles a parsed expression (the parser's checks already passed).
pub(crate) fn compile(ast: &jmespath::ast::Ast) -> Result<Node, String> {
    node::compile(ast)
}

/// Whether a function of this name exists.
pub(crate) fn has_function(name: &str) -> bool {
    functions::find(name).is_some()
}

/// Evaluates `node` against `data`.
pub(crate) fn eval<'a>(node: &'a Node, data: &Val<'a>) -> Result<Val<'a>, String> {
    eval::eval(node, data, 0)
}

/// A value of the data as JMESPath returns it (objects' keys sorted, at every depth).
pub(crate) fn sorted(value: &Value) -> Value {
    val::sorted(value)
}
