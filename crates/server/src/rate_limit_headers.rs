//! The provider's rate-limit state, forwarded on unified answers as `ratelimit-limit`,
//! `ratelimit-remaining` and `ratelimit-reset` (the IETF draft's names), read from the names
//! providers send: `ratelimit-*`, `x-ratelimit-*` or `x-rate-limit-*`.

use std::time::{Duration, SystemTime};

use axum::http::HeaderName;
use switchboard_executor::{Exchange, rate_limit_reset_wait};

/// Each forwarded header and the field it carries.
const FIELDS: [(&str, &str); 3] = [
    ("limit", "ratelimit-limit"),
    ("remaining", "ratelimit-remaining"),
    ("reset", "ratelimit-reset"),
];

/// The prefixes providers put before `limit`, `remaining` and `reset`, the standard one first.
const PREFIXES: [&str; 3] = ["ratelimit-", "x-ratelimit-", "x-rate-limit-"];

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
            let text = PREFIXES
                .iter()
                .find_map(|prefix| find(headers, &format!("{prefix}{field}")))?;
            let value = if *field == "reset" {
                seconds_rounded_up(rate_limit_reset_wait(text, now)?)
            } else {
                text.trim().parse::<u64>().ok()?
            };
            Some((HeaderName::from_static(name), value.to_string()))
        })
        .collect()
}

/// Whole seconds, a started second counting as one (a client must not come back early).
fn seconds_rounded_up(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

fn find<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

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
        let reset = |value: &str| from_headers(&pairs(&[("x-ratelimit-reset", value)]), now);
        assert_eq!(reset("1700000005000")[0].1, "5");
        assert_eq!(reset("1700000004500")[0].1, "5", "a started second counts");
        assert_eq!(reset("1600000000")[0].1, "0");
        assert_eq!(reset("30")[0].1, "30");
        let junk = from_headers(&pairs(&[("x-ratelimit-reset", "soon")]), now);
        assert!(junk.is_empty());
    }
}
