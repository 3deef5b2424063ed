//! End-to-end tests: the server on 127.0.0.1:0 in-process, the real executor, and the testkit's
//! fake Lever. One binary, one module per concern.

mod accounts;
mod common;
mod contract;
mod deadlines;
mod destinations;
mod errors;
mod formats;
mod hostile_bodies;
mod http;
mod idempotency;
mod lever;
mod lookups;
mod metrics;
mod oauth;
mod openapi_truth;
mod operations;
mod reads;
mod request_log;
mod run_input;
mod scopes;
mod strict;
