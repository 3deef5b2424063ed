//! Switchboard's mapping engine: load YAML mappings, compile them once into plans, and run a
//! plan as a sans-IO state machine — render provider requests, map provider answers back to the
//! unified shape. No I/O happens here beyond reading the mapping files.
//!
//! ```no_run
//! use std::path::Path;
//! use switchboard_core::{Next, ProviderResponse, Registry, RunInput};
//!
//! let registry = Registry::load_dirs(Path::new("mappings"), Path::new("schemas"))
//!     .unwrap_or_else(|problems| panic!("{problems}"));
//! let plan = registry.method("acme", "ats/candidates", "create").expect("mapped");
//! let input = RunInput {
//!     query: serde_json::from_value(serde_json::json!({"job_id": "posting-1"})).unwrap(),
//!     body: serde_json::json!({"first_name": "Ada", "emails": [{"email": "ada@example.com"}],
//!                              "job_form_field_answers": []}),
//!     ..RunInput::default()
//! };
//! let (mut run, mut next) = plan.start(input).expect("valid input");
//! while let Next::Send(request) = next {
//!     // Send `request` with any HTTP client, then hand back what came back.
//!     let response = ProviderResponse { status: 200, headers: vec![], body: serde_json::json!({}) };
//!     next = run.resume(response).expect("mapped");
//! }
//! ```

mod auth;
mod compile;
mod diagnostic;
mod drive;
mod error;
mod expr;
mod http;
mod loader;
mod lookup;
mod model;
mod plan;
mod policy;
mod prepare;
mod query_string;
mod run;
mod schema;
mod source;
mod wording;

pub use auth::AuthScheme;
pub use compile::Registry;
pub use diagnostic::{Diagnostic, Diagnostics};
pub use drive::DriveError;
pub use error::{
    InputLocation, InputProblem, ProblemKind, ProviderError, RunError, Warning, summarize_problems,
};
pub use http::is_http_url;
pub use http::{HttpMethod, MultipartPart, ProviderRequest, ProviderResponse, RequestBody};
pub use lookup::LookupError;
pub use plan::{
    ConditionalRequirement, DEFAULT_ENVIRONMENT, FieldSupport, IntegrationPlan, MethodPlan,
};
pub use policy::{FileLimits, RateLimit, ResponseLimits, RetryPolicy, Support, Timeouts};
pub use prepare::{
    AccountError, Connection, Endpoint, Header, HeaderPart, PrepareError, PreparedRequest,
};
pub use query_string::{
    MAX_QUERY_DEPTH, MAX_QUERY_KEY_BYTES, MAX_QUERY_PARAMETERS, QueryStringError,
    QueryStringProblem, parse_query_string,
};
pub use run::{CompletedStep, Next, Run, RunInput, UnifiedOutput};
pub use schema::UnifiedSchema;
pub use source::SourceFile;
pub use wording::backticked;

/// The JSON Schemas of the two mapping file formats, generated from the loader's types, by the
/// file name they are written to under `schemas/`: `mapping.schema.json` for
/// `<integration>/<model>/<resource>.yaml` and `integration.schema.json` for `integration.yaml`.
pub fn format_schemas() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        (
            "mapping.schema.json",
            loader::format_schema::<model::MappingFile>(),
        ),
        (
            "integration.schema.json",
            loader::format_schema::<model::IntegrationFile>(),
        ),
    ]
}
