//! `switchboard render`: a dry run of one unified call.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::{Map, Value, json};
use switchboard_core::{
    IntegrationPlan, Next, ProviderRequest, ProviderResponse, RequestBody, RunInput,
};

use crate::paths::SourceArgs;

/// Arguments of `render`.
#[derive(Args)]
pub(crate) struct RenderArgs {
    /// The integration (as named by its folder under `mappings/`).
    #[arg(long)]
    integration: String,
    /// The unified resource (`ats/candidates`).
    #[arg(long)]
    resource: String,
    /// The unified method (`create`).
    #[arg(long, default_value = "create")]
    method: String,
    /// The unified query string, bracket notation allowed (`job_id=…&remote_query[perform_as]=…`).
    #[arg(long, default_value = "")]
    query: String,
    /// The record id of a `get` (`GET /unified/{model}/{resource}/{id}`).
    #[arg(long)]
    id: Option<String>,
    /// For a later page of a `list`: the engine's `next_cursor` JSON printed by an earlier run
    /// (the server seals it; a dry run shows it as it is).
    #[arg(long)]
    cursor: Option<String>,
    /// A file holding the unified JSON body (`-` for stdin).
    #[arg(long)]
    body: Option<PathBuf>,
    /// The account context as JSON (`{"perform_as": "…"}`); credentials in it are redacted.
    #[arg(long, default_value = "{}")]
    context: String,
    /// The environment whose base URL is shown.
    #[arg(long, default_value = switchboard_core::DEFAULT_ENVIRONMENT)]
    environment: String,
    /// A base URL to show instead of the environment's.
    #[arg(long)]
    base_url: Option<String>,
    /// Recorded provider responses (`{"status", "headers", "body"}`), in order: walk every step
    /// and print the unified output.
    #[arg(long, num_args = 1..)]
    responses: Vec<PathBuf>,
    /// Reject unknown and unsupported fields instead of warning.
    #[arg(long)]
    strict: bool,
    /// Really perform the call(s) against the provider (`--base-url` or the environment's) with
    /// the credentials in `--context`, and print the unified output.
    #[arg(long, conflicts_with = "responses")]
    execute: bool,
    /// With `--execute`: allow attachment URLs on loopback or private addresses (local testing).
    #[arg(long, requires = "execute")]
    allow_private_file_urls: bool,
    /// With `--execute`: allow a base URL on loopback or private addresses (local testing).
    #[arg(long, requires = "execute")]
    allow_private_provider_urls: bool,
    #[command(flatten)]
    sources: SourceArgs,
}

/// Prints the first request, or with `--responses` every request and the unified output.
pub(crate) fn run(args: RenderArgs) -> anyhow::Result<ExitCode> {
    let registry = args.sources.load()?;
    let plan = registry
        .method(&args.integration, &args.resource, &args.method)
        .map_err(anyhow::Error::new)?;
    let integration = plan.integration_plan();
    let context: Map<String, Value> = serde_json::from_str(&args.context)
        .map_err(|e| anyhow::anyhow!("--context is not a JSON object: {e}"))?;
    let body = match &args.body {
        None => Value::Null,
        Some(path) => {
            let text = if path.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
            };
            serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{}: invalid JSON: {e}", path.display()))?
        }
    };
    let base_url = match &args.base_url {
        Some(url) => url.clone(),
        None => integration
            .base_url(&args.environment, &context)
            .map_err(anyhow::Error::new)?,
    };
    let query = switchboard_server::query_string::parse(args.query.trim_start_matches('?'))
        .map_err(|e| anyhow::anyhow!("--query: {e}"))?;
    let cursor = args
        .cursor
        .as_deref()
        .map(serde_json::from_str::<Value>)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--cursor is not JSON: {e}"))?;
    let input = RunInput {
        context: context.clone(),
        strict: args.strict,
        id: args.id.clone(),
        cursor,
        ..switchboard_server::run_input(plan, query, body)
    };
    if args.execute {
        return execute(plan, input, &args, context);
    }
    let show = |request: &ProviderRequest| describe(request, &base_url, integration, &context);
    let (mut run, mut next) = match plan.start(input) {
        Ok(started) => started,
        Err(error) => return fail(&json!({"error": error})),
    };
    if args.responses.is_empty() {
        return match next {
            Next::Send(request) => print(&show(&request)),
            Next::Done(output) => print(&json!({"output": output})),
        };
    }
    let mut requests = Vec::new();
    let mut responses = args.responses.iter();
    loop {
        match next {
            Next::Done(output) => return print(&json!({"requests": requests, "output": output})),
            Next::Send(request) => {
                requests.push(show(&request));
                let Some(path) = responses.next() else {
                    return fail(
                        &json!({"requests": requests, "error": format!("no recorded response for step `{}`", request.step)}),
                    );
                };
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                let response: ProviderResponse = serde_json::from_str(&text).map_err(|e| {
                    anyhow::anyhow!("{}: not a recorded response: {e}", path.display())
                })?;
                next = match run.resume(response) {
                    Ok(next) => next,
                    Err(error) => return fail(&json!({"requests": requests, "error": error})),
                };
            }
        }
    }
}

/// Performs the run over HTTP and prints the unified output and each exchange (no credentials).
fn execute(
    plan: &std::sync::Arc<switchboard_core::MethodPlan>,
    input: RunInput,
    args: &RenderArgs,
    context: Map<String, Value>,
) -> anyhow::Result<ExitCode> {
    use switchboard_executor::{Account, Executor, ExecutorOptions};
    let executor = Executor::new(ExecutorOptions {
        allow_private_file_urls: args.allow_private_file_urls,
        allow_private_provider_urls: args.allow_private_provider_urls,
        ..ExecutorOptions::default()
    })?;
    let account = Account {
        id: "cli".to_owned(),
        environment: Some(args.environment.clone()),
        base_url: args.base_url.clone(),
        context,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let summary = |exchanges: &[switchboard_executor::Exchange]| -> Vec<Value> {
        exchanges
            .iter()
            .map(|e| json!({"step": e.step, "method": e.method, "url": e.url, "status": e.status, "attempts": e.attempts}))
            .collect()
    };
    match runtime.block_on(executor.run(plan, input, &account)) {
        Ok(outcome) => {
            print(&json!({"exchanges": summary(&outcome.exchanges), "output": outcome.output}))
        }
        Err(error) => {
            let provider = error.provider_error().map(|p| json!(p));
            fail(
                &json!({"exchanges": summary(error.exchanges()), "error": error.to_string(), "provider": provider}),
            )
        }
    }
}

/// `{step, method, url, query, headers, body}` with the credential header shown redacted.
fn describe(
    request: &ProviderRequest,
    base_url: &str,
    integration: &IntegrationPlan,
    context: &Map<String, Value>,
) -> Value {
    let mut headers = Map::new();
    if let Some(scheme) = integration.auth_for(context) {
        headers.insert(
            scheme.header_name().to_lowercase(),
            Value::from(scheme.redacted_value()),
        );
    }
    for (name, value) in &request.headers {
        headers.insert(name.clone(), Value::from(value.clone()));
    }
    let query: Vec<Value> = request.query.iter().map(|(k, v)| json!([k, v])).collect();
    let body = match &request.body {
        RequestBody::Empty => Value::Null,
        RequestBody::Json(value) => value.clone(),
        RequestBody::Multipart(parts) => json!({"multipart": parts}),
        RequestBody::JsonWithFiles { body, files } => json!({"json": body, "files": files}),
    };
    json!({
        "step": request.step,
        "method": request.method,
        "url": request.url(base_url).unwrap_or_else(|refused| format!("(not sent: {refused})")),
        "query": query,
        "headers": headers,
        "body": body,
    })
}

fn print(value: &Value) -> anyhow::Result<ExitCode> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(ExitCode::SUCCESS)
}

fn fail(value: &Value) -> anyhow::Result<ExitCode> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(ExitCode::FAILURE)
}
