//! The provider's rate-limit state, forwarded on unified answers as `ratelimit-limit`,
//! `ratelimit-remaining` and `ratelimit-reset` (the IETF draft's names), read from the names
//! providers send: `ratelimit-*`, `x-ratelimit-*` or `x-rate-limit-*`.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::HeaderName;
use switchboard_executor::Exchange;

/// Each forwarded header and the field it carries.
const FIELDS: [(&str, &str); 3] = [
    ("limit", "ratelimit-limit"),
    ("remaining", "ratelimit-remaining"),
    ("reset", "ratelimit-reset"),
];

/// The prefixes providers put before `limit`, `remaining` and `reset`, the standard one first.
const PREFIXES: [&str; 3] = ["ratelimit-", "x-ratelimit-", "x-rate-limit-"];

/// Epoch seconds start here (2001); smaller reset values are already seconds to wait.
const EPOCH_SECONDS: u64 = 1_000_000_000;

/// Epoch milliseconds start here.
const EPOCH_MILLIS: u64 = 1_000_000_000_000;

/// The `ratelimit-*` headers of the last exchange that carries any rate-limit header: the
/// provider's latest word on the account's allowance.
pub(crate) fn from_exchanges(exchanges: &[Exchange], now: SystemTime) -> Vec<(HeaderName, String)> {
    exchanges
        .iter()
        .rev()
        .map(|exchange| from_headers(&exchange.headers, now))
        .find(|headers| !headers.is_empty())
        .unwrap_or_default()
}

/// The `ratelimit-*` headers one provider answer's headers say. Values that are not whole
/// numbers are left out rather than forwarded under a name that promises one.
pub(crate) fn from_headers(
    headers: &[(String, String)],
    now: SystemTime,
) -> Vec<(HeaderName, String)> {
    FIELDS
        .iter()
        .filter_map(|(field, name)| {
            let value: u64 = PREFIXES
                .iter()
                .find_map(|prefix| find(headers, &format!("{prefix}{field}")))?
                .trim()
                .parse()
                .ok()?;
            let value = if *field == "reset" {
                seconds_until(value, now)
            } else {
                value
            };
            Some((HeaderName::from_static(name), value.to_string()))
        })
        .collect()
}

fn find<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// A reset as seconds to wait: providers send an epoch second or millisecond (converted, and 0
/// when already past) or the seconds themselves (kept).
fn seconds_until(reset: u64, now: SystemTime) -> u64 {
    let now = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    if reset >= EPOCH_MILLIS {
        (reset / 1000).saturating_sub(now)
    } else if reset >= EPOCH_SECONDS {
        reset.saturating_sub(now)
    } else {
        reset
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn pairs(headers: &[(&str, &str)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn provider_names_become_the_standard_ones_and_resets_become_seconds() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let got = from_headers(
            &pairs(&[
                ("X-Rate-Limit-Limit", "10"),
                ("x-rate-limit-remaining", "3"),
                ("X-Rate-Limit-Reset", "1700000007"),
            ]),
            now,
        );
        let got: Vec<(&str, &str)> = got.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            got,
            [
                ("ratelimit-limit", "10"),
                ("ratelimit-remaining", "3"),
                ("ratelimit-reset", "7")
            ]
        );
    }

    #[test]
    fn resets_in_milliseconds_past_or_relative_and_junk_are_handled() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(seconds_until(1_700_000_005_000, now), 5);
        assert_eq!(seconds_until(1_600_000_000, now), 0);
        assert_eq!(seconds_until(30, now), 30);
        let junk = from_headers(&pairs(&[("x-ratelimit-reset", "soon")]), now);
        assert!(junk.is_empty());
    }
}
