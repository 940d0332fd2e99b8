//! Objects gone from a source storage. Under `removed_objects: delete_unlabeled` their tasks
//! without annotations are deleted and annotated ones flagged; under `keep` (the default, as
//! Label Studio) nothing happens. An object goes by event ([`remove_object`]) or by not being
//! listed any more ([`sweep`], after a sync completes).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::backends::{BackendError, ListRequest, ObjectStore};
use crate::connectors::{SourceSpec, Storage};
use crate::context::{Context, Opened};
use crate::jobs::HandlerError;
use crate::model::{RemovedObjects, StorageRecord, TaskId, TaskRemoval, fnv1a, now};

/// Links read per state call during a sweep.
const LINK_PAGE: usize = 1000;

/// What removed objects did to tasks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Removed {
    pub deleted: u64,
    pub flagged: u64,
}

impl Removed {
    /// The sync's `meta` fields for them.
    pub fn meta(self) -> Map<String, Value> {
        let mut meta = Map::new();
        meta.insert("tasks_removed".into(), Value::from(self.deleted));
        meta.insert("tasks_flagged_removed".into(), Value::from(self.flagged));
        meta
    }

    fn count(&mut self, removal: TaskRemoval) {
        match removal {
            TaskRemoval::Deleted => self.deleted += 1,
            TaskRemoval::Flagged => self.flagged += 1,
            TaskRemoval::Gone => {}
        }
    }
}

/// An event said `key` was removed. The object is looked up first: if it exists again (a
/// newer "created" overtook this event), its tasks stay.
pub async fn remove_object(
    ctx: &Context,
    storage: &StorageRecord,
    key: &str,
) -> Result<Removed, HandlerError> {
    let mut removed = Removed::default();
    if storage.removed_objects == RemovedObjects::Keep {
        return Ok(removed);
    }
    let (bound, backend) = open(ctx, storage)?;
    match backend.head(key).await {
        Err(BackendError::NotFound { .. }) => {}
        Ok(_) => return Ok(removed),
        Err(source) => return Err(backend_error(storage, source)),
    }
    let scope = scope_of(storage, bound.as_ref());
    for task in ctx.state.object_tasks(scope, key).await? {
        removed.count(ctx.state.remove_unlabeled_task(task).await?);
    }
    Ok(removed)
}

/// After a sync: lists the storage again and removes the tasks of every linked key it covers
/// that the listing no longer has. Tasks made after the listing began are left alone (their
/// objects may be newer than the listing). Holds 8 bytes per listed key.
pub async fn sweep(ctx: &Context, storage: &StorageRecord) -> Result<Removed, HandlerError> {
    let mut removed = Removed::default();
    if storage.removed_objects == RemovedObjects::Keep {
        return Ok(removed);
    }
    let (bound, backend) = open(ctx, storage)?;
    let began = now();
    let spec = bound.source();
    let listed = listed_keys(ctx, backend.as_ref(), spec)
        .await
        .map_err(|source| backend_error(storage, source))?;
    let scope = scope_of(storage, bound.as_ref());
    let mut cursor = None;
    loop {
        let page = ctx.state.linked_tasks(scope, cursor, LINK_PAGE).await?;
        for link in page.links {
            let vanished =
                spec.covers(&link.key) && listed.binary_search(&fnv1a(&link.key)).is_err();
            if vanished && made_before(ctx, link.task, began).await? {
                removed.count(ctx.state.remove_unlabeled_task(link.task).await?);
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(removed),
        }
    }
}

/// The hashes of every key a sync would take, sorted. A hash shared by a vanished key and a
/// listed one keeps the vanished key's tasks: a collision can only keep, never remove.
async fn listed_keys(
    ctx: &Context,
    backend: &dyn ObjectStore,
    spec: &SourceSpec,
) -> Result<Vec<u64>, BackendError> {
    let mut hashes = Vec::new();
    let mut continuation = None;
    loop {
        let request = ListRequest {
            prefix: &spec.prefix,
            recursive: spec.recursive,
            continuation: continuation.as_deref(),
            start_after: None,
            max_keys: ctx.settings.list_page_size,
        };
        let page = backend.list_page(request).await?;
        hashes.extend(
            page.objects
                .iter()
                .filter(|o| spec.accepts(&o.key))
                .map(|o| fnv1a(&o.key)),
        );
        match page.next {
            Some(next) => continuation = Some(next),
            None => break,
        }
    }
    hashes.sort_unstable();
    Ok(hashes)
}

async fn made_before(
    ctx: &Context,
    task: TaskId,
    time: DateTime<Utc>,
) -> Result<bool, HandlerError> {
    let task = ctx.state.get_task(task).await?;
    Ok(task.is_some_and(|t| t.created_at < time))
}

fn open(ctx: &Context, storage: &StorageRecord) -> Result<Opened, HandlerError> {
    ctx.open(storage)
        .map_err(|source| HandlerError::settings(storage.id, source))
}

/// The link namespace of the storage's tasks (as ingest writes them).
fn scope_of(storage: &StorageRecord, bound: &dyn Storage) -> u64 {
    storage.link_scope(&bound.location()).unwrap_or(storage.id)
}

fn backend_error(storage: &StorageRecord, source: BackendError) -> HandlerError {
    HandlerError::Backend {
        storage: storage.id,
        source,
    }
}
