//! Lists: the query parameters only a `list` reads (`next_cursor`, `truto_key_by`,
//! `truto_ignore_limit`), the sealed cursor, and the list envelope
//! `{result, next_cursor, prev_cursor, result_count}`.
//!
//! The engine's cursor says where the provider's next page starts (a token, an offset, a page
//! number or the provider's own next-page URL). The client gets it sealed with the server's key
//! and bound to the account and resource, so what comes back is exactly what was issued: a
//! changed, truncated or foreign cursor is a `400 invalid_cursor`, never a provider call.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::crypto::Cipher;
use crate::envelope::ApiError;
use crate::format::ResponseOptions;
use crate::query;

/// The query parameter carrying the cursor of the page to read.
pub(crate) const CURSOR_PARAM: &str = "next_cursor";
/// The query parameter naming the record field to key the result by.
pub(crate) const KEY_BY_PARAM: &str = "truto_key_by";
/// The query parameter that sends no `limit` to the provider.
pub(crate) const IGNORE_LIMIT_PARAM: &str = "truto_ignore_limit";
/// The unified page-size parameter.
pub(crate) const LIMIT_PARAM: &str = "limit";
/// The longest cursor accepted, in characters.
const MAX_CURSOR_CHARS: usize = 8192;

/// What a list call asked for besides its unified query.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct ListOptions {
    /// The sealed cursor of the page to read, as the client sent it.
    pub(crate) cursor: Option<String>,
    /// Key the result by this field of each record (an object instead of an array).
    pub(crate) key_by: Option<String>,
}

impl ListOptions {
    /// Takes the list parameters out of `query`; `truto_ignore_limit=true` removes `limit` too,
    /// so the provider pages as it does by default.
    pub(crate) fn take(query: &mut Map<String, Value>) -> Result<ListOptions, ApiError> {
        let mut options = ListOptions::default();
        match query.remove(CURSOR_PARAM) {
            None => {}
            Some(Value::String(text)) if text.is_empty() => {}
            Some(Value::String(text)) => options.cursor = Some(text),
            Some(_) => return Err(invalid(CURSOR_PARAM, "must be one string")),
        }
        match query.remove(KEY_BY_PARAM) {
            None => {}
            Some(Value::String(field)) if !field.is_empty() => options.key_by = Some(field),
            Some(_) => return Err(invalid(KEY_BY_PARAM, "must name one record field")),
        }
        if let Some(value) = query.remove(IGNORE_LIMIT_PARAM) {
            match query::boolean(&value) {
                Some(true) => {
                    query.remove(LIMIT_PARAM);
                }
                Some(false) => {}
                None => return Err(invalid(IGNORE_LIMIT_PARAM, "must be `true` or `false`")),
            }
        }
        Ok(options)
    }
}

fn invalid(parameter: &str, why: &str) -> ApiError {
    ApiError::bad_request("invalid_query", format!("`{parameter}` {why}"))
        .with("details", json!({"parameter": parameter}))
}

/// What a cursor is bound to: it opens only for the same account, integration and resource.
pub(crate) struct CursorScope<'a> {
    /// The integrated account.
    pub(crate) account: &'a str,
    /// The account's integration.
    pub(crate) integration: &'a str,
    /// `<model>/<resource>`.
    pub(crate) resource: &'a str,
}

impl CursorScope<'_> {
    fn associated_data(&self) -> Vec<u8> {
        [
            "switchboard-cursor",
            self.account,
            self.integration,
            self.resource,
        ]
        .join("\0")
        .into_bytes()
    }

    /// The engine's cursor, sealed for the client.
    pub(crate) fn seal(&self, cipher: &Cipher, cursor: &Value) -> Result<String, ApiError> {
        let sealed = cipher
            .seal(cursor.to_string().as_bytes(), &self.associated_data())
            .map_err(|e| ApiError::internal(&e))?;
        Ok(URL_SAFE_NO_PAD.encode(sealed))
    }

    /// The engine's cursor from what the client sent; 400 when it is not one this server issued
    /// for this account and resource.
    pub(crate) fn open(&self, cipher: &Cipher, text: &str) -> Result<Value, ApiError> {
        let refuse = || {
            ApiError::bad_request(
                "invalid_cursor",
                "`next_cursor` is not a cursor this list issued for this account; \
                 pass the `next_cursor` of the previous page unchanged",
            )
            .with("details", json!({"parameter": CURSOR_PARAM}))
        };
        if text.len() > MAX_CURSOR_CHARS {
            return Err(refuse());
        }
        let sealed = URL_SAFE_NO_PAD.decode(text).map_err(|_| refuse())?;
        if Cipher::is_unbound(&sealed) {
            return Err(refuse());
        }
        let plain = cipher
            .open(&sealed, &self.associated_data())
            .map_err(|_| refuse())?;
        serde_json::from_slice(&plain).map_err(|_| refuse())
    }
}

/// The list envelope: each record shaped by the response options, keyed by `truto_key_by` when
/// asked (records without that field are left out of the keyed result, which says so).
pub(crate) fn envelope(
    records: Value,
    next_cursor: Option<String>,
    shaping: &ResponseOptions,
    options: &ListOptions,
) -> Value {
    let records: Vec<Value> = match records {
        Value::Array(items) => items.into_iter().map(|r| shaping.shape(r)).collect(),
        other => vec![shaping.shape(other)],
    };
    let count = records.len();
    let result = match &options.key_by {
        None => Value::Array(records),
        Some(field) => Value::Object(
            records
                .into_iter()
                .filter_map(|record| {
                    let key = match record.get(field)? {
                        Value::String(s) => s.clone(),
                        Value::Null => return None,
                        other => other.to_string(),
                    };
                    Some((key, record))
                })
                .collect(),
        ),
    };
    json!({
        "result": result,
        "next_cursor": next_cursor,
        "prev_cursor": Value::Null,
        "result_count": count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SecretKey;

    fn cipher() -> Cipher {
        Cipher::new(&SecretKey::generate().expect("key"))
    }

    fn scope<'a>(account: &'a str) -> CursorScope<'a> {
        CursorScope {
            account,
            integration: "acme",
            resource: "ats/jobs",
        }
    }

    #[test]
    fn cursors_open_only_unchanged_and_for_their_account() {
        let cipher = cipher();
        let cursor = json!({"step": "list", "position": "token-2"});
        let sealed = scope("a1").seal(&cipher, &cursor).expect("sealed");
        assert_eq!(scope("a1").open(&cipher, &sealed).expect("opens"), cursor);
        assert_eq!(
            scope("a2")
                .open(&cipher, &sealed)
                .expect_err("foreign")
                .code(),
            "invalid_cursor"
        );
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ascii");
        for bad in [
            tampered.as_str(),
            "",
            "not base64!",
            &sealed[..sealed.len() / 2],
        ] {
            let error = scope("a1").open(&cipher, bad).expect_err("refused");
            assert_eq!(error.status().as_u16(), 400, "{bad}");
        }
    }

    #[test]
    fn list_parameters_leave_the_query() {
        let mut query = crate::query::parse(
            "limit=5&next_cursor=abc&truto_key_by=id&truto_ignore_limit=true&job_id=p",
        )
        .expect("parses");
        let options = ListOptions::take(&mut query).expect("valid");
        assert_eq!(options.cursor.as_deref(), Some("abc"));
        assert_eq!(options.key_by.as_deref(), Some("id"));
        assert_eq!(Value::Object(query), json!({"job_id": "p"}));
        let mut bad = crate::query::parse("truto_ignore_limit=perhaps").expect("parses");
        assert_eq!(
            ListOptions::take(&mut bad).expect_err("invalid").code(),
            "invalid_query"
        );
    }

    #[test]
    fn the_envelope_counts_shapes_and_keys_records() {
        let records = json!([{"id": "j1", "remote_data": {}}, {"id": "j2", "remote_data": {}}]);
        let shaping = ResponseOptions {
            ignore_remote_data: true,
            ..ResponseOptions::default()
        };
        assert_eq!(
            envelope(
                records.clone(),
                Some("c".into()),
                &shaping,
                &ListOptions::default()
            ),
            json!({"result": [{"id": "j1"}, {"id": "j2"}], "next_cursor": "c",
                   "prev_cursor": null, "result_count": 2})
        );
        let keyed = ListOptions {
            key_by: Some("id".into()),
            ..ListOptions::default()
        };
        assert_eq!(
            envelope(records, None, &shaping, &keyed)["result"],
            json!({"j1": {"id": "j1"}, "j2": {"id": "j2"}})
        );
    }
}
