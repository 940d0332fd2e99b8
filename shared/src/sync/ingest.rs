//! `IngestBatch`: keys to tasks. Files mode makes one task per key without reading it; Tasks
//! mode streams each object through the parsers and creates tasks in chunks.

use std::sync::Arc;

use futures::StreamExt;
use serde_json::{Map, Value};

use super::complete::complete_sync;
use crate::backends::{BackendError, ObjectStore};
use crate::connectors::Storage;
use crate::context::Context;
use crate::ingest::{TaskItem, read_tasks, task_file_format};
use crate::jobs::finish::fail_job;
use crate::jobs::{BatchKey, HandlerError, describe, running_job_storage};
use crate::metrics::Metric;
use crate::model::{
    BatchId, BatchOutcome, CreateOutcome, JobId, NewTask, StorageId, StorageRecord, TaskSource,
    UNDEFINED_DATA_KEY,
};

/// Tasks created per state call while parsing one object.
const TASKS_PER_WRITE: usize = 1000;
/// Objects of one batch read at the same time in Tasks mode.
const OBJECTS_IN_FLIGHT: usize = 4;

/// Whether a failed read of one object fails the batch (so the message is delivered again), or,
/// on the last try, is an error of that object's key while the batch's other objects go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadFailure {
    FailsBatch,
    ErrorOfKey,
}

/// Handles one `IngestBatch` message.
pub async fn handle_ingest_batch(
    ctx: &Context,
    job: JobId,
    storage_id: StorageId,
    batch: BatchId,
    keys: Vec<BatchKey>,
    read_failure: ReadFailure,
) -> Result<(), HandlerError> {
    let Some(storage) = running_job_storage(ctx, job, storage_id).await? else {
        return Ok(());
    };
    let bound = ctx
        .storage(&storage)
        .and_then(|s| Ok((ctx.backend(&storage)?, s)));
    let (backend, bound) = match bound {
        Ok(opened) => opened,
        Err(e) => {
            return fail_job(ctx, job, format!("{}: {e}", describe(&storage))).await;
        }
    };
    let origin = Origin {
        storage: storage.id,
        scope: storage.link_scope(&bound.location()),
    };
    let outcome = if bound.source().files_mode {
        ingest_files(ctx, bound.as_ref(), &storage, origin, Some(job), &keys).await?
    } else {
        let job = Some(job);
        ingest_task_files(ctx, &storage, origin, backend, job, &keys, read_failure).await?
    };
    let created = outcome.created;
    let progress = ctx.state.record_batch(job, batch, outcome).await?;
    if created > 0 {
        ctx.metrics.emit(Metric::TasksCreated(created));
    }
    if progress.is_complete() {
        complete_sync(ctx, &progress).await?;
    }
    Ok(())
}

/// One object an event reported, ingested as a sync would ingest it (the same tasks, the same
/// dedupe), outside any job. In Files mode the object is looked up first, so a late "created"
/// event for an object deleted since makes no task.
pub async fn ingest_one_object(
    ctx: &Context,
    storage: &StorageRecord,
    key: &str,
) -> Result<BatchOutcome, HandlerError> {
    let settings = |source| HandlerError::Settings {
        storage: storage.id,
        source,
    };
    let bound = ctx.storage(storage).map_err(settings)?;
    let backend = ctx.backend(storage).map_err(settings)?;
    let origin = Origin {
        storage: storage.id,
        scope: storage.link_scope(&bound.location()),
    };
    if !bound.source().files_mode {
        return ingest_object(ctx, storage, origin, backend.as_ref(), None, key).await;
    }
    let size = match backend.head(key).await {
        Ok(meta) => meta.size,
        Err(BackendError::NotFound { .. }) => return Ok(BatchOutcome::default()),
        Err(source) => {
            return Err(HandlerError::Backend {
                storage: storage.id,
                source,
            });
        }
    };
    let keys = [BatchKey {
        key: key.to_owned(),
        size,
    }];
    ingest_files(ctx, bound.as_ref(), storage, origin, None, &keys).await
}

/// The storage a task comes from, and the namespace of its links.
#[derive(Clone, Copy)]
struct Origin {
    storage: StorageId,
    scope: Option<u64>,
}

/// Files mode: `{"$undefined$": <uri>}` per key; the API names the field from the label config.
async fn ingest_files(
    ctx: &Context,
    bound: &dyn Storage,
    storage: &StorageRecord,
    origin: Origin,
    job: Option<JobId>,
    keys: &[BatchKey],
) -> Result<BatchOutcome, HandlerError> {
    let tasks = keys
        .iter()
        .map(|k| {
            let uri = bound.object_uri(&k.key);
            let mut data = Map::new();
            data.insert(UNDEFINED_DATA_KEY.into(), Value::String(uri));
            let mut task = NewTask::from_data(Value::Object(data));
            task.source = Some(source(origin, &k.key, None, None));
            task
        })
        .collect();
    let created = ctx.state.create_tasks(storage.project, job, tasks).await?;
    Ok(outcome_of(created))
}

/// Tasks mode: every object parsed; bad objects and items become errors, the rest go on.
async fn ingest_task_files(
    ctx: &Context,
    storage: &StorageRecord,
    origin: Origin,
    backend: Arc<dyn ObjectStore>,
    job: Option<JobId>,
    keys: &[BatchKey],
    read_failure: ReadFailure,
) -> Result<BatchOutcome, HandlerError> {
    // Collected first: a lazily mapped iterator of borrowing futures is not `Send` enough.
    let reads: Vec<_> = keys
        .iter()
        .map(|k| ingest_object(ctx, storage, origin, backend.as_ref(), job, &k.key))
        .collect();
    // In key order, so each result meets its key.
    let results: Vec<Result<BatchOutcome, HandlerError>> = futures::stream::iter(reads)
        .buffered(OBJECTS_IN_FLIGHT)
        .collect()
        .await;
    let mut total = BatchOutcome::default();
    for (result, key) in results.into_iter().zip(keys) {
        match result {
            Ok(outcome) => total.absorb(outcome),
            Err(e @ HandlerError::Backend { .. }) if read_failure == ReadFailure::ErrorOfKey => {
                let label = describe(storage);
                total.add_error(|| format!("{label}: {:?} could not be read: {e}", key.key));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(total)
}

async fn ingest_object(
    ctx: &Context,
    storage: &StorageRecord,
    origin: Origin,
    backend: &dyn ObjectStore,
    job: Option<JobId>,
    key: &str,
) -> Result<BatchOutcome, HandlerError> {
    let label = describe(storage);
    let mut outcome = BatchOutcome::default();
    let format = match task_file_format(key) {
        Ok(format) => format,
        Err(e) => {
            outcome.add_error(|| format!("{label}: {e}"));
            return Ok(outcome);
        }
    };
    let body = match backend.get(key, None).await {
        Ok(body) => body,
        Err(BackendError::NotFound { .. }) => {
            outcome.add_error(|| format!("{label}: {key:?} was deleted after it was listed"));
            return Ok(outcome);
        }
        Err(source) => {
            return Err(HandlerError::Backend {
                storage: storage.id,
                source,
            });
        }
    };
    let limits = ctx.settings.read_limits;
    let largest = ctx.state.max_task_bytes();
    let mut items = read_tasks(key.to_owned(), format, body.body, limits).chunks(TASKS_PER_WRITE);
    while let Some(chunk) = items.next().await {
        let mut tasks = Vec::with_capacity(chunk.len());
        for item in chunk {
            match item
                .map_err(|e| e.to_string())
                .and_then(|item| fits_store(item, largest, key))
            {
                Ok(item) => tasks.push(with_source(item, origin, key)),
                Err(e) => outcome.add_error(|| format!("{label}: {e}")),
            }
        }
        // A long object may outlive its job (the storage deleted, a newer sync started).
        if let Some(job) = job
            && running_job_storage(ctx, job, storage.id).await?.is_none()
        {
            break;
        }
        if !tasks.is_empty() {
            let created = ctx.state.create_tasks(storage.project, job, tasks).await?;
            outcome.absorb(outcome_of(created));
        }
    }
    Ok(outcome)
}

/// The item, or why the state store cannot keep it (DynamoDB's items end at 400 KB, well under
/// the task limit of the readers).
fn fits_store(item: TaskItem, largest: Option<usize>, key: &str) -> Result<TaskItem, String> {
    let Some(largest) = largest else {
        return Ok(item);
    };
    let bytes = serde_json::to_vec(&item.task).map_or(usize::MAX, |json| json.len());
    if bytes <= largest {
        return Ok(item);
    }
    let at = item
        .row_index
        .map_or_else(String::new, |row| format!(" item {row}"));
    Err(format!(
        "{key:?}{at}: the task is {bytes} bytes, over the {largest}-byte limit of the state store; split it"
    ))
}

fn with_source(item: TaskItem, origin: Origin, key: &str) -> NewTask {
    let mut task = item.task;
    task.source = Some(source(origin, key, item.row_index, item.row_group));
    task
}

fn source(origin: Origin, key: &str, row_index: Option<u64>, row_group: Option<u64>) -> TaskSource {
    TaskSource {
        storage: origin.storage,
        key: key.to_owned(),
        row_index,
        row_group,
        scope: origin.scope,
    }
}

/// This job's tasks, counting those an earlier delivery of the same batch created.
fn outcome_of(created: CreateOutcome) -> BatchOutcome {
    BatchOutcome {
        created: created.created + created.created_earlier_by_job,
        existed: created.existed,
        ..BatchOutcome::default()
    }
}
