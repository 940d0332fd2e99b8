//! A batch of queue messages as one Lambda invocation sees it (an SQS event): every message
//! handled at once, and the ids of those that must come again (SQS partial batch failures), so
//! one bad message never redelivers its neighbours.

use futures::StreamExt;

use super::{Handler, Settle, run_delivery};
use crate::context::Context;

/// Messages of one batch handled at the same time.
const MESSAGES_IN_FLIGHT: usize = 10;

/// One record of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchRecord {
    pub message_id: String,
    pub body: String,
    /// SQS's `ApproximateReceiveCount`: this is the record's n-th delivery.
    pub receive_count: u32,
}

/// Handles every record; returns the ids of the records to retry. A record that will not be
/// retried (failed for good, or on its last delivery) has its failure recorded instead
/// ([`run_delivery`]), so that the dead-letter queue holds only what could not even be recorded.
pub async fn handle_batch(
    ctx: &Context,
    handler: Handler,
    records: Vec<BatchRecord>,
) -> Vec<String> {
    let handled: Vec<_> = records
        .into_iter()
        .map(|record| async move {
            let settle = run_delivery(ctx, handler, &record.body, record.receive_count).await;
            (record.message_id, settle)
        })
        .collect();
    let results: Vec<_> = futures::stream::iter(handled)
        .buffer_unordered(MESSAGES_IN_FLIGHT)
        .collect()
        .await;
    results
        .into_iter()
        .filter(|(_, settle)| *settle == Settle::Retry)
        .map(|(message_id, _)| message_id)
        .collect()
}
