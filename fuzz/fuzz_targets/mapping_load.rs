//! The YAML loader and compiler on arbitrary text: the shipped mappings and schemas with one file
//! (picked by byte 0) replaced by the rest of the input, and only that file's integration loaded
//! (all of them when a schema is replaced). Loading gives a registry or diagnostics, never a
//! panic; every method of a registry that loads is then run on a sample input.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_core::Registry;
use switchboard_fuzz::{MAPPINGS, SCHEMAS, drive, sample_answers, sample_input, source};

fuzz_target!(|data: &[u8]| {
    let [pick, rest @ ..] = data else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let mut mappings = MAPPINGS.clone();
    let mut schemas = SCHEMAS.clone();
    let count = mappings.len() + schemas.len();
    let index = usize::from(*pick) % count;
    let replaced = if index < mappings.len() {
        &mut mappings[index]
    } else {
        &mut schemas[index - MAPPINGS.len()]
    };
    *replaced = source(&replaced.name, &text);
    if let Some((integration, _)) = MAPPINGS.get(index).and_then(|f| f.name.split_once('/')) {
        // Only that integration's files: the others cannot change how this one loads.
        mappings.retain(|f| f.name.starts_with(&format!("{integration}/")));
    }
    let Ok(registry) = Registry::load(&mappings, &schemas) else {
        return;
    };
    for plan in registry.methods() {
        drive(plan, sample_input(), sample_answers().take(16));
    }
});
