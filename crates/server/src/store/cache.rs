//! A small bounded map whose entries expire: what the server keeps of lookups it repeats on
//! every request. Invalidating bumps a generation, so a lookup that read the store before an
//! invalidation cannot put its stale answer back afterwards.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// At most `capacity` entries, each answered for `ttl` after it was stored.
pub(crate) struct TtlCache<V> {
    entries: Mutex<Entries<V>>,
    capacity: usize,
    ttl: Duration,
}

struct Entries<V> {
    map: HashMap<String, (Instant, V)>,
    generation: u64,
}

impl<V: Clone> TtlCache<V> {
    /// An empty cache.
    pub(crate) fn new(capacity: usize, ttl: Duration) -> TtlCache<V> {
        TtlCache {
            entries: Mutex::new(Entries {
                map: HashMap::new(),
                generation: 0,
            }),
            capacity,
            ttl,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Entries<V>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The fresh value under `key`, if any.
    pub(crate) fn get(&self, key: &str) -> Option<V> {
        let mut entries = self.lock();
        match entries.map.get(key) {
            Some((stored, value)) if stored.elapsed() < self.ttl => Some(value.clone()),
            Some(_) => {
                entries.map.remove(key);
                None
            }
            None => None,
        }
    }

    /// The generation to pass to [`TtlCache::put`] for a lookup starting now.
    pub(crate) fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Keeps `value` under `key`, unless something was invalidated since `generation` was read.
    /// When full, expired entries go first, then an arbitrary one.
    pub(crate) fn put(&self, key: &str, value: V, generation: u64) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.lock();
        if entries.generation != generation {
            return;
        }
        if entries.map.len() >= self.capacity && !entries.map.contains_key(key) {
            let ttl = self.ttl;
            entries.map.retain(|_, (stored, _)| stored.elapsed() < ttl);
            if entries.map.len() >= self.capacity
                && let Some(victim) = entries.map.keys().next().cloned()
            {
                entries.map.remove(&victim);
            }
        }
        entries.map.insert(key.to_owned(), (Instant::now(), value));
    }

    /// Forgets `key`.
    pub(crate) fn forget(&self, key: &str) {
        let mut entries = self.lock();
        entries.generation += 1;
        entries.map.remove(key);
    }

    /// Forgets everything.
    pub(crate) fn clear(&self) {
        let mut entries = self.lock();
        entries.generation += 1;
        entries.map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(3600);

    #[test]
    fn entries_are_bounded_and_expire() {
        let cache = TtlCache::new(2, LONG);
        for key in ["a", "b", "c"] {
            cache.put(key, key.to_owned(), cache.generation());
        }
        let kept = ["a", "b", "c"]
            .iter()
            .filter(|k| cache.get(k).is_some())
            .count();
        assert_eq!(kept, 2);
        assert_eq!(cache.get("c").as_deref(), Some("c"), "the newest is kept");

        let expired = TtlCache::new(2, Duration::ZERO);
        expired.put("a", 1, expired.generation());
        assert_eq!(expired.get("a"), None);
    }

    #[test]
    fn a_lookup_older_than_an_invalidation_is_not_kept() {
        let cache = TtlCache::new(8, LONG);
        let before = cache.generation();
        cache.forget("a");
        cache.put("a", "stale", before);
        assert_eq!(cache.get("a"), None);
        cache.put("a", "fresh", cache.generation());
        cache.clear();
        assert_eq!(cache.get("a"), None);
    }
}
