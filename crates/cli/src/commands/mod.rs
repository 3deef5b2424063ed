//! One module per subcommand.

pub(crate) mod accounts;
pub(crate) mod check;
pub(crate) mod fields;
pub(crate) mod keys;
pub(crate) mod migrate;
pub(crate) mod render;
pub(crate) mod schema;
pub(crate) mod serve;
pub(crate) mod tokens;
