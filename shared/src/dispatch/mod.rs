//! Above both pipelines: one queue message body to its handler (import's [`crate::sync`] or
//! [`crate::export`]), what a Lambda does per SQS record ([`batch`]) and what the local workers
//! do per delivery ([`worker`]).
//!
//! Each queue has its own [`Handler`], so a Lambda function that consumes one queue links only
//! that pipeline's code: `sync-fanout` no parsers, `annotation-export` no ingest.

pub mod batch;
mod give_up;
pub mod worker;

pub use give_up::give_up;

use futures::future::BoxFuture;

use crate::context::Context;
use crate::export;
use crate::jobs::{Fate, HandlerError, Message};
use crate::model::{BatchId, page_key};
use crate::queue::QueueName;
use crate::sync::fanout::PageCursor;
use crate::sync::ingest::{ReadFailure, handle_ingest_batch};

/// Handles one message body taken from a queue.
pub type Handler = for<'a> fn(&'a Context, &'a str) -> BoxFuture<'a, Result<(), HandlerError>>;

/// The handler of `queue`'s messages.
pub fn handler_of(queue: QueueName) -> Handler {
    match queue {
        QueueName::Sync => handle_sync,
        QueueName::Ingest => handle_ingest,
        QueueName::Export => handle_export,
    }
}

/// Any message, whatever its queue (tests).
pub async fn handle_body(ctx: &Context, body: &str) -> Result<(), HandlerError> {
    let queue = Message::from_body(body)?.queue();
    handler_of(queue)(ctx, body).await
}

/// [`handle_body`] as a [`Handler`].
pub fn handle_any<'a>(ctx: &'a Context, body: &'a str) -> BoxFuture<'a, Result<(), HandlerError>> {
    Box::pin(handle_body(ctx, body))
}

/// What becomes of a delivery once its handler ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settle {
    /// Acknowledge it: done, or failed for good and recorded.
    Done,
    /// Deliver it again later.
    Retry,
}

/// Runs `handler` on one delivery. A failure that will not be retried (a permanent one, or
/// any on the message's last delivery) is recorded where the user sees it ([`give_up`]), so
/// that no job waits for a message the queue would dead-letter.
pub async fn run_delivery(
    ctx: &Context,
    handler: Handler,
    body: &str,
    receive_count: u32,
) -> Settle {
    let Err(error) = handler(ctx, body).await else {
        return Settle::Done;
    };
    let last = receive_count >= ctx.settings.max_receives;
    if error.fate() == Fate::Retry && !last {
        tracing::warn!(error = %error, attempt = receive_count, "handler failed; the message will be retried");
        return Settle::Retry;
    }
    match give_up(ctx, body, receive_count, &error).await {
        Ok(()) => Settle::Done,
        Err(unrecorded) if unrecorded.fate() == Fate::Drop => {
            tracing::error!(error = %error, "dropping a message that cannot be handled");
            Settle::Done
        }
        Err(unrecorded) => {
            tracing::error!(error = %unrecorded, "could not record a failed message; leaving it to the queue");
            Settle::Retry
        }
    }
}

fn misrouted(message: &Message, queue: QueueName) -> HandlerError {
    HandlerError::Misrouted {
        expected: queue.as_str(),
        found: message.queue().as_str(),
    }
}

/// The `sync` queue: listing pages.
pub fn handle_sync<'a>(ctx: &'a Context, body: &'a str) -> BoxFuture<'a, Result<(), HandlerError>> {
    Box::pin(async move {
        match Message::from_body(body)? {
            Message::ListPage {
                job,
                storage,
                part,
                page,
                continuation,
                start_after,
                until,
            } => {
                let cursor = PageCursor {
                    part,
                    page,
                    continuation,
                    start_after,
                    until,
                };
                crate::sync::fanout::handle_list_page(ctx, job, storage, cursor).await
            }
            other => Err(misrouted(&other, QueueName::Sync)),
        }
    })
}

/// The `ingest` queue: keys to tasks.
pub fn handle_ingest<'a>(
    ctx: &'a Context,
    body: &'a str,
) -> BoxFuture<'a, Result<(), HandlerError>> {
    Box::pin(async move {
        match Message::from_body(body)? {
            Message::IngestBatch {
                job,
                storage,
                part,
                page,
                batch,
                keys,
            } => {
                let page = page_key(part, page);
                let batch = BatchId { page, batch };
                let read_failure = ReadFailure::FailsBatch;
                handle_ingest_batch(ctx, job, storage, batch, keys, read_failure).await
            }
            other => Err(misrouted(&other, QueueName::Ingest)),
        }
    })
}

/// The object-events queue (`sync-trigger`): S3 notifications and EventBridge events, each
/// made into tasks by [`crate::triggers`].
pub fn handle_trigger<'a>(
    ctx: &'a Context,
    body: &'a str,
) -> BoxFuture<'a, Result<(), HandlerError>> {
    Box::pin(async move {
        let outcome = crate::triggers::handle_notification(ctx, body).await?;
        tracing::info!(?outcome, "object events handled");
        Ok(())
    })
}

/// The `export` queue: annotation changes and export pages.
pub fn handle_export<'a>(
    ctx: &'a Context,
    body: &'a str,
) -> BoxFuture<'a, Result<(), HandlerError>> {
    Box::pin(async move {
        match Message::from_body(body)? {
            Message::ExportAnnotation {
                storage,
                annotation,
                deleted,
            } => export::handle_export_annotation(ctx, storage, annotation, deleted).await,
            Message::ExportPage {
                job,
                storage,
                page,
                after,
            } => export::handle_export_page(ctx, job, storage, page, after).await,
            other => Err(misrouted(&other, QueueName::Export)),
        }
    })
}
