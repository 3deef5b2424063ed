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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Evaluates `text` over `data` with the engine.
    fn ours(text: &str, data: &Value) -> Result<Value, String> {
        let ast = jmespath::parse(text).map_err(|e| e.to_string())?;
        let node = compile(&ast)?;
        eval(&node, &Val::of(data)).map(|v| v.to_json())
    }

    /// Evaluates `text` over `data` with the jmespath crate's own interpreter.
    fn theirs(text: &str, data: &Value) -> Result<Value, String> {
        let expression = jmespath::compile(text).map_err(|e| e.to_string())?;
        let variable = jmespath::Variable::try_from(data).map_err(|e| e.to_string())?;
        expression
            .search(variable)
            .map(|v| crate::expr::from_jmes(&v))
            .map_err(|e| e.to_string())
    }

    fn document() -> Value {
        json!({
            "z": 1, "a": {"y": [1, 2], "b": {"c": "d"}},
            "people": [
                {"name": "b", "age": 30, "tags": ["x", "y"], "nested": [[1, 2], [3]]},
                {"name": "a", "age": 25.5, "tags": [], "nested": [4, [5, [6]]]},
                {"name": "c", "tags": null, "nested": null},
                "not an object", null, 7
            ],
            "numbers": [3, 1.5, -2, 1e3, 0],
            "words": ["pear", "apple", "Zed", ""],
            "mixed": [1, "1", true, null, [1], {"a": 1}],
            "empty": {"array": [], "object": {}, "string": ""},
            "n": 2, "f": 2.0, "s": "2", "t": true, "nil": null
        })
    }

    /// Every expression gives what the jmespath crate gives: same value, or an error both ways.
    #[test]
    fn agrees_with_the_jmespath_crate() {
        let data = document();
        let expressions = [
            // Fields, indexes, null propagation.
            "a.b.c",
            "a.b.c.d",
            "missing.x.y",
            "a.y[0]",
            "a.y[-1]",
            "a.y[-3]",
            "a.y[5]",
            "z[0]",
            "people[0].tags[1]",
            "nil.x",
            "a.y.x",
            // Projections, filters, flatten, slices.
            "people[*].name",
            "people[].age",
            "people[?age > `26`].name",
            "people[?tags].name",
            "people[?!tags]",
            "people[].nested[]",
            "people[].nested[][]",
            "people[*].nested[*][0]",
            "a.*",
            "a.*.c",
            "*.b",
            "numbers[1:3]",
            "numbers[::-1]",
            "numbers[::2]",
            "numbers[-2:]",
            "numbers[5:1:-1]",
            "words[::-2]",
            "a.y[:]",
            "people[?name == 'a'] | [0].age",
            "people[0:2].{n: name, t: tags[0]}",
            "[a.y, z]",
            "{k: z, m: missing}",
            "missing.[a, b]",
            "missing.{a: a}",
            "people[?age >= `25.5`].name",
            "numbers[?@ < `1`]",
            // Comparisons of mixed types, equality of numbers.
            "n == f",
            "n == s",
            "s == `\"2\"`",
            "mixed[0] == mixed[1]",
            "n < s",
            "t > n",
            "nil == missing",
            "a == a",
            "a.y == `[1, 2.0]`",
            "empty.object == `{}`",
            "numbers[0] <= `3`",
            "words[0] < words[1]",
            // Boolean logic and truthiness.
            "empty.array || 'fallback'",
            "empty.string && 'x'",
            "!empty.object",
            "!nil",
            "t && n",
            "nil || missing",
            "z && a.b",
            // Built-in functions, good and wrong arguments.
            "length(words)",
            "length(a)",
            "length('héllo')",
            "length(`5`)",
            "abs(numbers[2])",
            "avg(numbers)",
            "avg(`[]`)",
            "ceil(`1.2`)",
            "floor(numbers[1])",
            "sum(numbers)",
            "contains(words, 'pear')",
            "contains('foobar', 'oba')",
            "contains('x', `1`)",
            "contains(`5`, 'x')",
            "ends_with('foobar', 'bar')",
            "starts_with(words[0], 'p')",
            "starts_with(`1`, 'p')",
            "join(', ', words)",
            "join(', ', mixed)",
            "keys(a)",
            "values(a)",
            "keys(words)",
            "map(&name, people[0:2])",
            "map(&name, z)",
            "max(numbers)",
            "min(numbers)",
            "max(words)",
            "min(`[]`)",
            "max(mixed)",
            "max_by(people[0:2], &age).name",
            "min_by(people[0:2], &age).name",
            "max_by(people[0:3], &age)",
            "merge(a, `{\"z\": 9}`, `{\"a\": null}`)",
            "merge(a, words)",
            "not_null(nil, missing, `0`)",
            "not_null(nil)",
            "reverse(words)",
            "reverse('abc')",
            "sort(numbers)",
            "sort(words)",
            "sort(mixed)",
            "sort_by(people[0:2], &age)[].name",
            "sort_by(people[0:2], &name)[].name",
            "sort_by(people, &age)",
            "sort_by(`[]`, &x)",
            "to_array(z)",
            "to_array(words)",
            "to_number('12')",
            "to_number('1.5e2')",
            "to_number('x')",
            "to_number('\"s\"')",
            "to_number(t)",
            "to_number(n)",
            "to_string(a)",
            "to_string(n)",
            "to_string(s)",
            "type(nil)",
            "type(a)",
            "type(words)",
            "type(t)",
            "type(f)",
            "type(s)",
            "abs('x')",
            "length()",
            "length(words, words)",
            "numbers[0:1:0]",
            // Literals and constant sub-expressions.
            "`{\"b\": 1, \"a\": [2]}`",
            "`{\"b\": 1}`.b",
            "length(`[1, 2, 3]`)",
            "`1` == `1.0`",
            "!`false`",
            "'lit' || z",
            "[`1`, `2`]",
            "{a: `1`}",
        ];
        for text in expressions {
            let (mine, reference) = (ours(text, &data), theirs(text, &data));
            match (&mine, &reference) {
                (Ok(a), Ok(b)) => assert_eq!(
                    serde_json::to_string(a).unwrap(),
                    serde_json::to_string(b).unwrap(),
                    "`{text}`"
                ),
                (Err(_), Err(_)) => {}
                _ => panic!("`{text}`: ours {mine:?}, the jmespath crate's {reference:?}"),
            }
        }
    }

    #[test]
    fn objects_come_out_in_key_order_and_literals_are_folded() {
        let data = json!({"b": 1, "a": {"d": 2, "c": 3}});
        assert_eq!(
            serde_json::to_string(&ours("@", &data).unwrap()).unwrap(),
            r#"{"a":{"c":3,"d":2},"b":1}"#
        );
        let ast = jmespath::parse("length(`[1, 2]`) > `1` && `{\"x\": 5}`.x").unwrap();
        assert!(matches!(compile(&ast).unwrap(), Node::Literal(v) if v == json!(5)));
        // `[a]` is null on null data, so a list is never folded.
        let ast = jmespath::parse("[`1`]").unwrap();
        assert!(matches!(compile(&ast).unwrap(), Node::MultiList(_)));
    }

    #[test]
    fn deep_expressions_are_refused_at_load_not_overflowing_the_stack() {
        let chain = "a.".repeat(300) + "b";
        let lists = format!("{}a{}", "[".repeat(200), "]".repeat(200));
        let nots = format!("{}a", "!".repeat(200));
        for text in [chain, lists, nots] {
            let ast = jmespath::parse(&text).expect("parses");
            assert!(compile(&ast).is_err(), "`{}…` is accepted", &text[..10]);
        }
        let ast = jmespath::parse(&("a.".repeat(100) + "b")).expect("parses");
        assert!(compile(&ast).is_ok());
    }
}
