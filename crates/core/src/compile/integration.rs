//! `integration.yaml` → [`IntegrationPlan`].

use std::collections::BTreeMap;

use serde_json::Value;

use crate::auth::AuthScheme;
use crate::auth::oauth::RESERVED_TOKEN_PARAMETERS;
use crate::diagnostic::Reporter;
use crate::expr::Template;
use crate::model::{AuthSpec, ErrorSpec, IntegrationFile};
use crate::plan::{DEFAULT_ENVIRONMENT, ErrorPlan, IntegrationPlan};

use super::names::Names;
use super::{compile_expr, compile_template};

/// Compiles one integration file, reporting every problem.
pub(crate) fn compile(
    name: &str,
    file: IntegrationFile,
    report: &mut Reporter<'_>,
) -> IntegrationPlan {
    if file.version != 1 {
        report.at(
            "/version",
            format!(
                "unsupported version `{}` (this engine reads 1)",
                file.version
            ),
            None,
        );
    }
    if !file.base_url.contains_key(DEFAULT_ENVIRONMENT) {
        report.at(
            "/base_url",
            format!("a `{DEFAULT_ENVIRONMENT}` base URL is required"),
            None,
        );
    }
    let context_keys: Vec<&str> = file.context.fields.keys().map(String::as_str).collect();
    let context_names = Names {
        roots: &["context"],
        steps: &[],
        all_steps: &[],
        query: &[],
        body: &[],
        context: &context_keys,
        constants: &[],
    };
    let mut base_urls = BTreeMap::new();
    for (env, url) in &file.base_url {
        let pointer = format!("/base_url/{env}");
        let template = compile_template(&serde_json::Value::String(url.clone()), &pointer, report);
        context_names.check(&template.references(), &pointer, report);
        base_urls.insert(env.clone(), template);
    }
    for (i, spec) in file.auth.iter().enumerate() {
        check_token_parameters(
            spec,
            &format!("/auth/{i}/token_parameters"),
            &context_names,
            report,
        );
    }
    let auth: Vec<AuthScheme> = file.auth.into_iter().map(AuthScheme::compile).collect();
    for (i, scheme) in auth.iter().enumerate() {
        if let Some(name) = scheme.custom_header()
            && !super::is_header_name(name)
        {
            report.at(
                &format!("/auth/{i}/name"),
                format!("`{name}` is not a valid HTTP header name"),
                None,
            );
        }
        if let Some(prefix) = scheme.header_prefix()
            && !prefix.chars().all(|c| c == ' ' || c.is_ascii_graphic())
        {
            report.at(
                &format!("/auth/{i}/prefix"),
                "an auth header `prefix` may hold only visible ASCII characters and spaces",
                None,
            );
        }
        for (field, url) in scheme.oauth().map(|flow| flow.urls()).unwrap_or_default() {
            if let Some(problem) = crate::auth::oauth::endpoint_problem(url) {
                report.at(&format!("/auth/{i}/{field}"), problem, None);
            }
        }
        for key in scheme.context_keys() {
            if !file.context.secrets.iter().any(|secret| secret == key) {
                report.at(
                    &format!("/auth/{i}"),
                    format!("credential `{key}` must be listed under `context.secrets`"),
                    None,
                );
            }
        }
    }
    for (bucket, limit) in &file.rate_limits {
        if limit.per_second <= 0.0 || limit.burst == 0 {
            report.at(
                &format!("/rate_limits/{bucket}"),
                "a rate limit needs `per_second` > 0 and `burst` ≥ 1",
                None,
            );
        }
    }
    if file.responses.max_bytes == 0 {
        report.at(
            "/responses/max_bytes",
            "`max_bytes` must be at least 1: no answer could be read",
            None,
        );
    }
    let errors = compile_errors(&file.errors, "/errors", report);
    IntegrationPlan {
        name: name.to_owned(),
        label: file.label,
        documentation: file.documentation,
        base_urls,
        auth,
        secret_keys: file.context.secrets,
        context_fields: file.context.fields,
        rate_limits: (file.rate_limits.into_iter())
            .map(|(name, spec)| (name, spec.into()))
            .collect(),
        retry: file.retry.into(),
        timeouts: file.timeouts.into(),
        files: file.files.into(),
        responses: file.responses.into(),
        errors,
    }
}

/// Checks an OAuth scheme's `token_parameters`: each names a parameter the engine does not set
/// itself, and its value is a template reading only the account's `context.fields` (never a
/// credential, so none can leak into a token request the scheme did not mean to carry it in).
fn check_token_parameters(
    spec: &AuthSpec,
    pointer: &str,
    context_names: &Names<'_>,
    report: &mut Reporter<'_>,
) {
    let parameters = match spec {
        AuthSpec::OAuth2ClientCredentials(flow) => &flow.token_parameters,
        AuthSpec::OAuth2AuthorizationCode(flow) => &flow.token_parameters,
        _ => return,
    };
    for (name, value) in parameters {
        let at = format!("{pointer}/{}", crate::source::escape(name));
        if name.is_empty() {
            report.at(&at, "a token parameter needs a name", None);
        } else if RESERVED_TOKEN_PARAMETERS.contains(&name.as_str()) {
            report.at(
                &at,
                format!(
                    "`{name}` is set by the engine on token requests; `token_parameters` may not \
                     name {}",
                    crate::backticked(RESERVED_TOKEN_PARAMETERS)
                ),
                None,
            );
        }
        let template = compile_template(&Value::String(value.clone()), &at, report);
        context_names.check(&template.references(), &at, report);
    }
}

/// Compiles an error-reading spec; its expressions read `status`, `headers` and `response`.
pub(crate) fn compile_errors(
    spec: &ErrorSpec,
    pointer: &str,
    report: &mut Reporter<'_>,
) -> ErrorPlan {
    let names = Names {
        roots: &["status", "headers", "response"],
        steps: &[],
        all_steps: &[],
        query: &[],
        body: &[],
        context: &[],
        constants: &[],
    };
    let is_error = spec.is_error.as_ref().and_then(|text| {
        let p = format!("{pointer}/is_error");
        let e = compile_expr(text, &p, report)?;
        names.check(&e.references(), &p, report);
        Some(e)
    });
    let mut template = |text: &str, key: &str| -> Template {
        let p = format!("{pointer}/{key}");
        let t = compile_template(&serde_json::Value::String(text.to_owned()), &p, report);
        names.check(&t.references(), &p, report);
        t
    };
    let message = template(&spec.message, "message");
    let code = spec.code.as_deref().map(|c| template(c, "code"));
    let status = spec.status.as_deref().map(|c| template(c, "status"));
    let details = spec.details.as_deref().map(|c| template(c, "details"));
    ErrorPlan {
        is_error,
        message,
        code,
        status,
        details,
    }
}
