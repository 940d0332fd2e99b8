//! Faults on purpose: a decorator around any backend that fails the Nth call, fails calls on
//! keys matching a pattern, hangs, or returns garbage, so the fault suite can show that every
//! job still ends, says why, and loses nothing (in the spirit of mountpoint-s3's failure
//! client). Faults can be switched on and off while a sync runs.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;

use super::{
    BackendError, ByteRange, GetResult, ListPage, ListRequest, ObjectMeta, ObjectStore, Presigner,
};

/// Which calls a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    List,
    Head,
    Get,
    Put,
    Delete,
}

/// What happens to a faulted call.
#[derive(Clone, Debug)]
pub enum Fault {
    /// A transient service error (what an outage looks like).
    Error,
    /// Never answers (what a hung connection looks like), until the fault is cleared.
    Hang,
    /// A successful read whose bytes are these instead of the object's.
    Garbage(Bytes),
    /// A read that answers and sends its first chunk, then never another (a storage that
    /// stalls mid-body).
    StallBody,
}

/// One rule: `fault` for calls of `operation` whose key contains `key_part` (any key when
/// empty), starting at the `from`-th such call (1-based) for `count` calls (`None`: forever).
#[derive(Clone, Debug)]
pub struct Rule {
    pub operation: Operation,
    pub key_part: String,
    pub from: u64,
    pub count: Option<u64>,
    pub fault: Fault,
}

impl Rule {
    /// Every call of `operation` from now on.
    pub fn always(operation: Operation, fault: Fault) -> Self {
        Rule {
            operation,
            key_part: String::new(),
            from: 1,
            count: None,
            fault,
        }
    }

    /// Only calls whose key contains `part`.
    pub fn on_keys(mut self, part: &str) -> Self {
        self.key_part = part.to_owned();
        self
    }

    /// Only the `nth` matching call (1-based).
    pub fn nth(mut self, nth: u64) -> Self {
        self.from = nth;
        self.count = Some(1);
        self
    }
}

#[derive(Debug)]
struct ActiveRule {
    rule: Rule,
    seen: AtomicU64,
}

/// A backend that applies [`Rule`]s before passing calls on to `inner`.
#[derive(Debug)]
pub struct FailingStore {
    inner: Arc<dyn ObjectStore>,
    rules: Mutex<Vec<Arc<ActiveRule>>>,
    /// Calls that were faulted, for the test to see that the fault happened.
    pub injected: AtomicU64,
    /// Bumped by [`FailingStore::clear`], which releases hung calls.
    generation: tokio::sync::watch::Sender<u64>,
}

impl FailingStore {
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        FailingStore {
            inner,
            rules: Mutex::default(),
            injected: AtomicU64::new(0),
            generation: tokio::sync::watch::Sender::new(0),
        }
    }

    pub fn add(&self, rule: Rule) {
        self.lock().push(Arc::new(ActiveRule {
            rule,
            seen: AtomicU64::new(0),
        }));
    }

    /// Removes every rule and lets hung calls fail.
    pub fn clear(&self) {
        self.lock().clear();
        self.generation.send_modify(|g| *g += 1);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<ActiveRule>>> {
        self.rules.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The fault for this call, if a rule takes it.
    fn fault_for(&self, operation: Operation, key: &str) -> Option<Fault> {
        let rules: Vec<Arc<ActiveRule>> = self.lock().clone();
        for active in rules {
            let rule = &active.rule;
            if rule.operation != operation || !key.contains(&rule.key_part) {
                continue;
            }
            let nth = active.seen.fetch_add(1, Ordering::SeqCst) + 1;
            let in_window = nth >= rule.from && rule.count.is_none_or(|c| nth < rule.from + c);
            if in_window {
                self.injected.fetch_add(1, Ordering::SeqCst);
                return Some(rule.fault.clone());
            }
        }
        None
    }

    /// Fails (or hangs, until cleared) when a rule takes the call; the faults that change a
    /// successful read are returned.
    async fn before(&self, operation: Operation, key: &str) -> Result<Option<Fault>, BackendError> {
        match self.fault_for(operation, key) {
            None => Ok(None),
            Some(fault @ (Fault::Garbage(_) | Fault::StallBody)) => Ok(Some(fault)),
            Some(Fault::Error) => Err(injected(operation, key)),
            Some(Fault::Hang) => {
                let mut released = self.generation.subscribe();
                let _ = released.changed().await;
                // Released by `clear`: the hung call fails as a timed-out one would.
                tokio::time::sleep(Duration::from_millis(1)).await;
                Err(injected(operation, key))
            }
        }
    }
}

fn injected(operation: Operation, key: &str) -> BackendError {
    BackendError::Service {
        operation: "injected fault",
        source: format!("{operation:?} of {key:?} failed (injected)").into(),
    }
}

#[async_trait]
impl ObjectStore for FailingStore {
    async fn list_page(&self, request: ListRequest<'_>) -> Result<ListPage, BackendError> {
        self.before(Operation::List, request.prefix).await?;
        self.inner.list_page(request).await
    }

    async fn head(&self, key: &str) -> Result<ObjectMeta, BackendError> {
        self.before(Operation::Head, key).await?;
        self.inner.head(key).await
    }

    async fn get(&self, key: &str, range: Option<ByteRange>) -> Result<GetResult, BackendError> {
        let garbage = match self.before(Operation::Get, key).await? {
            Some(Fault::Garbage(garbage)) => garbage,
            Some(Fault::StallBody) => {
                let mut got = self.inner.get(key, range).await?;
                let first = got.body.next().await;
                let stalled = futures::stream::iter(first).chain(futures::stream::pending());
                got.body = Box::pin(stalled);
                return Ok(got);
            }
            _ => return self.inner.get(key, range).await,
        };
        let size = garbage.len() as u64;
        Ok(GetResult {
            meta: ObjectMeta {
                key: key.to_owned(),
                size,
                last_modified: None,
                etag: None,
            },
            range: 0..size,
            body: Box::pin(futures::stream::once(async move { Ok(garbage) })),
        })
    }

    async fn put(&self, key: &str, body: Bytes) -> Result<(), BackendError> {
        self.before(Operation::Put, key).await?;
        self.inner.put(key, body).await
    }

    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        self.before(Operation::Delete, key).await?;
        self.inner.delete(key).await
    }

    fn presigner(&self) -> Option<&dyn Presigner> {
        self.inner.presigner()
    }
}
