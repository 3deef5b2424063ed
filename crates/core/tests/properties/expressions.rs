//! Templates and expressions: any text in any place of a mapping compiles or gives a diagnostic,
//! and what compiles evaluates (against a fixed input and fixed answers) to a value or an error.

use proptest::prelude::*;
use switchboard_core::Registry;

use crate::support::{drive, sample_input, source};

const INTEGRATION: &str = r#"
version: 1
label: Props
base_url: { production: "https://provider.example/v1" }
auth: [{ type: bearer, token: api_key }]
context: { secrets: [api_key] }
errors: { message: "{{ response.message }}" }
"#;

/// A small unified schema, so each case compiles little besides the expression under test.
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
    query: { job_id: required }
    body: { first_name: supported, emails: supported, tags: supported, job_form_field_answers: supported }
    requires: [{ field: body.emails, present: @REQUIRE, because: needed }]
    rejects: [{ field: body.job_form_field_answers, per_item: true, when: @REJECT, because: malformed }]
    warns: [{ field: body.tags, when: @WARN, because: ignored }]
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
      fields: { id: @FIELD, name: "{{ name }}" }
    errors: { message: @MESSAGE }
"#;

/// Each place of [`MAPPING`] and what it holds when it is not the one under test.
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

/// [`MAPPING`] with `text` in place `index` and the defaults elsewhere.
fn mapping_with(index: usize, text: &str) -> String {
    PLACES
        .iter()
        .enumerate()
        .fold(MAPPING.to_owned(), |mapping, (i, (place, default))| {
            let value = if i == index { text } else { default };
            let quoted = serde_json::to_string(value).expect("a string serializes");
            mapping.replacen(place, &quoted, 1)
        })
}

/// Expression-shaped text: paths, filters, projections, literals and the function library.
fn expression_like() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("body"),
            Just("query"),
            Just("context"),
            Just("steps"),
            Just("item"),
            Just("response"),
            Just("constants"),
            Just("."),
            Just("["),
            Just("]"),
            Just("[]"),
            Just("[?"),
            Just("[0]"),
            Just("[-1]"),
            Just("[:1]"),
            Just("@"),
            Just("&"),
            Just("&&"),
            Just("||"),
            Just("!"),
            Just("("),
            Just(")"),
            Just("|"),
            Just("=="),
            Just("<"),
            Just("'x'"),
            Just("`null`"),
            Just("`[1, {}]`"),
            Just("{a: @}"),
            Just(", "),
            Just("$"),
            Just("$.."),
            Just("*"),
            Just("{{ "),
            Just(" }}"),
            Just("emails"),
            Just("name"),
            Just("group_by("),
            Just("merge_by("),
            Just("find_by("),
            Just("pair_each("),
            Just("overlay("),
            Just("from_entries("),
            Just("split_name("),
            Just("url_host("),
            Just("ms_to_rfc3339("),
            Just("rfc3339_to_ms("),
            Just("coalesce("),
            Just("get("),
            Just("join("),
            Just("to_number("),
            Just("sort_by("),
            Just("length("),
        ],
        1..16,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Any text (raw, or inside `{{ }}`) in any place of the mapping: it loads or is a
    /// diagnostic, and a mapping that loads runs to an end without a panic.
    #[test]
    fn any_expression_compiles_or_is_refused_and_evaluates_without_panic(
        place in 0..PLACES.len(),
        text in prop_oneof![expression_like(), any::<String>()],
        wrap in any::<bool>(),
    ) {
        let text = if wrap { format!("{{{{ {text} }}}}") } else { text };
        let mappings = [
            source("props/integration.yaml", INTEGRATION),
            source("props/ats/candidates.yaml", &mapping_with(place, &text)),
        ];
        let schemas = [source("ats/candidates.json", SCHEMA)];
        match Registry::load(&mappings, &schemas) {
            Ok(registry) => {
                for plan in registry.methods() {
                    drive(plan, sample_input(), Vec::new(), 8);
                }
            }
            Err(diagnostics) => prop_assert!(!diagnostics.0.is_empty()),
        }
    }
}

/// The mapping the property edits loads as it is, so the property tests the place it changes.
#[test]
fn the_unedited_mapping_loads() {
    let mappings = [
        source("props/integration.yaml", INTEGRATION),
        source("props/ats/candidates.yaml", &mapping_with(usize::MAX, "")),
    ];
    let schemas = [source("ats/candidates.json", SCHEMA)];
    let registry = Registry::load(&mappings, &schemas).unwrap_or_else(|d| panic!("{d}"));
    let plan = registry
        .method("props", "ats/candidates", "create")
        .expect("mapped");
    assert!(matches!(
        drive(plan, sample_input(), Vec::new(), 8),
        crate::support::Ending::Finished(Ok(()))
    ));
}
