//! Creates a Lever candidate (the lead path) through the engine, sending every request with a
//! real blocking HTTP client — what a service embedding `switchboard-core` writes.
//!
//! Against the test kit's fake Lever (it prints its key, user and posting ids):
//!
//! ```sh
//! cargo run -p switchboard-testkit --bin fake-lever -- --port 9090 &
//! cargo run -p switchboard-core --example create_candidate -- \
//!   http://127.0.0.1:9090/v1 fake-lever-key 68d28c32-e972-4f0f-81c7-83f2e9430293 \
//!   f8b7dd19-1d9f-40f1-8090-e4a62e989e0b
//! ```
//!
//! The HTTP client is reqwest's `blocking` one, which the workspace already builds (the executor
//! uses reqwest): any client that can send a method, a URL, headers and bytes will do.

use std::error::Error;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use reqwest::header::HeaderValue;
use serde_json::{Value, json};
use switchboard_core::{
    Connection, PreparedRequest, ProviderResponse, Registry, RequestBody, RunInput, UnifiedOutput,
};

/// The account and the job a candidate is created for.
pub(crate) struct Target<'a> {
    /// The Lever API root (`https://api.lever.co/v1`).
    pub(crate) base_url: &'a str,
    /// The account's Lever API key.
    pub(crate) api_key: &'a str,
    /// The Lever user the account acts as.
    pub(crate) perform_as: &'a str,
    /// The posting the candidate is a lead for.
    pub(crate) job_id: &'a str,
}

/// Runs Lever's `ats/candidates` create (lead path) for `target`.
pub(crate) fn create_candidate(target: &Target<'_>) -> Result<UnifiedOutput, Box<dyn Error>> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // Once, at start-up: compile every mapping.
    let registry = Registry::load_dirs(&repo.join("mappings"), &repo.join("schemas"))?;
    let plan = registry.method("lever", "ats/candidates", "create")?;
    let integration = plan.integration_plan();

    // Per call: the caller's `{query, body, context}`, and where and as whom the calls go.
    let input: RunInput = serde_json::from_value(json!({
        "query": {"application_source": "lead", "job_id": target.job_id},
        "body": {
            "first_name": "Ada", "last_name": "Lovelace",
            "emails": [{"email": "ada@example.com"}],
            "tags": [{"name": "Math"}],
            "job_form_field_answers": [],
        },
        "context": {"api_key": target.api_key, "perform_as": target.perform_as},
    }))?;
    let connection = Connection::new(&input.context).base_url(target.base_url);
    let endpoint = integration.endpoint(&connection)?;

    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(integration.timeouts.request_secs))
        .connect_timeout(Duration::from_secs(integration.timeouts.connect_secs))
        .build()?;
    let max_bytes = integration.responses.max_bytes;
    // `run_with` drives the run: it prepares each request and hands it to the closure, which
    // returns the provider's answer. This example makes no retries and sends no files.
    let output = plan.run_with(input, &endpoint, |request| {
        send(&client, request, max_bytes)
    })?;
    Ok(output)
}

/// Sends one prepared request and reads the answer (at most `max_bytes`) the way the engine
/// wants it: status, lower-case header names, the body as JSON (or as a JSON string).
fn send(
    client: &reqwest::blocking::Client,
    request: &PreparedRequest,
    max_bytes: u64,
) -> Result<ProviderResponse, Box<dyn Error>> {
    let method = reqwest::Method::from_bytes(request.method.as_str().as_bytes())?;
    let mut builder = client.request(method, &request.url);
    for header in &request.headers {
        let mut value = HeaderValue::from_str(header.value())?;
        // The credential: kept out of the client's `Debug` output and logs.
        value.set_sensitive(header.is_sensitive());
        builder = builder.header(header.name(), value);
    }
    builder = match &request.body {
        RequestBody::Empty => builder,
        RequestBody::Json(value) => builder.body(serde_json::to_vec(value)?),
        RequestBody::Multipart(_) | RequestBody::JsonWithFiles { .. } => {
            return Err("this example sends no files".into());
        }
    };
    let response = builder.send()?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect();
    let mut text = String::new();
    response.take(max_bytes).read_to_string(&mut text)?;
    let body = match text.as_str() {
        "" => Value::Null,
        _ => serde_json::from_str(&text).unwrap_or(Value::String(text)),
    };
    Ok(ProviderResponse {
        status,
        headers,
        body,
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base_url, api_key, perform_as, job_id] = args.as_slice() else {
        return Err(
            "usage: create_candidate <lever base url> <api key> <perform_as> <job_id>".into(),
        );
    };
    let output = create_candidate(&Target {
        base_url,
        api_key,
        perform_as,
        job_id,
    })?;
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(())
}
