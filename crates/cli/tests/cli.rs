//! The `switchboard` binary as integration engineers use it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use switchboard_testkit::listener::counting_listener;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

fn switchboard(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(args)
        .current_dir(cwd)
        .env_remove("SWITCHBOARD_BLESS")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A scratch copy of `mappings/` and `schemas/` that a test may edit.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("switchboard-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["mappings", "schemas"] {
        copy_dir(&root().join(sub), &dir.join(sub));
    }
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("readable") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("readable");
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).expect("writable");
}

#[test]
fn check_accepts_the_repository_mappings() {
    let out = switchboard(&["check", "mappings"], &root());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("ok: "));
}

#[test]
fn check_names_every_problem_with_file_and_line() {
    let dir = scratch("check");
    let mapping = dir.join("mappings/lever/ats/candidates.yaml");
    edit(
        &mapping,
        "      first_name: supported\n",
        "      first_nme: supported\n",
    );
    edit(
        &mapping,
        "        select: \"find_by(",
        "        select: \"find_by(((",
    );
    std::fs::write(
        dir.join("mappings/lever/ats/jobs.yaml"),
        "version: 1\nmethods: {}\nversion: 2\n",
    )
    .expect("writable");
    let out = switchboard(&["check", "mappings"], &dir);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    let line_of = |needle: &str| {
        std::fs::read_to_string(&mapping)
            .expect("readable")
            .lines()
            .position(|l| l.contains(needle))
            .expect("present")
            + 1
    };
    assert!(
        stderr.contains(&format!(
            "error: unknown unified field `first_nme`\n  --> mappings/lever/ats/candidates.yaml:{}:7",
            line_of("first_nme")
        )),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `first_name`?"), "{stderr}");
    assert!(
        stderr.contains("= field: methods.create.body.first_nme"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "--> mappings/lever/ats/candidates.yaml:{}:9",
            line_of("find_by(((")
        )),
        "{stderr}"
    );
    assert!(stderr.contains("invalid JMESPath"), "{stderr}");
    assert!(
        stderr.contains("= field: methods.create.steps[2].select"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: duplicate key `version`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--> mappings/lever/ats/jobs.yaml:3:1"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("error: could not load mappings due to 3 previous errors\n"),
        "{stderr}"
    );
}

fn render(args: &[&str]) -> Value {
    let mut all = vec![
        "render",
        "--integration",
        "lever",
        "--resource",
        "ats/candidates",
    ];
    all.extend_from_slice(args);
    let out = switchboard(&all, &root());
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[test]
fn render_prints_the_applicant_apply_request() {
    let body = root().join("tests/golden/lever/ats/candidates/create/applicant-minimal/input.json");
    let input: Value =
        serde_json::from_str(&std::fs::read_to_string(&body).expect("readable")).expect("json");
    let body_file =
        std::env::temp_dir().join(format!("switchboard-render-{}.json", std::process::id()));
    std::fs::write(&body_file, input["body"].to_string()).expect("writable");
    let request = render(&[
        "--query",
        "job_id=posting-1",
        "--body",
        body_file.to_str().expect("utf-8"),
        "--context",
        r#"{"api_key":"k-123"}"#,
    ]);
    assert_eq!(request["method"], "POST");
    assert_eq!(
        request["url"],
        "https://api.lever.co/v1/postings/posting-1/apply?send_confirmation_email=false"
    );
    assert_eq!(request["headers"]["authorization"], "Basic <redacted>");
    assert_eq!(
        request["body"]["personalInformation"],
        serde_json::json!([{"name": "fullName", "value": "Ada Lovelace"}, {"name": "email", "value": "ada@example.com"}])
    );
    assert!(!request.to_string().contains("k-123"));
}

#[test]
fn render_prints_the_lead_create_opportunity_request() {
    let body_file = std::env::temp_dir().join(format!(
        "switchboard-render-lead-{}.json",
        std::process::id()
    ));
    std::fs::write(
        &body_file,
        r#"{"first_name":"Ada","last_name":"Lovelace","title":"Analyst","company":"Acme","emails":[{"email":"a@example.com"}],"job_form_field_answers":[]}"#,
    )
    .expect("writable");
    let request = render(&[
        "--query",
        "job_id=posting-1&application_source=lead",
        "--body",
        body_file.to_str().expect("utf-8"),
        "--context",
        r#"{"access_token":"t-1","perform_as":"user-1"}"#,
        "--environment",
        "sandbox",
    ]);
    assert_eq!(
        request["url"],
        "https://api.sandbox.lever.co/v1/opportunities?perform_as=user-1"
    );
    assert_eq!(request["headers"]["authorization"], "Bearer <redacted>");
    assert_eq!(request["body"]["name"], "Ada Lovelace");
    assert_eq!(request["body"]["headline"], "Analyst at Acme");
    assert_eq!(request["body"]["origin"], "sourced");
    assert_eq!(
        request["body"]["postings"],
        serde_json::json!(["posting-1"])
    );
}

#[test]
fn fields_marks_lever_requirements() {
    let out = switchboard(&["fields", "--integration", "lever"], &root());
    let table = text(&out.stdout);
    assert!(out.status.success());
    assert!(
        table.contains("| `job_id` (1 supported · 1 required) | **required** |"),
        "{table}"
    );
    assert!(
        table.contains("| `job_form_field_answers` (1 supported · 1 required) | **required** |"),
        "{table}"
    );
    let out = switchboard(
        &["fields", "--integration", "lever", "--format", "json"],
        &root(),
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        json["ats/candidates"]["create"]["body"]["first_name"]["lever"]["support"],
        "supported"
    );
    assert_eq!(
        json["ats/candidates"]["create"]["response"]["attachments"]["lever"]["support"],
        "unsupported"
    );
}

#[test]
fn readme_field_table_is_current() {
    let out = switchboard(&["fields"], &root());
    let table = text(&out.stdout);
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let start = "<!-- fields:start -->\n";
    let end = "<!-- fields:end -->";
    let from = readme.find(start).expect("README has the fields markers") + start.len();
    let to = readme.find(end).expect("README has the fields end marker");
    assert_eq!(
        readme[from..to],
        table,
        "README's field table is stale: replace it with the output of `switchboard fields`"
    );
}

#[test]
fn format_schemas_are_current() {
    let out = switchboard(&["schema", "--check"], &root());
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn a_new_body_field_needs_no_rust() {
    let dir = scratch("new-field");
    let schema = dir.join("schemas/ats/candidates.json");
    edit(
        &schema,
        "\"title\": {\n          \"type\": [\n            \"string\",\n            \"null\"\n          ],\n          \"description\": \"The candidate's title\"\n        }\n      }",
        "\"title\": {\n          \"type\": [\n            \"string\",\n            \"null\"\n          ],\n          \"description\": \"The candidate's title\"\n        },\n        \"source\": {\"type\": \"string\", \"description\": \"Where the candidate came from\"}\n      }",
    );
    let mapping = dir.join("mappings/lever/ats/candidates.yaml");
    edit(
        &mapping,
        "      first_name: supported\n",
        "      first_name: supported\n      source: supported\n",
    );
    edit(
        &mapping,
        "            eeoResponses:",
        "            source: \"{{ body.source }}\"\n            eeoResponses:",
    );
    let body_file = dir.join("body.json");
    std::fs::write(&body_file, r#"{"first_name":"Ada","source":"Meetup","emails":[{"email":"a@example.com"}],"job_form_field_answers":[]}"#)
        .expect("writable");
    let out = switchboard(
        &[
            "render",
            "--integration",
            "lever",
            "--resource",
            "ats/candidates",
            "--query",
            "job_id=p",
            "--body",
            "body.json",
        ],
        &dir,
    );
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let request: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(request["body"]["source"], "Meetup");
}

/// `render --execute` arguments for a create at the fake Lever, with `extra` flags; the body is
/// written to a file named after `name`.
fn execute_args(
    fake: &switchboard_testkit::fake_lever::FakeLever,
    name: &str,
    extra: &[&str],
) -> Vec<String> {
    use switchboard_testkit::fake_lever::FakeLever;
    let body_file = std::env::temp_dir().join(format!(
        "switchboard-execute-{name}-{}.json",
        std::process::id()
    ));
    std::fs::write(
        &body_file,
        r#"{"first_name":"Ada","last_name":"Lovelace","emails":[{"email":"ada@example.com"}],"tags":[{"name":"Math"}],"job_form_field_answers":[]}"#,
    )
    .expect("writable");
    let context = format!(
        r#"{{"api_key":"{}","perform_as":"{}"}}"#,
        FakeLever::API_KEY,
        FakeLever::USER_ID
    );
    let mut args: Vec<String> = [
        "render",
        "--integration",
        "lever",
        "--resource",
        "ats/candidates",
        "--execute",
        "--query",
        &format!("job_id={}", FakeLever::POSTING_ID),
        "--body",
        body_file.to_str().expect("utf-8"),
        "--context",
        &context,
        "--base-url",
        &fake.base_url(),
    ]
    .iter()
    .map(|arg| (*arg).to_owned())
    .collect();
    args.extend(extra.iter().map(|arg| (*arg).to_owned()));
    args
}

#[test]
fn render_execute_creates_a_candidate_at_a_real_endpoint_ignoring_proxy_variables() {
    use std::sync::atomic::Ordering;
    use switchboard_testkit::fake_lever::FakeLever;
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let fake = runtime.block_on(FakeLever::start());
    let (proxy, proxied) = runtime.block_on(counting_listener());
    let args = execute_args(&fake, "allowed", &["--allow-private-provider-urls"]);
    let out = switchboard_with_proxy_variables(&args, &proxy);
    assert_eq!(
        proxied.load(Ordering::SeqCst),
        0,
        "the proxy variables of the environment are not read"
    );
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).expect("json");
    let steps: Vec<&str> = result["exchanges"]
        .as_array()
        .expect("exchanges")
        .iter()
        .filter_map(|e| e["step"].as_str())
        .collect();
    assert_eq!(steps, ["apply", "find", "tag"]);
    assert_eq!(result["output"]["record"]["name"], "Ada Lovelace");
    assert_eq!(
        result["output"]["record"]["tags"],
        serde_json::json!([{"name": "Math"}])
    );
    assert_eq!(fake.opportunities().len(), 1);
    assert!(
        !out.stdout
            .windows(FakeLever::API_KEY.len())
            .any(|w| w == FakeLever::API_KEY.as_bytes())
    );
}

fn last_line(out: &Output) -> String {
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .last()
        .expect("a line")
        .trim()
        .to_owned()
}

#[test]
fn accounts_read_credentials_from_a_file_and_tokens_have_scopes() {
    let dir = std::env::temp_dir().join(format!("switchboard-cli-scopes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("keys")).expect("mkdir");
    let database = format!("sqlite:{}", dir.join("s.db").display());
    let key_file = dir.join("keys/s.key");
    let context_file = dir.join("context.json");
    std::fs::write(&context_file, r#"{"api_key":"k-1","perform_as":"u-1"}"#).expect("writable");
    let create = |context: &[&str]| {
        let mut args = vec![
            "accounts",
            "create",
            "--integration",
            "lever",
            "--database",
            &database,
            "--secret-key-file",
            key_file.to_str().expect("utf-8"),
        ];
        args.extend(context);
        switchboard(&args, &root())
    };

    let from_file = create(&["--context-file", context_file.to_str().expect("utf-8")]);
    let account = last_line(&from_file);
    assert!(
        text(&from_file.stderr).is_empty(),
        "{}",
        text(&from_file.stderr)
    );
    assert!(
        key_file.exists(),
        "the key is where `--secret-key-file` says"
    );
    assert!(!dir.join("s.key").exists());
    let inline = create(&["--context", r#"{"api_key":"k-2"}"#]);
    last_line(&inline);
    assert!(
        text(&inline.stderr).contains("use `--context-file`"),
        "{}",
        text(&inline.stderr)
    );

    let token = |args: &[&str]| {
        let mut all = vec!["tokens", "create", "--database", &database];
        all.extend(args);
        switchboard(&all, &root())
    };
    let created = token(&["--name", "app", "--account", &account]);
    assert!(
        text(&created.stdout).contains("created `unified` API token `app`"),
        "unified is the default: {}",
        text(&created.stdout)
    );
    let refused = token(&["--name", "ops", "--scope", "admin", "--account", &account]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("only a `unified` token can be restricted to accounts"),
        "{}",
        text(&refused.stderr)
    );
    last_line(&token(&["--name", "ops", "--scope", "admin"]));
    let list = switchboard(&["tokens", "list", "--database", &database], &root());
    let rows: Vec<Vec<String>> = text(&list.stdout)
        .lines()
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0][1..4], ["app", "unified", account.as_str()]);
    assert_eq!(rows[1][1..4], ["ops", "admin", "*"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `switchboard` with `args`, every proxy variable of the environment pointing at `proxy`.
fn switchboard_with_proxy_variables(args: &[String], proxy: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    command.args(args).current_dir(root());
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        command.env(name, proxy);
    }
    command
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .expect("the binary runs")
}

#[test]
fn render_execute_with_proxy_variables_still_refuses_a_file_on_localhost() {
    use std::sync::atomic::Ordering;
    use switchboard_testkit::fake_lever::FakeLever;
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let fake = runtime.block_on(FakeLever::start());
    let (proxy, proxied) = runtime.block_on(counting_listener());
    let cv = fake
        .serve_file("cv.pdf", "application/pdf", b"%PDF".to_vec())
        .replace("127.0.0.1", "localhost");
    let args = execute_args(&fake, "proxyfile", &["--allow-private-provider-urls"]);
    let body_at = args.iter().position(|arg| arg == "--body").expect("--body") + 1;
    let body = serde_json::json!({
        "first_name": "Ada", "emails": [{"email": "ada@example.com"}], "job_form_field_answers": [],
        "attachments": [{"file_name": "cv.pdf", "file_url": cv}]
    });
    std::fs::write(&args[body_at], body.to_string()).expect("writable");
    let out = switchboard_with_proxy_variables(&args, &proxy);
    assert!(!out.status.success());
    let result: Value = serde_json::from_slice(&out.stdout).expect("json");
    let error = result["error"].as_str().expect("an error");
    assert!(
        error.contains("points to the non-public address"),
        "{error}"
    );
    assert_eq!(
        proxied.load(Ordering::SeqCst),
        0,
        "nothing went to the proxy"
    );
    assert!(fake.calls().is_empty(), "nothing was fetched or sent");
}

#[test]
fn render_execute_refuses_a_loopback_base_url_unless_allowed() {
    use switchboard_testkit::fake_lever::FakeLever;
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let fake = runtime.block_on(FakeLever::start());
    let args = execute_args(&fake, "refused", &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = switchboard(&args, &root());
    assert!(!out.status.success());
    let result: Value = serde_json::from_slice(&out.stdout).expect("json");
    let error = result["error"].as_str().expect("an error");
    assert!(
        error.contains("whose address `127.0.0.1` is not public"),
        "{error}"
    );
    assert_eq!(result["exchanges"], serde_json::json!([]));
    assert_eq!(fake.count("POST", "/v1/postings/"), 0, "nothing was sent");
    assert!(fake.opportunities().is_empty());
}
