//! `parse_query_string` on arbitrary text: an error or a JSON object, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    if let Ok(parsed) = switchboard_core::parse_query_string(&raw) {
        // Every parsed value is a string, an array or an object: never a number or null.
        for value in parsed.values() {
            assert!(!value.is_null() && !value.is_number() && !value.is_boolean());
        }
    }
});
