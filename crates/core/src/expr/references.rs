//! What a JMESPath expression reads from its root, and which functions it calls: checked at load.

use jmespath::ast::Ast;

/// A name an expression reads from its root, with the key below it when there is one
/// (`steps.apply…` is `{root: "steps", key: Some("apply")}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    /// The first name.
    pub(crate) root: String,
    /// The second name, when the expression goes on with a plain field.
    pub(crate) key: Option<String>,
}

/// Every function name the expression calls.
pub(crate) fn functions(ast: &Ast) -> Vec<String> {
    let mut names = Vec::new();
    visit(ast, &mut |node| {
        if let Ast::Function { name, .. } = node {
            names.push(name.clone());
        }
    });
    names
}

/// Whether the expression holds `!a.b`, which this JMESPath parser reads as `(!a).b`: almost
/// never what the author meant.
pub(crate) fn has_ambiguous_not(ast: &Ast) -> bool {
    let mut found = false;
    visit(ast, &mut |node| {
        if let Ast::Subexpr { lhs, .. } | Ast::Projection { lhs, .. } = node
            && matches!(lhs.as_ref(), Ast::Not { .. })
        {
            found = true;
        }
    });
    found
}

/// Every name the expression reads from its root (not from inside projections).
pub(crate) fn roots(ast: &Ast) -> Vec<Reference> {
    let mut found = Vec::new();
    collect_roots(ast, &mut found);
    found
}

fn collect_roots(ast: &Ast, found: &mut Vec<Reference>) {
    if let Some(chain) = field_chain(ast) {
        found.push(Reference {
            root: chain[0].to_owned(),
            key: chain.get(1).map(|k| (*k).to_owned()),
        });
        return;
    }
    match ast {
        Ast::Subexpr { lhs, .. } | Ast::Projection { lhs, .. } => {
            // The right-hand side reads what the left produced, not the root.
            collect_roots(lhs, found);
        }
        Ast::Function { args, .. } => args.iter().for_each(|a| collect_roots(a, found)),
        Ast::Comparison { lhs, rhs, .. } | Ast::And { lhs, rhs, .. } | Ast::Or { lhs, rhs, .. } => {
            collect_roots(lhs, found);
            collect_roots(rhs, found);
        }
        Ast::Not { node, .. } | Ast::Flatten { node, .. } | Ast::ObjectValues { node, .. } => {
            collect_roots(node, found)
        }
        Ast::MultiList { elements, .. } => elements.iter().for_each(|e| collect_roots(e, found)),
        Ast::MultiHash { elements, .. } => elements
            .iter()
            .for_each(|kv| collect_roots(&kv.value, found)),
        Ast::Condition {
            predicate, then, ..
        } => {
            collect_roots(predicate, found);
            collect_roots(then, found);
        }
        Ast::Field { .. }
        | Ast::Identity { .. }
        | Ast::Expref { .. }
        | Ast::Index { .. }
        | Ast::Literal { .. }
        | Ast::Slice { .. } => {}
    }
}

/// `a.b[0].c` as `["a", "b", "c"]`: the plain fields leading the expression, or `None` when it
/// starts with something else.
fn field_chain(ast: &Ast) -> Option<Vec<&str>> {
    let mut chain = Vec::new();
    leading_fields(ast, &mut chain);
    (!chain.is_empty()).then_some(chain)
}

/// Appends the leading plain fields of `ast`; returns whether the chain may go on after it.
fn leading_fields<'a>(ast: &'a Ast, chain: &mut Vec<&'a str>) -> bool {
    match ast {
        Ast::Field { name, .. } => {
            chain.push(name);
            true
        }
        Ast::Subexpr { lhs, rhs, .. } => leading_fields(lhs, chain) && leading_fields(rhs, chain),
        Ast::Index { .. } => true,
        Ast::Projection { lhs, .. } | Ast::Flatten { node: lhs, .. } => {
            leading_fields(lhs, chain);
            false
        }
        _ => false,
    }
}

fn visit(ast: &Ast, f: &mut impl FnMut(&Ast)) {
    f(ast);
    match ast {
        Ast::Comparison { lhs, rhs, .. }
        | Ast::And { lhs, rhs, .. }
        | Ast::Or { lhs, rhs, .. }
        | Ast::Projection { lhs, rhs, .. }
        | Ast::Subexpr { lhs, rhs, .. } => {
            visit(lhs, f);
            visit(rhs, f);
        }
        Ast::Condition {
            predicate, then, ..
        } => {
            visit(predicate, f);
            visit(then, f);
        }
        Ast::Expref { ast, .. } => visit(ast, f),
        Ast::Flatten { node, .. } | Ast::Not { node, .. } | Ast::ObjectValues { node, .. } => {
            visit(node, f)
        }
        Ast::Function { args, .. } => args.iter().for_each(|a| visit(a, f)),
        Ast::MultiList { elements, .. } => elements.iter().for_each(|e| visit(e, f)),
        Ast::MultiHash { elements, .. } => elements.iter().for_each(|kv| visit(&kv.value, f)),
        Ast::Field { .. }
        | Ast::Identity { .. }
        | Ast::Index { .. }
        | Ast::Literal { .. }
        | Ast::Slice { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(expr: &str) -> Vec<(String, Option<String>)> {
        roots(&jmespath::parse(expr).unwrap())
            .into_iter()
            .map(|r| (r.root, r.key))
            .collect()
    }

    #[test]
    fn finds_root_reads_but_not_projection_reads() {
        assert_eq!(
            names("body.emails[?type].email"),
            vec![("body".to_owned(), Some("emails".to_owned()))]
        );
        assert_eq!(
            names("join(' ', [body.first_name, body.last_name][?@])"),
            vec![
                ("body".to_owned(), Some("first_name".to_owned())),
                ("body".to_owned(), Some("last_name".to_owned()))
            ]
        );
        assert_eq!(
            names("steps.apply.response.data"),
            vec![("steps".to_owned(), Some("apply".to_owned()))]
        );
        assert_eq!(names("tags[].name"), vec![("tags".to_owned(), None)]);
    }

    #[test]
    fn flags_not_before_a_path() {
        assert!(has_ambiguous_not(
            &jmespath::parse("!item.name || x").unwrap()
        ));
        assert!(!has_ambiguous_not(
            &jmespath::parse("!(item.name) || !x").unwrap()
        ));
        assert!(!has_ambiguous_not(
            &jmespath::parse("a[?!contains(b, c)]").unwrap()
        ));
    }

    #[test]
    fn lists_called_functions() {
        let ast = jmespath::parse("lower(coalesce(a, sort_by(b, &c)[0]))").unwrap();
        assert_eq!(functions(&ast), vec!["lower", "coalesce", "sort_by"]);
    }
}
