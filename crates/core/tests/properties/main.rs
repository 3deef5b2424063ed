//! Property tests of the engine's entry points: whatever a client, a mapping author or a provider
//! sends, the engine answers with a value or an error — never a panic, never unbounded work. The
//! same entry points are fuzzed by the `cargo fuzz` targets under `fuzz/` (see the README).
//!
//! Case counts are kept small (see each `ProptestConfig`) so the whole file stays quick in a
//! debug build; `PROPTEST_CASES=10000 cargo test -p switchboard-core --test properties` runs more.

mod expressions;
mod loading;
mod plan_run;
mod query_string;
mod support;
