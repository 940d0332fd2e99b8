//! An export sync: every annotation of the project written to one target storage, a page of
//! them per `ExportPage` message, on the job engine.

use futures::StreamExt;

use super::target::write_annotation;
use crate::context::Context;
use crate::jobs::finish::finish_job;
use crate::jobs::start::mark_in_progress;
use crate::jobs::{HandlerError, Message, describe, running_job_storage};
use crate::model::{AnnotationId, BatchId, BatchOutcome, JobId, PageRecord, StorageId};

/// Annotations per `ExportPage` message.
const EXPORT_PAGE_SIZE: usize = 100;
/// Objects written at the same time.
const WRITES_IN_FLIGHT: usize = 8;

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
    let record = PageRecord {
        batches: 1,
        is_last,
        ..PageRecord::default()
    };
    ctx.state.record_page(job, page, record).await?;
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
            Err(e) => outcome.add_error(|| format!("{label}: annotation {id}: {e}")),
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
