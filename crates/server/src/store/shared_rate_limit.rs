//! Provider rate limits kept in PostgreSQL, so that every instance on one database shares each
//! account's buckets (GCRA, the database's clock).
//!
//! Calls waiting for the database at the same moment go in one round trip: a task per limiter
//! gathers what is queued (up to [`MAX_BATCH`] calls, [`MAX_IN_FLIGHT`] batches at once) and
//! hands it to `switchboard_take_rate_limits` (migration 0004), which serves each call as if it
//! had come alone, one after the other, at the same instant. A burst of creates on one instance
//! thus costs a few round trips and a few locks of each bucket's row instead of one of each per
//! call, and the limits hold exactly as before: every token a call is granted was taken in the
//! database before the call goes out.
//!
//! While the database is unreachable calls are limited per instance (in this process) rather
//! than refused; after a failed batch the database is asked again [`RETRY_AFTER_FAILURE`] later,
//! so calls do not queue behind connection timeouts meanwhile.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use sqlx::postgres::PgPool;
use switchboard_core::RateLimit;
use switchboard_executor::{Held, LocalRateLimiter, RateLimiter, Reservation};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// The most calls reserved in one round trip.
const MAX_BATCH: usize = 64;
/// The most batches in the database at once (a second one goes out while the first holds the
/// buckets' rows, hiding the round trip).
const MAX_IN_FLIGHT: usize = 2;
/// Calls queued for the database at most; more wait to be queued.
const QUEUE_CAPACITY: usize = 4096;
/// How long after a failed batch calls are limited in this process only, without trying the
/// database.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// Rate-limit buckets shared through PostgreSQL.
#[derive(Debug)]
pub struct PostgresRateLimiter {
    shared: Arc<Shared>,
    fallback: LocalRateLimiter,
    /// The batching task's queue, started by the first call (inside the runtime).
    queue: OnceLock<mpsc::Sender<Pending>>,
}

/// What the limiter and its batching task share.
#[derive(Debug)]
struct Shared {
    pool: PgPool,
    /// Until when the database is not asked, after a failure.
    retry_at: Mutex<Option<Instant>>,
    round_trips: AtomicU64,
}

/// One call waiting for its reservation.
struct Pending {
    account: String,
    /// Bucket name, seconds per token, burst.
    buckets: Vec<(String, f64, f64)>,
    deadline: Duration,
    answer: oneshot::Sender<Answer>,
}

/// The database's answer for one call; `None` when it could not be asked.
type Answer = Option<Result<Duration, Held>>;

impl PostgresRateLimiter {
    /// Buckets in the database `pool` connects to (migrated by [`super::PostgresStore`]).
    pub(super) fn new(pool: PgPool) -> PostgresRateLimiter {
        PostgresRateLimiter {
            shared: Arc::new(Shared {
                pool,
                retry_at: Mutex::new(None),
                round_trips: AtomicU64::new(0),
            }),
            fallback: LocalRateLimiter::default(),
            queue: OnceLock::new(),
        }
    }

    /// How many times this limiter has asked the database so far (each time for a batch of
    /// calls): the measure of what batching saves.
    pub fn round_trips(&self) -> u64 {
        self.shared.round_trips.load(Ordering::Relaxed)
    }

    /// The call's reservation from the database, through the batching task; `None` when the
    /// database could not be asked.
    async fn reserve_shared(
        &self,
        account: &str,
        limits: &[(&str, &RateLimit)],
        deadline: Duration,
    ) -> Answer {
        let queue = self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
            tokio::spawn(batch_calls(Arc::clone(&self.shared), receiver));
            sender
        });
        let (answer, answered) = oneshot::channel();
        let pending = Pending {
            account: account.to_owned(),
            buckets: limits
                .iter()
                .map(|(name, spec)| {
                    (
                        (*name).to_owned(),
                        1.0 / spec.per_second,
                        f64::from(spec.burst.max(1)),
                    )
                })
                .collect(),
            deadline,
            answer,
        };
        queue.send(pending).await.ok()?;
        answered.await.ok().flatten()
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
            match self.reserve_shared(account, limits, deadline).await {
                Some(reserved) => reserved,
                None => self.fallback.reserve(account, limits, deadline).await,
            }
        })
    }
}

/// The batching task: takes what is queued, up to [`MAX_BATCH`] calls, whenever fewer than
/// [`MAX_IN_FLIGHT`] batches are in the database. Ends when the limiter is dropped.
async fn batch_calls(shared: Arc<Shared>, mut queue: mpsc::Receiver<Pending>) {
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        let Ok(permit) = Arc::clone(&in_flight).acquire_owned().await else {
            return;
        };
        if queue.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        let calls = std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH));
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            shared.answer(calls).await;
            drop(permit);
        });
    }
}

impl Shared {
    /// Reserves `calls` in one round trip and answers each (`None` to all when the database
    /// failed or is resting after a failure).
    async fn answer(&self, calls: Vec<Pending>) {
        let mut answers = if self.resting() {
            Vec::new()
        } else {
            match self.take(&calls).await {
                Ok(answers) => answers,
                Err(error) => {
                    tracing::warn!(%error, calls = calls.len(), "shared rate limits unreachable: limiting in this instance only");
                    *self.retry_at.lock().unwrap_or_else(PoisonError::into_inner) =
                        Some(Instant::now() + RETRY_AFTER_FAILURE);
                    Vec::new()
                }
            }
        };
        answers.resize(calls.len(), None);
        for (call, answer) in calls.into_iter().zip(answers) {
            // A caller that has gone away keeps nothing: its tokens are spent, as if it had
            // made its call.
            let _ = call.answer.send(answer);
        }
    }

    /// Whether a recent failure says not to ask the database yet.
    fn resting(&self) -> bool {
        let retry_at = self.retry_at.lock().unwrap_or_else(PoisonError::into_inner);
        retry_at.is_some_and(|at| Instant::now() < at)
    }

    /// One round trip: each call's wait, or the bucket that holds it, in the calls' order.
    async fn take(&self, calls: &[Pending]) -> Result<Vec<Answer>, sqlx::Error> {
        let args = BatchArguments::of(calls);
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        let rows: Vec<(i32, f64, Option<String>)> = sqlx::query_as(
            "SELECT request, wait, held FROM switchboard_take_rate_limits($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&args.accounts)
        .bind(&args.buckets)
        .bind(&args.max_waits)
        .bind(&args.requests)
        .bind(&args.slots)
        .bind(&args.intervals)
        .bind(&args.bursts)
        .fetch_all(&self.pool)
        .await?;
        let mut answers = vec![None; calls.len()];
        for (request, wait, held) in rows {
            let Some(index) = usize::try_from(request).ok().and_then(|r| r.checked_sub(1)) else {
                continue;
            };
            let Some(call) = calls.get(index) else {
                continue;
            };
            answers[index] = Some(match held {
                Some(bucket) => Err(Held { bucket }),
                None => Ok(Duration::try_from_secs_f64(wait.max(0.0)).unwrap_or(call.deadline)),
            });
        }
        Ok(answers)
    }
}

/// A batch laid out as `switchboard_take_rate_limits` takes it: the buckets it touches, each
/// once, sorted (the order every instance locks them in); per call, its longest wait; per bucket
/// entry of a call, the call (1-based), the bucket (1-based) and the bucket's spec.
struct BatchArguments<'a> {
    accounts: Vec<&'a str>,
    buckets: Vec<&'a str>,
    max_waits: Vec<f64>,
    requests: Vec<i32>,
    slots: Vec<i32>,
    intervals: Vec<f64>,
    bursts: Vec<f64>,
}

impl<'a> BatchArguments<'a> {
    fn of(calls: &'a [Pending]) -> BatchArguments<'a> {
        let mut keys: Vec<(&str, &str)> = calls
            .iter()
            .flat_map(|call| {
                call.buckets
                    .iter()
                    .map(|(name, _, _)| (call.account.as_str(), name.as_str()))
            })
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let entries = calls.iter().map(|call| call.buckets.len()).sum();
        let mut args = BatchArguments {
            accounts: keys.iter().map(|(account, _)| *account).collect(),
            buckets: keys.iter().map(|(_, bucket)| *bucket).collect(),
            max_waits: Vec::with_capacity(calls.len()),
            requests: Vec::with_capacity(entries),
            slots: Vec::with_capacity(entries),
            intervals: Vec::with_capacity(entries),
            bursts: Vec::with_capacity(entries),
        };
        // At most MAX_BATCH calls and a few buckets each: the 1-based indexes fit.
        for (request, call) in (1_i32..).zip(calls) {
            args.max_waits.push(call.deadline.as_secs_f64());
            for (name, interval, burst) in &call.buckets {
                let slot = keys
                    .binary_search(&(call.account.as_str(), name.as_str()))
                    .unwrap_or_default();
                args.requests.push(request);
                args.slots.push(i32::try_from(slot + 1).unwrap_or(i32::MAX));
                args.intervals.push(*interval);
                args.bursts.push(*burst);
            }
        }
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(account: &str, buckets: &[(&str, f64)], deadline_secs: u64) -> Pending {
        Pending {
            account: account.to_owned(),
            buckets: buckets
                .iter()
                .map(|(name, interval)| ((*name).to_owned(), *interval, 2.0))
                .collect(),
            deadline: Duration::from_secs(deadline_secs),
            answer: oneshot::channel().0,
        }
    }

    #[test]
    fn a_batch_lists_each_bucket_once_sorted_and_points_each_entry_at_its_bucket() {
        let calls = [
            pending("b", &[("default", 0.1), ("applications", 0.5)], 30),
            pending("a", &[("default", 0.1)], 5),
            pending("b", &[("default", 0.1)], 7),
        ];
        let args = BatchArguments::of(&calls);
        assert_eq!(args.accounts, ["a", "b", "b"]);
        assert_eq!(args.buckets, ["default", "applications", "default"]);
        assert_eq!(args.max_waits, [30.0, 5.0, 7.0]);
        assert_eq!(args.requests, [1, 1, 2, 3]);
        assert_eq!(args.slots, [3, 2, 1, 3]);
        assert_eq!(args.intervals, [0.1, 0.5, 0.1, 0.1]);
        assert_eq!(args.bursts, [2.0; 4]);
    }
}
