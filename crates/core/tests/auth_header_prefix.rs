//! An auth header may put fixed text before the credential (`Authorization: Token token=<key>`),
//! so the account's context holds the bare key; the text is checked when the integration loads.

use std::path::Path;

use switchboard_core::Registry;
use switchboard_core::tooling::SourceFile;

fn load(prefix: &str) -> Result<Registry, switchboard_core::Diagnostics> {
    let integration = format!(
        r#"version: 1
label: Acme
base_url:
  production: https://acme.test/v1
auth:
  - {{ type: header, name: Authorization, value: api_key, prefix: {prefix} }}
context:
  secrets: [api_key]
errors:
  message: "{{{{ response.message }}}}"
"#
    );
    let mappings = [SourceFile {
        path: "acme/integration.yaml".into(),
        name: "acme/integration.yaml".to_owned(),
        text: integration,
    }];
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let schemas = SourceFile::read_dir(&root.join("schemas"), &["json"]).expect("schemas");
    Registry::load(&mappings, &schemas)
}

#[test]
fn the_prefix_is_sent_before_the_bare_key() {
    let registry = load("\"Token token=\"").unwrap_or_else(|d| panic!("{d}"));
    let integration = registry.integration("acme").expect("loaded");
    let scheme = &integration.auth[0];
    assert_eq!(scheme.header_name(), "Authorization");
    assert_eq!(scheme.credential_key(), "api_key");
    let context = serde_json::json!({"api_key": "abc123"});
    let header = scheme
        .header(context.as_object().expect("object"))
        .expect("header");
    assert_eq!(header.value(), "Token token=abc123");
    assert!(header.is_sensitive());
    assert_eq!(scheme.redacted_value(), "Token token=<redacted>");
}

#[test]
fn a_prefix_that_cannot_be_sent_in_a_header_is_a_load_error() {
    let Err(problems) = load("\"Token\\ntoken=\"") else {
        panic!("a line break cannot be sent in a header");
    };
    let messages: Vec<String> = problems.0.iter().map(|d| d.one_line()).collect();
    assert_eq!(
        messages,
        [
            "acme/integration.yaml:6:58: an auth header `prefix` may hold only visible ASCII \
          characters and spaces (field `auth[0].prefix`)"
        ]
    );
}
