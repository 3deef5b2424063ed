//! Everything one fake server shares between its connections and its test-facing handle.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::faults::{Fault, FaultKind, FaultQueue};
use super::records::RecordedCall;
use super::store::LeverAccount;

/// A file served without auth at `/files/{name}`.
#[derive(Debug, Clone)]
pub(crate) struct StaticFile {
    pub(crate) content_type: String,
    pub(crate) content: FileContent,
}

/// What a served file holds.
#[derive(Debug, Clone)]
pub(crate) enum FileContent {
    /// These bytes.
    Bytes(Vec<u8>),
    /// `len` bytes of the generated pattern (byte `i` is `i mod 251`), produced while they
    /// are sent (never held whole).
    Generated { len: u64 },
}

/// The state of one fake server.
#[derive(Debug)]
pub(crate) struct Shared {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub(crate) origin: String,
    store: Mutex<LeverAccount>,
    calls: Mutex<Vec<RecordedCall>>,
    faults: Mutex<FaultQueue>,
    files: Mutex<HashMap<String, StaticFile>>,
}

impl Shared {
    /// State for a server reachable at `origin`.
    pub(crate) fn new(origin: String, store: LeverAccount) -> Shared {
        Shared {
            origin,
            store: Mutex::new(store),
            calls: Mutex::new(Vec::new()),
            faults: Mutex::new(FaultQueue::default()),
            files: Mutex::new(HashMap::new()),
        }
    }

    /// `<origin>/v1`, the root that Lever paths are relative to.
    pub(crate) fn base_url(&self) -> String {
        format!("{}/v1", self.origin)
    }

    /// The Lever account.
    pub(crate) fn store(&self) -> MutexGuard<'_, LeverAccount> {
        lock(&self.store)
    }

    /// Records a call and returns its index (for [`Shared::set_status`]).
    pub(crate) fn record(&self, call: RecordedCall) -> usize {
        let mut calls = lock(&self.calls);
        calls.push(call);
        calls.len() - 1
    }

    /// Notes the status answered to the call at `index`.
    pub(crate) fn set_status(&self, index: usize, status: u16) {
        if let Some(call) = lock(&self.calls).get_mut(index) {
            call.status = Some(status);
        }
    }

    /// Every call so far.
    pub(crate) fn calls(&self) -> Vec<RecordedCall> {
        lock(&self.calls).clone()
    }

    /// Queues a fault.
    pub(crate) fn script(&self, fault: Fault) {
        lock(&self.faults).push(fault);
    }

    /// Takes the fault for a request, if one matches.
    pub(crate) fn take_fault(&self, method: &str, path: &str) -> Option<FaultKind> {
        lock(&self.faults).take(method, path)
    }

    /// Drops the faults not used yet.
    pub(crate) fn clear_faults(&self) {
        lock(&self.faults).clear();
    }

    /// The faults not used up yet.
    pub(crate) fn pending_faults(&self) -> Vec<Fault> {
        lock(&self.faults).pending()
    }

    /// Registers a file for `/files/{name}`.
    pub(crate) fn add_file(&self, name: &str, file: StaticFile) {
        lock(&self.files).insert(name.to_owned(), file);
    }

    /// The file registered as `name`.
    pub(crate) fn file(&self, name: &str) -> Option<StaticFile> {
        lock(&self.files).get(name).cloned()
    }
}

/// Locks `mutex`, carrying on if a panicking test thread poisoned it: the data is still usable
/// for a fake.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
