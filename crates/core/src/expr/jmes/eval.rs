//! Evaluating a compiled expression over borrowed JSON.

use jmespath::ast::Comparator;

use super::node::Node;
use super::val::Val;

/// Deepest evaluation (nested nodes and expression references run by functions) allowed.
const MAX_EVAL_DEPTH: usize = 512;

/// Evaluates `node` against `data`; `depth` is how deep the evaluation already is.
pub(crate) fn eval<'a>(node: &'a Node, data: &Val<'a>, depth: usize) -> Result<Val<'a>, String> {
    if depth > MAX_EVAL_DEPTH {
        return Err(format!(
            "the expression nests deeper than {MAX_EVAL_DEPTH} levels while evaluating"
        ));
    }
    let deeper = depth + 1;
    Ok(match node {
        Node::Identity => data.clone(),
        Node::Field(name) => data.field(name),
        Node::Index(index) => match usize::try_from(*index) {
            Ok(index) => data.index(index),
            Err(_) => from_end(data, index.unsigned_abs() as usize),
        },
        Node::Literal(value) => Val::of(value),
        Node::Subexpr(lhs, rhs) => {
            let left = eval(lhs, data, deeper)?;
            eval(rhs, &left, deeper)?
        }
        Node::Or(lhs, rhs) => {
            let left = eval(lhs, data, deeper)?;
            if left.is_truthy() {
                left
            } else {
                eval(rhs, data, deeper)?
            }
        }
        Node::And(lhs, rhs) => {
            let left = eval(lhs, data, deeper)?;
            if left.is_truthy() {
                eval(rhs, data, deeper)?
            } else {
                left
            }
        }
        Node::Not(inner) => Val::Bool(!eval(inner, data, deeper)?.is_truthy()),
        Node::Condition(predicate, then) => {
            if eval(predicate, data, deeper)?.is_truthy() {
                eval(then, data, deeper)?
            } else {
                Val::Null
            }
        }
        Node::Comparison(comparator, lhs, rhs) => {
            let left = eval(lhs, data, deeper)?;
            let right = eval(rhs, data, deeper)?;
            compare(comparator, &left, &right).map_or(Val::Null, Val::Bool)
        }
        Node::ObjectValues(inner) => match eval(inner, data, deeper)?.entries() {
            Some(members) => Val::array(members.into_iter().map(|(_, v)| v).collect()),
            None => Val::Null,
        },
        Node::Projection(lhs, rhs) => {
            let left = eval(lhs, data, deeper)?;
            let mut collected = Vec::with_capacity(left.array_len().unwrap_or(0));
            let walked = each_item(&left, |item| {
                let value = eval(rhs, &item, deeper)?;
                if !value.is_null() {
                    collected.push(value);
                }
                Ok(())
            });
            match walked {
                Some(result) => {
                    result?;
                    Val::array(collected)
                }
                None => Val::Null,
            }
        }
        Node::Flatten(inner) => {
            let left = eval(inner, data, deeper)?;
            let mut collected = Vec::with_capacity(left.array_len().unwrap_or(0));
            let walked = each_item(&left, |item| {
                if each_item(&item, |nested| {
                    collected.push(nested);
                    Ok(())
                })
                .is_none()
                {
                    collected.push(item);
                }
                Ok(())
            });
            match walked {
                Some(result) => {
                    result?;
                    Val::array(collected)
                }
                None => Val::Null,
            }
        }
        Node::MultiList(elements) => {
            if data.is_null() {
                return Ok(Val::Null);
            }
            let mut collected = Vec::with_capacity(elements.len());
            for element in elements {
                collected.push(eval(element, data, deeper)?);
            }
            Val::array(collected)
        }
        Node::MultiHash(elements) => {
            if data.is_null() {
                return Ok(Val::Null);
            }
            let mut collected = std::collections::BTreeMap::new();
            for (key, value) in elements {
                collected.insert(
                    std::borrow::Cow::Borrowed(key.as_str()),
                    eval(value, data, deeper)?,
                );
            }
            Val::object(collected)
        }
        Node::Call(function, args) => {
            let mut values = Vec::with_capacity(args.len());
            for arg in args {
                values.push(eval(arg, data, deeper)?);
            }
            function.call(&values, deeper)?
        }
        Node::Expref(inner) => Val::Expref(inner),
        Node::Slice(start, stop, step) => {
            if *step == 0 {
                return Err("invalid slice: the step cannot be 0".to_owned());
            }
            match data.items() {
                Some(items) => Val::array(slice(&items, *start, *stop, *step)),
                None => Val::Null,
            }
        }
    })
}

/// Calls `f` on each item of an array without collecting them first; `None` when `value` is
/// not an array.
fn each_item<'a>(
    value: &Val<'a>,
    mut f: impl FnMut(Val<'a>) -> Result<(), String>,
) -> Option<Result<(), String>> {
    match value {
        Val::JsonArray(items) => Some(items.iter().try_for_each(|item| f(Val::of(item)))),
        Val::Array(items) => Some(items.iter().try_for_each(|item| f(item.clone()))),
        other => other.items().map(|items| items.into_iter().try_for_each(f)),
    }
}

/// Item `back` places from the end (`-1` is the last).
fn from_end<'a>(data: &Val<'a>, back: usize) -> Val<'a> {
    match data.array_len() {
        Some(len) if len >= back.max(1) => data.index(len - back.max(1)),
        _ => Val::Null,
    }
}

/// A comparison's result; `None` (null) when an ordering compares something but numbers.
fn compare(comparator: &Comparator, left: &Val<'_>, right: &Val<'_>) -> Option<bool> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let numbers = matches!((left, right), (Val::Number(_), Val::Number(_)));
    match comparator {
        Comparator::Equal => Some(left.equals(right)),
        Comparator::NotEqual => Some(!left.equals(right)),
        _ if !numbers => None,
        Comparator::LessThan => Some(left.order(right) == Less),
        Comparator::LessThanEqual => Some(left.order(right) != Greater),
        Comparator::GreaterThan => Some(left.order(right) == Greater),
        Comparator::GreaterThanEqual => Some(matches!(left.order(right), Greater | Equal)),
    }
}

/// The items a slice selects (Python's rules).
fn slice<'a>(items: &[Val<'a>], start: Option<i32>, stop: Option<i32>, step: i32) -> Vec<Val<'a>> {
    let len = items.len() as i64;
    if len == 0 {
        return Vec::new();
    }
    let step = i64::from(step);
    let adjust = |endpoint: i32| {
        let endpoint = i64::from(endpoint);
        if endpoint < 0 {
            let from_end = endpoint + len;
            if from_end >= 0 {
                from_end
            } else if step < 0 {
                -1
            } else {
                0
            }
        } else if endpoint < len {
            endpoint
        } else if step < 0 {
            len - 1
        } else {
            len
        }
    };
    let mut i = match start {
        Some(s) => adjust(s),
        None if step < 0 => len - 1,
        None => 0,
    };
    let end = match stop {
        Some(s) => adjust(s),
        None if step < 0 => -1,
        None => len,
    };
    let mut out = Vec::new();
    while (step > 0 && i < end) || (step < 0 && i > end) {
        out.push(items[i as usize].clone());
        i += step;
    }
    out
}
