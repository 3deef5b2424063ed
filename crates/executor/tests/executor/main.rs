//! End-to-end tests of the executor against the fake Lever on loopback, with the repository's
//! real Lever mapping. One binary; each module is one concern.

mod common;

mod auth;
mod content_type;
mod embedded_files;
mod errors;
mod files;
mod json_api;
mod lever_paths;
mod limits;
mod oauth;
mod observer;
mod pages;
mod proxy;
mod rate_limit;
mod retries;
