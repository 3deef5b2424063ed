//! One lock per idempotency key in use, so two requests with the same key run once (see
//! [`crate::idempotency`]); a key nobody uses any more is forgotten.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The per-key locks in use: each entry counts who holds or waits for it, and the last one out
/// removes it, whether it finished or was cancelled.
#[derive(Default)]
pub(crate) struct KeyLocks {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
}

struct Entry {
    lock: Arc<tokio::sync::Mutex<()>>,
    users: usize,
}

/// A use of one key's lock; dropping it (even mid-wait) forgets the key once nobody else uses it.
pub(crate) struct KeyUse {
    key: String,
    lock: Arc<tokio::sync::Mutex<()>>,
    entries: Arc<Mutex<HashMap<String, Entry>>>,
}

impl KeyLocks {
    /// Starts using `key`'s lock.
    pub(crate) fn enter(&self, key: &str) -> KeyUse {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.entry(key.to_owned()).or_insert_with(|| Entry {
            lock: Arc::default(),
            users: 0,
        });
        entry.users += 1;
        KeyUse {
            key: key.to_owned(),
            lock: Arc::clone(&entry.lock),
            entries: Arc::clone(&self.entries),
        }
    }

    /// How many keys are in use.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

impl KeyUse {
    /// Waits for the key's lock.
    pub(crate) async fn lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.lock.lock().await
    }
}

impl Drop for KeyUse {
    fn drop(&mut self) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = entries.get_mut(&self.key) {
            entry.users -= 1;
            if entry.users == 0 {
                entries.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    #[tokio::test]
    async fn cancelled_waiters_leave_no_lock_behind() {
        let locks = KeyLocks::default();
        let holder = locks.enter("t\nk");
        let guard = holder.lock().await;
        // A waiter cancelled while the lock is held.
        let waiter = async {
            let user = locks.enter("t\nk");
            let _guard = user.lock().await;
        };
        assert!(waiter.now_or_never().is_none(), "the waiter waits");
        drop(guard);
        drop(holder);
        assert_eq!(locks.len(), 0);

        // A waiter cancelled after the holder is gone, while it was still queued.
        let holder = locks.enter("t\nk");
        let guard = holder.lock().await;
        let mut waiter = Box::pin(async {
            let user = locks.enter("t\nk");
            let _guard = user.lock().await;
        });
        assert!((&mut waiter).now_or_never().is_none(), "the waiter waits");
        drop(guard);
        drop(holder);
        assert_eq!(locks.len(), 1, "the waiter still uses the key");
        drop(waiter);
        assert_eq!(locks.len(), 0);
    }

    #[tokio::test]
    async fn finished_uses_leave_no_lock_behind() {
        let locks = KeyLocks::default();
        for key in ["a", "b", "a"] {
            let user = locks.enter(key);
            let _guard = user.lock().await;
        }
        assert_eq!(locks.len(), 0);
    }
}
