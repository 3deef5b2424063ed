//! Test support for Switchboard (not published).
//!
//! - [`golden`]: load golden cases from `tests/golden/...`, run them through a plan with recorded
//!   provider responses, compare canonical JSON exactly, and rewrite expected files on bless.
//! - [`fake_lever`]: an in-process HTTP server on `127.0.0.1:0` that behaves like Lever's Data API
//!   as far as Switchboard's mappings use it, with scriptable faults and call counters.

pub mod fake_lever;
pub mod golden;
