//! What the properties share: the repository's mappings and schemas, a driver that runs a plan
//! against given answers, and strategies for JSON the way clients and providers write it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use switchboard_core::tooling::SourceFile;
use switchboard_core::{MethodPlan, Next, ProviderResponse, Registry, RunError, RunInput};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The files under `mappings/`.
pub(crate) static MAPPINGS: LazyLock<Vec<SourceFile>> = LazyLock::new(|| {
    SourceFile::read_dir(&repository().join("mappings"), &["yaml", "yml"]).expect("mappings/")
});

/// The files under `schemas/`.
pub(crate) static SCHEMAS: LazyLock<Vec<SourceFile>> = LazyLock::new(|| {
    SourceFile::read_dir(&repository().join("schemas"), &["json"]).expect("schemas/")
});

/// The shipped registry, loaded once.
pub(crate) static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
    Registry::load(&MAPPINGS, &SCHEMAS).unwrap_or_else(|problems| panic!("{problems}"))
});

/// A source file named `name` holding `text`.
pub(crate) fn source(name: &str, text: &str) -> SourceFile {
    SourceFile {
        path: PathBuf::from(name),
        name: name.to_owned(),
        text: text.to_owned(),
    }
}

/// `value` as a JSON object (empty when it is not one).
pub(crate) fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A unified input that gets every shipped plan past validation.
pub(crate) fn sample_input() -> RunInput {
    RunInput {
        query: object(json!({"job_id": "1234", "remote_query": {"perform_as": "u1"}})),
        body: json!({
            "first_name": "Ada", "last_name": "Lovelace",
            "emails": [{"email": "ada@example.com"}],
            "tags": [{"name": "Math"}],
            "attachments": [{"file_url": "https://files.example/cv.pdf", "file_name": "cv.pdf"}],
            "job_form_field_answers": [{"group_id": "card-1", "name": "0", "value": "yes"}]
        }),
        context: object(json!({"api_key": "k", "perform_as": "u1", "subdomain": "acme"})),
        strict: false,
        id: None,
        cursor: None,
    }
}

/// A success that carries a record under every key the shipped mappings read.
pub(crate) fn sample_answer() -> ProviderResponse {
    let record = json!({"id": "r1", "name": "Ada Lovelace", "uri": "https://files.example/u1",
                        "applicationId": "a1", "createdAt": 1711572497188_u64});
    ProviderResponse {
        status: 200,
        headers: Vec::new(),
        body: json!({"data": [record.clone()], "success": true, "results": record, "id": "r1"}),
    }
}

/// How a run ended.
#[derive(Debug)]
pub(crate) enum Ending {
    /// `Done`, or an error from `start` or `resume`.
    Finished(Result<(), RunError>),
    /// Still sending after this many requests.
    Unfinished(usize),
}

/// Runs `plan` on `input`, answering with `answers` and then [`sample_answer`], for at most
/// `max_requests` requests. Also checks that every request's path is below the base URL and
/// that a finished run refuses a further answer.
pub(crate) fn drive(
    plan: &Arc<MethodPlan>,
    input: RunInput,
    answers: Vec<ProviderResponse>,
    max_requests: usize,
) -> Ending {
    let (mut run, mut next) = match plan.start(input) {
        Ok(started) => started,
        Err(error) => return Ending::Finished(Err(error)),
    };
    let mut answers = answers
        .into_iter()
        .chain(std::iter::repeat_with(sample_answer));
    for _ in 0..max_requests {
        let Next::Send(request) = next else {
            assert!(
                run.resume(sample_answer()).is_err(),
                "a finished run takes no answer"
            );
            return Ending::Finished(Ok(()));
        };
        assert!(request.path.starts_with('/'), "path `{}`", request.path);
        assert_no_dot_segments(&request.path);
        match run.resume(answers.next().expect("endless")) {
            Ok(following) => next = following,
            Err(error) => {
                assert!(
                    run.resume(sample_answer()).is_err(),
                    "a failed run takes no answer"
                );
                return Ending::Finished(Err(error));
            }
        }
    }
    match next {
        Next::Done(_) => Ending::Finished(Ok(())),
        Next::Send(_) => Ending::Unfinished(max_requests),
    }
}

/// Words the shipped mappings and schemas use, so generated JSON often means something.
const WORDS: &[&str] = &[
    "id",
    "name",
    "value",
    "group_id",
    "email",
    "emails",
    "number",
    "type",
    "url",
    "file_url",
    "file_name",
    "data",
    "applicationId",
    "createdAt",
    "applications",
    "message",
    "code",
    "success",
    "results",
    "errors",
    "tags",
    "personalInformation",
    "urls",
    "eeoResponses",
    "lead",
    "applicant",
    "0",
    "1",
    ".",
    "..",
    "",
    "%2e%2e",
    "a/b",
    "https://github.com/ada",
    "mobile",
];

/// A short string: mostly a word the mappings know, sometimes anything.
pub(crate) fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(WORDS).prop_map(str::to_owned),
        1 => ".{0,12}",
    ]
}

/// Any JSON value, at most a few levels deep and a few items wide.
pub(crate) fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((text(), inner), 0..5)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// A JSON object whose keys are mostly `keys` (when there are any).
pub(crate) fn json_object(keys: Vec<String>) -> impl Strategy<Value = Map<String, Value>> {
    let key = if keys.is_empty() {
        text().boxed()
    } else {
        prop_oneof![4 => proptest::sample::select(keys), 1 => text()].boxed()
    };
    proptest::collection::vec((key, json_value()), 0..8)
        .prop_map(|entries| entries.into_iter().collect())
}

/// Values that fit `schema` (a JSON Schema as the unified schemas write them: `type`, `enum`,
/// `items`, `properties`, `$ref` into `defs`): each property present three times in four.
pub(crate) fn fitting(schema: &Value, defs: &Map<String, Value>) -> BoxedStrategy<Value> {
    if let Some(name) = schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/$defs/"))
    {
        return fitting(&defs[name], defs);
    }
    if let Some(options) = schema["enum"].as_array() {
        return proptest::sample::select(options.clone()).boxed();
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => return json_value().boxed(),
    };
    let choices: Vec<BoxedStrategy<Value>> = types
        .into_iter()
        .map(|kind| match kind {
            "string" => text().prop_map(Value::from).boxed(),
            "null" => Just(Value::Null).boxed(),
            "boolean" => any::<bool>().prop_map(Value::from).boxed(),
            "integer" | "number" => any::<i32>().prop_map(Value::from).boxed(),
            "array" => proptest::collection::vec(fitting(&schema["items"], defs), 0..4)
                .prop_map(Value::Array)
                .boxed(),
            "object" => match schema["properties"].as_object() {
                Some(properties) => {
                    let members: Vec<_> = properties
                        .iter()
                        .map(|(name, property)| {
                            let name = name.clone();
                            proptest::option::weighted(0.75, fitting(property, defs))
                                .prop_map(move |value| value.map(|v| (name.clone(), v)))
                        })
                        .collect();
                    members
                        .prop_map(|members| Value::Object(members.into_iter().flatten().collect()))
                        .boxed()
                }
                None => json_object(Vec::new()).prop_map(Value::Object).boxed(),
            },
            _ => json_value().boxed(),
        })
        .collect();
    proptest::strategy::Union::new(choices).boxed()
}

/// One recorded golden case: its integration, its input and the provider's recorded answers.
pub(crate) struct GoldenCase {
    pub(crate) integration: String,
    pub(crate) input: Value,
    pub(crate) answers: Vec<ProviderResponse>,
}

/// Every `tests/golden/<integration>/ats/candidates/create/<case>/`.
pub(crate) static GOLDEN: LazyLock<Vec<GoldenCase>> = LazyLock::new(|| {
    let read = |path: &Path| -> Value {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let mut cases = Vec::new();
    for integration in std::fs::read_dir(repository().join("tests/golden")).expect("tests/golden") {
        let integration = integration.expect("readable").path();
        let method = integration.join("ats/candidates/create");
        let Ok(dirs) = std::fs::read_dir(&method) else {
            continue;
        };
        for case in dirs {
            let case = case.expect("readable").path();
            let mut answers: Vec<PathBuf> = std::fs::read_dir(&case)
                .expect("readable")
                .map(|e| e.expect("readable").path())
                .filter(|p| p.to_string_lossy().ends_with(".response.json"))
                .collect();
            answers.sort();
            cases.push(GoldenCase {
                integration: integration
                    .file_name()
                    .expect("named")
                    .to_string_lossy()
                    .into_owned(),
                input: read(&case.join("input.json")),
                answers: answers
                    .iter()
                    .map(|p| serde_json::from_value(read(p)).expect("a recorded answer"))
                    .collect(),
            });
        }
    }
    cases.sort_by(|a, b| a.integration.cmp(&b.integration));
    cases
});

/// A golden case's input as a [`RunInput`].
pub(crate) fn golden_input(case: &GoldenCase) -> RunInput {
    RunInput {
        query: object(case.input["query"].clone()),
        body: case.input["body"].clone(),
        context: object(case.input["context"].clone()),
        strict: case.input["strict"].as_bool().unwrap_or(false),
        id: None,
        cursor: None,
    }
}

/// A rendered path never holds a segment a URL parser would resolve away: `.` or `..`, also
/// percent-encoded.
fn assert_no_dot_segments(path: &str) {
    for segment in path.trim_start_matches('/').split('/') {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        assert!(
            !matches!(decoded.as_str(), "." | ".."),
            "dot segment in path `{path}`"
        );
    }
}
