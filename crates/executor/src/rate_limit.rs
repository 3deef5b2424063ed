//! Per-account token buckets, shared by every run of an executor. A call takes one token from
//! each bucket it counts against; when a bucket is empty the call reserves the next token and
//! waits for it, up to a deadline.
//!
//! Where the buckets live is pluggable ([`RateLimiter`]): in this process by default
//! ([`LocalRateLimiter`]), or in a store shared by several processes calling the same provider
//! accounts, so that the limits hold in total.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use switchboard_core::RateLimit;

/// Buckets kept before idle (full) ones are dropped.
const PRUNE_ABOVE: usize = 4096;

/// The future a [`RateLimiter`] answers with.
pub type Reservation<'a> = Pin<Box<dyn Future<Output = Result<Duration, Held>> + Send + 'a>>;

/// Keeps token buckets per (account, bucket name).
pub trait RateLimiter: Send + Sync + 'static {
    /// Takes one token from each of `limits` for `account` — all of them or none — and answers
    /// how long the caller must wait before its call (the tokens are reserved for it then).
    /// Nothing is taken, and [`Held`] names a bucket, when that wait would exceed `deadline`.
    /// Every limit given has a positive, finite rate.
    fn reserve<'a>(
        &'a self,
        account: &'a str,
        limits: &'a [(&'a str, &'a RateLimit)],
        deadline: Duration,
    ) -> Reservation<'a>;
}

/// Token buckets in this process, keyed by (account id, bucket name): the default, right for a
/// single instance.
#[derive(Debug, Default)]
pub struct LocalRateLimiter {
    buckets: Mutex<HashMap<(String, String), Bucket>>,
}

/// A bucket that would hold a call past its deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The bucket's name.
    pub bucket: String,
}

#[derive(Debug)]
struct Bucket {
    /// May go negative: tokens reserved by waiting calls.
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    fn refill(&mut self, spec: &RateLimit, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * spec.per_second).min(capacity(spec));
        self.updated = now;
    }

    /// How long until one more token is there.
    fn wait_for_one(&self, spec: &RateLimit) -> Duration {
        if self.tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / spec.per_second)
        }
    }
}

fn capacity(spec: &RateLimit) -> f64 {
    f64::from(spec.burst.max(1))
}

/// The limits that limit: a positive, finite rate.
pub(crate) fn effective<'a>(limits: &[(&'a str, &'a RateLimit)]) -> Vec<(&'a str, &'a RateLimit)> {
    limits
        .iter()
        .filter(|(_, spec)| spec.per_second.is_finite() && spec.per_second > 0.0)
        .copied()
        .collect()
}

impl RateLimiter for LocalRateLimiter {
    fn reserve<'a>(
        &'a self,
        account: &'a str,
        limits: &'a [(&'a str, &'a RateLimit)],
        deadline: Duration,
    ) -> Reservation<'a> {
        let reserved = self.reserve_at(account, limits, deadline, Instant::now());
        Box::pin(std::future::ready(reserved))
    }
}

impl LocalRateLimiter {
    /// Reserves the tokens at `now` and says how long to wait for them.
    fn reserve_at(
        &self,
        account: &str,
        limits: &[(&str, &RateLimit)],
        deadline: Duration,
        now: Instant,
    ) -> Result<Duration, Held> {
        let limits = effective(limits);
        if limits.is_empty() {
            return Ok(Duration::ZERO);
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() > PRUNE_ABOVE {
            prune(&mut buckets, limits.as_slice(), now);
        }
        let mut wait = Duration::ZERO;
        for (name, spec) in &limits {
            let bucket = buckets
                .entry((account.to_owned(), (*name).to_owned()))
                .or_insert_with(|| Bucket {
                    tokens: capacity(spec),
                    updated: now,
                });
            bucket.refill(spec, now);
            let needed = bucket.wait_for_one(spec);
            if needed > deadline {
                return Err(Held {
                    bucket: (*name).to_owned(),
                });
            }
            wait = wait.max(needed);
        }
        for (name, _) in &limits {
            if let Some(bucket) = buckets.get_mut(&(account.to_owned(), (*name).to_owned())) {
                bucket.tokens -= 1.0;
            }
        }
        Ok(wait)
    }
}

/// Drops buckets that have been idle long enough to be full again (judged by the largest refill
/// time among the limits in use; a dropped bucket comes back full, which is what it was).
fn prune(
    buckets: &mut HashMap<(String, String), Bucket>,
    limits: &[(&str, &RateLimit)],
    now: Instant,
) {
    let slowest = limits
        .iter()
        .map(|(_, spec)| capacity(spec) / spec.per_second)
        .fold(1.0_f64, f64::max);
    let idle = Duration::from_secs_f64(slowest.min(3600.0));
    buckets.retain(|_, bucket| {
        now.saturating_duration_since(bucket.updated) < idle || bucket.tokens < 0.0
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(per_second: f64, burst: u32) -> RateLimit {
        RateLimit::new(per_second, burst)
    }

    #[test]
    fn a_burst_passes_then_calls_are_spaced_by_the_rate() {
        let limiter = LocalRateLimiter::default();
        let default = spec(10.0, 3);
        let limits = [("default", &default)];
        let now = Instant::now();
        let deadline = Duration::from_secs(5);
        for _ in 0..3 {
            assert_eq!(
                limiter.reserve_at("a", &limits, deadline, now),
                Ok(Duration::ZERO)
            );
        }
        let waits: Vec<u128> = (0..3)
            .map(|_| {
                limiter
                    .reserve_at("a", &limits, deadline, now)
                    .map(|w| w.as_millis())
                    .unwrap_or(0)
            })
            .collect();
        assert_eq!(waits, vec![100, 200, 300]);
        // Another account has its own bucket.
        assert_eq!(
            limiter.reserve_at("b", &limits, deadline, now),
            Ok(Duration::ZERO)
        );
        // Time refills.
        let later = now + Duration::from_secs(1);
        assert_eq!(
            limiter.reserve_at("a", &limits, deadline, later),
            Ok(Duration::ZERO)
        );
    }

    #[test]
    fn a_named_bucket_adds_to_the_default_and_the_deadline_holds() {
        let limiter = LocalRateLimiter::default();
        let default = spec(10.0, 20);
        let applications = spec(2.0, 1);
        let limits = [("default", &default), ("applications", &applications)];
        let now = Instant::now();
        let deadline = Duration::from_millis(400);
        assert_eq!(
            limiter.reserve_at("a", &limits, deadline, now),
            Ok(Duration::ZERO)
        );
        assert_eq!(
            limiter.reserve_at("a", &limits, deadline, now),
            Err(Held {
                bucket: "applications".to_owned()
            })
        );
        // Nothing was taken by the refused call.
        let half_second = now + Duration::from_millis(500);
        assert_eq!(
            limiter.reserve_at("a", &limits, deadline, half_second),
            Ok(Duration::ZERO)
        );
    }

    #[test]
    fn non_positive_rates_do_not_limit() {
        let limiter = LocalRateLimiter::default();
        let off = spec(0.0, 0);
        for _ in 0..100 {
            assert_eq!(
                limiter.reserve_at("a", &[("default", &off)], Duration::ZERO, Instant::now()),
                Ok(Duration::ZERO)
            );
        }
    }
}
