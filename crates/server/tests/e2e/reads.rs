//! The read side through the server against the fake Lever: list jobs → read a job's form →
//! create with those answers → get the candidate back; lists walked through `next_cursor`.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use switchboard_testkit::fake_lever::FakeLever;

use crate::common::{TestServer, send_json};

/// `GET /unified/ats/{resource}` (and `/{id}`) for the server's account, with `extra` query.
fn read_path(server: &TestServer, resource: &str, extra: &str) -> String {
    let (path, query) = extra.split_once('?').unwrap_or((extra, ""));
    let sep = if query.is_empty() { "" } else { "&" };
    format!(
        "/unified/ats/{resource}{path}?integrated_account_id={}{sep}{query}",
        server.account
    )
}

/// An answer for each field of the form a client just read: text for text fields, the first
/// option for choices, nothing for files.
fn answers_for(fields: &[Value]) -> Vec<Value> {
    fields
        .iter()
        .filter(|f| f["type"] != "file")
        .map(|field| {
            let value = match (field["group_id"].as_str(), field["name"].as_str()) {
                (Some("personalInformation"), Some("email")) => json!("form@example.com"),
                (Some("personalInformation"), Some("fullName")) => json!("Form Filler"),
                (Some("urls"), _) => json!("https://example.com/form-filler"),
                _ => field["options"][0]["value"]
                    .clone()
                    .as_str()
                    .map_or_else(|| json!("An answer"), |v| json!(v)),
            };
            json!({"group_id": field["group_id"], "name": field["name"], "value": value})
        })
        .collect()
}

#[tokio::test]
async fn a_client_lists_jobs_reads_the_form_creates_and_reads_the_candidate_back() {
    let server = TestServer::start().await;

    let (status, jobs) = send_json(server.get(&read_path(&server, "jobs", ""))).await;
    assert_eq!(status, 200, "{jobs}");
    assert_eq!(jobs["result_count"], 1);
    assert_eq!(jobs["next_cursor"], Value::Null);
    let job_id = jobs["result"][0]["id"].as_str().expect("job id").to_owned();
    assert_eq!(job_id, FakeLever::POSTING_ID);

    let (status, job) =
        send_json(server.get(&read_path(&server, "jobs", &format!("/{job_id}")))).await;
    assert_eq!(status, 200, "{job}");
    assert_eq!(job["status"], "open");

    let form_path = read_path(&server, "job_form_fields", &format!("?job_id={job_id}"));
    let (status, form) = send_json(server.get(&form_path)).await;
    assert_eq!(status, 200, "{form}");
    let fields = form["result"].as_array().expect("fields").clone();
    assert!(
        fields
            .iter()
            .any(|f| f["group_id"] == FakeLever::CARD_ID && f["name"] == "1"),
        "the custom question card's fields are named by position: {form}"
    );

    let body = json!({
        "first_name": "Form", "last_name": "Filler",
        "emails": [{"email": "form@example.com"}],
        "job_form_field_answers": answers_for(&fields),
    });
    let create = format!(
        "/unified/ats/candidates?integrated_account_id={}&job_id={job_id}",
        server.account
    );
    let (status, created) = send_json(server.post(&create).json(&body)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("candidate id").to_owned();

    let (status, read) =
        send_json(server.get(&read_path(&server, "candidates", &format!("/{id}")))).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["id"], id.as_str());
    assert_eq!(read["emails"], json!([{"email": "form@example.com"}]));
    let application = &read["remote_data"]["applications"][0];
    let card = application["customQuestions"]
        .as_array()
        .and_then(|cards| cards.iter().find(|c| c["id"] == FakeLever::CARD_ID))
        .expect("the card's answers reached Lever");
    assert_eq!(
        card["fields"],
        json!([{"value": "An answer"}, {"value": "Yes"}, {"value": "An answer"}]),
        "every answer at the position the form gave it"
    );
}

#[tokio::test]
async fn a_list_walked_through_next_cursor_returns_each_item_exactly_once() {
    let server = TestServer::start().await;
    for n in 0..4 {
        server
            .lever
            .add_posting(&format!("0000000{n}-0000-4000-8000-000000000000"));
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let extra = match &cursor {
            Some(c) => format!("?limit=2&next_cursor={c}"),
            None => "?limit=2".to_owned(),
        };
        let (status, page) = send_json(server.get(&read_path(&server, "jobs", &extra))).await;
        assert_eq!(status, 200, "{page}");
        assert!(page["result_count"].as_u64().expect("count") <= 2);
        for job in page["result"].as_array().expect("result") {
            seen.push(job["id"].as_str().expect("id").to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let distinct: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(distinct.len(), 5, "no job twice: {seen:?}");
}

#[tokio::test]
async fn a_changed_cursor_is_a_400_and_reaches_no_provider() {
    let server = TestServer::start().await;
    server
        .lever
        .add_posting("00000001-0000-4000-8000-000000000000");
    let (_, page) = send_json(server.get(&read_path(&server, "jobs", "?limit=1"))).await;
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let calls = server.lever.count("GET", "/v1/postings");
    let mut changed = cursor.clone().into_bytes();
    changed[0] = if changed[0] == b'A' { b'B' } else { b'A' };
    let changed = String::from_utf8(changed).expect("ascii");
    for bad in [changed.as_str(), "garbage", &cursor[..cursor.len() - 3]] {
        let extra = format!("?limit=1&next_cursor={bad}");
        let (status, error) = send_json(server.get(&read_path(&server, "jobs", &extra))).await;
        assert_eq!(status, 400, "{error}");
        assert_eq!(error["code"], "invalid_cursor");
    }
    // A cursor of one list is no cursor of another.
    let extra = format!("?next_cursor={cursor}");
    let (status, error) = send_json(server.get(&read_path(&server, "candidates", &extra))).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (400, Some("invalid_cursor"))
    );
    assert_eq!(
        server.lever.count("GET", "/v1/postings"),
        calls,
        "nothing sent"
    );
    assert_eq!(
        server.lever.count("GET", "/v1/opportunities"),
        0,
        "nothing sent"
    );
}

#[tokio::test]
async fn list_options_shape_the_envelope() {
    let server = TestServer::start().await;
    server
        .lever
        .add_posting("00000001-0000-4000-8000-000000000000");
    let extra = "?truto_key_by=id&truto_ignore_remote_data=true&truto_exclude_fields[]=description";
    let (status, page) = send_json(server.get(&read_path(&server, "jobs", extra))).await;
    assert_eq!(status, 200, "{page}");
    let keyed = page["result"][FakeLever::POSTING_ID].clone();
    assert_eq!(keyed["id"], FakeLever::POSTING_ID);
    assert!(keyed.get("remote_data").is_none() && keyed.get("description").is_none());
    assert_eq!(page["result_count"], 2);

    let (status, raw) = send_json(server.get(&read_path(
        &server,
        "jobs",
        "?truto_response_format=raw&limit=1",
    )))
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        raw["hasNext"], true,
        "the provider's page as it came: {raw}"
    );

    let (status, missing) = send_json(server.get(&read_path(&server, "jobs", "/nope"))).await;
    assert_eq!(status, 404, "{missing}");
    assert_eq!(missing["truto_is_remote_error"], true);
}

#[tokio::test]
async fn meta_documents_and_openapi_describe_the_reads() {
    let server = TestServer::start().await;
    let (status, meta) =
        send_json(server.get("/unified/ats/job_form_fields/lever/meta/list")).await;
    assert_eq!(status, 200, "{meta}");
    assert!(
        meta["query_schema"]["properties"]["job_id"].is_object(),
        "{meta}"
    );
    assert!(
        meta["response_schema"]["properties"]["group_id"].is_object(),
        "{meta}"
    );

    let (status, doc) = send_json(server.get("/openapi.json")).await;
    assert_eq!(status, 200);
    let paths = &doc["paths"];
    let candidates = &paths["/unified/ats/candidates"];
    assert!(
        candidates["post"].is_object() && candidates["get"].is_object(),
        "create and list share a path"
    );
    let list = &paths["/unified/ats/jobs"]["get"];
    let envelope = &list["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(
        envelope["required"],
        json!(["result", "next_cursor", "prev_cursor", "result_count"])
    );
    let names: Vec<&str> = list["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for name in ["limit", "next_cursor", "truto_key_by", "truto_ignore_limit"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let get = &paths["/unified/ats/jobs/{id}"]["get"];
    assert!(
        get["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .any(|p| p["name"] == "id" && p["in"] == "path"),
        "{get}"
    );
}
