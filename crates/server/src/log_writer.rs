//! The request log off the request path: handlers hand entries to a bounded queue and go on; one
//! writer task stores what is queued in batches (one transaction each, at most [`MAX_BATCH`]
//! rows) and prunes after each batch. A batch gathers entries for at most [`GATHER`] after its
//! first one, so a busy server commits a few times a second, not once per request. When the queue is full the entry is dropped and counted,
//! never waited for. On shutdown the writer stores what is still queued before the store closes.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::config::LogRetention;
use crate::store::{LogEntry, Store};
use crate::telemetry::prune_log;

/// How many entries wait for the writer at most; more are dropped.
pub(crate) const QUEUE_CAPACITY: usize = 4096;
/// The most entries stored in one transaction.
pub(crate) const MAX_BATCH: usize = 1024;
/// How long a batch waits for more entries after its first one (unless it fills first): the
/// longest an entry waits before it is written, well within the second in which `GET /log`
/// shows it.
pub(crate) const GATHER: Duration = Duration::from_millis(50);
/// The least time between two warnings about dropped entries.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// The handlers' end of the queue: cheap, never blocks.
pub(crate) struct LogQueue {
    sender: mpsc::Sender<LogEntry>,
    /// The receiver, until [`LogQueue::start`] hands it to the writer.
    receiver: Mutex<Option<mpsc::Receiver<LogEntry>>>,
    dropped: AtomicU64,
    started: Instant,
    /// When (milliseconds after `started`, plus one) the last drop warning was logged; 0: never.
    warned_at: AtomicU64,
}

/// The running writer: [`LogWriter::finish`] stores what is queued and stops it.
pub(crate) struct LogWriter {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl LogQueue {
    /// An empty queue of `capacity` entries; nothing is stored until [`LogQueue::start`].
    pub(crate) fn new(capacity: usize) -> LogQueue {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        LogQueue {
            sender,
            receiver: Mutex::new(Some(receiver)),
            dropped: AtomicU64::new(0),
            started: Instant::now(),
            warned_at: AtomicU64::new(0),
        }
    }

    /// Queues `entry` for the writer, or drops and counts it when the queue is full.
    pub(crate) fn push(&self, entry: LogEntry) {
        if self.sender.try_send(entry).is_ok() {
            return;
        }
        let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        if self.may_warn() {
            tracing::warn!(
                dropped,
                "request log overloaded: entries dropped (total since start)"
            );
        }
    }

    /// How many entries were dropped since start.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Whether a drop warning is due (at most one per [`WARN_EVERY`]); claims it if so.
    fn may_warn(&self) -> bool {
        let now = u64::try_from(self.started.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let last = self.warned_at.load(Ordering::Relaxed);
        let every = u64::try_from(WARN_EVERY.as_millis()).unwrap_or(u64::MAX);
        (last == 0 || now.saturating_sub(last) >= every)
            && self
                .warned_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// Starts the writer over `store`, pruning by `retention` after each batch; `None` when it
    /// was started already.
    pub(crate) fn start(
        &self,
        store: Arc<dyn Store>,
        retention: LogRetention,
    ) -> Option<LogWriter> {
        let receiver = self
            .receiver
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()?;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(write(receiver, stopped, store, retention));
        Some(LogWriter { stop, task })
    }
}

impl LogWriter {
    /// Stores every entry queued so far, then stops.
    pub(crate) async fn finish(self) {
        let _ = self.stop.send(());
        if let Err(error) = self.task.await {
            tracing::warn!(%error, "the request-log writer stopped abnormally");
        }
    }
}

/// The writer: stores batches as they come until told to stop, then what is left.
async fn write(
    mut receiver: mpsc::Receiver<LogEntry>,
    mut stopped: oneshot::Receiver<()>,
    store: Arc<dyn Store>,
    retention: LogRetention,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        tokio::select! {
            received = receiver.recv_many(&mut batch, MAX_BATCH) => {
                if received == 0 {
                    return;
                }
                gather(&mut receiver, &mut batch).await;
                store_batch(store.as_ref(), &mut batch, &retention).await;
            }
            _ = &mut stopped => break,
        }
    }
    receiver.close();
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        store_batch(store.as_ref(), &mut batch, &retention).await;
    }
}

/// Adds to `batch` what arrives within [`GATHER`], until it holds [`MAX_BATCH`] entries or the
/// queue is closed.
async fn gather(receiver: &mut mpsc::Receiver<LogEntry>, batch: &mut Vec<LogEntry>) {
    let until = tokio::time::Instant::now() + GATHER;
    while batch.len() < MAX_BATCH {
        let room = MAX_BATCH - batch.len();
        // `recv_many` is cancel-safe: nothing received is lost when the time runs out.
        match tokio::time::timeout_at(until, receiver.recv_many(batch, room)).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// Stores and empties `batch`, then prunes; failures are logged.
async fn store_batch(store: &dyn Store, batch: &mut Vec<LogEntry>, retention: &LogRetention) {
    if let Err(error) = store.insert_logs(batch).await {
        tracing::warn!(%error, entries = batch.len(), "could not write the request log");
    }
    batch.clear();
    prune_log(store, retention).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{LogFilter, SqliteStore};

    fn entry(request_id: &str) -> LogEntry {
        LogEntry {
            id: 0,
            time: crate::clock::now_rfc3339(),
            request_id: request_id.to_owned(),
            method: "GET".into(),
            path: "/unified/x".into(),
            integration: None,
            integrated_account_id: None,
            resource: None,
            unified_method: None,
            status: 200,
            duration_ms: 1,
            exchanges: Vec::new(),
        }
    }

    /// Every stored request id, oldest first (the store answers 100 at a time).
    async fn stored(store: &dyn Store) -> Vec<String> {
        let mut ids = Vec::new();
        let mut filter = LogFilter {
            limit: 100,
            ..LogFilter::default()
        };
        loop {
            let page = store.list_log(&filter).await.expect("list");
            let Some(last) = page.last() else { break };
            filter.before = Some(last.id);
            ids.extend(page.into_iter().map(|e| e.request_id));
        }
        ids.reverse();
        ids
    }

    #[tokio::test]
    async fn a_full_queue_drops_and_counts_instead_of_waiting() {
        let queue = LogQueue::new(2);
        for i in 0..5 {
            queue.push(entry(&format!("r{i}")));
        }
        assert_eq!(queue.dropped(), 3);
    }

    #[tokio::test]
    async fn a_batch_takes_what_arrives_after_its_first_entry() {
        let (sender, mut receiver) = mpsc::channel(8);
        let mut batch = vec![entry("first")];
        let late = tokio::spawn(async move {
            let _ = sender.send(entry("second")).await;
        });
        gather(&mut receiver, &mut batch).await;
        late.await.expect("sent");
        let ids: Vec<&str> = batch.iter().map(|e| e.request_id.as_str()).collect();
        assert_eq!(ids, ["first", "second"]);
    }

    #[tokio::test]
    async fn a_batch_stops_gathering_when_full() {
        let (sender, mut receiver) = mpsc::channel(MAX_BATCH + 5);
        for i in 0..MAX_BATCH + 5 {
            sender.try_send(entry(&format!("r{i}"))).expect("room");
        }
        let mut batch = Vec::new();
        gather(&mut receiver, &mut batch).await;
        assert_eq!(batch.len(), MAX_BATCH);
        assert_eq!(receiver.len(), 5, "the rest waits for the next batch");
    }

    #[tokio::test]
    async fn finishing_stores_everything_queued_in_order() {
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open("sqlite::memory:").await.expect("open"));
        let queue = LogQueue::new(QUEUE_CAPACITY);
        let ids: Vec<String> = (0..MAX_BATCH + 300).map(|i| format!("r{i}")).collect();
        for id in &ids {
            queue.push(entry(id));
        }
        let writer = queue
            .start(store.clone(), LogRetention::default())
            .expect("starts");
        assert!(
            queue
                .start(store.clone(), LogRetention::default())
                .is_none()
        );
        writer.finish().await;
        assert_eq!(stored(store.as_ref()).await, ids);
        assert_eq!(queue.dropped(), 0);
    }
}
