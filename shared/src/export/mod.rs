//! Annotations out: every annotation is one JSON object in each target storage of its project,
//! rewritten on every change and deleted with it when the storage has `can_delete_objects`.

mod document;

pub use document::annotation_document;

use std::sync::Arc;

use futures::StreamExt;

use crate::backends::ObjectStore;
use crate::connectors::Storage;
use crate::context::Context;
use crate::jobs::finish::finish_job;
use crate::jobs::start::mark_in_progress;
use crate::jobs::{HandlerError, Message, describe, running_job_storage};
use crate::model::{
    Annotation, AnnotationId, JobId, ProjectId, StorageId, StorageRecord, StorageRole,
};
use crate::model::{BatchId, BatchOutcome};

/// Annotations per `ExportPage` message.
const EXPORT_PAGE_SIZE: usize = 100;
/// Objects written at the same time.
const WRITES_IN_FLIGHT: usize = 8;

/// Queues the export of one annotation change; the API calls this after every write.
pub async fn queue_annotation_change(
    ctx: &Context,
    project: ProjectId,
    annotation: AnnotationId,
    deleted: bool,
) -> Result<(), HandlerError> {
    let message = Message::ExportAnnotation {
        project,
        annotation,
        deleted,
    };
    ctx.queue
        .send(message.queue(), vec![message.to_body()])
        .await?;
    Ok(())
}

/// `ExportAnnotation`: writes the annotation as it is now (so late or repeated messages are
/// harmless), or deletes its objects where the storage allows it.
pub async fn handle_export_annotation(
    ctx: &Context,
    project: ProjectId,
    annotation: AnnotationId,
    deleted: bool,
) -> Result<(), HandlerError> {
    let targets = ctx
        .state
        .list_storages(project, StorageRole::Export)
        .await?;
    if deleted {
        for storage in &targets {
            delete_annotation(ctx, storage, annotation).await?;
        }
        return Ok(());
    }
    let Some(annotation) = ctx.state.get_annotation(annotation).await? else {
        return Ok(());
    };
    for storage in &targets {
        write_annotation(ctx, storage, &annotation).await?;
    }
    Ok(())
}

/// A target storage, bound.
fn open_target(ctx: &Context, storage: &StorageRecord) -> Result<Arc<dyn Storage>, HandlerError> {
    ctx.storage(storage)
        .map_err(|source| HandlerError::Settings {
            storage: storage.id,
            source,
        })
}

/// The backend of a bound target storage.
fn backend_of(
    bound: &dyn Storage,
    storage: &StorageRecord,
) -> Result<Arc<dyn ObjectStore>, HandlerError> {
    bound.backend().map_err(|source| HandlerError::Settings {
        storage: storage.id,
        source,
    })
}

/// Writes one annotation into one target storage.
pub async fn write_annotation(
    ctx: &Context,
    storage: &StorageRecord,
    annotation: &Annotation,
) -> Result<(), HandlerError> {
    let ty = open_target(ctx, storage)?;
    let backend = backend_of(ty.as_ref(), storage)?;
    let Some(task) = ctx.state.get_task(annotation.task).await? else {
        return Ok(());
    };
    let document = annotation_document(annotation, &task);
    let body = if ty.pretty_export() {
        serde_json::to_vec_pretty(&document)
    } else {
        serde_json::to_vec(&document)
    }?;
    let key = ty.export_key(annotation.id);
    let written = backend.put(&key, body.into()).await;
    written.map_err(|source| HandlerError::Backend {
        storage: storage.id,
        source,
    })
}

async fn delete_annotation(
    ctx: &Context,
    storage: &StorageRecord,
    annotation: AnnotationId,
) -> Result<(), HandlerError> {
    let ty = open_target(ctx, storage)?;
    if !ty.can_delete_objects() {
        return Ok(());
    }
    let backend = backend_of(ty.as_ref(), storage)?;
    let key = ty.export_key(annotation);
    let deleted = backend.delete(&key).await;
    deleted.map_err(|source| HandlerError::Backend {
        storage: storage.id,
        source,
    })
}

/// `ExportPage`: one page of an export sync; announces the next page before writing.
pub async fn handle_export_page(
    ctx: &Context,
    job: JobId,
    storage_id: StorageId,
    page: u64,
    after: Option<AnnotationId>,
) -> Result<(), HandlerError> {
    let Some(storage) = running_job_storage(ctx, job, storage_id).await? else {
        return Ok(());
    };
    if page == 0 {
        mark_in_progress(ctx, &storage, job).await?;
    }
    let annotations = ctx
        .state
        .list_annotations(storage.project, after, EXPORT_PAGE_SIZE)
        .await?;
    let is_last = annotations.len() < EXPORT_PAGE_SIZE;
    ctx.state.record_page(job, page, 1, is_last).await?;
    // A redelivered page writes again (puts are idempotent) but does not announce its next
    // page twice, which would double every page after it.
    let announced = ctx.state.page_sent(job, page).await?;
    if let (false, false, Some(last)) = (announced, is_last, annotations.last()) {
        let next = Message::ExportPage {
            job,
            storage: storage.id,
            page: page + 1,
            after: Some(last.id),
        };
        ctx.queue.send(next.queue(), vec![next.to_body()]).await?;
    }
    ctx.state.mark_page_sent(job, page).await?;
    let label = describe(&storage);
    let storage = &storage;
    let writes: Vec<_> = annotations
        .iter()
        .map(|a| async move { (a.id, write_annotation(ctx, storage, a).await) })
        .collect();
    let results: Vec<(AnnotationId, Result<(), HandlerError>)> = futures::stream::iter(writes)
        .buffer_unordered(WRITES_IN_FLIGHT)
        .collect()
        .await;
    let mut outcome = BatchOutcome::default();
    for (id, result) in results {
        match result {
            Ok(()) => outcome.created += 1,
            Err(e) => outcome
                .errors
                .push(format!("{label}: annotation {id}: {e}")),
        }
    }
    let progress = ctx
        .state
        .record_batch(job, BatchId { page, batch: 0 }, outcome)
        .await?;
    if progress.is_complete() {
        finish_job(ctx, &progress).await?;
    }
    Ok(())
}
