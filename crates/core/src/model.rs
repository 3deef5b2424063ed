//! The mapping-file format, as serde reads it. These types mirror the YAML and are used only at
//! load; plans hold compiled forms. The JSON Schema of the format is generated from them.

use std::collections::BTreeMap;

#[cfg(feature = "format-check")]
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::policy::{FileLimits, ResponseLimits, RetryPolicy, Timeouts};

/// `mappings/<integration>/<model>/<resource>.yaml`: how one unified resource maps onto one
/// integration.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(
    feature = "format-check",
    schemars(title = "Switchboard resource mapping")
)]
pub(crate) struct MappingFile {
    /// The format version; `1`.
    pub(crate) version: u32,
    /// Named values any expression may read as `constants.<name>` (lookup tables, fixed lists).
    #[serde(default)]
    pub(crate) constants: BTreeMap<String, Value>,
    /// The unified methods this integration implements for the resource (`create`, `list`, …).
    pub(crate) methods: BTreeMap<String, MethodSpec>,
}

/// One unified method on one integration.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct MethodSpec {
    /// A link to the provider's documentation for what this method calls.
    #[serde(default)]
    pub(crate) documentation: Option<String>,
    /// Unified query parameters this integration supports, and which it requires.
    #[serde(default)]
    pub(crate) query: BTreeMap<String, FieldSpec>,
    /// Unified body fields this integration supports, and which it requires. A field left out is
    /// unsupported: a caller who sends it gets a warning.
    #[serde(default)]
    pub(crate) body: BTreeMap<String, FieldSpec>,
    /// Requirements that hold only under a condition, each with its reason.
    #[serde(default)]
    pub(crate) requires: Vec<RequireSpec>,
    /// Conditions under which a supplied field cannot be carried (a warning, not a silent drop).
    #[serde(default)]
    pub(crate) warns: Vec<WarnSpec>,
    /// Conditions under which a given value is invalid for this integration (an input error).
    #[serde(default)]
    pub(crate) rejects: Vec<RejectSpec>,
    /// The provider calls, in order.
    pub(crate) steps: Vec<StepSpec>,
    /// How to build the unified response.
    pub(crate) response: ResponseSpec,
    /// How to read this method's provider errors, when it differs from the integration's.
    #[serde(default)]
    pub(crate) errors: Option<ErrorSpec>,
}

/// A field's support: a bare word, or an object with details.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(untagged)]
pub(crate) enum FieldSpec {
    /// `supported`, `required` or `unsupported`.
    Short(Support),
    /// Support plus details.
    Detailed(FieldDetail),
}

/// Whether an integration can carry a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub(crate) enum Support {
    /// Carried when given.
    Supported,
    /// Carried, and must be given.
    Required,
    /// Not carried; a caller who sends it gets a warning.
    Unsupported,
}

/// Support with details.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct FieldDetail {
    /// Whether the field is carried.
    pub(crate) support: Support,
    /// The value used when the caller gives none (query parameters).
    #[serde(default)]
    pub(crate) default: Option<Value>,
    /// A short note for the field-support table (`lead path only`).
    #[serde(default)]
    pub(crate) note: Option<String>,
}

/// A requirement that holds only when `when` is true.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct RequireSpec {
    /// What is required, as `query.<name>`, `body.<name>` or `context.<name>`.
    pub(crate) field: String,
    /// When the requirement holds (an expression over `query`, `body`, `context`); always if absent.
    #[serde(default)]
    pub(crate) when: Option<String>,
    /// What counts as present (an expression); defaults to `field` itself being present.
    #[serde(default)]
    pub(crate) present: Option<String>,
    /// Why, shown to the caller.
    pub(crate) because: String,
}

/// A supplied field the provider cannot carry under a condition.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct WarnSpec {
    /// The field, as `query.<name>` or `body.<name>`.
    pub(crate) field: String,
    /// When the field is dropped (it is only reported when the caller gave it).
    pub(crate) when: String,
    /// Why, shown to the caller.
    pub(crate) because: String,
}

/// A given value this integration cannot accept.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct RejectSpec {
    /// The field, as `query.<name>`, `body.<name>` or `context.<name>`.
    pub(crate) field: String,
    /// When the value is invalid (an expression over `query`, `body`, `context`, and with
    /// `per_item` also `item` and `index`).
    pub(crate) when: String,
    /// Check each item of the (array) field on its own: `when` reads `item` and `index`, and the
    /// problem points at the item (`/job_form_field_answers/2`).
    #[serde(default)]
    pub(crate) per_item: bool,
    /// Why, shown to the caller.
    pub(crate) because: String,
}

/// One provider call.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct StepSpec {
    /// The step's name; later expressions read its result as `steps.<id>`.
    pub(crate) id: String,
    /// Run the step only when this expression is true.
    #[serde(default)]
    pub(crate) when: Option<String>,
    /// Run the step once per item of this array; each run reads `item` and `index`, and
    /// `steps.<id>` becomes an array of results.
    #[serde(default)]
    pub(crate) for_each: Option<String>,
    /// Merge the caller's `remote_data` into this step's JSON body and `remote_query` into its query.
    #[serde(default)]
    pub(crate) passthrough: bool,
    /// How `remote_data` merges into arrays of this step's JSON body: the dotted path of an
    /// array (`personalInformation`, `candidate.emails`) → the key its items are matched on. An
    /// item of `remote_data` replaces (deep-merged) the body's item with the same key value, or
    /// is appended. Arrays not listed are replaced by `remote_data`'s, as any other value.
    #[serde(default)]
    #[cfg_attr(feature = "format-check", schemars(with = "BTreeMap<String, String>"))]
    pub(crate) merge_by: BTreeMap<String, String>,
    /// Values the provider requires in this step's request: when merging `remote_data` loses
    /// one the mapping had built, the call is a 400 before anything is sent.
    #[serde(default)]
    pub(crate) must_send: Vec<MustSendSpec>,
    /// This step's answer is the provider's answer to the call (the create itself):
    /// `truto_response_format=raw` returns it. Without one, the last call's answer.
    #[serde(default)]
    pub(crate) primary: bool,
    /// A rate-limit bucket of the integration this call also counts against.
    #[serde(default)]
    pub(crate) rate_limit: Option<String>,
    /// The request to send.
    pub(crate) request: RequestSpec,
    /// Pick a value out of the response (reads `response`); stored as `steps.<id>.selected`.
    #[serde(default)]
    pub(crate) select: Option<String>,
    /// When `select` finds nothing: the message of the upstream error (else null is kept).
    #[serde(default)]
    pub(crate) on_empty: Option<String>,
    /// How the provider pages this call's answer. With `select` (a lookup), pages are read until
    /// `select` finds something; without, the step reads one page and its next position becomes
    /// the unified list's `next_cursor`.
    #[serde(default)]
    pub(crate) paginate: Option<crate::compile::pagination::PaginateSpec>,
    /// When `select` found nothing: read again, a bounded number of times, after a wait.
    #[serde(default)]
    pub(crate) reread: Option<crate::compile::pagination::RereadSpec>,
}

/// A value a step's request must hold after `remote_data` is merged in.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct MustSendSpec {
    /// An expression over `request` (`{body, query}`) that must give a value.
    pub(crate) present: String,
    /// Why the provider needs it.
    pub(crate) because: String,
}

/// A request template.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestSpec {
    /// The HTTP method.
    pub(crate) method: HttpMethodSpec,
    /// The path below the base URL; `{{ … }}` parts are percent-encoded.
    pub(crate) path: String,
    /// Query parameters (templates); null values are left out, arrays repeat the key.
    #[serde(default)]
    #[cfg_attr(feature = "format-check", schemars(with = "BTreeMap<String, Value>"))]
    pub(crate) query: Map<String, Value>,
    /// Headers (templates); null values are left out.
    #[serde(default)]
    #[cfg_attr(feature = "format-check", schemars(with = "BTreeMap<String, Value>"))]
    pub(crate) headers: Map<String, Value>,
    /// A JSON body (a template). Anywhere in it, an object whose only key is `$file` embeds
    /// fetched files, base64-encoded (see `BodyFileSpec`).
    #[serde(default)]
    #[cfg_attr(
        feature = "format-check",
        schemars(with = "Option<BodyTemplateSchema>")
    )]
    pub(crate) body: Option<Value>,
    /// A multipart body: part name → text template or file to fetch.
    #[serde(default)]
    pub(crate) multipart: Option<BTreeMap<String, PartSpec>>,
}

/// One multipart part.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(untagged)]
pub(crate) enum PartSpec {
    /// A text part (a template).
    Text(String),
    /// A file fetched from a URL and streamed into the part.
    File(FilePartSpec),
}

/// A file part.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct FilePartSpec {
    /// The URL to fetch (a template).
    pub(crate) fetch: String,
    /// The file name to send (a template).
    #[serde(default)]
    pub(crate) file_name: Option<String>,
    /// The content type to send (a template).
    #[serde(default)]
    pub(crate) content_type: Option<String>,
}

/// The value of a JSON body's `{"$file": …}`: files fetched by the executor and embedded in the
/// body, their content base64-encoded. The bytes are held in memory to be encoded, so each file
/// is bounded by the integration's `files.max_bytes`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct BodyFileSpec {
    /// The file (an expression): an object `{url, file_name?, content_type?}`, or a list of
    /// them (the node becomes a list, one entry per file), or null (the node is left out).
    pub(crate) from: String,
    /// What each file becomes: an object whose keys get the file's `file_name`,
    /// `content_type` or `base64` content (exactly one key gets `base64`). Without it, the
    /// file becomes its base64 content, a string.
    #[serde(default, rename = "as")]
    pub(crate) shape: Option<BTreeMap<String, FileFacetSpec>>,
}

/// One fact of an embedded file, as a key of `$file.as` receives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub(crate) enum FileFacetSpec {
    /// The file name: the input's, else the URL's last path segment.
    FileName,
    /// The content type: the input's, else the fetched answer's, else
    /// `application/octet-stream`.
    ContentType,
    /// The file's bytes, base64-encoded (standard alphabet, padded).
    Base64,
}

/// The shape of a JSON body template, for the format schema only: any JSON value, where an
/// object `{"$file": …}` embeds files.
#[cfg(feature = "format-check")]
#[derive(JsonSchema)]
#[allow(dead_code)]
#[serde(untagged)]
enum BodyTemplateSchema {
    /// Files fetched and embedded, base64-encoded.
    File(FileNodeSchema),
    /// An object of templates.
    Object(BTreeMap<String, BodyTemplateSchema>),
    /// An array of templates.
    Array(Vec<BodyTemplateSchema>),
    /// A string (possibly with `{{ expression }}` parts), number, boolean or null.
    Scalar(Value),
}

/// `{"$file": …}` in a JSON body template.
#[cfg(feature = "format-check")]
#[derive(JsonSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
struct FileNodeSchema {
    /// The files to embed.
    #[serde(rename = "$file")]
    file: BodyFileSpec,
}

/// How the unified response is built.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct ResponseSpec {
    /// The provider record to map (an expression over the run: `steps.…`).
    pub(crate) from: String,
    /// Unified field → template over the record. `remote_data` is the record itself unless given.
    #[cfg_attr(feature = "format-check", schemars(with = "BTreeMap<String, Value>"))]
    pub(crate) fields: Map<String, Value>,
}

/// How to read a provider error.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct ErrorSpec {
    /// When a response is an error (over `status`, `headers`, `response`); default: status ≥ 400.
    #[serde(default)]
    pub(crate) is_error: Option<String>,
    /// The error message (a template over `status`, `headers`, `response`).
    pub(crate) message: String,
    /// The provider's error code (a template).
    #[serde(default)]
    pub(crate) code: Option<String>,
    /// The HTTP status the unified API should answer with (a template giving a number from 400
    /// to 599), for providers whose own status says little (a 200 that is an error); when absent
    /// or null, the provider's status decides.
    #[serde(default)]
    pub(crate) status: Option<String>,
    /// Structured details of the error (a template over `status`, `headers`, `response` giving
    /// any JSON value, typically one entry per problem: a JSON:API error's `source.pointer` and
    /// `detail`); shown as the unified error's `details`. Null, `[]`, `{}` and `""` mean none.
    #[serde(default)]
    pub(crate) details: Option<String>,
}

/// `mappings/<integration>/integration.yaml`: how to reach and authenticate with a provider.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "format-check", schemars(title = "Switchboard integration"))]
pub(crate) struct IntegrationFile {
    /// The format version; `1`.
    pub(crate) version: u32,
    /// A display name.
    pub(crate) label: String,
    /// A link to the provider's API documentation.
    #[serde(default)]
    pub(crate) documentation: Option<String>,
    /// Base URL per environment (`production`, `sandbox`, …); templates over `context`.
    pub(crate) base_url: BTreeMap<String, String>,
    /// Authentication schemes; an account uses the first whose credential it holds.
    pub(crate) auth: Vec<AuthSpec>,
    /// What an integrated account's context holds.
    #[serde(default)]
    pub(crate) context: ContextSpec,
    /// Token buckets: `default` applies to every call of an account; others to steps naming them.
    #[serde(default)]
    pub(crate) rate_limits: BTreeMap<String, RateLimitSpec>,
    /// When and how to retry.
    #[serde(default)]
    pub(crate) retry: RetrySpec,
    /// Timeouts.
    #[serde(default)]
    pub(crate) timeouts: TimeoutSpec,
    /// Limits on files fetched for uploads.
    #[serde(default)]
    pub(crate) files: FilesSpec,
    /// Limits on the provider's answers.
    #[serde(default)]
    pub(crate) responses: ResponsesSpec,
    /// How to read an error response.
    pub(crate) errors: ErrorSpec,
}

/// An authentication scheme; each names the context key that holds its credential.
#[derive(Debug, Clone, Deserialize, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum AuthSpec {
    /// HTTP Basic: the credential is the user name; the password is empty unless named.
    Basic {
        /// Context key of the user name.
        username: String,
        /// Context key of the password.
        #[serde(default)]
        password: Option<String>,
    },
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// Context key of the token.
        token: String,
    },
    /// A custom header carrying the credential, after an optional fixed prefix.
    Header {
        /// The header name.
        name: String,
        /// Context key of the value.
        value: String,
        /// Text sent before the credential (`Token token=` gives `Token token=<key>`); the
        /// account's context then holds the bare key.
        #[serde(default)]
        prefix: Option<String>,
    },
    /// OAuth 2.0 client-credentials grant: the account holds a client id and secret, the
    /// executor fetches and renews access tokens.
    #[serde(rename = "oauth2_client_credentials")]
    OAuth2ClientCredentials(crate::auth::oauth::ClientCredentialsSpec),
    /// OAuth 2.0 authorization-code grant with refresh: the account holds the tokens the
    /// connect flow obtained; the executor renews them with the operator's app.
    #[serde(rename = "oauth2_authorization_code")]
    OAuth2AuthorizationCode(crate::auth::oauth::AuthorizationCodeSpec),
}

/// What an integrated account's context holds.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct ContextSpec {
    /// Keys that are credentials: encrypted at rest, never returned, never readable by mappings.
    #[serde(default)]
    pub(crate) secrets: Vec<String>,
    /// Keys mappings may read as `context.<key>`, with a description.
    #[serde(default)]
    pub(crate) fields: BTreeMap<String, String>,
}

/// A token bucket.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct RateLimitSpec {
    /// Sustained requests per second.
    pub(crate) per_second: f64,
    /// Bucket size (the largest burst).
    pub(crate) burst: u32,
}

/// Retry policy.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RetrySpec {
    /// Attempts in all, the first included.
    pub(crate) max_attempts: u32,
    /// The first backoff, doubled each retry.
    pub(crate) initial_backoff_ms: u64,
    /// The largest backoff.
    pub(crate) max_backoff_ms: u64,
    /// The longest `Retry-After` honoured; longer waits fail instead.
    pub(crate) max_retry_after_secs: u64,
    /// Statuses retried for idempotent methods (GET, PUT, DELETE).
    pub(crate) idempotent_statuses: Vec<u16>,
    /// Statuses retried for POST and PATCH: only those that mean the request was not processed.
    /// A 429 is retried as listed; any other status only when the answer carries `Retry-After`
    /// (a bare 503 may come from a load balancer after the provider processed the request, and
    /// sending it again would create a duplicate).
    pub(crate) non_idempotent_statuses: Vec<u16>,
    /// A header holding the epoch second (or, for a value past any sane second, the epoch
    /// millisecond; for a value before 2001, the seconds left) at which the rate-limit window
    /// resets, read when a 429 has no `Retry-After` (e.g. `x-rate-limit-reset`). The wait until then is capped by `max_retry_after_secs` like
    /// a `Retry-After`'s; a value that is not a whole number is ignored and the backoff applies.
    pub(crate) reset_header: Option<String>,
}

impl Default for RetrySpec {
    fn default() -> Self {
        let policy = RetryPolicy::default();
        RetrySpec {
            max_attempts: policy.max_attempts,
            initial_backoff_ms: policy.initial_backoff_ms,
            max_backoff_ms: policy.max_backoff_ms,
            max_retry_after_secs: policy.max_retry_after_secs,
            idempotent_statuses: policy.idempotent_statuses,
            non_idempotent_statuses: policy.non_idempotent_statuses,
            reset_header: policy.reset_header,
        }
    }
}

/// Timeouts.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub(crate) struct TimeoutSpec {
    /// Whole-request timeout, in seconds.
    pub(crate) request_secs: u64,
    /// Connect timeout, in seconds.
    pub(crate) connect_secs: u64,
}

impl Default for TimeoutSpec {
    fn default() -> Self {
        let timeouts = Timeouts::default();
        TimeoutSpec {
            request_secs: timeouts.request_secs,
            connect_secs: timeouts.connect_secs,
        }
    }
}

/// Limits on fetched files.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub(crate) struct FilesSpec {
    /// The largest file fetched for an upload, in bytes.
    pub(crate) max_bytes: u64,
}

impl Default for FilesSpec {
    fn default() -> Self {
        FilesSpec {
            max_bytes: FileLimits::default().max_bytes,
        }
    }
}

/// Limits on provider answers.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ResponsesSpec {
    /// The largest provider answer read, in bytes (default 8 MiB); a larger one fails the call
    /// without being read further.
    pub(crate) max_bytes: u64,
}

impl Default for ResponsesSpec {
    fn default() -> Self {
        ResponsesSpec {
            max_bytes: ResponseLimits::default().max_bytes,
        }
    }
}

/// An HTTP method a step may use.
#[derive(Debug, Clone, Copy, Deserialize)]
#[cfg_attr(feature = "format-check", derive(JsonSchema))]
#[serde(rename_all = "UPPERCASE")]
#[cfg_attr(feature = "format-check", schemars(rename = "HttpMethod"))]
pub(crate) enum HttpMethodSpec {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl From<HttpMethodSpec> for crate::http::HttpMethod {
    fn from(spec: HttpMethodSpec) -> Self {
        use crate::http::HttpMethod;
        match spec {
            HttpMethodSpec::Get => HttpMethod::Get,
            HttpMethodSpec::Post => HttpMethod::Post,
            HttpMethodSpec::Put => HttpMethod::Put,
            HttpMethodSpec::Patch => HttpMethod::Patch,
            HttpMethodSpec::Delete => HttpMethod::Delete,
        }
    }
}
