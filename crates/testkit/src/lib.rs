//! Test support for Switchboard (not published).
//!
//! - [`golden`]: load golden cases from `tests/golden/...`, run them through a plan with recorded
//!   provider responses, compare canonical JSON exactly, and rewrite expected files on bless.
//! - [`fake_oauth`]: a fake OAuth 2.0 token endpoint and protected API (expiry, refresh, rotation,
//!   `invalid_grant`), with counters.
//! - [`record`]: record mode, a golden case's provider answers produced by the fake Lever.
//! - [`fake_lever`]: an in-process HTTP server on `127.0.0.1:0` that behaves like Lever's Data API
//!   as far as Switchboard's mappings use it, with scriptable faults and call counters.
//!
//! ```no_run
//! use switchboard_testkit::fake_lever::{FakeLever, Fault};
//!
//! # async fn example() {
//! let lever = FakeLever::start().await;
//! lever.script(Fault::status("POST", "/v1/opportunities", 429).retry_after("1").times(1));
//! // … point an account at `lever.base_url()` with `FakeLever::API_KEY`, run a create …
//! assert_eq!(lever.count("POST", "/v1/opportunities"), 2);
//! # }
//! ```

pub mod fake_lever;
pub mod fake_oauth;
pub mod golden;
pub mod listener;
pub mod record;
