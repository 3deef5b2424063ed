//! What the fuzz targets share: the repository's mappings and schemas, loaded once, and a driver
//! that runs a plan to its end against answers the caller supplies.

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use serde_json::{Map, Value, json};
use switchboard_core::tooling::SourceFile;
use switchboard_core::{MethodPlan, Next, ProviderResponse, Registry, RunInput};

/// The most requests the driver answers in one run (a `for_each` over a long input array sends
/// one per item; beyond this the run is left unfinished).
pub const MAX_REQUESTS: usize = 256;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The files under `mappings/`.
pub static MAPPINGS: LazyLock<Vec<SourceFile>> = LazyLock::new(|| {
    SourceFile::read_dir(&repository().join("mappings"), &["yaml", "yml"]).expect("mappings/")
});

/// The files under `schemas/`.
pub static SCHEMAS: LazyLock<Vec<SourceFile>> = LazyLock::new(|| {
    SourceFile::read_dir(&repository().join("schemas"), &["json"]).expect("schemas/")
});

/// Every shipped method plan, in the registry's order (by integration, resource, method).
pub static PLANS: LazyLock<Vec<Arc<MethodPlan>>> = LazyLock::new(|| {
    let registry = Registry::load(&MAPPINGS, &SCHEMAS).unwrap_or_else(|d| panic!("{d}"));
    registry.methods().cloned().collect()
});

/// The text of one shipped mapping file, by its name below `mappings/`.
pub fn mapping_text(name: &str) -> &'static str {
    &MAPPINGS
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no mapping `{name}`"))
        .text
}

/// A source file named `name` (below its root) holding `text`.
pub fn source(name: &str, text: &str) -> SourceFile {
    SourceFile {
        path: PathBuf::from(name),
        name: name.to_owned(),
        text: text.to_owned(),
    }
}

/// A unified input that passes every shipped plan's validation far enough to send requests.
pub fn sample_input() -> RunInput {
    let object = |v: Value| match v {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    RunInput {
        query: object(json!({"job_id": "1234", "remote_query": {"perform_as": "u1"}})),
        body: json!({
            "first_name": "Ada", "last_name": "Lovelace", "company": "Engines",
            "emails": [{"email": "ada@example.com", "type": "personal"}],
            "phones": [{"number": "+1 555", "type": "mobile"}],
            "links": [{"url": "https://github.com/ada", "type": "github"}, "https://x.com/ada"],
            "tags": [{"name": "Math"}],
            "attachments": [{"file_url": "https://files.example/cv.pdf", "file_name": "cv.pdf"}],
            "job_form_field_answers": [
                {"group_id": "card-1", "name": "0", "value": "yes"},
                {"group_id": "personalInformation", "name": "fullName", "value": "Ada L"}
            ]
        }),
        context: object(json!({"api_key": "k", "perform_as": "u1", "subdomain": "acme"})),
        strict: false,
    }
}

/// Answers that make the shipped plans go the whole way: an object that also looks like a list.
pub fn sample_answers() -> impl Iterator<Item = ProviderResponse> {
    let record = json!({
        "id": "r1", "name": "Ada Lovelace", "uri": "https://files.example/u1",
        "applicationId": "a1", "createdAt": 1711572497188_u64, "emails": ["ada@example.com"],
        "applications": [{"id": "a1", "posting": "1234"}]
    });
    std::iter::repeat_with(move || ProviderResponse {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: json!({"data": [record.clone()], "success": true, "results": record.clone(), "id": "r1"}),
    })
}

/// Runs `plan` on `input`, answering each request with the next of `answers`, until the run is
/// done, fails, `answers` runs out or [`MAX_REQUESTS`] were answered.
pub fn drive(
    plan: &Arc<MethodPlan>,
    input: RunInput,
    answers: impl IntoIterator<Item = ProviderResponse>,
) {
    let Ok((mut run, mut next)) = plan.start(input) else {
        return;
    };
    let mut answers = answers.into_iter();
    for _ in 0..MAX_REQUESTS {
        let Next::Send(request) = next else {
            return;
        };
        let _ = request.url("https://provider.example/v1");
        let Some(answer) = answers.next() else {
            return;
        };
        match run.resume(answer) {
            Ok(following) => next = following,
            Err(_) => return,
        }
    }
}
