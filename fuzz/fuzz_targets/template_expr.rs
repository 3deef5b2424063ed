//! Template and expression compilation, and evaluation against a fixed input and fixed answers:
//! byte 0 picks one place of a small mapping (a `when`, a `select`, a path, a response field…)
//! with its low 7 bits and whether to wrap the text in `{{ }}` with its high bit; the rest of the
//! input is written there, and the mapping is loaded and, if it compiles, run.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_core::Registry;
use switchboard_fuzz::{drive, sample_answers, sample_input, source};

const INTEGRATION: &str = r#"
version: 1
label: Fuzz
base_url: { production: "https://provider.example/v1" }
auth: [{ type: bearer, token: api_key }]
context: { secrets: [api_key] }
errors: { message: "{{ response.message }}", code: "{{ response.code }}" }
"#;

/// A small unified schema, so each input compiles little besides the text under test.
const SCHEMA: &str = r#"{
  "type": "object",
  "properties": {"id": {"type": "string"}, "name": {"type": ["string", "null"]}},
  "$defs": {
    "create_query": {"type": "object", "properties": {"job_id": {"type": "string"}}},
    "create_body": {"type": "object", "properties": {
      "first_name": {"type": ["string", "null"]}, "emails": {"type": ["array", "null"]},
      "tags": {"type": ["array", "null"]}, "job_form_field_answers": {"type": ["array", "null"]}}}
  }
}"#;

const MAPPING: &str = r#"
version: 1
constants:
  kinds: { mobile: cell }
methods:
  create:
    query:
      job_id: required
    body:
      first_name: supported
      emails: supported
      tags: supported
      job_form_field_answers: supported
    requires:
      - { field: body.emails, present: @REQUIRE, because: needed }
    rejects:
      - { field: body.job_form_field_answers, per_item: true, when: @REJECT, because: malformed }
    warns:
      - { field: body.tags, when: @WARN, because: ignored }
    steps:
      - id: first
        when: @WHEN
        for_each: @EACH
        request:
          method: POST
          path: @PATH
          query: { q: @QUERY }
          body: { value: @BODY, kind: "{{ constants.kinds.mobile }}" }
        select: @SELECT
    response:
      from: @FROM
      fields:
        id: @FIELD
        name: "{{ name }}"
    errors:
      message: @MESSAGE
"#;

/// Each place: its placeholder and the text it holds when not fuzzed.
const PLACES: &[(&str, &str)] = &[
    ("@REQUIRE", "body.emails[0].email"),
    ("@REJECT", "!(item.name)"),
    ("@WARN", "body.tags[?!(name)]"),
    ("@WHEN", "query.job_id"),
    ("@EACH", "body.tags[?name]"),
    ("@PATH", "/jobs/{{ query.job_id }}/tags/{{ item.name }}"),
    ("@QUERY", "{{ body.first_name }}"),
    ("@BODY", "{{ item }}"),
    ("@SELECT", "response.data[0]"),
    (
        "@FROM",
        "steps.first[0].selected || steps.first[0].response",
    ),
    ("@FIELD", "{{ id }}"),
    ("@MESSAGE", "{{ response.message }}"),
];

fuzz_target!(
    init: {
        let unfuzzed = mapping_with(None);
        if let Err(problems) = load(&unfuzzed) {
            panic!("the unfuzzed mapping must load: {problems}");
        }
    },
    |data: &[u8]| {
        let [pick, rest @ ..] = data else {
            return;
        };
        let text = String::from_utf8_lossy(rest);
        let index = usize::from(pick & 0x7f) % PLACES.len();
        let text = if pick & 0x80 == 0 {
            text.into_owned()
        } else {
            format!("{{{{ {text} }}}}")
        };
        let Ok(registry) = load(&mapping_with(Some((index, &text)))) else {
            return;
        };
        for plan in registry.methods() {
            drive(plan, sample_input(), sample_answers().take(8));
        }
    }
);

/// The mapping with every place filled: `fuzzed` (place index, text) in its place, defaults
/// elsewhere.
fn mapping_with(fuzzed: Option<(usize, &str)>) -> String {
    let mut mapping = MAPPING.to_owned();
    for (index, (place, default)) in PLACES.iter().enumerate() {
        let text = match fuzzed {
            Some((picked, text)) if picked == index => text,
            _ => default,
        };
        mapping = mapping.replacen(place, &quoted(text), 1);
    }
    mapping
}

fn load(mapping: &str) -> Result<Registry, switchboard_core::Diagnostics> {
    let mappings = [
        source("fuzz/integration.yaml", INTEGRATION),
        source("fuzz/ats/candidates.yaml", mapping),
    ];
    Registry::load(&mappings, &[source("ats/candidates.json", SCHEMA)])
}

/// `text` as a YAML double-quoted scalar: printable ASCII as is, everything else escaped.
fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' if c != '@' => out.push(c),
            _ => out.push_str(&format!("\\U{:08x}", u32::from(c))),
        }
    }
    out.push('"');
    out
}
