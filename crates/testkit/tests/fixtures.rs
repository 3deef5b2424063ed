//! Issue 11, item 11: the recorded Lever answers of the golden cases say what Lever would say to
//! the recorded requests, and record mode produces such answers from the fake Lever.

use std::path::{Path, PathBuf};

use serde_json::Value;
use switchboard_core::Registry;
use switchboard_testkit::golden::{Case, discover};
use switchboard_testkit::record::record_case;

fn root() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).to_path_buf()
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `(request, response)` of each recorded call of a case, in order.
fn calls(dir: &Path) -> Vec<(Value, Value)> {
    (1..)
        .map(|n| {
            (
                dir.join(format!("{n:02}.request.json")),
                dir.join(format!("{n:02}.response.json")),
            )
        })
        .take_while(|(request, response)| request.is_file() && response.is_file())
        .map(|(request, response)| (read(&request), read(&response)))
        .collect()
}

fn personal(body: &Value, name: &str) -> Option<Value> {
    body["personalInformation"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)
        .map(|e| e["value"].clone())
}

/// An opportunity found after an apply holds what the apply sent: its phone (no more), its
/// email, its links; an opportunity created on the lead path holds the phones and links sent.
#[test]
fn lever_answers_agree_with_the_requests_they_answer() {
    let cases: Vec<Case> = discover(&root().join("tests/golden"))
        .expect("golden cases")
        .into_iter()
        .filter(|c| c.integration == "lever")
        .collect();
    assert!(cases.len() > 20);
    let mut checked = 0;
    for case in cases {
        let calls = calls(&case.dir);
        let apply = calls.iter().find(|(r, _)| r["step"] == "apply");
        let found = calls.iter().find(|(r, _)| r["step"] == "find");
        if let (Some((apply, applied)), Some((_, found))) = (apply, found) {
            let id = &applied["body"]["data"]["applicationId"];
            let opportunity = found["body"]["data"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|o| {
                    o["applications"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x["id"] == *id))
                });
            let Some(opportunity) = opportunity else {
                continue;
            };
            let body = &apply["body"]["value"];
            let phones: Vec<&Value> = opportunity["phones"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| &p["value"])
                .collect();
            let sent: Vec<Value> = personal(body, "phone").into_iter().collect();
            assert_eq!(
                phones,
                sent.iter().collect::<Vec<_>>(),
                "{}: phones",
                case.name
            );
            let email = personal(body, "email").expect("apply sends an email");
            assert!(
                opportunity["emails"]
                    .as_array()
                    .is_some_and(|e| e.contains(&email)),
                "{}: email",
                case.name
            );
            let links: Vec<&Value> = body["urls"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|u| &u["value"])
                .collect();
            let held: Vec<&Value> = opportunity["links"]
                .as_array()
                .into_iter()
                .flatten()
                .collect();
            assert_eq!(held, links, "{}: links", case.name);
            checked += 1;
        }
        if let Some((lead, created)) = calls.iter().find(|(r, _)| r["step"] == "lead") {
            let body = &lead["body"]["value"];
            let data = &created["body"]["data"];
            assert_eq!(
                data["phones"].as_array().map(Vec::len),
                body["phones"].as_array().map(Vec::len).or(Some(0)),
                "{}: lead phones",
                case.name
            );
            assert_eq!(
                data["links"].as_array().cloned().unwrap_or_default(),
                body["links"].as_array().cloned().unwrap_or_default(),
                "{}: lead links",
                case.name
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} cases checked");
}

/// Record mode runs a case against the fake Lever: the answers it writes follow from the
/// requests, and the case is blessed from them.
#[tokio::test]
async fn record_mode_writes_answers_from_the_fake_lever() {
    let source = root().join("tests/golden/lever/ats/candidates/create/applicant-full");
    let scratch = std::env::temp_dir().join(format!("switchboard-record-{}", std::process::id()));
    let dir = scratch.join("lever/ats/candidates/create/applicant-full");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    std::fs::copy(source.join("input.json"), dir.join("input.json")).expect("input");
    let registry = Registry::load_dirs(&root().join("mappings"), &root().join("schemas"))
        .unwrap_or_else(|p| panic!("{p}"));
    let case = Case {
        name: "lever/ats/candidates/create/applicant-full".to_owned(),
        dir: dir.clone(),
        integration: "lever".to_owned(),
        resource: "ats/candidates".to_owned(),
        method: "create".to_owned(),
    };
    record_case(&registry, &case).await.expect("recorded");
    let calls = calls(&dir);
    let steps: Vec<&str> = calls
        .iter()
        .filter_map(|(r, _)| r["step"].as_str())
        .collect();
    assert_eq!(steps, ["upload", "apply", "find", "tag"]);
    assert!(
        calls
            .iter()
            .all(|(_, answer)| answer["status"] == 200 || answer["status"] == 201)
    );
    let output = read(&dir.join("output.json"));
    assert_eq!(output["record"]["phones"][0]["number"], "+44 20 7946 0000");
    let _ = std::fs::remove_dir_all(&scratch);
}
