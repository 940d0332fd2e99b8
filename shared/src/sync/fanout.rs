//! `ListPage`: list one page of a source storage, announce its batches, send the next page and
//! the batches. One message per page keeps every step short and bounded in memory.

use super::batches;
use super::complete::complete_sync;
use crate::backends::ListRequest;
use crate::context::Context;
use crate::jobs::finish::fail_job;
use crate::jobs::start::mark_in_progress;
use crate::jobs::{BatchKey, HandlerError, Message, describe, is_permanent, running_job_storage};
use crate::model::{BatchId, BatchOutcome, JobId, StorageId, StorageRecord};

/// Handles one `ListPage` message.
pub async fn handle_list_page(
    ctx: &Context,
    job: JobId,
    storage_id: StorageId,
    page: u64,
    continuation: Option<String>,
) -> Result<(), HandlerError> {
    let Some(storage) = running_job_storage(ctx, job, storage_id).await? else {
        return Ok(());
    };
    if page == 0 {
        mark_in_progress(ctx, &storage, job).await?;
    }
    let bound = ctx
        .storage(&storage)
        .and_then(|s| Ok((ctx.backend(&storage)?, s)));
    let (backend, bound) = match bound {
        Ok(opened) => opened,
        Err(e) => return fail_job(ctx, job, format!("{}: {e}", describe(&storage))).await,
    };
    let spec = bound.source();
    let request = ListRequest {
        prefix: &spec.prefix,
        recursive: spec.recursive,
        continuation: continuation.as_deref(),
        max_keys: ctx.settings.list_page_size,
    };
    let listed = match backend.list_page(request).await {
        Ok(listed) => listed,
        Err(e) if is_permanent(&e) => {
            return fail_job(
                ctx,
                job,
                format!("{}: listing page {page} failed: {e}", describe(&storage)),
            )
            .await;
        }
        Err(source) => {
            return Err(HandlerError::Backend {
                storage: storage.id,
                source,
            });
        }
    };
    let keys: Vec<BatchKey> = listed
        .objects
        .iter()
        .filter(|o| spec.accepts(&o.key))
        .map(BatchKey::from)
        .collect();
    let cut = batches::cut(keys, ctx.settings.ingest_batch_size, batches::KEYS_BUDGET);
    let batches: Vec<Message> = cut
        .batches
        .into_iter()
        .enumerate()
        .map(|(i, keys)| Message::IngestBatch {
            job,
            storage: storage.id,
            page,
            batch: i as u64,
            keys,
        })
        .collect();
    // Entries the listing could not offer as keys, and keys too long for any message, count as
    // one more batch of this page, made only of errors, so they reach the traceback once
    // however often the page is delivered.
    let mut refused = listed.skipped;
    refused.extend(cut.too_long);
    let skipped_batch = (!refused.is_empty()).then_some(BatchId {
        page,
        batch: batches.len() as u64,
    });
    let announced = batches.len() as u64 + u64::from(skipped_batch.is_some());
    // Record the page before sending anything, so no batch can be counted done before the job
    // knows it exists; a redelivery re-sends, and ingest is idempotent.
    let mut progress = ctx
        .state
        .record_page(job, page, announced, listed.next.is_none())
        .await?;
    if let Some(batch) = skipped_batch {
        let errors = refused
            .iter()
            .map(|s| format!("{}: {s}", describe(&storage)))
            .collect();
        let outcome = BatchOutcome {
            errors,
            ..BatchOutcome::default()
        };
        progress = ctx.state.record_batch(job, batch, outcome).await?;
    }
    if !ctx.state.page_sent(job, page).await? {
        send_follow_ups(ctx, &storage, job, page, listed.next, &batches).await?;
        ctx.state.mark_page_sent(job, page).await?;
    }
    if progress.is_complete() {
        complete_sync(ctx, &progress).await?;
    }
    Ok(())
}

/// Sends the next page (if any) and the page's ingest batches.
async fn send_follow_ups(
    ctx: &Context,
    storage: &StorageRecord,
    job: JobId,
    page: u64,
    next: Option<String>,
    batches: &[Message],
) -> Result<(), HandlerError> {
    if let Some(next) = next {
        let next = Message::ListPage {
            job,
            storage: storage.id,
            page: page + 1,
            continuation: Some(next),
        };
        ctx.queue.send(next.queue(), vec![next.to_body()]).await?;
    }
    if let Some(first) = batches.first() {
        let bodies = batches.iter().map(Message::to_body).collect();
        ctx.queue.send(first.queue(), bodies).await?;
    }
    Ok(())
}
