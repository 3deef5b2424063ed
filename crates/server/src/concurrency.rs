//! How many requests (and detached runs) are under way, counted with permits; the limit itself
//! is applied by [`crate::limits`].

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The requests handled at once, counted with permits.
pub(crate) struct Concurrency {
    permits: Arc<Semaphore>,
    max: u32,
}

/// One request's place among those handled at once (a request extension). Work that outlives
/// its request (a detached create) keeps a clone, so it still counts until it ends.
#[derive(Clone)]
pub(crate) struct InFlight {
    _permit: Arc<OwnedSemaphorePermit>,
}

impl Concurrency {
    /// Room for `max` requests at once (at least one).
    pub(crate) fn new(max: usize) -> Concurrency {
        let max = u32::try_from(max.max(1)).unwrap_or(u32::MAX).min(1 << 24);
        Concurrency {
            permits: Arc::new(Semaphore::new(max as usize)),
            max,
        }
    }

    /// A place, or none when every place is taken.
    pub(crate) fn try_enter(&self) -> Option<InFlight> {
        let permit = Arc::clone(&self.permits).try_acquire_owned().ok()?;
        Some(InFlight {
            _permit: Arc::new(permit),
        })
    }

    /// How many requests may be handled at once.
    pub(crate) fn max(&self) -> u32 {
        self.max
    }

    /// Waits until nothing holds a place (every request and detached run ended), for at most
    /// `within`; true when that happened.
    pub(crate) async fn drained(&self, within: Duration) -> bool {
        tokio::time::timeout(within, self.permits.acquire_many(self.max))
            .await
            .is_ok_and(|permits| permits.is_ok())
    }
}
