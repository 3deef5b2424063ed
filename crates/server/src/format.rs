//! Response formats and field filters, read from the `truto_*` query parameters:
//!
//! - `truto_response_format=unified` (default): the mapped record, `remote_data` included.
//! - `raw`: the provider's answer to the step the mapping marks `primary` (the create itself;
//!   else the last call), byte for byte, with its status and content type.
//! - `normalized`: the mapped fields only: no `remote_data`, no nulls.
//! - `stream`: the same body as `raw`, sent chunked. A create has to
//!   read every provider answer to map it, so `stream` replays the bytes of the last exchange
//!   rather than relaying the provider's connection.
//! - `truto_ignore_remote_data=true` drops `remote_data`.
//! - `truto_exclude_fields[]=a&truto_exclude_fields[]=b.c` removes fields; a dotted path reaches
//!   into objects and into every element of an array on the way (`emails.email`).
//!
//! Filters apply to `unified` and `normalized`; `raw` and `stream` are the provider's bytes.

use serde_json::{Map, Value};

use crate::envelope::{ApiError, input_details};
use crate::query;

/// The query parameter naming the format.
pub(crate) const FORMAT_PARAM: &str = "truto_response_format";
/// The query parameter that drops `remote_data`.
pub(crate) const IGNORE_REMOTE_DATA_PARAM: &str = "truto_ignore_remote_data";
/// The query parameter listing fields to remove.
pub(crate) const EXCLUDE_FIELDS_PARAM: &str = "truto_exclude_fields";

/// How the unified answer is shaped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ResponseFormat {
    /// The mapped record with `remote_data`.
    #[default]
    Unified,
    /// The primary step's answer as received.
    Raw,
    /// The mapped fields only, nulls dropped.
    Normalized,
    /// The primary step's answer, chunked.
    Stream,
}

impl ResponseFormat {
    /// Every format's name, as the query parameter takes it.
    pub const NAMES: [&'static str; 4] = ["unified", "raw", "normalized", "stream"];

    fn parse(text: &str) -> Option<ResponseFormat> {
        match text {
            "unified" => Some(ResponseFormat::Unified),
            "raw" => Some(ResponseFormat::Raw),
            "normalized" => Some(ResponseFormat::Normalized),
            "stream" => Some(ResponseFormat::Stream),
            _ => None,
        }
    }
}

/// The shaping options of one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponseOptions {
    /// The format.
    pub format: ResponseFormat,
    /// Drop `remote_data`.
    pub ignore_remote_data: bool,
    /// Dotted paths of fields to remove.
    pub exclude_fields: Vec<String>,
}

impl ResponseOptions {
    /// Takes the shaping parameters out of a parsed query; what is left is the unified query.
    pub fn take(query: &mut Map<String, Value>) -> Result<ResponseOptions, ApiError> {
        let mut options = ResponseOptions::default();
        let mut invalid = Vec::new();
        if let Some(value) = query.remove(FORMAT_PARAM) {
            match value.as_str().and_then(ResponseFormat::parse) {
                Some(format) => options.format = format,
                None => invalid.push(format!(
                    "`{FORMAT_PARAM}` must be one of {}",
                    switchboard_core::backticked(ResponseFormat::NAMES)
                )),
            }
        }
        if let Some(value) = query.remove(IGNORE_REMOTE_DATA_PARAM) {
            match query::boolean(&value) {
                Some(b) => options.ignore_remote_data = b,
                None => invalid.push(format!(
                    "`{IGNORE_REMOTE_DATA_PARAM}` must be `true` or `false`"
                )),
            }
        }
        if let Some(value) = query.remove(EXCLUDE_FIELDS_PARAM) {
            options.exclude_fields = query::list(&value);
        }
        if invalid.is_empty() {
            Ok(options)
        } else {
            let details: Vec<Value> = invalid
                .iter()
                .map(|m| serde_json::json!({"location": "query", "pointer": "", "message": m}))
                .collect();
            Err(ApiError::bad_request("invalid_query", invalid.join("; "))
                .with("details", input_details(Vec::new(), details)))
        }
    }

    /// The options for a body already shaped record by record (a list envelope): the format
    /// alone, so `raw` and `stream` still answer the provider's page.
    pub(crate) fn for_envelope(&self) -> ResponseOptions {
        ResponseOptions {
            format: match self.format {
                ResponseFormat::Normalized => ResponseFormat::Unified,
                other => other,
            },
            ignore_remote_data: false,
            exclude_fields: Vec::new(),
        }
    }

    /// Shapes a unified record for `unified` or `normalized`.
    pub fn shape(&self, mut record: Value) -> Value {
        if (self.ignore_remote_data || self.format == ResponseFormat::Normalized)
            && let Value::Object(map) = &mut record
        {
            map.remove("remote_data");
        }
        if self.format == ResponseFormat::Normalized {
            drop_nulls(&mut record);
        }
        for path in &self.exclude_fields {
            let segments: Vec<&str> = path.split('.').filter(|s| !s.is_empty()).collect();
            exclude(&mut record, &segments);
        }
        record
    }
}

/// Removes the field at `path`, descending into every element of arrays on the way.
fn exclude(value: &mut Value, path: &[&str]) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|item| exclude(item, path)),
        Value::Object(map) => match path {
            [] => {}
            [last] => {
                map.remove(*last);
            }
            [first, rest @ ..] => {
                if let Some(child) = map.get_mut(*first) {
                    exclude(child, rest);
                }
            }
        },
        _ => {}
    }
}

/// Removes null members of objects, at every depth.
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record() -> Value {
        json!({"id": "o1", "name": null, "emails": [{"email": "a@x", "type": null}], "remote_data": {"id": "o1"}})
    }

    #[test]
    fn options_leave_the_unified_query() {
        let mut query = crate::query::parse(
            "truto_response_format=normalized&truto_ignore_remote_data=true&truto_exclude_fields[]=id&job_id=p",
        )
        .expect("parses");
        let options = ResponseOptions::take(&mut query).expect("valid");
        assert_eq!(options.format, ResponseFormat::Normalized);
        assert!(options.ignore_remote_data);
        assert_eq!(options.exclude_fields, vec!["id"]);
        assert_eq!(Value::Object(query), json!({"job_id": "p"}));
    }

    #[test]
    fn bad_options_are_400() {
        let mut query =
            crate::query::parse("truto_response_format=xml&truto_ignore_remote_data=maybe")
                .expect("parses");
        let error = ResponseOptions::take(&mut query).expect_err("invalid");
        assert_eq!(error.status().as_u16(), 400);
        assert!(error.message().contains("truto_response_format"));
        assert!(error.message().contains("truto_ignore_remote_data"));
    }

    #[test]
    fn unified_keeps_remote_data_and_nulls() {
        assert_eq!(ResponseOptions::default().shape(record()), record());
    }

    #[test]
    fn normalized_drops_remote_data_and_nulls() {
        let options = ResponseOptions {
            format: ResponseFormat::Normalized,
            ..Default::default()
        };
        assert_eq!(
            options.shape(record()),
            json!({"id": "o1", "emails": [{"email": "a@x"}]})
        );
    }

    #[test]
    fn excluded_paths_reach_into_arrays() {
        let options = ResponseOptions {
            ignore_remote_data: true,
            exclude_fields: vec!["emails.email".into(), "name".into()],
            ..Default::default()
        };
        assert_eq!(
            options.shape(record()),
            json!({"id": "o1", "emails": [{"type": null}]})
        );
    }
}
