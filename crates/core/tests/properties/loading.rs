//! The YAML loader and compiler: any mapping text gives a registry or diagnostics that point
//! into the file, never a panic; whatever loads can run.

use proptest::prelude::*;
use switchboard_core::Registry;
use switchboard_core::tooling::SourceFile;

use crate::support::{MAPPINGS, SCHEMAS, drive, sample_input, source};

/// The shipped Lever integration and candidates mapping, with the candidates schema.
fn lever_with_mapping(text: &str) -> (Vec<SourceFile>, Vec<SourceFile>) {
    let integration = MAPPINGS
        .iter()
        .find(|f| f.name == "lever/integration.yaml")
        .expect("lever/integration.yaml")
        .clone();
    let schema = SCHEMAS
        .iter()
        .find(|f| f.name == "ats/candidates.json")
        .expect("ats/candidates.json")
        .clone();
    (
        vec![integration, source("lever/ats/candidates.yaml", text)],
        vec![schema],
    )
}

/// Loads, then checks what came out: diagnostics name one of the files and a line within it;
/// every method of a registry that loads runs on a sample input to an end.
fn load_and_check(mappings: &[SourceFile], schemas: &[SourceFile]) -> Result<(), TestCaseError> {
    match Registry::load(mappings, schemas) {
        Ok(registry) => {
            for plan in registry.methods() {
                drive(plan, sample_input(), Vec::new(), 16);
            }
        }
        Err(diagnostics) => {
            prop_assert!(!diagnostics.0.is_empty());
            for found in &diagnostics.0 {
                let file = mappings
                    .iter()
                    .chain(schemas)
                    .find(|f| f.path == found.file);
                let file =
                    file.ok_or_else(|| TestCaseError::fail(format!("{found}: which file?")))?;
                prop_assert!(
                    found.line >= 1 && found.line <= file.text.lines().count() + 1,
                    "{}",
                    found
                );
                prop_assert!(!found.message.is_empty());
            }
        }
    }
    Ok(())
}

/// Text made of YAML's structural characters and the mapping format's own keys.
fn yaml_like() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("\n"),
            Just("  "),
            Just("- "),
            Just(": "),
            Just("{"),
            Just("}"),
            Just("["),
            Just("]"),
            Just(", "),
            Just("\""),
            Just("'"),
            Just("&a "),
            Just("*a"),
            Just("!!str "),
            Just("version: 1\n"),
            Just("methods:\n"),
            Just("  create:\n"),
            Just("steps"),
            Just("response"),
            Just("from"),
            Just("fields"),
            Just("{{ body.x }}"),
            Just("<<: *a"),
            Just("id"),
            Just("request"),
            Just("path: /x"),
            Just("method: POST"),
            Just("\t"),
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

/// One edit of a file: cut a span, or insert text, at a position given as a fraction of its size.
#[derive(Debug, Clone)]
enum Edit {
    Cut { at: f64, len: usize },
    Insert { at: f64, text: String },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0.0..1.0, 1..200_usize).prop_map(|(at, len)| Edit::Cut { at, len }),
        (0.0..1.0, yaml_like()).prop_map(|(at, text)| Edit::Insert { at, text }),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let boundary = |at: f64| {
        let mut index = (text.len() as f64 * at) as usize;
        while !text.is_char_boundary(index) {
            index -= 1;
        }
        index
    };
    match edit {
        Edit::Cut { at, len } => {
            let start = boundary(*at);
            let mut end = (start + len).min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}{}", &text[..start], &text[end..])
        }
        Edit::Insert { at, text: inserted } => {
            let at = boundary(*at);
            format!("{}{inserted}{}", &text[..at], &text[at..])
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Arbitrary text as Lever's candidates mapping.
    #[test]
    fn arbitrary_mapping_text_loads_or_gives_diagnostics(text in prop_oneof![any::<String>(), yaml_like()]) {
        let (mappings, schemas) = lever_with_mapping(&text);
        load_and_check(&mappings, &schemas)?;
    }

    /// A shipped mapping, integration or schema file with a few cuts and insertions.
    #[test]
    fn edited_shipped_files_load_or_give_diagnostics(
        pick in any::<proptest::sample::Index>(),
        edits in proptest::collection::vec(edit(), 1..4),
    ) {
        let mut mappings = MAPPINGS.clone();
        let mut schemas = SCHEMAS.clone();
        let index = pick.index(mappings.len() + schemas.len());
        let file = if index < mappings.len() {
            &mut mappings[index]
        } else {
            &mut schemas[index - mappings.len()]
        };
        file.text = edits.iter().fold(file.text.clone(), |text, e| apply(&text, e));
        load_and_check(&mappings, &schemas)?;
    }
}
