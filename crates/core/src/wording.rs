//! How messages in every crate spell things: one home, so they all read alike.

use std::fmt::Display;

/// `` `a`, `b`, `c` ``: names in backticks, comma-separated.
pub fn backticked<T: Display>(names: impl IntoIterator<Item = T>) -> String {
    names
        .into_iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_backticked_and_comma_separated() {
        assert_eq!(backticked(["a", "b"]), "`a`, `b`");
        assert_eq!(backticked(Vec::<String>::new()), "");
    }
}
