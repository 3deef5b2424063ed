//! The Lever applicant path (validate the input, find what it drops, render four requests, map
//! the recorded answers into the unified candidate), through the engine and through a
//! hand-written serde_json baseline of the same mapping, side by side in one run.
//!
//! Both sides do the same work: the baseline validates the input against the same unified JSON
//! Schema (with the `jsonschema` crate, as the engine does) and the mapping's rules, and reports
//! the same dropped values (checked once before timing).
//!
//! `cargo bench -p switchboard-core --bench lever_applicant`

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};
use switchboard_core::{Next, ProviderResponse, Registry, RunInput};

fn case_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/golden/lever/ats/candidates/create/applicant-full")
}

fn read(name: &str) -> Value {
    let text = std::fs::read_to_string(case_dir().join(name)).expect("golden case file");
    serde_json::from_str(&text).expect("json")
}

fn object(value: &Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let registry =
        Registry::load_dirs(&root.join("mappings"), &root.join("schemas")).expect("mappings load");
    let plan = registry
        .method("lever", "ats/candidates", "create")
        .expect("mapped")
        .clone();
    let input = read("input.json");
    let responses: Vec<ProviderResponse> = (1..=4)
        .map(|i| {
            serde_json::from_value(read(&format!("{i:02}.response.json")))
                .expect("recorded response")
        })
        .collect();

    let engine = || {
        let run_input = RunInput {
            query: object(&input["query"]),
            body: input["body"].clone(),
            context: object(&input["context"]),
            strict: false,
            id: None,
            cursor: None,
        };
        let (mut run, mut next) = plan.start(run_input).expect("valid");
        let mut answers = responses.iter().cloned();
        loop {
            match next {
                Next::Send(request) => {
                    black_box(&request);
                    next = run
                        .resume(answers.next().expect("recorded"))
                        .expect("mapped");
                }
                Next::Done(output) => break output,
            }
        }
    };
    let schema = registry.schema("ats/candidates").expect("unified schema");
    let validators = baseline::Validators::new(&schema.definitions());
    let mut engine_warnings: Vec<String> =
        engine().warnings.into_iter().map(|w| w.pointer).collect();
    let mut baseline_warnings = validators
        .check(&input["query"], &input["body"])
        .expect("valid");
    engine_warnings.sort();
    baseline_warnings.sort();
    assert_eq!(
        engine_warnings, baseline_warnings,
        "both sides report the same dropped values"
    );

    let mut group = c.benchmark_group("lever_applicant_render_and_map");
    group.bench_function("engine", |b| b.iter(|| black_box(engine())));
    group.bench_function("hand_written_serde_json", |b| {
        b.iter(|| {
            let body = input["body"].clone();
            let query = input["query"].clone();
            black_box(validators.check(&query, &body).expect("valid"));
            black_box(baseline::upload_request(&body));
            black_box(baseline::apply_body(&body, &responses[0].body));
            black_box(baseline::find_query(&body, &query));
            let found = baseline::select(&responses[2].body, &responses[1].body).expect("found");
            black_box(baseline::tag_body(&body));
            black_box(baseline::candidate(found, &responses[3].body))
        })
    });
    group.finish();
}

/// The same mapping, written by hand against serde_json: what the engine is measured against.
mod baseline {
    use super::*;
    use std::collections::HashMap;

    /// The unified schema's create query and body, compiled once (as the engine does at load).
    pub(super) struct Validators {
        query: jsonschema::Validator,
        body: jsonschema::Validator,
    }

    impl Validators {
        pub(super) fn new(definitions: &Map<String, Value>) -> Validators {
            let compile = |name: &str| {
                jsonschema::validator_for(&json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "$defs": definitions,
                    "$ref": format!("#/$defs/{name}"),
                }))
                .expect("schema compiles")
            };
            Validators {
                query: compile("create_query"),
                body: compile("create_body"),
            }
        }

        /// The input's problems, or the pointers of what it holds that is not sent (the
        /// mapping's `warns` and the values no request carries).
        pub(super) fn check(
            &self,
            query: &Value,
            body: &Value,
        ) -> Result<Vec<String>, Vec<String>> {
            let mut problems: Vec<String> = self
                .query
                .iter_errors(query)
                .chain(self.body.iter_errors(body))
                .map(|e| e.instance_path().to_string())
                .collect();
            let lead = query["application_source"] == "lead";
            for (input, name) in [(query, "job_id"), (body, "job_form_field_answers")] {
                if input[name].is_null() {
                    problems.push(format!("/{name}"));
                }
            }
            if !lead && body["emails"][0]["email"].is_null() {
                problems.push("/emails".into());
            }
            problems.extend(answer_problems(body, lead));
            if !problems.is_empty() {
                return Err(problems);
            }
            let mut warnings = Vec::new();
            if !lead && body["title"].as_str().is_some_and(|t| !t.is_empty()) {
                warnings.push("/title".to_owned());
            }
            dropped(body, &mut warnings);
            Ok(warnings)
        }
    }

    /// The mapping's `rejects` on `job_form_field_answers`.
    fn answer_problems(body: &Value, lead: bool) -> Vec<String> {
        let empty = Vec::new();
        let answers = body["job_form_field_answers"].as_array().unwrap_or(&empty);
        let fixed = ["personalInformation", "urls", "eeoResponses"];
        let position = |a: &Value| -> Option<f64> {
            match &a["name"] {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => serde_json::from_str::<Value>(s).ok()?.as_f64(),
                _ => None,
            }
        };
        let mut taken: HashMap<(&str, u64), usize> = HashMap::new();
        let mut problems = Vec::new();
        for (index, answer) in answers.iter().enumerate() {
            let group = answer["group_id"].as_str().unwrap_or_default();
            if group.is_empty() || answer["name"].is_null() {
                problems.push(format!("/job_form_field_answers/{index}"));
                continue;
            }
            if lead || fixed.contains(&group) {
                continue;
            }
            match position(answer) {
                Some(p) if p.fract() == 0.0 && (0.0..=500.0).contains(&p) => {
                    *taken.entry((group, p as u64)).or_default() += 1;
                }
                _ => problems.push(format!("/job_form_field_answers/{index}")),
            }
        }
        if taken.values().any(|n| *n > 1) {
            problems.push("/job_form_field_answers".into());
        }
        problems
    }

    /// The values no request carries: every email, phone and location but the first, the
    /// members of the first the requests do not read, a link's type when its URL names the
    /// same site, and the attachment's members besides its URL and name.
    fn dropped(body: &Value, out: &mut Vec<String>) {
        for (field, kept) in [("emails", "email"), ("phones", "number")] {
            for (index, item) in body[field].as_array().into_iter().flatten().enumerate() {
                match item.as_object() {
                    Some(members) if index == 0 => out.extend(
                        members
                            .keys()
                            .filter(|k| *k != kept)
                            .map(|k| format!("/{field}/0/{k}")),
                    ),
                    _ => out.push(format!("/{field}/{index}")),
                }
            }
        }
        for index in 1..body["locations"].as_array().map_or(0, Vec::len) {
            out.push(format!("/locations/{index}"));
        }
        for (index, link) in body["links"].as_array().into_iter().flatten().enumerate() {
            if link.get("type").is_some() && label(link).0 == label(&link["url"]).0 {
                out.push(format!("/links/{index}/type"));
            }
        }
        for (index, file) in body["attachments"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            for key in file.as_object().into_iter().flat_map(|m| m.keys()) {
                if key != "file_url" && key != "file_name" {
                    out.push(format!("/attachments/{index}/{key}"));
                }
            }
        }
    }

    pub(super) fn upload_request(body: &Value) -> Option<Value> {
        let first = body["attachments"]
            .as_array()?
            .iter()
            .find(|a| a["file_url"].is_string())?;
        Some(json!({"file": {"fetch": first["file_url"], "file_name": first["file_name"]}}))
    }

    fn label(link: &Value) -> (&'static str, Value) {
        let url = link.get("url").unwrap_or(link).clone();
        let kind = link
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_lowercase);
        let text = url.as_str().unwrap_or_default().to_lowercase();
        let name = match kind.as_deref() {
            Some("linkedin") => "LinkedIn",
            Some("github") => "GitHub",
            Some("twitter" | "x") => "Twitter",
            Some("portfolio" | "website" | "personal") => "Portfolio",
            _ if text.contains("linkedin.com") => "LinkedIn",
            _ if text.contains("github.com") => "GitHub",
            _ if text.contains("twitter.com") || text.contains("x.com") => "Twitter",
            _ => "Other",
        };
        (name, url)
    }

    pub(super) fn apply_body(body: &Value, upload: &Value) -> Value {
        let empty = Vec::new();
        let answers = body["job_form_field_answers"].as_array().unwrap_or(&empty);
        let full_name: Vec<&str> = [&body["first_name"], &body["last_name"]]
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        let mut personal: Vec<Value> = [
            ("fullName", Value::from(full_name.join(" "))),
            ("email", body["emails"][0]["email"].clone()),
            ("phone", body["phones"][0]["number"].clone()),
            ("currentCompany", body["company"].clone()),
            ("currentLocation", body["locations"][0].clone()),
            ("resume", upload["data"]["uri"].clone()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_null() && v != "")
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
        let mut urls: Vec<Value> = body["links"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .map(|l| {
                let (name, url) = label(l);
                json!({"name": name, "value": url})
            })
            .collect();
        let mut cards: Vec<(String, Vec<(i64, Value)>)> = Vec::new();
        let mut eeo = Map::new();
        for answer in answers {
            let group = answer["group_id"].as_str().unwrap_or_default();
            let entry = json!({"name": answer["name"], "value": answer["value"]});
            match group {
                "personalInformation" => {
                    match personal.iter_mut().find(|p| p["name"] == answer["name"]) {
                        Some(existing) => *existing = entry,
                        None => personal.push(entry),
                    }
                }
                "urls" => urls.push(entry),
                "eeoResponses" => {
                    eeo.insert(
                        answer["name"].as_str().unwrap_or_default().to_owned(),
                        answer["value"].clone(),
                    );
                }
                card => {
                    let index = answer["name"]
                        .as_str()
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0);
                    match cards.iter_mut().find(|(id, _)| id == card) {
                        Some((_, fields)) => fields.push((index, answer["value"].clone())),
                        None => {
                            cards.push((card.to_owned(), vec![(index, answer["value"].clone())]))
                        }
                    }
                }
            }
        }
        let questions: Vec<Value> = cards
            .into_iter()
            .map(|(id, mut fields)| {
                fields.sort_by_key(|(i, _)| *i);
                json!({"id": id, "fields": fields.into_iter().map(|(_, v)| json!({"value": v})).collect::<Vec<_>>()})
            })
            .collect();
        let mut out = json!({"personalInformation": personal, "urls": urls, "customQuestions": questions, "eeoResponses": eeo});
        if let (Some(target), Some(extra)) = (out.as_object_mut(), body["remote_data"].as_object())
        {
            for (k, v) in extra {
                target.insert(k.clone(), v.clone());
            }
        }
        out
    }

    pub(super) fn find_query(body: &Value, query: &Value) -> Vec<(String, String)> {
        vec![
            (
                "email".into(),
                body["emails"][0]["email"]
                    .as_str()
                    .unwrap_or_default()
                    .into(),
            ),
            (
                "posting_id".into(),
                query["job_id"].as_str().unwrap_or_default().into(),
            ),
            ("expand".into(), "applications".into()),
        ]
    }

    pub(super) fn select<'a>(found: &'a Value, applied: &Value) -> Option<&'a Value> {
        let wanted = &applied["data"]["applicationId"];
        let list = found["data"].as_array()?;
        list.iter()
            .find(|o| {
                o["applications"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| &x["id"] == wanted))
            })
            .or_else(|| list.iter().max_by_key(|o| o["createdAt"].as_i64()))
    }

    pub(super) fn tag_body(body: &Value) -> Value {
        let names: Vec<&Value> = body["tags"]
            .as_array()
            .map(|t| t.iter().map(|x| &x["name"]).collect())
            .unwrap_or_default();
        json!({"tags": names})
    }

    fn rfc3339(ms: &Value) -> Value {
        let Some(ms) = ms.as_i64() else {
            return Value::Null;
        };
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .expect("in range");
        Value::from(format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        ))
    }

    pub(super) fn candidate(opp: &Value, tagged: &Value) -> Value {
        let mut record = opp.clone();
        if let Some(r) = record.as_object_mut() {
            r.insert("tags".into(), tagged["data"]["tags"].clone());
            r.insert("updatedAt".into(), tagged["data"]["updatedAt"].clone());
        }
        let name = record["name"].as_str().unwrap_or_default().to_owned();
        let mut words = name.split_whitespace();
        let first = words.next().map(str::to_owned);
        let rest: Vec<&str> = words.collect();
        let empty = Vec::new();
        let strings = |key: &str| record[key].as_array().unwrap_or(&empty).clone();
        json!({
            "id": record["id"],
            "name": name,
            "first_name": first,
            "last_name": if rest.is_empty() { Value::Null } else { Value::from(rest.join(" ")) },
            "company": record["applications"][0]["company"],
            "emails": strings("emails").iter().map(|e| json!({"email": e})).collect::<Vec<_>>(),
            "phones": strings("phones").iter().map(|p| json!({"number": p["value"], "type": p["type"]})).collect::<Vec<_>>(),
            "locations": if record["location"].is_string() { json!([record["location"]]) } else { json!([]) },
            "urls": strings("links").iter().map(|l| json!({"url": l, "type": label(l).0.to_lowercase()})).collect::<Vec<_>>(),
            "tags": strings("tags").iter().map(|t| json!({"name": t})).collect::<Vec<_>>(),
            "applications": strings("applications").iter().map(|a| json!({
                "id": a["id"], "job": {"id": a["posting"]}, "candidate": {"id": a["candidateId"]},
                "current_stage": {"id": record["stage"]}, "created_at": rfc3339(&a["createdAt"])})).collect::<Vec<_>>(),
            "is_private": record["confidentiality"] == "confidential",
            "can_email": record["dataProtection"]["contact"]["allowed"],
            "last_interaction_at": rfc3339(&record["lastInteractionAt"]),
            "created_at": rfc3339(&record["createdAt"]),
            "updated_at": rfc3339(&record["updatedAt"]),
            "remote_data": record,
        })
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
