//! Faults by storage title: rules of the failure-injecting backend
//! ([`labelsync::backends::failure`]) for the storages a test names, applied through the
//! context's backend layer of an in-process server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use labelsync::backends::ObjectStore;
use labelsync::backends::failure::{FailingStore, Rule};
use labelsync::context::BackendLayer;
use labelsync::model::StorageRecord;

#[derive(Default)]
pub struct Faults {
    rules: Mutex<HashMap<String, Vec<Rule>>>,
    stores: Mutex<HashMap<String, Arc<FailingStore>>>,
}

impl Faults {
    pub fn new() -> Arc<Faults> {
        Arc::default()
    }

    /// Adds `rule` to the storage titled `title` (now, if it is already in use).
    pub fn on(&self, title: &str, rule: Rule) {
        if let Some(store) = lock(&self.stores).get(title) {
            store.add(rule.clone());
        }
        lock(&self.rules)
            .entry(title.to_owned())
            .or_default()
            .push(rule);
    }

    /// Removes the storage's rules and lets its hung calls fail.
    pub fn clear(&self, title: &str) {
        lock(&self.rules).remove(title);
        if let Some(store) = lock(&self.stores).get(title) {
            store.clear();
        }
    }

    /// Calls faulted so far in the storage titled `title`.
    pub fn injected(&self, title: &str) -> u64 {
        lock(&self.stores).get(title).map_or(0, |store| {
            store.injected.load(std::sync::atomic::Ordering::SeqCst)
        })
    }

    /// The layer that puts a storage with rules behind its failing store (one per title).
    pub fn layer(self: &Arc<Self>) -> BackendLayer {
        let faults = self.clone();
        Arc::new(move |record: &StorageRecord, inner: Arc<dyn ObjectStore>| {
            let title = record.title.clone().unwrap_or_default();
            let Some(rules) = lock(&faults.rules).get(&title).cloned() else {
                return inner;
            };
            let store = lock(&faults.stores)
                .entry(title)
                .or_insert_with(|| {
                    let store = FailingStore::new(inner);
                    rules.into_iter().for_each(|rule| store.add(rule));
                    Arc::new(store)
                })
                .clone();
            store as Arc<dyn ObjectStore>
        })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
