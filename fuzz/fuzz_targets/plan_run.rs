//! A whole run of a shipped plan with an arbitrary input and arbitrary provider answers.
//!
//! Input layout: byte 0 picks the plan, bit 0 of byte 1 sets strict mode, and the rest is text
//! split at NUL bytes: the first part is the unified input (`{"query", "body", "context"}` as in
//! `tests/golden/**/input.json`), each further part one provider answer (`{"status", "headers",
//! "body"}` as in `*.response.json`). Parts that are not that JSON still become an input or an
//! answer (see `input` and `answer`). After the given answers the run gets plausible successes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use switchboard_core::{ProviderResponse, RunInput};
use switchboard_fuzz::{PLANS, drive, sample_answers, sample_input};

fuzz_target!(|data: &[u8]| {
    let [pick, flags, rest @ ..] = data else {
        return;
    };
    let plan = &PLANS[usize::from(*pick) % PLANS.len()];
    let text = String::from_utf8_lossy(rest);
    let mut parts = text.split('\0');
    let mut run_input = input(parts.next().unwrap_or_default());
    run_input.strict = flags & 1 == 1;
    let answers: Vec<ProviderResponse> = parts.map(answer).collect();
    drive(plan, run_input, answers.into_iter().chain(sample_answers()));
});

/// The input JSON document; other JSON as the body; any other text as the `job_id`.
fn input(text: &str) -> RunInput {
    let mut fallback = sample_input();
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(mut doc))
            if ["query", "body", "context"]
                .iter()
                .any(|k| doc.contains_key(*k)) =>
        {
            let mut object = |key: &str| match doc.remove(key) {
                Some(Value::Object(map)) => map,
                _ => Map::new(),
            };
            RunInput {
                query: object("query"),
                context: object("context"),
                body: doc.remove("body").unwrap_or(Value::Null),
                strict: false,
            }
        }
        Ok(body) => RunInput { body, ..fallback },
        Err(_) => {
            fallback
                .query
                .insert("job_id".into(), Value::String(text.to_owned()));
            fallback
        }
    }
}

/// A recorded answer; other JSON as the body of a 200; other text as a plain body whose status
/// depends on its length.
fn answer(text: &str) -> ProviderResponse {
    const STATUSES: [u16; 10] = [200, 201, 204, 400, 404, 409, 422, 429, 500, 503];
    if let Ok(response) = serde_json::from_str::<ProviderResponse>(text) {
        return response;
    }
    match serde_json::from_str::<Value>(text) {
        Ok(body) => ProviderResponse {
            status: 200,
            headers: Vec::new(),
            body,
        },
        Err(_) => ProviderResponse {
            status: STATUSES[text.len() % STATUSES.len()],
            headers: vec![("content-type".into(), "text/plain".into())],
            body: Value::String(text.to_owned()),
        },
    }
}
