// The crate's documentation (the embedding guide and the driver contract) lives in a file of its
// own: its example runs against a shipped mapping, and engine sources name no provider.
#![doc = include_str!("../docs/embedding.md")]

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
pub use auth::oauth::{
    CLIENT_CREDENTIALS_TOKEN_SLOT, ClientAuthentication, OAuthFlow, OAuthGrant, TokenParameters,
};
pub use compile::Registry;
pub use diagnostic::{Diagnostic, Diagnostics};
pub use drive::DriveError;
pub use error::{
    InputLocation, InputProblem, ProblemKind, ProviderError, RunError, Warning, summarize_problems,
};
pub use http::is_http_url;
pub use http::{
    EmbeddedFile, HttpMethod, MultipartPart, ProviderRequest, ProviderResponse, RequestBody,
};
pub use lookup::LookupError;
pub use plan::{
    ConditionalRequirement, DEFAULT_ENVIRONMENT, FieldSupport, GET_METHOD, IntegrationPlan,
    LIST_METHOD, MethodPlan,
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
pub use wording::backticked;

/// What the `switchboard` CLI and other tooling use besides the run-time API: the mapping files'
/// own JSON Schemas, and source files read into memory (what [`Registry::load`] takes).
pub mod tooling {
    pub use crate::source::SourceFile;

    /// The JSON Schemas of the two mapping file formats, generated from the loader's types, by
    /// the file name they are written to under `schemas/`: `mapping.schema.json` for
    /// `<integration>/<model>/<resource>.yaml` and `integration.schema.json` for
    /// `integration.yaml`.
    #[cfg(feature = "format-check")]
    pub fn format_schemas() -> Vec<(&'static str, serde_json::Value)> {
        vec![
            (
                "mapping.schema.json",
                crate::loader::format_schema::<crate::model::MappingFile>(),
            ),
            (
                "integration.schema.json",
                crate::loader::format_schema::<crate::model::IntegrationFile>(),
            ),
        ]
    }
}
