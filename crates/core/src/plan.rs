//! Compiled plans: what the request path reads. Immutable, `Send + Sync`, shared as `Arc`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::auth::AuthScheme;
use crate::error::InputLocation;
use crate::expr::{Cached, Expr, PathError, Root, Scope, SegmentProblem, Template};
use crate::http::HttpMethod;
use crate::policy::{FileLimits, RateLimit, ResponseLimits, RetryPolicy, Support, Timeouts};
use crate::prepare::AccountError;
use crate::schema::UnifiedSchema;

/// The environment every integration has a base URL for, and the one an account gets when it
/// names neither an environment nor a base URL.
pub const DEFAULT_ENVIRONMENT: &str = "production";

/// The unified method that answers a page of records.
pub const LIST_METHOD: &str = "list";
/// The unified method that answers one record by id.
pub const GET_METHOD: &str = "get";

/// A compiled `integration.yaml`: how to reach and authenticate with one provider.
pub struct IntegrationPlan {
    /// The integration's name (its folder under `mappings/`).
    pub name: String,
    /// A display name.
    pub label: String,
    /// The provider's API documentation.
    pub documentation: Option<String>,
    pub(crate) base_urls: BTreeMap<String, Template>,
    /// Authentication schemes, in order of preference.
    pub auth: Vec<AuthScheme>,
    /// Context keys that hold credentials.
    pub secret_keys: Vec<String>,
    /// Context keys mappings read, with their descriptions.
    pub context_fields: BTreeMap<String, String>,
    /// Token buckets by name; `default` applies to every call.
    pub rate_limits: BTreeMap<String, RateLimit>,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// Limits on fetched files.
    pub files: FileLimits,
    /// Limits on provider answers.
    pub responses: ResponseLimits,
    pub(crate) errors: ErrorPlan,
}

impl IntegrationPlan {
    /// The environments with a base URL (`production`, `sandbox`, …).
    pub fn environments(&self) -> impl Iterator<Item = &str> {
        self.base_urls.keys().map(String::as_str)
    }

    /// The base URL for `environment`, rendered with the account's context (for providers whose
    /// host is per account).
    pub fn base_url(
        &self,
        environment: &str,
        context: &Map<String, Value>,
    ) -> Result<String, AccountError> {
        let template =
            self.base_urls
                .get(environment)
                .ok_or_else(|| AccountError::UnknownEnvironment {
                    environment: environment.to_owned(),
                    known: self.environments().map(str::to_owned).collect(),
                })?;
        let failed = |reason: String| AccountError::BaseUrl {
            environment: environment.to_owned(),
            reason,
        };
        let mut scope = Scope::default();
        scope.set("context", Value::Object(self.public_context(context)));
        // Context values are percent-encoded like path parameters, so a value cannot add a path,
        // a port, credentials or another host; what is left must parse as an http(s) URL.
        let url = template
            .render_path(&Root::Scope(&scope))
            .map_err(|e| match e {
                PathError::Segment {
                    problem: SegmentProblem::DotSegment(_),
                    ..
                } => failed(format!("cannot be built from the account's context ({e})")),
                _ => failed(format!(
                    "needs context values the account does not have ({e})"
                )),
            })?;
        match url::Url::parse(&url) {
            Ok(parsed)
                if crate::is_http_url(&parsed)
                    && parsed
                        .host_str()
                        .is_some_and(|h| !h.contains('%') && !h.starts_with('.')) =>
            {
                Ok(url)
            }
            _ => Err(failed(format!(
                "built from the account's context is not a valid URL: `{url}`"
            ))),
        }
    }

    /// The context keys the `environment`'s base URL is built from (`subdomain`), sorted.
    pub fn base_url_context_keys(&self, environment: &str) -> Vec<String> {
        let mut keys: Vec<String> = self
            .base_urls
            .get(environment)
            .map(Template::references)
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.root == "context")
            .filter_map(|r| r.key)
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// Whether `key` is a credential.
    pub fn is_secret(&self, key: &str) -> bool {
        self.secret_keys.iter().any(|k| k == key)
    }

    /// The context without its credentials: what mappings and API responses may see.
    pub fn public_context(&self, context: &Map<String, Value>) -> Map<String, Value> {
        context
            .iter()
            .filter(|(k, _)| !self.is_secret(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The first auth scheme whose credentials the context holds.
    pub fn auth_for(&self, context: &Map<String, Value>) -> Option<&AuthScheme> {
        self.auth.iter().find(|scheme| scheme.is_held_by(context))
    }
}

/// How a provider error is read.
pub(crate) struct ErrorPlan {
    pub(crate) is_error: Option<Expr>,
    pub(crate) message: Template,
    pub(crate) code: Option<Template>,
    pub(crate) status: Option<Template>,
    pub(crate) details: Option<Template>,
}

/// One field's support, as the field-support table and the meta endpoints show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldSupport {
    /// The unified field's name.
    pub name: String,
    /// Supported, required or unsupported.
    pub support: Support,
    /// The default value, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// A note (`lead path only`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A field the mapping requires under a condition, as [`MethodPlan::conditional_requirements`]
/// lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ConditionalRequirement<'a> {
    /// Where the field is: query, body or context.
    pub location: InputLocation,
    /// The field's name (`perform_as`).
    pub field: &'a str,
    /// The condition, as the mapping's expression text (`query.application_source == 'lead'`);
    /// `None` when the field is always required by this rule.
    pub condition: Option<&'a str>,
    /// Why, as the mapping says it.
    pub reason: &'a str,
}

/// A requirement that holds under a condition.
pub(crate) struct RequirePlan {
    pub(crate) location: InputLocation,
    pub(crate) name: String,
    pub(crate) when: Option<(Expr, String)>,
    pub(crate) present: Expr,
    pub(crate) because: String,
}

/// A rule on one input field under a condition: a field dropped (`warns`) or a value refused
/// (`rejects`).
pub(crate) struct FieldRule {
    pub(crate) location: InputLocation,
    pub(crate) name: String,
    pub(crate) when: Expr,
    /// Whether `when` is evaluated per item of the field, reading `item` and `index`.
    pub(crate) per_item: bool,
    pub(crate) because: String,
}

/// One compiled provider call.
pub(crate) struct StepPlan {
    pub(crate) id: String,
    pub(crate) when: Option<Expr>,
    pub(crate) for_each: Option<Expr>,
    pub(crate) passthrough: bool,
    /// Dotted path of a body array → the key `remote_data`'s items are matched on.
    pub(crate) merge_by: BTreeMap<String, String>,
    /// `(present, because)`: values the merged request must hold.
    pub(crate) must_send: Vec<(Expr, String)>,
    pub(crate) primary: bool,
    pub(crate) rate_limit: Option<String>,
    pub(crate) method: HttpMethod,
    pub(crate) path: Template,
    pub(crate) query: Vec<(String, Template)>,
    pub(crate) headers: Vec<(String, Template)>,
    pub(crate) body: BodyPlan,
    pub(crate) select: Option<Expr>,
    pub(crate) on_empty: Option<String>,
    pub(crate) pages: Option<crate::compile::pagination::PagePlan>,
    pub(crate) reread: Option<crate::compile::pagination::RereadPlan>,
    /// Which input fields the step's `when`, `for_each` and request read.
    pub(crate) reads: crate::run::StepReads,
}

impl StepPlan {
    /// The JSON body template, when the step sends one.
    pub(crate) fn json_body(&self) -> Option<&Template> {
        match &self.body {
            BodyPlan::Json(template) => Some(template),
            _ => None,
        }
    }

    /// Whether any part of the request reads the record `id`.
    pub(crate) fn reads_id(&self) -> bool {
        let templates = std::iter::once(&self.path)
            .chain(self.query.iter().map(|(_, t)| t))
            .chain(self.headers.iter().map(|(_, t)| t));
        let body = match &self.body {
            BodyPlan::Json(t) => vec![t],
            _ => Vec::new(),
        };
        templates
            .chain(body)
            .any(|t| t.references().iter().any(|r| r.root == "id"))
    }
}

/// A compiled request body.
pub(crate) enum BodyPlan {
    Empty,
    Json(Template),
    Multipart(Vec<PartPlan>),
}

/// A compiled multipart part.
pub(crate) enum PartPlan {
    Text {
        name: String,
        value: Template,
    },
    File {
        name: String,
        fetch: Template,
        file_name: Option<Template>,
        content_type: Option<Template>,
    },
}

impl PartPlan {
    /// Whether a template of the part may read member `field` of the binding `root`.
    pub(crate) fn may_read(&self, root: &str, field: &str) -> bool {
        match self {
            PartPlan::Text { value, .. } => value.may_read(root, field),
            PartPlan::File {
                fetch,
                file_name,
                content_type,
                ..
            } => std::iter::once(fetch)
                .chain(file_name)
                .chain(content_type)
                .any(|t| t.may_read(root, field)),
        }
    }
}

/// The compiled response mapping.
pub(crate) struct ResponsePlan {
    pub(crate) from: Expr,
    pub(crate) fields: Vec<(String, Template)>,
}

/// One unified method on one integration, compiled: validation rules, steps, response mapping.
pub struct MethodPlan {
    /// The integration's name.
    pub integration: String,
    /// `<model>/<resource>` (`ats/candidates`).
    pub resource: String,
    /// The unified method (`create`).
    pub method: String,
    /// The provider documentation link.
    pub documentation: Option<String>,
    pub(crate) integration_plan: Arc<IntegrationPlan>,
    pub(crate) schema: Arc<UnifiedSchema>,
    pub(crate) query_fields: Vec<FieldSupport>,
    pub(crate) body_fields: Vec<FieldSupport>,
    pub(crate) requires: Vec<RequirePlan>,
    pub(crate) warns: Vec<FieldRule>,
    pub(crate) rejects: Vec<FieldRule>,
    pub(crate) steps: Vec<StepPlan>,
    pub(crate) response: ResponsePlan,
    pub(crate) errors: Option<ErrorPlan>,
    /// The mapping's constants, shared by every run (converted for JMESPath once).
    pub(crate) constants: Arc<Cached>,
    /// Whether a request reads the record `id` (a `get`): a run then needs one.
    pub(crate) reads_id: bool,
    /// The step whose next page position becomes the unified `next_cursor` (the one paginating
    /// step without `select`).
    pub(crate) cursor_step: Option<usize>,
}

impl MethodPlan {
    /// The integration this method runs against.
    pub fn integration_plan(&self) -> &Arc<IntegrationPlan> {
        &self.integration_plan
    }

    /// The unified schema of the resource.
    pub fn schema(&self) -> &Arc<UnifiedSchema> {
        &self.schema
    }

    /// Every unified query parameter with this integration's support for it.
    pub fn query_fields(&self) -> &[FieldSupport] {
        &self.query_fields
    }

    /// Every unified body field with this integration's support for it.
    pub fn body_fields(&self) -> &[FieldSupport] {
        &self.body_fields
    }

    /// The unified record fields this method's response mapping fills.
    pub fn response_fields(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .response
            .fields
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        if !names.contains(&"remote_data") {
            names.push("remote_data");
        }
        names
    }

    /// The mapping's conditional requirements (`requires`), for documentation: a field that
    /// must be given when a condition holds, and why.
    pub fn conditional_requirements(&self) -> impl Iterator<Item = ConditionalRequirement<'_>> {
        self.requires.iter().map(|r| ConditionalRequirement {
            location: r.location,
            field: &r.name,
            condition: r.when.as_ref().map(|(_, text)| text.as_str()),
            reason: &r.because,
        })
    }

    /// The conditional requirements on one field (`body`, `emails`): a field whose support is
    /// `supported` may still be required under a condition.
    pub fn requirements_on<'a>(
        &'a self,
        location: InputLocation,
        field: &'a str,
    ) -> impl Iterator<Item = ConditionalRequirement<'a>> {
        self.conditional_requirements()
            .filter(move |r| r.location == location && r.field == field)
    }

    /// The ids of the steps whose answer is the provider's answer to the call (`primary`).
    pub fn primary_steps(&self) -> Vec<&str> {
        self.steps
            .iter()
            .filter(|s| s.primary)
            .map(|s| s.id.as_str())
            .collect()
    }

    /// The ids of the steps, in order.
    pub fn step_ids(&self) -> Vec<&str> {
        self.steps.iter().map(|s| s.id.as_str()).collect()
    }

    /// Whether the method answers a list of records (`list`) rather than one.
    pub fn is_list(&self) -> bool {
        self.method == LIST_METHOD
    }

    /// Whether the method only reads (`list`, `get`): its calls may be retried like idempotent
    /// ones whatever their HTTP method.
    pub fn is_read(&self) -> bool {
        self.method == LIST_METHOD || self.method == GET_METHOD
    }

    pub(crate) fn error_plan(&self) -> &ErrorPlan {
        self.errors
            .as_ref()
            .unwrap_or(&self.integration_plan.errors)
    }
}

impl std::fmt::Debug for IntegrationPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntegrationPlan")
            .field("name", &self.name)
            .field("environments", &self.environments().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for MethodPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MethodPlan")
            .field("integration", &self.integration)
            .field("resource", &self.resource)
            .field("method", &self.method)
            .field("steps", &self.step_ids())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn integration(base: &str) -> IntegrationPlan {
        let mut errors = Vec::new();
        IntegrationPlan {
            name: "x".into(),
            label: "X".into(),
            documentation: None,
            base_urls: BTreeMap::from([(
                "production".to_owned(),
                Template::compile(&json!(base), &mut errors),
            )]),
            auth: Vec::new(),
            secret_keys: vec!["token".into()],
            context_fields: BTreeMap::new(),
            rate_limits: BTreeMap::new(),
            retry: RetryPolicy::default(),
            timeouts: Timeouts::default(),
            files: FileLimits::default(),
            responses: ResponseLimits::default(),
            errors: ErrorPlan {
                is_error: None,
                message: Template::compile(&json!("x"), &mut errors),
                code: None,
                status: None,
                details: None,
            },
        }
    }

    fn context(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn base_urls_from_context_cannot_change_the_host() {
        let plan = integration("https://{{ context.subdomain }}.example.com/v3");
        assert_eq!(
            plan.base_url("production", &context(json!({"subdomain": "acme"})))
                .unwrap(),
            "https://acme.example.com/v3"
        );
        for evil in ["evil.test/x?", "evil.test#", "a@evil.test", "evil.test:1"] {
            let got = plan.base_url("production", &context(json!({"subdomain": evil})));
            assert!(
                got.as_ref().is_err()
                    || got
                        .as_ref()
                        .is_ok_and(|u| u.ends_with(".example.com/v3") && !u.contains("evil.test/")),
                "{evil}: {got:?}"
            );
        }
        assert!(plan.base_url("production", &context(json!({}))).is_err());
        assert_eq!(
            plan.base_url("production", &context(json!({"subdomain": "%2e%2e"}))),
            Err(AccountError::BaseUrl {
                environment: "production".to_owned(),
                reason: "cannot be built from the account's context \
                         (a path segment is `%2e%2e`, a dot segment)"
                    .to_owned()
            })
        );
        assert!(
            plan.base_url("sandbox", &context(json!({"subdomain": "acme"})))
                .is_err()
        );
    }

    #[test]
    fn secrets_never_reach_the_public_context() {
        let plan = integration("https://example.com");
        let public = plan.public_context(&context(json!({"token": "s3cret", "user": "u1"})));
        assert_eq!(Value::Object(public), json!({"user": "u1"}));
    }
}
