//! A batch of queue messages as one Lambda invocation sees it (an SQS event): every message
//! handled at once, and the ids of those that must come again (SQS partial batch failures), so
//! one bad message never redelivers its neighbours.

use futures::StreamExt;

use super::Handler;
use crate::context::Context;
use crate::jobs::Fate;

/// Messages of one batch handled at the same time.
const MESSAGES_IN_FLIGHT: usize = 10;

/// One record of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchRecord {
    pub message_id: String,
    pub body: String,
}

/// Handles every record; returns the ids of the records to retry. A record that can never
/// succeed (malformed) is logged and not retried: redelivery would only fill the dead-letter queue.
pub async fn handle_batch(
    ctx: &Context,
    handler: Handler,
    records: Vec<BatchRecord>,
) -> Vec<String> {
    let handled: Vec<_> = records
        .into_iter()
        .map(|record| async move {
            let result = handler(ctx, &record.body).await;
            (record.message_id, result)
        })
        .collect();
    let results: Vec<_> = futures::stream::iter(handled)
        .buffer_unordered(MESSAGES_IN_FLIGHT)
        .collect()
        .await;
    let mut retry = Vec::new();
    for (message_id, result) in results {
        match result {
            Ok(()) => {}
            Err(e) if e.fate() == Fate::Retry => {
                tracing::warn!(message = %message_id, error = %e, "handler failed; the message will be retried");
                retry.push(message_id);
            }
            Err(e) => {
                tracing::error!(message = %message_id, error = %e, "handler failed for good; dropping the message")
            }
        }
    }
    retry
}
