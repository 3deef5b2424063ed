//! Golden cases: folders of JSON files that pin a mapping's behaviour exactly.
//!
//! A case lives at `tests/golden/<integration>/<model>/<resource>/<method>/<case>/` and holds:
//! - `input.json`: `{"query": {…}, "body": {…}, "context": {…}, "strict": false}`, plus `id`
//!   for a `get` and `cursor` (a `next_cursor` the engine issued) for a later page of a `list`;
//! - for each provider call, `NN.request.json` (the expected request) and `NN.response.json`
//!   (the recorded response, `{"status", "headers", "body"}`), numbered from `01`;
//! - `output.json` (the expected unified output) or `error.json` (the expected error).
//!
//! Expected files are compared as canonical JSON (sorted keys, two-space indent), exactly.
//! Blessing rewrites the expected files from what the engine produces now; recorded responses
//! are never rewritten. Blessing is refused when the `CI` environment variable is set.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;
use switchboard_core::{Next, ProviderResponse, Registry, RunError, RunInput};

/// One golden case.
#[derive(Debug, Clone)]
pub struct Case {
    /// `<integration>/<model>/<resource>/<method>/<case>`.
    pub name: String,
    /// The case's folder.
    pub dir: PathBuf,
    /// The integration.
    pub integration: String,
    /// `<model>/<resource>`.
    pub resource: String,
    /// The unified method.
    pub method: String,
}

/// Why a case failed.
#[derive(Debug)]
pub struct GoldenError(pub String);

impl fmt::Display for GoldenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GoldenError {}

/// Every case below `root` (`tests/golden`), sorted by name.
pub fn discover(root: &Path) -> std::io::Result<Vec<Case>> {
    let mut cases = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if !path.is_dir() {
                continue;
            }
            if path.join("input.json").is_file() {
                let rel: Vec<String> = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if let [integration, model, resource, method, _case] = &rel[..] {
                    cases.push(Case {
                        name: rel.join("/"),
                        dir: path.clone(),
                        integration: integration.clone(),
                        resource: format!("{model}/{resource}"),
                        method: method.clone(),
                    });
                }
            } else {
                pending.push(path);
            }
        }
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(cases)
}

/// Whether blessing was asked for (`SWITCHBOARD_BLESS=1`) — never under CI.
pub fn bless_requested() -> Result<bool, GoldenError> {
    let asked = std::env::var_os("SWITCHBOARD_BLESS").is_some_and(|v| v != "0" && !v.is_empty());
    if asked {
        refuse_bless_under_ci()?;
    }
    Ok(asked)
}

/// Refuses to bless under CI (`CI` set): the expected files are what CI checks against.
fn refuse_bless_under_ci() -> Result<(), GoldenError> {
    if std::env::var_os("CI").is_some() {
        return Err(GoldenError(
            "refusing to bless golden files under CI".to_owned(),
        ));
    }
    Ok(())
}

/// Formats JSON canonically: keys sorted, two-space indent, trailing newline.
pub fn canonical(value: &Value) -> String {
    let sorted = sort_keys(value);
    let mut text = serde_json::to_string_pretty(&sorted).unwrap_or_default();
    text.push('\n');
    text
}

fn sort_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sort_keys(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

fn read_json(path: &Path) -> Result<Value, GoldenError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| GoldenError(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| GoldenError(format!("{}: invalid JSON: {e}", path.display())))
}

/// What one run of a case produced.
struct Produced {
    files: Vec<(String, Value)>,
}

/// Runs `case` against `registry`; with `bless`, rewrites its expected files instead of
/// comparing them.
pub fn run_case(registry: &Registry, case: &Case, bless: bool) -> Result<(), GoldenError> {
    let plan = registry
        .method(&case.integration, &case.resource, &case.method)
        .map_err(|error| GoldenError(error.to_string()))?;
    let run_input = read_input(&case.dir)?;
    let produced = produce(plan, run_input, &case.dir)?;
    if bless {
        return write_expected(case, &produced);
    }
    compare(case, &produced)
}

/// A case's `input.json` as the run input.
pub(crate) fn read_input(dir: &Path) -> Result<RunInput, GoldenError> {
    let input = read_json(&dir.join("input.json"))?;
    let field = |key: &str| input.get(key).cloned().unwrap_or(Value::Null);
    let as_map = |v: Value| match v {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    Ok(RunInput {
        query: as_map(field("query")),
        body: field("body"),
        context: as_map(field("context")),
        strict: field("strict").as_bool().unwrap_or(false),
        id: field("id").as_str().map(str::to_owned),
        cursor: input.get("cursor").cloned(),
    })
}

fn produce(
    plan: &std::sync::Arc<switchboard_core::MethodPlan>,
    input: RunInput,
    dir: &Path,
) -> Result<Produced, GoldenError> {
    let mut files = Vec::new();
    let mut step = 1;
    let result: Result<switchboard_core::UnifiedOutput, RunError> = (|| {
        let (mut run, mut next) = plan.start(input)?;
        loop {
            match next {
                Next::Done(output) => return Ok(output),
                Next::Send(request) => {
                    files.push((format!("{step:02}.request.json"), to_value(&request)));
                    let response_path = dir.join(format!("{step:02}.response.json"));
                    if !response_path.is_file() {
                        return Err(RunError::Misuse(format!(
                            "no recorded response `{step:02}.response.json` for the request of step `{}`",
                            request.step
                        )));
                    }
                    let recorded = read_json(&response_path).map_err(|e| RunError::Misuse(e.0))?;
                    let response: ProviderResponse =
                        serde_json::from_value(recorded).map_err(|e| {
                            RunError::Misuse(format!("{}: {e}", response_path.display()))
                        })?;
                    step += 1;
                    next = run.resume(response)?;
                }
            }
        }
    })();
    match result {
        Ok(output) => files.push(("output.json".to_owned(), to_value(&output))),
        Err(RunError::Misuse(message)) => return Err(GoldenError(message)),
        Err(error) => files.push(("error.json".to_owned(), to_value(&error))),
    }
    Ok(Produced { files })
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Expected files of a case: requests, output and error (not recorded responses or input).
fn expected_files(dir: &Path) -> Result<Vec<String>, GoldenError> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| GoldenError(format!("{}: {e}", dir.display())))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".request.json") || n == "output.json" || n == "error.json")
        .collect();
    names.sort();
    Ok(names)
}

fn compare(case: &Case, produced: &Produced) -> Result<(), GoldenError> {
    let mut problems = Vec::new();
    for (name, value) in &produced.files {
        let got = canonical(value);
        let path = case.dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(expected) if expected == got => {}
            Ok(expected) => problems.push(format!("{name} differs:\n{}", diff(&expected, &got))),
            Err(_) => problems.push(format!("{name} is missing; the engine produced:\n{got}")),
        }
    }
    for name in expected_files(&case.dir)? {
        if !produced.files.iter().any(|(n, _)| *n == name) {
            problems.push(format!(
                "{name} is expected but the engine did not produce it"
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(GoldenError(format!(
            "golden case `{}` failed (bless with `SWITCHBOARD_BLESS=1 cargo test -p switchboard-testkit --test golden` after checking the change):\n{}",
            case.name,
            problems.join("\n")
        )))
    }
}

fn write_expected(case: &Case, produced: &Produced) -> Result<(), GoldenError> {
    for name in expected_files(&case.dir)? {
        if !produced.files.iter().any(|(n, _)| *n == name) {
            let path = case.dir.join(&name);
            std::fs::remove_file(&path)
                .map_err(|e| GoldenError(format!("{}: {e}", path.display())))?;
        }
    }
    for (name, value) in &produced.files {
        let path = case.dir.join(name);
        std::fs::write(&path, canonical(value))
            .map_err(|e| GoldenError(format!("{}: {e}", path.display())))?;
    }
    Ok(())
}

/// A unified diff of two texts, `-` expected, `+` got.
pub fn diff(expected: &str, got: &str) -> String {
    similar::TextDiff::from_lines(expected, got)
        .unified_diff()
        .header("expected", "got")
        .to_string()
}
