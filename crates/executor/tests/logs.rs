//! What the executor logs, in a test process of its own: `tracing` caches whether a log line is
//! enabled the first time any thread reaches it, so a capture that shares its process with other
//! tests can miss lines those tests reached first (tokio-rs/tracing#3611).

#[allow(
    dead_code,
    reason = "shared helpers of the executor tests; this binary uses a few"
)]
#[path = "executor/common.rs"]
mod common;

#[path = "executor/logs.rs"]
mod logs;
