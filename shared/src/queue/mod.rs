//! The queue seam: at-least-once delivery with visibility timeouts, receive counts and
//! dead-lettering, behind one trait with an embedded implementation (durable, in the same
//! `redb` file as the state) and SQS. [`conformance`] holds the checks every
//! implementation must pass.
//!
//! Contract:
//! - a sent message is delivered at least once; a delivered message stays invisible for the
//!   visibility timeout, then comes again unless it was acknowledged;
//! - each delivery carries its receive count (1 on the first delivery);
//! - a message received more than `max_receives` times goes to the queue's dead letters
//!   instead of being delivered again;
//! - `receive` waits up to `wait` for a message before returning an empty batch;
//! - a body over [`MAX_BODY_BYTES`] is refused (nothing of that send is queued), so senders cut
//!   their messages to the same size everywhere.

#[cfg(any(test, feature = "testing"))]
pub mod conformance;
#[cfg(feature = "embedded")]
pub mod embedded;
#[cfg(feature = "aws")]
pub mod sqs;

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// The largest message body any queue takes: SQS's classic limit (256 KiB), kept although SQS
/// now takes 1 MiB, so a queue made with the old default works too.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The logical queues; one SQS queue (and one Lambda) each in production.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueName {
    /// Listing pages of import syncs (`sync-fanout`).
    Sync,
    /// Batches of keys to turn into tasks (`task-ingest`).
    Ingest,
    /// Annotation changes and export-sync pages (`annotation-export`).
    Export,
}

impl QueueName {
    pub const ALL: [QueueName; 3] = [QueueName::Sync, QueueName::Ingest, QueueName::Export];

    pub fn as_str(self) -> &'static str {
        match self {
            QueueName::Sync => "sync",
            QueueName::Ingest => "ingest",
            QueueName::Export => "export",
        }
    }
}

/// One delivery of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub message_id: String,
    /// Names this delivery for `ack` and `extend`; a later delivery of the same message gets a
    /// new one, and the old one no longer works.
    pub receipt: String,
    pub body: String,
    pub receive_count: u32,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    #[error("receipt {receipt:?} is not current (the message was redelivered or deleted)")]
    StaleReceipt { receipt: String },
    #[error("a message of {bytes} bytes is over the {MAX_BODY_BYTES}-byte limit of queue {queue}")]
    TooLarge { queue: &'static str, bytes: usize },
    #[error("queue {queue} failed during {operation}: {source}")]
    Queue {
        queue: &'static str,
        operation: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

pub type QueueResult<T> = Result<T, QueueError>;

#[async_trait]
pub trait Queue: Send + Sync {
    /// Sends the bodies (any number; implementations batch as their service allows).
    async fn send(&self, queue: QueueName, bodies: Vec<String>) -> QueueResult<()>;
    /// Receives up to `max` messages, waiting up to `wait` for the first one.
    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> QueueResult<Vec<Delivery>>;
    /// Deletes a delivered message: it is done. A receipt that is no longer current fails with
    /// `StaleReceipt` where [`Queue::rejects_stale_receipts`].
    async fn ack(&self, queue: QueueName, receipt: &str) -> QueueResult<()>;
    /// Keeps a delivered message invisible for `visibility` from now (a long job's heartbeat);
    /// `Duration::ZERO` makes it visible again at once.
    async fn extend(
        &self,
        queue: QueueName,
        receipt: &str,
        visibility: Duration,
    ) -> QueueResult<()>;
    /// Whether `ack` and `extend` refuse a receipt of an earlier delivery. SQS does not (it
    /// may accept an old receipt handle); handlers are idempotent, so either is safe.
    fn rejects_stale_receipts(&self) -> bool {
        true
    }
    /// Bodies of the messages that exhausted their receives, oldest first, at most `limit`.
    async fn dead_letters(&self, queue: QueueName, limit: usize) -> QueueResult<Vec<String>>;
}

/// Refuses a send holding a body over [`MAX_BODY_BYTES`].
pub fn check_body_sizes(queue: QueueName, bodies: &[String]) -> QueueResult<()> {
    match bodies.iter().find(|body| body.len() > MAX_BODY_BYTES) {
        Some(body) => Err(QueueError::TooLarge {
            queue: queue.as_str(),
            bytes: body.len(),
        }),
        None => Ok(()),
    }
}
