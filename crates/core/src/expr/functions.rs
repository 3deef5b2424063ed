//! The engine's standard library of JMESPath functions, on top of JMESPath's built-ins.
//!
//! | function | what it returns |
//! |---|---|
//! | `coalesce(a, b, …)` | the first argument that is not null |
//! | `compact(array)` | the array without its null items |
//! | `get(object, key)` | `object[key]` for a computed key, or null |
//! | `lower(s)` / `upper(s)` | the string in lower / upper case; null stays null |
//! | `split_name(s)` | `{first, last}`: the first word, and the rest (null when none) |
//! | `url_host(s)` | the host of a URL, lower case, without a leading `www.`; null when not a URL |
//! | `ms_to_rfc3339(n)` | epoch milliseconds as RFC 3339 UTC with milliseconds; null stays null |
//! | `rfc3339_to_ms(s)` | the reverse |
//! | `from_entries(array)` | an object from `[{key, value}]` items (later keys win) |
//! | `group_by(array, &expr)` | `[{key, items}]`, groups in order of first appearance |
//! | `overlay(base, patch)` | `base` with every non-null key of `patch` set on it |
//! | `find_by(array, &expr, value)` | the first item whose `expr` equals `value` (or is an array holding it); null when none |
//! | `pair_each(array, shared)` | `[{item, shared}]`: each item beside one shared value, so a projection can read both |
//! | `enumerate(array)` | `[{index, item}]`: each item with its zero-based position |
//! | `to_entries(object)` | `[{key, value}]`, one per member, by key |
//! | `merge_by(base, extra, key)` | `base` objects replaced by `extra` objects with the same `key` value, the rest of `extra` appended |
//! | `place_at(array, &position, filler)` | each item at the zero-based `position` its expression gives (a number or a numeric string, at most 10,000), positions no item takes holding `filler`; a later item at a taken position wins |
//!
//! Every function does work linear in its input (`from_entries`: n·log n): `group_by` and
//! `merge_by` find a key's group or item through a hash map of the keys seen so far, and
//! `find_by` makes one pass. Inputs are attacker-sized (40,000 form answers fit in a body), so
//! searching the groups one by one is not an option.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use jmespath::functions::{ArgumentType, CustomFunction, Signature};
use jmespath::{Context, ErrorReason, JmespathError, Rcvar, Runtime, RuntimeError, Variable};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::value_key::ValueKey;

type FnResult = Result<Rcvar, JmespathError>;

/// Registers every function of the standard library.
pub(crate) fn register(runtime: &mut Runtime) {
    use ArgumentType as T;
    let any = || T::Any;
    let string_or_null = || T::Union(vec![T::String, T::Null]);
    let array_or_null = || T::Union(vec![T::Array, T::Null]);
    let add = |runtime: &mut Runtime,
               name: &str,
               sig: Signature,
               f: fn(&[Rcvar], &mut Context<'_>) -> FnResult| {
        runtime.register_function(name, Box::new(CustomFunction::new(sig, Box::new(f))));
    };
    add(
        runtime,
        "coalesce",
        Signature::new(vec![any()], Some(any())),
        coalesce,
    );
    add(
        runtime,
        "compact",
        Signature::new(vec![array_or_null()], None),
        compact,
    );
    add(
        runtime,
        "get",
        Signature::new(
            vec![T::Union(vec![T::Object, T::Null]), string_or_null()],
            None,
        ),
        get,
    );
    add(
        runtime,
        "lower",
        Signature::new(vec![string_or_null()], None),
        lower,
    );
    add(
        runtime,
        "upper",
        Signature::new(vec![string_or_null()], None),
        upper,
    );
    add(
        runtime,
        "split_name",
        Signature::new(vec![string_or_null()], None),
        split_name,
    );
    add(
        runtime,
        "url_host",
        Signature::new(vec![string_or_null()], None),
        url_host,
    );
    add(
        runtime,
        "ms_to_rfc3339",
        Signature::new(vec![T::Union(vec![T::Number, T::Null])], None),
        ms_to_rfc3339,
    );
    add(
        runtime,
        "rfc3339_to_ms",
        Signature::new(vec![string_or_null()], None),
        rfc3339_to_ms,
    );
    add(
        runtime,
        "from_entries",
        Signature::new(vec![array_or_null()], None),
        from_entries,
    );
    add(
        runtime,
        "group_by",
        Signature::new(vec![array_or_null(), T::Expref], None),
        group_by,
    );
    add(
        runtime,
        "overlay",
        Signature::new(vec![any(), any()], None),
        overlay,
    );
    add(
        runtime,
        "find_by",
        Signature::new(vec![array_or_null(), T::Expref, any()], None),
        find_by,
    );
    add(
        runtime,
        "pair_each",
        Signature::new(vec![array_or_null(), any()], None),
        pair_each,
    );
    add(
        runtime,
        "enumerate",
        Signature::new(vec![array_or_null()], None),
        enumerate,
    );
    add(
        runtime,
        "to_entries",
        Signature::new(vec![T::Union(vec![T::Object, T::Null])], None),
        to_entries,
    );
    add(
        runtime,
        "merge_by",
        Signature::new(vec![array_or_null(), array_or_null(), T::String], None),
        merge_by,
    );
    add(
        runtime,
        "place_at",
        Signature::new(vec![array_or_null(), T::Expref, any()], None),
        place_at,
    );
}

/// The largest position `place_at` fills up to: positional forms are short, and a position
/// read from input must not size an allocation.
const MAX_POSITION: usize = 10_000;

fn place_at(args: &[Rcvar], ctx: &mut Context<'_>) -> FnResult {
    let Some(items) = args[0].as_array() else {
        return Ok(null());
    };
    let Some(ast) = args[1].as_expref() else {
        return Err(invalid(ctx, "an expression reference".to_owned()));
    };
    let mut placed: Vec<(usize, Rcvar)> = Vec::with_capacity(items.len());
    for item in items {
        let found = jmespath::interpret(item, ast, ctx)?;
        let position = match &*found {
            Variable::Number(n) => n.as_f64(),
            Variable::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|p| p.fract() == 0.0 && (0.0..=MAX_POSITION as f64).contains(p));
        let Some(position) = position else {
            return Err(invalid(
                ctx,
                format!("a position from 0 to {MAX_POSITION}, not {found:?}"),
            ));
        };
        placed.push((position as usize, item.clone()));
    }
    let length = placed.iter().map(|(p, _)| p + 1).max().unwrap_or(0);
    let mut out = vec![args[2].clone(); length];
    for (position, item) in placed {
        out[position] = item;
    }
    Ok(Rcvar::new(Variable::Array(out)))
}

fn null() -> Rcvar {
    Rcvar::new(Variable::Null)
}

fn string(s: String) -> Rcvar {
    Rcvar::new(Variable::String(s))
}

fn invalid(ctx: &Context<'_>, message: String) -> JmespathError {
    JmespathError::from_ctx(
        ctx,
        ErrorReason::Runtime(RuntimeError::InvalidType {
            expected: message,
            actual: String::new(),
            position: 0,
        }),
    )
}

fn coalesce(args: &[Rcvar], _: &mut Context<'_>) -> FnResult {
    Ok(args
        .iter()
        .find(|a| !a.is_null())
        .cloned()
        .unwrap_or_else(null))
}

fn compact(args: &[Rcvar], _: &mut Context<'_>) -> FnResult {
    let items = args[0]
        .as_array()
        .map(|a| a.iter().filter(|v| !v.is_null()).cloned().collect());
    Ok(items
        .map(|v| Rcvar::new(Variable::Array(v)))
        .unwrap_or_else(null))
}

fn get(args: &[Rcvar], _: &mut Context<'_>) -> FnResult {
    let value = match (args[0].as_object(), args[1].as_string()) {
        (Some(map), Some(key)) => map.get(key).cloned(),
        _ => None,
    };
    Ok(value.unwrap_or_else(null))
}

fn map_string(args: &[Rcvar], f: impl Fn(&str) -> Option<String>) -> FnResult {
    Ok(args[0]
        .as_string()
        .and_then(|s| f(s))
        .map(string)
        .unwrap_or_else(null))
}

fn lower(args: &[Rcvar], _: &mut Context<'_>) -> FnResult {
    map_string(args, |s| Some(s.to_lowercase()))
}

fn upper(args: &[Rcvar], _: &mut Context<'_>) -> FnResult {
    map_string(args, |s| Some(s.to_uppercase()))
}

fn split_name(args: &[Rcvar], _: &mut Context<'_>) -> FnResult {
    let Some(name) = args[0].as_string() else {
        return Ok(null());
    };
    let mut words = name.split_whitespace();
    let first = words
        .next()
        .map(|w| string(w.to_owned()))
        .unwrap_or_else(null);
    let rest: Vec<&str> = words.collect();
    let last = if rest.is_empty() {
        null()
    } else {
        string(rest.join(" "))
    };
    let map = BTreeMap::from([("first".to_owned(), first), ("last".to_owned(), last)]);
    Ok(Rcvar::new(Variable::Object(map)))
}

fn url_host(args: &[Rcvar], _: &mut Context<'_>) -> FnResult {
    map_string(args, |s| {
        let with_scheme = if s.contains("://") {
            s.to_owned()
        } else {
            format!("https://{s}")
        };
        let url = url::Url::parse(&with_scheme).ok()?;
        let host = url.host_str()?.to_lowercase();
        Some(host.strip_prefix("www.").map(str::to_owned).unwrap_or(host))
    })
}

fn ms_to_rfc3339(args: &[Rcvar], ctx: &mut Context<'_>) -> FnResult {
    let Some(ms) = args[0].as_number() else {
        return Ok(null());
    };
    let nanos = (ms as i128) * 1_000_000;
    let time = OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .map_err(|e| invalid(ctx, format!("a timestamp in range ({e})")))?;
    let text = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second(),
        time.millisecond()
    );
    Ok(string(text))
}

fn rfc3339_to_ms(args: &[Rcvar], ctx: &mut Context<'_>) -> FnResult {
    let Some(text) = args[0].as_string() else {
        return Ok(null());
    };
    let time = OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| invalid(ctx, format!("an RFC 3339 date-time ({e})")))?;
    let ms = (time.unix_timestamp_nanos() / 1_000_000) as i64;
    Ok(Rcvar::new(Variable::Number(ms.into())))
}

fn from_entries(args: &[Rcvar], _: &mut Context<'_>) -> FnResult {
    let Some(items) = args[0].as_array() else {
        return Ok(null());
    };
    let mut map = BTreeMap::new();
    for item in items {
        let Some(entry) = item.as_object() else {
            continue;
        };
        if let Some(key) = entry.get("key").and_then(|k| k.as_string()) {
            map.insert(
                key.clone(),
                entry.get("value").cloned().unwrap_or_else(null),
            );
        }
    }
    Ok(Rcvar::new(Variable::Object(map)))
}

fn group_by(args: &[Rcvar], ctx: &mut Context<'_>) -> FnResult {
    let Some(items) = args[0].as_array() else {
        return Ok(null());
    };
    let Some(ast) = args[1].as_expref() else {
        return Err(invalid(ctx, "an expression reference".to_owned()));
    };
    let mut groups: Vec<(Rcvar, Vec<Rcvar>)> = Vec::new();
    let mut index: HashMap<ValueKey, usize> = HashMap::new();
    for item in items {
        let key = jmespath::interpret(item, ast, ctx)?;
        match index.entry(ValueKey(key.clone())) {
            Entry::Occupied(group) => groups[*group.get()].1.push(item.clone()),
            Entry::Vacant(slot) => {
                slot.insert(groups.len());
                groups.push((key, vec![item.clone()]));
            }
        }
    }
    let out = groups
        .into_iter()
        .map(|(key, members)| {
            let map = BTreeMap::from([
                ("key".to_owned(), key),
                ("items".to_owned(), Rcvar::new(Variable::Array(members))),
            ]);
            Rcvar::new(Variable::Object(map))
        })
        .collect();
    Ok(Rcvar::new(Variable::Array(out)))
}

fn find_by(args: &[Rcvar], ctx: &mut Context<'_>) -> FnResult {
    let Some(items) = args[0].as_array() else {
        return Ok(null());
    };
    let Some(ast) = args[1].as_expref() else {
        return Err(invalid(ctx, "an expression reference".to_owned()));
    };
    let wanted = &args[2];
    if wanted.is_null() {
        return Ok(null());
    }
    for item in items {
        let found = jmespath::interpret(item, ast, ctx)?;
        let matches = found == *wanted || found.as_array().is_some_and(|a| a.contains(wanted));
        if matches {
            return Ok(item.clone());
        }
    }
    Ok(null())
}

fn enumerate(args: &[Rcvar], _: &mut Context<'_>) -> FnResult {
    let Some(items) = args[0].as_array() else {
        return Ok(null());
    };
    let out = items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let map = BTreeMap::from([
                (
                    "index".to_owned(),
                    Rcvar::new(Variable::Number(index.into())),
                ),
                ("item".to_owned(), item.clone()),
            ]);
            Rcvar::new(Variable::Object(map))
        })
        .collect();
    Ok(Rcvar::new(Variable::Array(out)))
}

fn to_entries(args: &[Rcvar], _: &mut Context<'_>) -> FnResult {
    let Some(members) = args[0].as_object() else {
        return Ok(null());
    };
    let out = members
        .iter()
        .map(|(key, value)| {
            let map = BTreeMap::from([
                ("key".to_owned(), string(key.clone())),
                ("value".to_owned(), value.clone()),
            ]);
            Rcvar::new(Variable::Object(map))
        })
        .collect();
    Ok(Rcvar::new(Variable::Array(out)))
}

fn pair_each(args: &[Rcvar], _: &mut Context<'_>) -> FnResult {
    let Some(items) = args[0].as_array() else {
        return Ok(null());
    };
    let out = items
        .iter()
        .map(|item| {
            let map = BTreeMap::from([
                ("item".to_owned(), item.clone()),
                ("shared".to_owned(), args[1].clone()),
            ]);
            Rcvar::new(Variable::Object(map))
        })
        .collect();
    Ok(Rcvar::new(Variable::Array(out)))
}

fn overlay(args: &[Rcvar], _: &mut Context<'_>) -> FnResult {
    let (Some(base), Some(patch)) = (args[0].as_object(), args[1].as_object()) else {
        return Ok(if args[0].is_null() {
            args[1].clone()
        } else {
            args[0].clone()
        });
    };
    let mut map = base.clone();
    for (key, value) in patch {
        if !value.is_null() {
            map.insert(key.clone(), value.clone());
        }
    }
    Ok(Rcvar::new(Variable::Object(map)))
}

fn merge_by(args: &[Rcvar], _: &mut Context<'_>) -> FnResult {
    let base = args[0].as_array().cloned().unwrap_or_default();
    let extra = args[1].as_array().cloned().unwrap_or_default();
    let key = args[2].as_string().cloned().unwrap_or_default();
    let key_of = |v: &Rcvar| v.as_object().and_then(|o| o.get(&key).cloned());
    // Where each key first appears in `out`; items without the key are never replaced.
    let mut first: HashMap<ValueKey, usize> = HashMap::new();
    for (i, item) in base.iter().enumerate() {
        if let Some(k) = key_of(item) {
            first.entry(ValueKey(k)).or_insert(i);
        }
    }
    let mut out = base;
    for item in extra {
        match key_of(&item) {
            Some(k) => match first.entry(ValueKey(k)) {
                Entry::Occupied(at) => out[*at.get()] = item,
                Entry::Vacant(slot) => {
                    slot.insert(out.len());
                    out.push(item);
                }
            },
            None => out.push(item),
        }
    }
    Ok(Rcvar::new(Variable::Array(out)))
}

#[cfg(test)]
mod tests {
    use crate::expr::{Expr, Root, Scope};
    use serde_json::{Value, json};

    fn eval(expr: &str, data: Value) -> Value {
        let mut scope = Scope::default();
        scope.set("d", data);
        Expr::compile(expr)
            .unwrap()
            .eval(&Root::Scope(&scope))
            .unwrap()
    }

    #[test]
    fn enumerate_and_to_entries_expose_positions_and_keys() {
        assert_eq!(
            eval("enumerate(d)", json!(["a", "b"])),
            json!([{"index": 0, "item": "a"}, {"index": 1, "item": "b"}])
        );
        assert_eq!(eval("enumerate(d)", json!(null)), json!(null));
        assert_eq!(
            eval("to_entries(d)", json!({"b": 2, "a": 1})),
            json!([{"key": "a", "value": 1}, {"key": "b", "value": 2}])
        );
        assert_eq!(eval("to_entries(d)", json!(null)), json!(null));
    }

    #[test]
    fn time_conversions_round_trip_with_milliseconds() {
        assert_eq!(
            eval("ms_to_rfc3339(d)", json!(1711572497188u64)),
            json!("2024-03-27T20:48:17.188Z")
        );
        assert_eq!(eval("ms_to_rfc3339(d)", json!(null)), json!(null));
        assert_eq!(
            eval("rfc3339_to_ms(d)", json!("2024-03-27T20:48:17.188Z")),
            json!(1711572497188u64)
        );
    }

    #[test]
    fn names_hosts_and_coalesce() {
        assert_eq!(
            eval("split_name(d)", json!("Ada King Lovelace")),
            json!({"first": "Ada", "last": "King Lovelace"})
        );
        assert_eq!(
            eval("split_name(d)", json!("Cher")),
            json!({"first": "Cher", "last": null})
        );
        assert_eq!(
            eval("url_host(d)", json!("https://www.LinkedIn.com/in/ada")),
            json!("linkedin.com")
        );
        assert_eq!(
            eval("url_host(d)", json!("github.com/ada")),
            json!("github.com")
        );
        assert_eq!(
            eval("coalesce(d.a, d.b, 'z')", json!({"a": null, "b": false})),
            json!(false)
        );
    }

    #[test]
    fn grouping_entries_and_merging() {
        let answers = json!([{"g": "x", "v": 1}, {"g": "y", "v": 2}, {"g": "x", "v": 3}]);
        assert_eq!(
            eval("group_by(d, &g)[].{k: key, n: items[].v}", answers),
            json!([{"k": "x", "n": [1, 3]}, {"k": "y", "n": [2]}])
        );
        assert_eq!(
            eval("from_entries(d)", json!([{"key": "a", "value": 1}])),
            json!({"a": 1})
        );
        assert_eq!(
            eval(
                "merge_by(d.a, d.b, 'name')",
                json!({"a": [{"name": "x", "v": 1}], "b": [{"name": "x", "v": 2}, {"name": "y", "v": 3}]})
            ),
            json!([{"name": "x", "v": 2}, {"name": "y", "v": 3}])
        );
        assert_eq!(
            eval(
                "overlay(d.a, d.b)",
                json!({"a": {"x": 1, "y": 2}, "b": {"y": 3, "z": null}})
            ),
            json!({"x": 1, "y": 3})
        );
        assert_eq!(
            eval(
                "find_by(d.list, &apps[].id, d.want).n",
                json!({"want": "b", "list": [{"n": 1, "apps": [{"id": "a"}]}, {"n": 2, "apps": [{"id": "b"}]}]})
            ),
            json!(2)
        );
        assert_eq!(
            eval("find_by(d.list, &id, 'zz')", json!({"list": [{"id": "a"}]})),
            json!(null)
        );
        assert_eq!(
            eval(
                "pair_each(d.a, d.s)[].[item, shared]",
                json!({"a": [1, 2], "s": "x"})
            ),
            json!([[1, "x"], [2, "x"]])
        );
        assert_eq!(
            eval("overlay(d.a, d.missing)", json!({"a": {"x": 1}})),
            json!({"x": 1})
        );
    }

    /// `0..n` as `{"id": "k<i>", "n": i}` items, every key distinct.
    fn numbered(n: usize, prefix: &str) -> Vec<Value> {
        (0..n)
            .map(|i| json!({"id": format!("{prefix}{i}"), "n": i}))
            .collect()
    }

    /// Issue 8, row 4: 40,000 answers, each with its own group, took 11–41 s because every
    /// item searched the groups made so far. 100,000 distinct keys take minutes that way.
    #[test]
    fn group_by_handles_100k_distinct_keys() {
        let mut items = numbered(100_000, "k");
        items.push(json!({"id": "k7", "n": "again"}));
        let groups = eval("group_by(d, &id)", Value::Array(items));
        let groups = groups.as_array().expect("array");
        assert_eq!(groups.len(), 100_000);
        assert_eq!(
            groups[0],
            json!({"key": "k0", "items": [{"id": "k0", "n": 0}]})
        );
        assert_eq!(
            groups[7],
            json!({"key": "k7", "items": [{"id": "k7", "n": 7}, {"id": "k7", "n": "again"}]})
        );
        assert_eq!(groups[99_999]["key"], json!("k99999"));
    }

    #[test]
    fn group_by_keeps_first_seen_order_and_numbers_by_value() {
        let items =
            json!([{"g": 2}, {"g": "2"}, {"g": 1.0}, {"g": 2.0}, {"g": null}, {"g": 1}, {}]);
        assert_eq!(
            eval("group_by(d, &g)[].[key, length(items)]", items),
            json!([[2, 2], ["2", 1], [1.0, 2], [null, 2]])
        );
    }

    #[test]
    fn merge_by_handles_100k_items_on_each_side() {
        let base = numbered(100_000, "k");
        let mut extra: Vec<Value> = (0..100_000)
            .map(|i| json!({"id": format!("k{}", i * 2), "n": "replaced"}))
            .collect();
        extra.push(json!({"n": "no key"}));
        let merged = eval(
            "merge_by(d.base, d.extra, 'id')",
            json!({"base": base, "extra": extra}),
        );
        let merged = merged.as_array().expect("array");
        assert_eq!(merged.len(), 150_001);
        assert_eq!(merged[0], json!({"id": "k0", "n": "replaced"}));
        assert_eq!(merged[1], json!({"id": "k1", "n": 1}));
        assert_eq!(merged[100_000], json!({"id": "k100000", "n": "replaced"}));
        assert_eq!(merged[150_000], json!({"n": "no key"}));
    }

    #[test]
    fn merge_by_replaces_the_first_match_and_appended_items_too() {
        let merged = eval(
            "merge_by(d.a, d.b, 'k')",
            json!({
                "a": [{"k": 1, "v": "a"}, {"v": "no key"}, {"k": 1, "v": "b"}, "text"],
                "b": [{"k": 1.0, "v": "c"}, {"k": null, "v": "d"}, {"k": null, "v": "e"}, {"v": "f"}]
            }),
        );
        assert_eq!(
            merged,
            json!([{"k": 1.0, "v": "c"}, {"v": "no key"}, {"k": 1, "v": "b"}, "text",
                   {"k": null, "v": "e"}, {"v": "f"}])
        );
    }

    #[test]
    fn place_at_fills_gaps_and_bounds_positions() {
        let placed = eval(
            "place_at(d.items, &name, `{\"value\": null}`)",
            json!({"items": [{"name": "2", "value": "c"}, {"name": 0, "value": "a"}]}),
        );
        assert_eq!(
            placed,
            json!([{"name": 0, "value": "a"}, {"value": null}, {"name": "2", "value": "c"}])
        );
        assert_eq!(
            eval("place_at(d.items, &name, `0`)", json!({"items": []})),
            json!([])
        );
        let mut scope = Scope::default();
        scope.set("d", json!({"items": [{"name": "10001"}]}));
        let compiled = Expr::compile("place_at(d.items, &name, `null`)").unwrap();
        assert!(compiled.eval(&Root::Scope(&scope)).is_err());
    }

    #[test]
    fn find_by_makes_one_pass_over_100k_items() {
        let mut items = numbered(100_000, "k");
        items.push(json!({"id": ["x", "last"], "n": "array"}));
        let data = json!({"items": items});
        assert_eq!(
            eval("find_by(d.items, &id, 'k99999').n", data.clone()),
            json!(99_999)
        );
        assert_eq!(
            eval("find_by(d.items, &id, 'last').n", data.clone()),
            json!("array")
        );
        assert_eq!(eval("find_by(d.items, &id, 'none')", data), json!(null));
    }
}
