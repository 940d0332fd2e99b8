//! Above both pipelines: one queue message body to its handler (import's [`crate::sync`] or
//! [`crate::export`]), what a Lambda does per SQS record ([`batch`]) and what the local workers
//! do per delivery ([`worker`]).

pub mod batch;
pub mod worker;

use crate::context::Context;
use crate::export;
use crate::jobs::{HandlerError, Message};
use crate::model::BatchId;

/// Parses a message body and runs its handler.
pub async fn handle_body(ctx: &Context, body: &str) -> Result<(), HandlerError> {
    handle(ctx, Message::from_body(body)?).await
}

pub async fn handle(ctx: &Context, message: Message) -> Result<(), HandlerError> {
    match message {
        Message::ListPage {
            job,
            storage,
            page,
            continuation,
        } => crate::sync::fanout::handle_list_page(ctx, job, storage, page, continuation).await,
        Message::IngestBatch {
            job,
            storage,
            page,
            batch,
            keys,
        } => {
            crate::sync::ingest::handle_ingest_batch(
                ctx,
                job,
                storage,
                BatchId { page, batch },
                keys,
            )
            .await
        }
        Message::ExportAnnotation {
            project,
            annotation,
            deleted,
        } => export::handle_export_annotation(ctx, project, annotation, deleted).await,
        Message::ExportPage {
            job,
            storage,
            page,
            after,
        } => export::handle_export_page(ctx, job, storage, page, after).await,
    }
}
