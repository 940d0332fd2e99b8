//! A queue of object notifications consumed by a long-running process (the local one): S3
//! sends a bucket's notifications to an SQS queue the operator names, and every message is
//! handled as `sync-trigger` handles it on Lambda.

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message};

use super::handle_notification;
use crate::context::Context;
use crate::jobs::Fate;

/// Receives from `url` until the task running it is aborted (run a few at once for more
/// throughput). A message is deleted once it was handled, or when no delivery could succeed
/// (not JSON); otherwise it comes back after its visibility timeout, and the queue's redrive
/// policy bounds its tries.
pub async fn consume_events_queue(ctx: Context, client: Client, url: String) {
    loop {
        let received = client
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(20)
            .send()
            .await;
        match received {
            Ok(output) => {
                // A receive's messages are handled at once (events are independent), and the
                // handled ones deleted in one call.
                let messages = output.messages.unwrap_or_default();
                let handled = messages.into_iter().map(|message| handle(&ctx, message));
                let done: Vec<String> = futures::future::join_all(handled)
                    .await
                    .into_iter()
                    .flatten()
                    .collect();
                delete(&client, &url, done).await;
            }
            Err(e) => {
                tracing::warn!(queue = %url, error = %e, "receiving object events failed; retrying in 5 s");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }
}

/// Handles one message; its receipt if it is done with.
async fn handle(ctx: &Context, message: Message) -> Option<String> {
    let body = message.body.unwrap_or_default();
    let done = match handle_notification(ctx, &body).await {
        Ok(outcome) => {
            tracing::info!(?outcome, "object events handled");
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "an object notification failed");
            e.fate() == Fate::Drop
        }
    };
    message.receipt_handle.filter(|_| done)
}

/// Deletes handled messages (at most ten: one receive's worth). One that is not deleted comes
/// again and is handled again, which creates nothing twice.
async fn delete(client: &Client, url: &str, receipts: Vec<String>) {
    if receipts.is_empty() {
        return;
    }
    let entries = receipts.into_iter().enumerate().filter_map(|(i, receipt)| {
        DeleteMessageBatchRequestEntry::builder()
            .id(i.to_string())
            .receipt_handle(receipt)
            .build()
            .ok()
    });
    let sent = client
        .delete_message_batch()
        .queue_url(url)
        .set_entries(Some(entries.collect()))
        .send()
        .await;
    if let Err(e) = sent {
        tracing::warn!(error = %e, "handled object notifications could not be deleted; they will come again");
    }
}
