//! Record mode: a golden case's `NN.response.json` files written by running the case against
//! the fake Lever, so a recorded answer is what the fake — faithful to Lever's documented
//! behaviour — says to the very request the engine made. Then the case is blessed.
//!
//! `SWITCHBOARD_RECORD=1 cargo test -p switchboard-testkit --test golden -- <name>` records the
//! Lever cases whose name contains `<name>` (refused under CI, like blessing). The `perform_as`
//! user a case names is added to the fake first, and so is its `job_id` as a posting. A case may
//! hold `record.json`: `{"postings": [...]}` lists the postings instead (`[]` for a posting Lever
//! does not know), and `{"faults": [{method, path_prefix, status, body, retry_after?, times?}]}` lists
//! answers the fake gives instead of processing, each to `times` requests (default 1): a rate
//! limit, an outage, an opportunity not yet indexed (on every reread); `{"record": false, "why": "…"}` keeps the case's hand-written answers (an answer
//! the fake cannot give, such as an HTML error page). Files of multipart parts are not fetched: a few placeholder bytes are sent under
//! the part's file name.

use std::path::Path;

use serde_json::Value;
use switchboard_core::{
    HttpMethod, MultipartPart, Next, ProviderRequest, ProviderResponse, Registry, RequestBody,
};

use crate::fake_lever::{FakeLever, Fault};
use crate::golden::{Case, GoldenError, canonical, read_input, run_case};

/// The integration record mode can run against.
pub const RECORDABLE: &str = "lever";

/// Whether record mode was asked for (`SWITCHBOARD_RECORD=1`) — never under CI.
pub fn record_requested() -> Result<bool, GoldenError> {
    let asked = std::env::var("SWITCHBOARD_RECORD").is_ok_and(|v| v == "1");
    if asked && std::env::var_os("CI").is_some() {
        return Err(GoldenError(
            "refusing to record golden responses under CI".to_owned(),
        ));
    }
    Ok(asked)
}

/// Runs `case` against a fresh fake Lever, writes each answer as `NN.response.json` (earlier
/// ones removed), then blesses the case's expected files.
pub async fn record_case(registry: &Registry, case: &Case) -> Result<(), GoldenError> {
    if case.integration != RECORDABLE {
        return Err(GoldenError(format!(
            "`{}`: record mode runs against the fake Lever only",
            case.name
        )));
    }
    let plan = registry
        .method(&case.integration, &case.resource, &case.method)
        .map_err(|error| GoldenError(error.to_string()))?;
    let config = read_config(&case.dir)?;
    if config.get("record") == Some(&Value::Bool(false)) {
        return run_case(registry, case, true);
    }
    let input = read_input(&case.dir)?;
    let lever = FakeLever::start().await;
    prepare(&lever, &input.query, &input.context, &config)?;
    remove_recorded(&case.dir)?;
    let client = reqwest::Client::new();
    let mut answers = Vec::new();
    if let Ok((mut run, mut next)) = plan.start(input) {
        while let Next::Send(request) = next {
            let response = send(&client, &lever.base_url(), &request).await?;
            answers.push(response.clone());
            match run.resume(response) {
                Ok(following) => next = following,
                Err(_) => break,
            }
        }
    }
    for (index, answer) in answers.iter().enumerate() {
        let path = case.dir.join(format!("{:02}.response.json", index + 1));
        let value = serde_json::to_value(answer).map_err(|e| GoldenError(e.to_string()))?;
        write(&path, &canonical(&value))?;
    }
    run_case(registry, case, true)
}

/// Adds the case's postings and user to the fake, and scripts its faults.
fn prepare(
    lever: &FakeLever,
    query: &serde_json::Map<String, Value>,
    context: &serde_json::Map<String, Value>,
    config: &Value,
) -> Result<(), GoldenError> {
    let postings: Vec<&str> = match config.get("postings") {
        Some(listed) => listed
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default(),
        None => query
            .get("job_id")
            .and_then(Value::as_str)
            .into_iter()
            .collect(),
    };
    for posting in postings {
        lever.add_posting(posting);
    }
    let perform_as = [
        context.get("perform_as"),
        query.get("remote_query").and_then(|q| q.get("perform_as")),
    ];
    for user in perform_as.into_iter().flatten().filter_map(Value::as_str) {
        lever.add_user(user);
    }
    let faults = config
        .get("faults")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for fault in faults {
        let text = |key: &str| fault[key].as_str().unwrap_or_default().to_owned();
        let status = fault["status"].as_u64().and_then(|s| u16::try_from(s).ok());
        let Some(status) = status else {
            return Err(GoldenError(
                "record.json: every fault needs a `status`".to_owned(),
            ));
        };
        let mut scripted = Fault::status(&text("method"), &text("path_prefix"), status)
            .body(fault["body"].clone());
        if let Some(after) = fault["retry_after"].as_str() {
            scripted = scripted.retry_after(after);
        }
        if let Some(times) = fault["times"]
            .as_u64()
            .and_then(|t| usize::try_from(t).ok())
        {
            scripted = scripted.times(times);
        }
        lever.script(scripted);
    }
    Ok(())
}

/// The case's `record.json`, or null.
fn read_config(dir: &Path) -> Result<Value, GoldenError> {
    let path = dir.join("record.json");
    if !path.is_file() {
        return Ok(Value::Null);
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| GoldenError(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| GoldenError(format!("{}: {e}", path.display())))
}

/// Sends `request` to the fake, authenticated as its API key; the answer as a run takes it,
/// with its `content-type` and `retry-after` headers (what recorded fixtures hold).
async fn send(
    client: &reqwest::Client,
    base_url: &str,
    request: &ProviderRequest,
) -> Result<ProviderResponse, GoldenError> {
    let method = match request.method {
        HttpMethod::Get => reqwest::Method::GET,
        HttpMethod::Post => reqwest::Method::POST,
        HttpMethod::Put => reqwest::Method::PUT,
        HttpMethod::Patch => reqwest::Method::PATCH,
        HttpMethod::Delete => reqwest::Method::DELETE,
    };
    let url = request
        .url(base_url)
        .map_err(|e| GoldenError(format!("step `{}`: {e}", request.step)))?;
    let mut builder = client
        .request(method, url)
        .header("authorization", FakeLever::basic_authorization());
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    builder = match &request.body {
        RequestBody::Empty => builder,
        RequestBody::Json(body) => builder.json(body),
        RequestBody::Multipart(parts) => builder.multipart(form(parts)?),
        // Recorded as the core renders it: the files' places left empty, nothing fetched.
        RequestBody::JsonWithFiles { body, .. } => builder.json(body),
    };
    let response = builder
        .send()
        .await
        .map_err(|e| GoldenError(format!("the fake Lever did not answer: {e}")))?;
    let status = response.status().as_u16();
    let headers: Vec<(String, String)> = ["content-type", "retry-after"]
        .into_iter()
        .filter_map(|name| {
            let value = response.headers().get(name)?.to_str().ok()?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect();
    let text = response
        .text()
        .await
        .map_err(|e| GoldenError(format!("the fake Lever's body: {e}")))?;
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Ok(ProviderResponse {
        status,
        headers,
        body,
    })
}

/// The multipart form of `parts`, a placeholder file for each part to fetch.
fn form(parts: &[MultipartPart]) -> Result<reqwest::multipart::Form, GoldenError> {
    let mut form = reqwest::multipart::Form::new();
    for part in parts {
        form = match part {
            MultipartPart::Text { name, value } => form.text(name.clone(), value.clone()),
            MultipartPart::Fetch {
                name,
                file_name,
                content_type,
                ..
            } => {
                let file = reqwest::multipart::Part::bytes(b"%PDF-1.4 recorded\n".to_vec())
                    .file_name(file_name.clone().unwrap_or_else(|| "file".to_owned()))
                    .mime_str(content_type.as_deref().unwrap_or("application/pdf"))
                    .map_err(|e| GoldenError(format!("content type: {e}")))?;
                form.part(name.clone(), file)
            }
        };
    }
    Ok(form)
}

/// Removes the case's recorded answers, so none is left from a longer earlier run.
fn remove_recorded(dir: &Path) -> Result<(), GoldenError> {
    let entries = std::fs::read_dir(dir).map_err(|e| GoldenError(e.to_string()))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".response.json") {
            std::fs::remove_file(entry.path()).map_err(|e| GoldenError(e.to_string()))?;
        }
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), GoldenError> {
    std::fs::write(path, text).map_err(|e| GoldenError(format!("{}: {e}", path.display())))
}
