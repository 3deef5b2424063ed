//! When to send a call again, and after how long. A call that may have reached the provider is
//! re-sent only when its method is idempotent or the provider said it did not process it.

use std::time::{Duration, SystemTime};

use switchboard_core::RetryPolicy;

use crate::error::TransportKind;

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Wait this long, then send again.
    Retry(Duration),
    /// Give up: return what the last attempt produced.
    Stop(Stop),
}

/// Why no further attempt is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The answer or failure is not one the policy retries for this method.
    NotRetryable,
    /// Every allowed attempt was made.
    Exhausted,
    /// The provider asked to wait longer than the policy allows.
    RetryAfterTooLong,
    /// The wait before the next attempt would end past the run's deadline.
    PastDeadline,
}

/// The retry policy of one integration.
pub(crate) struct Policy<'a> {
    spec: &'a RetryPolicy,
}

impl<'a> Policy<'a> {
    pub(crate) fn new(spec: &'a RetryPolicy) -> Policy<'a> {
        Policy { spec }
    }

    /// After attempt number `attempt` (1-based) was answered with `status`; `header` looks up
    /// one of the answer's headers by (case-insensitive) name.
    pub(crate) fn after_status<'h>(
        &self,
        idempotent: bool,
        status: u16,
        header: impl Fn(&str) -> Option<&'h str>,
        attempt: u32,
        now: SystemTime,
    ) -> Verdict {
        let statuses = if idempotent {
            &self.spec.idempotent_statuses
        } else {
            &self.spec.non_idempotent_statuses
        };
        if !statuses.contains(&status) {
            return Verdict::Stop(Stop::NotRetryable);
        }
        // Only a 429 says by itself that a POST was not processed: any other status (a load
        // balancer's 503 after the backend created the record) needs the provider's
        // `Retry-After`.
        let retry_after = header("retry-after").and_then(|value| parse_retry_after(value, now));
        if !idempotent && status != 429 && retry_after.is_none() {
            return Verdict::Stop(Stop::NotRetryable);
        }
        if attempt >= self.spec.max_attempts {
            return Verdict::Stop(Stop::Exhausted);
        }
        match self.asked_wait(status, header, now) {
            Some(wait) if wait > Duration::from_secs(self.spec.max_retry_after_secs) => {
                Verdict::Stop(Stop::RetryAfterTooLong)
            }
            Some(wait) if !wait.is_zero() => Verdict::Retry(wait),
            _ => Verdict::Retry(self.backoff(attempt)),
        }
    }

    /// How long the provider asked to wait: its `Retry-After`, or else, on a 429, the time left
    /// until the rate-limit reset in the integration's `reset_header`.
    fn asked_wait<'h>(
        &self,
        status: u16,
        header: impl Fn(&str) -> Option<&'h str>,
        now: SystemTime,
    ) -> Option<Duration> {
        if let Some(wait) = header("retry-after").and_then(|value| parse_retry_after(value, now)) {
            return Some(wait);
        }
        if status != 429 {
            return None;
        }
        let name = self.spec.reset_header.as_deref()?;
        rate_limit_reset_wait(header(name)?, now)
    }

    /// After attempt number `attempt` failed below HTTP. `reached` says whether the request may
    /// have reached the provider.
    pub(crate) fn after_failure(
        &self,
        idempotent: bool,
        kind: TransportKind,
        reached: bool,
        attempt: u32,
    ) -> Verdict {
        let retryable = if idempotent {
            matches!(
                kind,
                TransportKind::Connect | TransportKind::Timeout | TransportKind::Closed
            )
        } else {
            // Only failures known to happen before anything was sent.
            !reached && matches!(kind, TransportKind::Connect | TransportKind::Timeout)
        };
        if !retryable {
            Verdict::Stop(Stop::NotRetryable)
        } else if attempt >= self.spec.max_attempts {
            Verdict::Stop(Stop::Exhausted)
        } else {
            Verdict::Retry(self.backoff(attempt))
        }
    }

    /// Capped exponential backoff after attempt `attempt`, with jitter: a random wait between
    /// half the backoff and the whole of it.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(32);
        let full = self
            .spec
            .initial_backoff_ms
            .saturating_mul(1_u64 << exponent)
            .min(self.spec.max_backoff_ms);
        let half = full / 2;
        let jitter = if full > half {
            rand::random_range(0..=full - half)
        } else {
            0
        };
        Duration::from_millis(half + jitter)
    }
}

/// `Retry-After` as delta seconds or an HTTP date (a date in the past is no wait).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Smaller reset values are seconds to wait, not an epoch second (this one is in 2001).
const EPOCH_SECONDS_FROM: u64 = 1_000_000_000;

/// Epoch values at or above this are milliseconds: as seconds they would be past the year 5000,
/// as milliseconds they are after March 1973.
const EPOCH_MILLIS_FROM: u64 = 100_000_000_000;

/// A provider's rate-limit reset (`x-rate-limit-reset` and its kin) as the wait from `now`:
/// providers send the epoch second at which the window resets, the epoch millisecond (a value
/// past any sane epoch second), or the seconds left (a value before 2001); their docs do not
/// always say which. A reset in the past is no wait; a value that is not a whole number is none.
pub fn rate_limit_reset_wait(value: &str, now: SystemTime) -> Option<Duration> {
    let number = value.trim().parse::<u64>().ok()?;
    if number < EPOCH_SECONDS_FROM {
        return Some(Duration::from_secs(number));
    }
    let since_epoch = if number >= EPOCH_MILLIS_FROM {
        Duration::from_millis(number)
    } else {
        Duration::from_secs(number)
    };
    let reset = SystemTime::UNIX_EPOCH.checked_add(since_epoch)?;
    Some(reset.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::HttpMethod;

    fn spec() -> RetryPolicy {
        let mut spec = RetryPolicy::default();
        spec.max_attempts = 3;
        spec.initial_backoff_ms = 100;
        spec.max_backoff_ms = 300;
        spec.reset_header = Some("x-rate-limit-reset".to_owned());
        spec
    }

    fn no_headers(_: &str) -> Option<&'static str> {
        None
    }

    /// A header lookup over `pairs`, by case-insensitive name.
    fn headers(
        pairs: &'static [(&'static str, &'static str)],
    ) -> impl Fn(&str) -> Option<&'static str> {
        |name| {
            pairs
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| *value)
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn posts_are_retried_only_on_statuses_that_mean_not_processed() {
        let spec = spec();
        let policy = Policy::new(&spec);
        let now = SystemTime::now();
        for status in [400, 401, 403, 404, 409, 422, 500, 502, 504] {
            assert_eq!(
                policy.after_status(HttpMethod::Post.is_idempotent(), status, no_headers, 1, now),
                Verdict::Stop(Stop::NotRetryable),
                "{status}"
            );
        }
        assert!(matches!(
            policy.after_status(HttpMethod::Post.is_idempotent(), 429, no_headers, 1, now),
            Verdict::Retry(_)
        ));
        assert!(matches!(
            policy.after_status(HttpMethod::Get.is_idempotent(), 502, no_headers, 2, now),
            Verdict::Retry(_)
        ));
        assert_eq!(
            policy.after_status(HttpMethod::Get.is_idempotent(), 502, no_headers, 3, now),
            Verdict::Stop(Stop::Exhausted)
        );
    }

    #[test]
    fn a_post_is_retried_on_a_503_only_with_retry_after() {
        let spec = spec();
        let policy = Policy::new(&spec);
        let now = SystemTime::now();
        for method in [HttpMethod::Post, HttpMethod::Patch] {
            assert_eq!(
                policy.after_status(method.is_idempotent(), 503, no_headers, 1, now),
                Verdict::Stop(Stop::NotRetryable),
                "a bare 503 may come after the request was processed"
            );
            assert_eq!(
                policy.after_status(
                    method.is_idempotent(),
                    503,
                    headers(&[("Retry-After", "soon")]),
                    1,
                    now
                ),
                Verdict::Stop(Stop::NotRetryable),
                "an unreadable `Retry-After` is no promise"
            );
            assert_eq!(
                policy.after_status(
                    method.is_idempotent(),
                    503,
                    headers(&[("Retry-After", "1")]),
                    1,
                    now
                ),
                Verdict::Retry(Duration::from_secs(1))
            );
        }
        assert!(matches!(
            policy.after_status(HttpMethod::Put.is_idempotent(), 503, no_headers, 1, now),
            Verdict::Retry(_)
        ));
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let spec = spec();
        let policy = Policy::new(&spec);
        let now = SystemTime::now();
        assert_eq!(
            policy.after_status(
                HttpMethod::Post.is_idempotent(),
                429,
                headers(&[("Retry-After", "2")]),
                1,
                now
            ),
            Verdict::Retry(Duration::from_secs(2))
        );
        assert_eq!(
            policy.after_status(
                HttpMethod::Post.is_idempotent(),
                429,
                headers(&[("Retry-After", "61")]),
                1,
                now
            ),
            Verdict::Stop(Stop::RetryAfterTooLong)
        );
    }

    #[test]
    fn reset_reads_epoch_seconds_as_the_wait_until_then() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            rate_limit_reset_wait(" 1700000007 ", now),
            Some(Duration::from_secs(7))
        );
        let mid_second = now + Duration::from_millis(400);
        assert_eq!(
            rate_limit_reset_wait("1700000002", mid_second),
            Some(Duration::from_millis(1_600))
        );
        assert_eq!(
            rate_limit_reset_wait("1700000000", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            rate_limit_reset_wait("1699999990", now),
            Some(Duration::ZERO)
        );
        assert_eq!(rate_limit_reset_wait("1700000007.5", now), None);
        assert_eq!(rate_limit_reset_wait("-1", now), None);
        assert_eq!(
            rate_limit_reset_wait("30", now),
            Some(Duration::from_secs(30)),
            "a small value is the seconds left"
        );
        assert_eq!(rate_limit_reset_wait("soon", now), None);
        assert_eq!(rate_limit_reset_wait("99999999999999999999", now), None);
    }

    #[test]
    fn reset_past_any_sane_epoch_second_reads_as_epoch_milliseconds() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            rate_limit_reset_wait("1700000007250", now),
            Some(Duration::from_millis(7_250))
        );
        assert_eq!(
            rate_limit_reset_wait("1699999999000", now),
            Some(Duration::ZERO)
        );
        // The largest value read as seconds is still seconds (a wait of thousands of years,
        // which the policy's cap refuses to honour).
        assert!(
            rate_limit_reset_wait("99999999999", now)
                .is_some_and(|wait| wait > Duration::from_secs(90_000_000_000))
        );
    }

    #[test]
    fn a_429_without_retry_after_waits_for_the_reset_up_to_the_cap() {
        let spec = spec();
        let policy = Policy::new(&spec);
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            policy.after_status(
                HttpMethod::Post.is_idempotent(),
                429,
                headers(&[("X-Rate-Limit-Reset", "1700000005")]),
                1,
                now
            ),
            Verdict::Retry(Duration::from_secs(5))
        );
        assert_eq!(
            policy.after_status(
                HttpMethod::Post.is_idempotent(),
                429,
                headers(&[("X-Rate-Limit-Reset", "1700000061")]),
                1,
                now
            ),
            Verdict::Stop(Stop::RetryAfterTooLong)
        );
        // `Retry-After` wins over the reset.
        assert_eq!(
            policy.after_status(
                HttpMethod::Post.is_idempotent(),
                429,
                headers(&[("Retry-After", "2"), ("X-Rate-Limit-Reset", "1700000061")]),
                1,
                now
            ),
            Verdict::Retry(Duration::from_secs(2))
        );
        // A reset that has passed, or that cannot be read, leaves the backoff.
        for value in ["1699999990", "soon"] {
            let Verdict::Retry(wait) = policy.after_status(
                HttpMethod::Post.is_idempotent(),
                429,
                move |name: &str| {
                    name.eq_ignore_ascii_case("x-rate-limit-reset")
                        .then_some(value)
                },
                1,
                now,
            ) else {
                panic!("{value}: retried");
            };
            assert!(wait <= Duration::from_millis(100), "{value}: {wait:?}");
        }
        // Only a 429 is a rate limit: a 503 backs off whatever the reset says.
        let Verdict::Retry(wait) = policy.after_status(
            HttpMethod::Get.is_idempotent(),
            503,
            headers(&[("X-Rate-Limit-Reset", "1700000061")]),
            1,
            now,
        ) else {
            panic!("a 503 is retried");
        };
        assert!(wait <= Duration::from_millis(100), "{wait:?}");
        // Without `reset_header` the header means nothing.
        let mut spec = spec;
        spec.reset_header = None;
        let policy = Policy::new(&spec);
        let Verdict::Retry(wait) = policy.after_status(
            HttpMethod::Post.is_idempotent(),
            429,
            headers(&[("X-Rate-Limit-Reset", "1700000061")]),
            1,
            now,
        ) else {
            panic!("a 429 is retried");
        };
        assert!(wait <= Duration::from_millis(100), "{wait:?}");
    }

    #[test]
    fn transport_failures_are_retried_only_when_safe() {
        let spec = spec();
        let policy = Policy::new(&spec);
        let retried = |method: HttpMethod, kind, reached| {
            matches!(
                policy.after_failure(method.is_idempotent(), kind, reached, 1),
                Verdict::Retry(_)
            )
        };
        assert!(retried(HttpMethod::Post, TransportKind::Connect, false));
        assert!(!retried(HttpMethod::Post, TransportKind::Timeout, true));
        assert!(!retried(HttpMethod::Post, TransportKind::Closed, true));
        assert!(!retried(HttpMethod::Patch, TransportKind::Closed, true));
        assert!(retried(HttpMethod::Get, TransportKind::Timeout, true));
        assert!(retried(HttpMethod::Put, TransportKind::Closed, true));
        assert!(retried(HttpMethod::Delete, TransportKind::Connect, false));
        assert!(!retried(HttpMethod::Get, TransportKind::Tls, false));
        assert!(!retried(
            HttpMethod::Get,
            TransportKind::ResponseTooLarge,
            true
        ));
    }

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        let spec = spec();
        let policy = Policy::new(&spec);
        for _ in 0..50 {
            let first = policy.backoff(1).as_millis();
            assert!((50..=100).contains(&first), "{first}");
            let second = policy.backoff(2).as_millis();
            assert!((100..=200).contains(&second), "{second}");
            let capped = policy.backoff(30).as_millis();
            assert!((150..=300).contains(&capped), "{capped}");
        }
    }
}
