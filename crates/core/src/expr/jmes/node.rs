//! The engine's own form of a parsed JMESPath expression: literals as JSON, functions resolved
//! at load, constant sub-expressions folded.

use jmespath::ast::{Ast, Comparator};
use serde_json::Value;

use super::eval::eval;
use super::functions::{self, Function};
use super::val::Val;
use crate::expr::from_jmes;

/// Deepest expression tree accepted at load: evaluation recurses once per level.
pub(crate) const MAX_NODE_DEPTH: usize = 128;

/// One node of a compiled expression.
#[derive(Debug)]
pub(crate) enum Node {
    /// `@`.
    Identity,
    /// A member of the current object.
    Field(String),
    /// An item of the current array (negative from the end).
    Index(i32),
    /// A constant.
    Literal(Value),
    /// `lhs.rhs`: `rhs` evaluated on what `lhs` gives.
    Subexpr(Box<Node>, Box<Node>),
    /// `lhs || rhs`.
    Or(Box<Node>, Box<Node>),
    /// `lhs && rhs`.
    And(Box<Node>, Box<Node>),
    /// `!node`.
    Not(Box<Node>),
    /// `lhs <op> rhs`.
    Comparison(Comparator, Box<Node>, Box<Node>),
    /// A filter's test: `then` on the current value when `predicate` holds, else null.
    Condition(Box<Node>, Box<Node>),
    /// `lhs[*].rhs` and the like: `rhs` on each item of the array `lhs` gives, nulls dropped.
    Projection(Box<Node>, Box<Node>),
    /// `node.*`: the values of an object.
    ObjectValues(Box<Node>),
    /// `node[]`: one level of nested arrays flattened.
    Flatten(Box<Node>),
    /// `[a, b]`.
    MultiList(Vec<Node>),
    /// `{k: a, …}`.
    MultiHash(Vec<(String, Node)>),
    /// A function call.
    Call(&'static Function, Vec<Node>),
    /// `&expr`.
    Expref(Box<Node>),
    /// `[start:stop:step]`.
    Slice(Option<i32>, Option<i32>, i32),
}

/// Compiles a parsed expression; the error names an unknown function or a tree too deep.
pub(crate) fn compile(ast: &Ast) -> Result<Node, String> {
    compile_at(ast, 0)
}

fn compile_at(ast: &Ast, depth: usize) -> Result<Node, String> {
    if depth > MAX_NODE_DEPTH {
        return Err(format!(
            "the expression nests deeper than {MAX_NODE_DEPTH} levels"
        ));
    }
    let sub = |a: &Ast| compile_at(a, depth + 1).map(Box::new);
    let node = match ast {
        Ast::Identity { .. } => Node::Identity,
        Ast::Field { name, .. } => Node::Field(name.clone()),
        Ast::Index { idx, .. } => Node::Index(*idx),
        Ast::Literal { value, .. } => Node::Literal(from_jmes(value)),
        Ast::Subexpr { lhs, rhs, .. } => Node::Subexpr(sub(lhs)?, sub(rhs)?),
        Ast::Or { lhs, rhs, .. } => Node::Or(sub(lhs)?, sub(rhs)?),
        Ast::And { lhs, rhs, .. } => Node::And(sub(lhs)?, sub(rhs)?),
        Ast::Not { node, .. } => Node::Not(sub(node)?),
        Ast::Comparison {
            comparator,
            lhs,
            rhs,
            ..
        } => Node::Comparison(comparator.clone(), sub(lhs)?, sub(rhs)?),
        Ast::Condition {
            predicate, then, ..
        } => Node::Condition(sub(predicate)?, sub(then)?),
        Ast::Projection { lhs, rhs, .. } => Node::Projection(sub(lhs)?, sub(rhs)?),
        Ast::ObjectValues { node, .. } => Node::ObjectValues(sub(node)?),
        Ast::Flatten { node, .. } => Node::Flatten(sub(node)?),
        Ast::MultiList { elements, .. } => Node::MultiList(
            elements
                .iter()
                .map(|e| compile_at(e, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Ast::MultiHash { elements, .. } => Node::MultiHash(
            elements
                .iter()
                .map(|kv| Ok((kv.key.clone(), compile_at(&kv.value, depth + 1)?)))
                .collect::<Result<_, String>>()?,
        ),
        Ast::Function { name, args, .. } => {
            let function = functions::find(name).ok_or_else(|| {
                format!("unknown function `{name}` (see the function table in README.md)")
            })?;
            let args = args
                .iter()
                .map(|a| compile_at(a, depth + 1))
                .collect::<Result<_, _>>()?;
            Node::Call(function, args)
        }
        Ast::Expref { ast, .. } => Node::Expref(sub(ast)?),
        Ast::Slice {
            start, stop, step, ..
        } => Node::Slice(*start, *stop, *step),
    };
    Ok(fold(node))
}

/// `node` as a literal when it reads nothing of the data and evaluates without error.
fn fold(node: Node) -> Node {
    if matches!(node, Node::Literal(_)) || !is_constant(&node) {
        return node;
    }
    let folded = match eval(&node, &Val::Null, 0) {
        Ok(value) if !matches!(value, Val::Expref(_)) => Some(value.to_json()),
        _ => None,
    };
    folded.map_or(node, Node::Literal)
}

/// Whether the node gives the same value whatever the data (sub-nodes already folded).
fn is_constant(node: &Node) -> bool {
    let literal = |n: &Node| matches!(n, Node::Literal(_));
    match node {
        Node::Literal(_) => true,
        Node::Subexpr(lhs, _) => literal(lhs),
        Node::Or(lhs, rhs) | Node::And(lhs, rhs) | Node::Comparison(_, lhs, rhs) => {
            literal(lhs) && literal(rhs)
        }
        Node::Not(inner) => literal(inner),
        Node::Call(_, args) => args.iter().all(literal),
        // `[a]` and `{k: a}` are null on null data: they depend on the data.
        _ => false,
    }
}
