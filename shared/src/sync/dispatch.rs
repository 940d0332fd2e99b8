//! One queue message body to its handler: what a Lambda does per SQS record and what the local
//! workers do per delivery.

use super::{HandlerError, Message};
use crate::context::Context;
use crate::export;
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
        } => super::fanout::handle_list_page(ctx, job, storage, page, continuation).await,
        Message::IngestBatch {
            job,
            storage,
            page,
            batch,
            keys,
        } => {
            super::ingest::handle_ingest_batch(ctx, job, storage, BatchId { page, batch }, keys)
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
