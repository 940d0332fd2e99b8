//! A message on its last delivery failed again: instead of letting the queue dead-letter it
//! (where a job would wait for it forever), its failure is recorded where the user sees it,
//! and the message is done. A listing page fails its job (the pages after it cannot be
//! listed); an ingest batch becomes errors of the job for each of its keys, and the other
//! batches go on; an export page fails its job; a live export marks its target storage.

use crate::context::Context;
use crate::export::{self, LiveExport};
use crate::jobs::finish::fail_job;
use crate::jobs::{HandlerError, Message};
use crate::metrics::Metric;
use crate::model::{BatchId, BatchOutcome, page_key};
use crate::sync::complete::complete_sync;
use crate::sync::ingest::{ReadFailure, handle_ingest_batch};

/// What the user reads: the failed step, how often it was tried, and the last error.
fn given_up(what: &str, deliveries: u32, error: &HandlerError) -> String {
    format!("{what} failed {deliveries} times and was given up; the last error: {error}")
}

/// Records the final failure of `body`'s message; the message is then acknowledged.
pub async fn give_up(
    ctx: &Context,
    body: &str,
    deliveries: u32,
    error: &HandlerError,
) -> Result<(), HandlerError> {
    tracing::error!(error = %error, deliveries, "a message failed on its last delivery; recording its failure");
    ctx.metrics.emit(Metric::DeadLettered(1));
    match Message::from_body(body)? {
        Message::ListPage {
            job,
            storage,
            part,
            page,
            start_after,
            ..
        } => {
            let after = start_after.map_or_else(String::new, |key| format!(" (after {key:?})"));
            let what = format!("storage {storage}: listing page {page} of part {part}{after}");
            fail_job(ctx, job, given_up(&what, deliveries, error)).await
        }
        Message::IngestBatch {
            job,
            storage,
            part,
            page,
            batch,
            keys,
        } => {
            // Once more, with each unreadable object an error of its key, so the objects that
            // can be read still become tasks; if that fails too, the whole batch is errors.
            let id = BatchId {
                page: page_key(part, page),
                batch,
            };
            let last_try = ReadFailure::ErrorOfKey;
            let again = handle_ingest_batch(ctx, job, storage, id, keys.clone(), last_try).await;
            if again.is_ok() {
                return Ok(());
            }
            let first = keys.first().map(|k| k.key.as_str()).unwrap_or_default();
            let last = keys.last().map(|k| k.key.as_str()).unwrap_or_default();
            let what = format!(
                "storage {storage}: batch {batch} of page {page} of part {part} ({} keys, {first:?} to {last:?})",
                keys.len()
            );
            let mut outcome = BatchOutcome::default();
            outcome.add_error(|| given_up(&what, deliveries, error));
            // Every key of the batch failed; the one message above speaks for them all.
            outcome.unlisted_errors += (keys.len() as u64).saturating_sub(1);
            let progress = ctx.state.record_batch(job, id, outcome).await?;
            if progress.is_complete() {
                complete_sync(ctx, &progress).await?;
            }
            Ok(())
        }
        Message::ExportPage {
            job, storage, page, ..
        } => {
            let what = format!("storage {storage}: export page {page}");
            fail_job(ctx, job, given_up(&what, deliveries, error)).await
        }
        Message::ExportAnnotation {
            storage,
            annotation,
            ..
        } => {
            let why = given_up("the export", deliveries, error);
            let lost = LiveExport::Lost(annotation, why);
            export::show_live_export(ctx, storage, lost).await
        }
    }
}
