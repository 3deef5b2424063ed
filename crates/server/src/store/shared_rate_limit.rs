//! Provider rate limits kept in PostgreSQL, so that every instance on one database shares each
//! account's buckets: one atomic GCRA update per call (`switchboard_take_rate_limit`, a
//! function of the migrations, one round trip, the database's clock). While the database is
//! unreachable calls are limited per instance (in this process) rather than refused.

use std::time::Duration;

use sqlx::postgres::PgPool;
use switchboard_core::RateLimit;
use switchboard_executor::{Held, LocalRateLimiter, RateLimiter, Reservation};

/// Rate-limit buckets shared through PostgreSQL.
#[derive(Debug)]
pub struct PostgresRateLimiter {
    pool: PgPool,
    fallback: LocalRateLimiter,
}

impl PostgresRateLimiter {
    /// Buckets in the database `pool` connects to (migrated by [`super::PostgresStore`]).
    pub(super) fn new(pool: PgPool) -> PostgresRateLimiter {
        PostgresRateLimiter {
            pool,
            fallback: LocalRateLimiter::default(),
        }
    }

    /// One call's reservation in the database: the wait, or the bucket that holds it.
    async fn take(
        &self,
        account: &str,
        limits: &[(&str, &RateLimit)],
        deadline: Duration,
    ) -> Result<Result<Duration, Held>, sqlx::Error> {
        // Rows are locked in name order, so concurrent calls never deadlock.
        let mut sorted = limits.to_vec();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        let names: Vec<String> = sorted.iter().map(|(name, _)| (*name).to_owned()).collect();
        let intervals: Vec<f64> = sorted.iter().map(|(_, s)| 1.0 / s.per_second).collect();
        let bursts: Vec<f64> = sorted
            .iter()
            .map(|(_, s)| f64::from(s.burst.max(1)))
            .collect();
        let (wait, held): (f64, Option<String>) = sqlx::query_as(
            "SELECT wait, held FROM switchboard_take_rate_limit($1, $2, $3, $4, $5)",
        )
        .bind(account)
        .bind(&names)
        .bind(&intervals)
        .bind(&bursts)
        .bind(deadline.as_secs_f64())
        .fetch_one(&self.pool)
        .await?;
        Ok(match held {
            Some(bucket) => Err(Held { bucket }),
            None => Ok(Duration::try_from_secs_f64(wait.max(0.0)).unwrap_or(deadline)),
        })
    }
}

impl RateLimiter for PostgresRateLimiter {
    fn reserve<'a>(
        &'a self,
        account: &'a str,
        limits: &'a [(&'a str, &'a RateLimit)],
        deadline: Duration,
    ) -> Reservation<'a> {
        Box::pin(async move {
            match self.take(account, limits, deadline).await {
                Ok(reserved) => reserved,
                Err(error) => {
                    tracing::warn!(%error, "shared rate limits unreachable: limiting in this instance only");
                    self.fallback.reserve(account, limits, deadline).await
                }
            }
        })
    }
}
