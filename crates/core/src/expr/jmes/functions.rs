//! The function library: JMESPath's built-in functions and the engine's own, over [`Val`].
//!
//! Arguments are checked against each function's signature before it runs: a wrong type or
//! count is an error (never a panic), as in the jmespath crate. The engine's own functions:
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

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::eval::eval;
use super::key::KeyVal;
use super::val::{Kind, Val};

type Run = for<'a> fn(&[Val<'a>], usize) -> Result<Val<'a>, String>;

/// What an argument may be.
#[derive(Debug)]
pub(crate) enum Arg {
    Any,
    Null,
    String,
    Number,
    Bool,
    Object,
    Array,
    Expref,
    /// An array whose items are all of one type.
    ArrayOf(&'static Arg),
    /// Any of these.
    OneOf(&'static [Arg]),
}

impl Arg {
    fn accepts(&self, value: &Val<'_>) -> bool {
        match self {
            Arg::Any => true,
            Arg::Null => value.kind() == Kind::Null,
            Arg::String => value.kind() == Kind::String,
            Arg::Number => value.kind() == Kind::Number,
            Arg::Bool => value.kind() == Kind::Boolean,
            Arg::Object => value.kind() == Kind::Object,
            Arg::Array => value.kind() == Kind::Array,
            Arg::Expref => value.kind() == Kind::Expref,
            Arg::ArrayOf(item) => value
                .items()
                .is_some_and(|items| items.iter().all(|i| item.accepts(i))),
            Arg::OneOf(types) => types.iter().any(|t| t.accepts(value)),
        }
    }

    fn describe(&self) -> String {
        match self {
            Arg::Any => "any".to_owned(),
            Arg::Null => "null".to_owned(),
            Arg::String => "string".to_owned(),
            Arg::Number => "number".to_owned(),
            Arg::Bool => "boolean".to_owned(),
            Arg::Object => "object".to_owned(),
            Arg::Array => "array".to_owned(),
            Arg::Expref => "expref".to_owned(),
            Arg::ArrayOf(item) => format!("array[{}]", item.describe()),
            Arg::OneOf(types) => types
                .iter()
                .map(Arg::describe)
                .collect::<Vec<_>>()
                .join("|"),
        }
    }
}

/// A function: its name, signature and body.
#[derive(Debug)]
pub(crate) struct Function {
    name: &'static str,
    inputs: &'static [Arg],
    variadic: Option<Arg>,
    run: Run,
}

impl Function {
    /// Checks the arguments against the signature, then runs the function.
    pub(crate) fn call<'a>(&self, args: &[Val<'a>], depth: usize) -> Result<Val<'a>, String> {
        let expected = self.inputs.len();
        let arity_ok = match self.variadic {
            Some(_) => args.len() >= expected,
            None => args.len() == expected,
        };
        if !arity_ok {
            return Err(format!(
                "`{}` takes {}{expected} arguments, not {}",
                self.name,
                if self.variadic.is_some() {
                    "at least "
                } else {
                    ""
                },
                args.len()
            ));
        }
        for (position, arg) in args.iter().enumerate() {
            let Some(rule) = self.inputs.get(position).or(self.variadic.as_ref()) else {
                continue;
            };
            if !rule.accepts(arg) {
                return Err(format!(
                    "`{}` argument {position}: expected {}, found {}",
                    self.name,
                    rule.describe(),
                    arg.kind().name()
                ));
            }
        }
        (self.run)(args, depth)
    }
}

/// The function called `name`.
pub(crate) fn find(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

const STRING_OR_NULL: Arg = Arg::OneOf(&[Arg::String, Arg::Null]);
const ARRAY_OR_NULL: Arg = Arg::OneOf(&[Arg::Array, Arg::Null]);
const OBJECT_OR_NULL: Arg = Arg::OneOf(&[Arg::Object, Arg::Null]);
const SORTABLE: Arg = Arg::OneOf(&[Arg::ArrayOf(&Arg::String), Arg::ArrayOf(&Arg::Number)]);

const fn function(name: &'static str, inputs: &'static [Arg], run: Run) -> Function {
    Function {
        name,
        inputs,
        variadic: None,
        run,
    }
}

static FUNCTIONS: &[Function] = &[
    // JMESPath's built-ins.
    function("abs", &[Arg::Number], abs),
    function("avg", &[Arg::ArrayOf(&Arg::Number)], avg),
    function("ceil", &[Arg::Number], ceil),
    function(
        "contains",
        &[Arg::OneOf(&[Arg::String, Arg::Array]), Arg::Any],
        contains,
    ),
    function("ends_with", &[Arg::String, Arg::String], ends_with),
    function("floor", &[Arg::Number], floor),
    function("join", &[Arg::String, Arg::ArrayOf(&Arg::String)], join),
    function("keys", &[Arg::Object], keys),
    function(
        "length",
        &[Arg::OneOf(&[Arg::Array, Arg::Object, Arg::String])],
        length,
    ),
    function("map", &[Arg::Expref, Arg::Array], map),
    function("max", &[SORTABLE], max),
    function("min", &[SORTABLE], min),
    function("max_by", &[Arg::Array, Arg::Expref], max_by),
    function("min_by", &[Arg::Array, Arg::Expref], min_by),
    Function {
        name: "merge",
        inputs: &[Arg::Object],
        variadic: Some(Arg::Object),
        run: merge,
    },
    Function {
        name: "not_null",
        inputs: &[Arg::Any],
        variadic: Some(Arg::Any),
        run: first_not_null,
    },
    function(
        "reverse",
        &[Arg::OneOf(&[Arg::Array, Arg::String])],
        reverse,
    ),
    function("sort", &[SORTABLE], sort),
    function("sort_by", &[Arg::Array, Arg::Expref], sort_by),
    function("starts_with", &[Arg::String, Arg::String], starts_with),
    function("sum", &[Arg::ArrayOf(&Arg::Number)], sum),
    function("to_array", &[Arg::Any], to_array),
    function("to_number", &[Arg::Any], to_number),
    function(
        "to_string",
        &[Arg::OneOf(&[
            Arg::Object,
            Arg::Array,
            Arg::Bool,
            Arg::Number,
            Arg::String,
            Arg::Null,
        ])],
        to_string,
    ),
    function("type", &[Arg::Any], type_name),
    function("values", &[Arg::Object], values),
    // The engine's own (the table above).
    Function {
        name: "coalesce",
        inputs: &[Arg::Any],
        variadic: Some(Arg::Any),
        run: first_not_null,
    },
    function("compact", &[ARRAY_OR_NULL], compact),
    function("get", &[OBJECT_OR_NULL, STRING_OR_NULL], get),
    function("lower", &[STRING_OR_NULL], lower),
    function("upper", &[STRING_OR_NULL], upper),
    function("split_name", &[STRING_OR_NULL], split_name),
    function("url_host", &[STRING_OR_NULL], url_host),
    function(
        "ms_to_rfc3339",
        &[Arg::OneOf(&[Arg::Number, Arg::Null])],
        ms_to_rfc3339,
    ),
    function("rfc3339_to_ms", &[STRING_OR_NULL], rfc3339_to_ms),
    function("from_entries", &[ARRAY_OR_NULL], from_entries),
    function("group_by", &[ARRAY_OR_NULL, Arg::Expref], group_by),
    function("overlay", &[Arg::Any, Arg::Any], overlay),
    function("find_by", &[ARRAY_OR_NULL, Arg::Expref, Arg::Any], find_by),
    function("pair_each", &[ARRAY_OR_NULL, Arg::Any], pair_each),
    function("enumerate", &[ARRAY_OR_NULL], enumerate),
    function("to_entries", &[OBJECT_OR_NULL], to_entries),
    function(
        "merge_by",
        &[ARRAY_OR_NULL, ARRAY_OR_NULL, Arg::String],
        merge_by,
    ),
    function(
        "place_at",
        &[ARRAY_OR_NULL, Arg::Expref, Arg::Any],
        place_at,
    ),
];

type Out<'a> = Result<Val<'a>, String>;

/// The items of an argument the signature says is an array.
fn items<'a>(value: &Val<'a>) -> Vec<Val<'a>> {
    value.items().unwrap_or_default()
}

/// The expression of an argument the signature says is an expression reference.
fn expref<'a>(value: &Val<'a>) -> Result<&'a super::node::Node, String> {
    value
        .as_expref()
        .ok_or_else(|| "expected an expression reference".to_owned())
}

fn number<'a>(n: f64) -> Out<'a> {
    Val::float(n).ok_or_else(|| format!("{n} is not a JSON number"))
}

fn abs<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    number(args[0].as_f64().unwrap_or_default().abs())
}

fn avg<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    let values = items(&args[0]);
    let total: f64 = values.iter().filter_map(Val::as_f64).sum();
    number(total / values.len() as f64)
}

fn ceil<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    number(args[0].as_f64().unwrap_or_default().ceil())
}

fn floor<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    number(args[0].as_f64().unwrap_or_default().floor())
}

fn contains<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    Ok(Val::Bool(match (&args[0], args[0].items()) {
        (_, Some(haystack)) => haystack.iter().any(|item| item.equals(&args[1])),
        (haystack, None) => match (haystack.as_str(), args[1].as_str()) {
            (Some(text), Some(needle)) => text.contains(needle),
            _ => false,
        },
    }))
}

fn ends_with<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    let (subject, suffix) = (args[0].as_str(), args[1].as_str());
    Ok(Val::Bool(
        subject.zip(suffix).is_some_and(|(s, x)| s.ends_with(x)),
    ))
}

fn starts_with<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    let (subject, prefix) = (args[0].as_str(), args[1].as_str());
    Ok(Val::Bool(
        subject.zip(prefix).is_some_and(|(s, x)| s.starts_with(x)),
    ))
}

fn join<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    let glue = args[0].as_str().unwrap_or_default();
    let parts = items(&args[1]);
    let texts: Vec<&str> = parts.iter().filter_map(Val::as_str).collect();
    Ok(Val::string(texts.join(glue)))
}

fn keys<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    let members = args[0].entries().unwrap_or_default();
    Ok(Val::array(
        members.into_iter().map(|(k, _)| Val::Str(k)).collect(),
    ))
}

fn values<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    let members = args[0].entries().unwrap_or_default();
    Ok(Val::array(members.into_iter().map(|(_, v)| v).collect()))
}

fn length<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    let n = match &args[0] {
        Val::Str(s) => s.chars().count(),
        other => other
            .array_len()
            .or_else(|| other.object_len())
            .unwrap_or_default(),
    };
    Ok(Val::Number(n.into()))
}

fn map<'a>(args: &[Val<'a>], depth: usize) -> Out<'a> {
    let node = expref(&args[0])?;
    let mapped = items(&args[1])
        .iter()
        .map(|item| eval(node, item, depth))
        .collect::<Result<_, _>>()?;
    Ok(Val::array(mapped))
}

fn max<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    // A later item equal to the best so far takes its place (`std::cmp::max`).
    Ok(items(&args[0])
        .into_iter()
        .reduce(|best, item| {
            if item.order(&best).is_ge() {
                item
            } else {
                best
            }
        })
        .unwrap_or(Val::Null))
}

fn min<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    Ok(items(&args[0])
        .into_iter()
        .reduce(|best, item| {
            if item.order(&best).is_lt() {
                item
            } else {
                best
            }
        })
        .unwrap_or(Val::Null))
}

/// Each item with its key by `node`; the keys must all be strings or all numbers.
fn keyed<'a>(
    list: Vec<Val<'a>>,
    node: &'a super::node::Node,
    depth: usize,
) -> Result<Vec<(Val<'a>, Val<'a>)>, String> {
    let mut out = Vec::with_capacity(list.len());
    let mut kind = None;
    for item in list {
        let key = eval(node, &item, depth)?;
        let expected = *kind.get_or_insert(key.kind());
        if !matches!(expected, Kind::String | Kind::Number) || key.kind() != expected {
            return Err(format!(
                "the expression must give a string or a number for every item (all of one type), not {}",
                key.kind().name()
            ));
        }
        out.push((item, key));
    }
    Ok(out)
}

fn max_by<'a>(args: &[Val<'a>], depth: usize) -> Out<'a> {
    let pairs = keyed(items(&args[0]), expref(&args[1])?, depth)?;
    Ok(pairs
        .into_iter()
        .reduce(|best, next| {
            if next.1.order(&best.1).is_gt() {
                next
            } else {
                best
            }
        })
        .map_or(Val::Null, |(item, _)| item))
}

fn min_by<'a>(args: &[Val<'a>], depth: usize) -> Out<'a> {
    let pairs = keyed(items(&args[0]), expref(&args[1])?, depth)?;
    Ok(pairs
        .into_iter()
        .reduce(|best, next| {
            if next.1.order(&best.1).is_lt() {
                next
            } else {
                best
            }
        })
        .map_or(Val::Null, |(item, _)| item))
}

fn merge<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    let mut merged = BTreeMap::new();
    for arg in args {
        merged.extend(arg.entries().unwrap_or_default());
    }
    Ok(Val::object(merged))
}

fn first_not_null<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    Ok(args
        .iter()
        .find(|a| !a.is_null())
        .cloned()
        .unwrap_or(Val::Null))
}

fn reverse<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    Ok(match args[0].items() {
        Some(mut list) => {
            list.reverse();
            Val::array(list)
        }
        None => Val::string(args[0].as_str().unwrap_or_default().chars().rev().collect()),
    })
}

fn sort<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    let mut list = items(&args[0]);
    list.sort_by(|a, b| a.order(b));
    Ok(Val::array(list))
}

fn sort_by<'a>(args: &[Val<'a>], depth: usize) -> Out<'a> {
    let list = items(&args[0]);
    if list.is_empty() {
        return Ok(Val::array(list));
    }
    let mut pairs = keyed(list, expref(&args[1])?, depth)?;
    pairs.sort_by(|a, b| a.1.order(&b.1));
    Ok(Val::array(
        pairs.into_iter().map(|(item, _)| item).collect(),
    ))
}

fn sum<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    number(
        items(&args[0])
            .iter()
            .map(|v| v.as_f64().unwrap_or(0.0))
            .sum(),
    )
}

fn to_array<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    Ok(match args[0].kind() {
        Kind::Array => args[0].clone(),
        _ => Val::array(vec![args[0].clone()]),
    })
}

fn to_number<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    // As the jmespath crate does, a string is read as JSON text: `"12"` gives 12.
    Ok(match &args[0] {
        Val::Number(_) => args[0].clone(),
        Val::Str(text) => serde_json::from_str::<Value>(text).map_or(Val::Null, Val::owned),
        _ => Val::Null,
    })
}

fn to_string<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    Ok(match &args[0] {
        Val::Str(_) => args[0].clone(),
        other => Val::string(other.to_json().to_string()),
    })
}

fn type_name<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    Ok(Val::Str(Cow::Borrowed(args[0].kind().name())))
}

/// The largest position `place_at` fills up to: positional forms are short, and a position
/// read from input must not size an allocation.
const MAX_POSITION: usize = 10_000;

fn place_at<'a>(args: &[Val<'a>], depth: usize) -> Out<'a> {
    let Some(list) = args[0].items() else {
        return Ok(Val::Null);
    };
    let node = expref(&args[1])?;
    let mut placed: Vec<(usize, Val<'a>)> = Vec::with_capacity(list.len());
    for item in list {
        let found = eval(node, &item, depth)?;
        let position = match &found {
            Val::Number(n) => n.as_f64(),
            Val::Str(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|p| p.fract() == 0.0 && (0.0..=MAX_POSITION as f64).contains(p));
        let Some(position) = position else {
            return Err(format!(
                "expected a position from 0 to {MAX_POSITION}, not {}",
                found.to_json()
            ));
        };
        placed.push((position as usize, item));
    }
    let length = placed.iter().map(|(p, _)| p + 1).max().unwrap_or(0);
    let mut out = vec![args[2].clone(); length];
    for (position, item) in placed {
        out[position] = item;
    }
    Ok(Val::array(out))
}

fn compact<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    Ok(match args[0].items() {
        Some(list) => Val::array(list.into_iter().filter(|v| !v.is_null()).collect()),
        None => Val::Null,
    })
}

fn get<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    Ok(match args[1].as_str() {
        Some(key) => args[0].field(key),
        None => Val::Null,
    })
}

fn map_string<'a>(value: &Val<'a>, f: impl Fn(&str) -> Option<String>) -> Out<'a> {
    Ok(value.as_str().and_then(f).map_or(Val::Null, Val::string))
}

fn lower<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    map_string(&args[0], |s| Some(s.to_lowercase()))
}

fn upper<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    map_string(&args[0], |s| Some(s.to_uppercase()))
}

/// An object built from named members.
fn record<'a, const N: usize>(members: [(&'static str, Val<'a>); N]) -> Val<'a> {
    Val::object(
        members
            .into_iter()
            .map(|(k, v)| (Cow::Borrowed(k), v))
            .collect(),
    )
}

fn split_name<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    let Some(name) = args[0].as_str() else {
        return Ok(Val::Null);
    };
    let mut words = name.split_whitespace();
    let first = words
        .next()
        .map_or(Val::Null, |w| Val::string(w.to_owned()));
    let rest: Vec<&str> = words.collect();
    let last = if rest.is_empty() {
        Val::Null
    } else {
        Val::string(rest.join(" "))
    };
    Ok(record([("first", first), ("last", last)]))
}

fn url_host<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    map_string(&args[0], |s| {
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

fn ms_to_rfc3339<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    let Some(ms) = args[0].as_f64() else {
        return Ok(Val::Null);
    };
    let nanos = (ms as i128) * 1_000_000;
    let time = OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .map_err(|e| format!("expected a timestamp in range ({e})"))?;
    Ok(Val::string(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second(),
        time.millisecond()
    )))
}

fn rfc3339_to_ms<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    let Some(text) = args[0].as_str() else {
        return Ok(Val::Null);
    };
    let time = OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| format!("expected an RFC 3339 date-time ({e})"))?;
    let ms = (time.unix_timestamp_nanos() / 1_000_000) as i64;
    Ok(Val::Number(ms.into()))
}

fn from_entries<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    let Some(list) = args[0].items() else {
        return Ok(Val::Null);
    };
    let mut map = BTreeMap::new();
    for entry in list.iter().filter(|e| e.kind() == Kind::Object) {
        if let Val::Str(key) = entry.field("key") {
            map.insert(key, entry.field("value"));
        }
    }
    Ok(Val::object(map))
}

fn group_by<'a>(args: &[Val<'a>], depth: usize) -> Out<'a> {
    let Some(list) = args[0].items() else {
        return Ok(Val::Null);
    };
    let node = expref(&args[1])?;
    let mut groups: Vec<(Val<'a>, Vec<Val<'a>>)> = Vec::new();
    let mut index: HashMap<KeyVal, usize> = HashMap::new();
    for item in list {
        let key = eval(node, &item, depth)?;
        match index.entry(KeyVal::of(&key)) {
            Entry::Occupied(group) => groups[*group.get()].1.push(item),
            Entry::Vacant(slot) => {
                slot.insert(groups.len());
                groups.push((key, vec![item]));
            }
        }
    }
    Ok(Val::array(
        groups
            .into_iter()
            .map(|(key, members)| record([("items", Val::array(members)), ("key", key)]))
            .collect(),
    ))
}

fn overlay<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    let (Some(mut base), Some(patch)) = (args[0].to_map(), args[1].entries()) else {
        return Ok(if args[0].is_null() {
            args[1].clone()
        } else {
            args[0].clone()
        });
    };
    for (key, value) in patch {
        if !value.is_null() {
            base.insert(key, value);
        }
    }
    Ok(Val::object(base))
}

fn find_by<'a>(args: &[Val<'a>], depth: usize) -> Out<'a> {
    let Some(list) = args[0].items() else {
        return Ok(Val::Null);
    };
    let node = expref(&args[1])?;
    let wanted = &args[2];
    if wanted.is_null() {
        return Ok(Val::Null);
    }
    for item in list {
        let found = eval(node, &item, depth)?;
        let matches = found.equals(wanted)
            || found
                .items()
                .is_some_and(|a| a.iter().any(|x| x.equals(wanted)));
        if matches {
            return Ok(item);
        }
    }
    Ok(Val::Null)
}

fn enumerate<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    let Some(list) = args[0].items() else {
        return Ok(Val::Null);
    };
    Ok(Val::array(
        list.into_iter()
            .enumerate()
            .map(|(index, item)| record([("index", Val::Number(index.into())), ("item", item)]))
            .collect(),
    ))
}

fn to_entries<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    let Some(members) = args[0].entries() else {
        return Ok(Val::Null);
    };
    Ok(Val::array(
        members
            .into_iter()
            .map(|(key, value)| record([("key", Val::Str(key)), ("value", value)]))
            .collect(),
    ))
}

fn pair_each<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    let Some(list) = args[0].items() else {
        return Ok(Val::Null);
    };
    Ok(Val::array(
        list.into_iter()
            .map(|item| record([("item", item), ("shared", args[1].clone())]))
            .collect(),
    ))
}

fn merge_by<'a>(args: &[Val<'a>], _: usize) -> Out<'a> {
    let base = items(&args[0]);
    let extra = items(&args[1]);
    let key = args[2].as_str().unwrap_or_default();
    // The key's value when the item is an object holding it (null included).
    let key_of = |v: &Val<'a>| {
        let present = match v {
            Val::JsonObject(map) => map.contains_key(key),
            Val::Object(map) => map.contains_key(key),
            Val::Bindings(map) => map.contains_key(key),
            Val::Masked(value, _) => value.get(key).is_some(),
            _ => false,
        };
        present.then(|| KeyVal::of(&v.field(key)))
    };
    // Where each key first appears in `out`; items without the key are never replaced.
    let mut first: HashMap<KeyVal, usize> = HashMap::new();
    for (i, item) in base.iter().enumerate() {
        if let Some(k) = key_of(item) {
            first.entry(k).or_insert(i);
        }
    }
    let mut out = base;
    for item in extra {
        match key_of(&item) {
            Some(k) => match first.entry(k) {
                Entry::Occupied(at) => out[*at.get()] = item,
                Entry::Vacant(slot) => {
                    slot.insert(out.len());
                    out.push(item);
                }
            },
            None => out.push(item),
        }
    }
    Ok(Val::array(out))
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
