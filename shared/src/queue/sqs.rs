//! Amazon SQS behind the [`Queue`] trait: one SQS queue per [`QueueName`], each with a
//! dead-letter queue set by its redrive policy (`maxReceiveCount` = the tries).
//!
//! SQS speaks whole seconds: visibility timeouts and long-poll waits are rounded up (waits to at
//! most 20 s). SQS (and moto) accept the receipt handle of an earlier delivery, so this queue
//! does not reject stale receipts; an invalid one SQS refuses is reported as
//! [`QueueError::StaleReceipt`]. Every handler is idempotent, so neither is harmful.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::ProvideErrorMetadata;
use aws_sdk_sqs::types::{
    MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry,
};

use super::{
    Delivery, MAX_BODY_BYTES, Queue, QueueError, QueueName, QueueResult, check_body_sizes,
};

/// SQS's most entries per batch call.
const SQS_BATCH: usize = 10;
/// SQS's most bytes per batch request (and per message).
const SQS_BATCH_BYTES: usize = 256 * 1024;
/// Attempts at entries a batch send reports as failed.
const SEND_ATTEMPTS: usize = 3;

/// The URL of each queue and of its dead-letter queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueUrls {
    pub sync: String,
    pub ingest: String,
    pub export: String,
    pub sync_dlq: Option<String>,
    pub ingest_dlq: Option<String>,
    pub export_dlq: Option<String>,
}

impl QueueUrls {
    fn of(&self, queue: QueueName) -> &str {
        match queue {
            QueueName::Sync => &self.sync,
            QueueName::Ingest => &self.ingest,
            QueueName::Export => &self.export,
        }
    }

    fn dead_letters_of(&self, queue: QueueName) -> Option<&str> {
        match queue {
            QueueName::Sync => self.sync_dlq.as_deref(),
            QueueName::Ingest => self.ingest_dlq.as_deref(),
            QueueName::Export => self.export_dlq.as_deref(),
        }
    }
}

/// The three queues on SQS.
#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: Client,
    urls: QueueUrls,
}

impl SqsQueue {
    pub fn new(client: Client, urls: QueueUrls) -> Self {
        SqsQueue { client, urls }
    }
}

fn failure<E>(queue: QueueName, operation: &'static str, error: E) -> QueueError
where
    E: std::error::Error + Send + Sync + 'static,
{
    QueueError::Queue {
        queue: queue.as_str(),
        operation,
        source: Box::new(error),
    }
}

/// Whole seconds, rounded up, within `0..=max`.
fn seconds(duration: Duration, max: u64) -> i32 {
    let whole = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    whole.min(max) as i32
}

/// Bodies cut into batches SQS accepts: at most 10 entries and 256 KiB each.
fn batches(bodies: Vec<String>) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut bytes = 0;
    for body in bodies {
        let full = out
            .last()
            .is_none_or(|b| b.len() == SQS_BATCH || bytes + body.len() > SQS_BATCH_BYTES);
        if full {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += body.len();
        if let Some(batch) = out.last_mut() {
            batch.push(body);
        }
    }
    out
}

fn stale_or(
    queue: QueueName,
    operation: &'static str,
    receipt: &str,
    error: impl ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
) -> QueueError {
    match error.code() {
        Some("ReceiptHandleIsInvalid" | "InvalidParameterValue" | "MessageNotInflight") => {
            QueueError::StaleReceipt {
                receipt: receipt.to_owned(),
            }
        }
        _ => failure(queue, operation, error),
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, queue: QueueName, bodies: Vec<String>) -> QueueResult<()> {
        check_body_sizes(queue, &bodies)?;
        for batch in batches(bodies) {
            self.send_batch(queue, batch).await?;
        }
        Ok(())
    }

    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> QueueResult<Vec<Delivery>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let received = self
            .client
            .receive_message()
            .queue_url(self.urls.of(queue))
            .max_number_of_messages(max.min(SQS_BATCH) as i32)
            .visibility_timeout(seconds(visibility, 43_200))
            .wait_time_seconds(seconds(wait, 20))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| failure(queue, "receive", e))?;
        Ok(received
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(delivery)
            .collect())
    }

    async fn ack(&self, queue: QueueName, receipt: &str) -> QueueResult<()> {
        let deleted = self
            .client
            .delete_message()
            .queue_url(self.urls.of(queue))
            .receipt_handle(receipt)
            .send()
            .await;
        deleted
            .map(|_| ())
            .map_err(|e| stale_or(queue, "ack", receipt, e.into_service_error()))
    }

    async fn extend(
        &self,
        queue: QueueName,
        receipt: &str,
        visibility: Duration,
    ) -> QueueResult<()> {
        let changed = self
            .client
            .change_message_visibility()
            .queue_url(self.urls.of(queue))
            .receipt_handle(receipt)
            .visibility_timeout(seconds(visibility, 43_200))
            .send()
            .await;
        changed
            .map(|_| ())
            .map_err(|e| stale_or(queue, "extend", receipt, e.into_service_error()))
    }

    fn rejects_stale_receipts(&self) -> bool {
        false
    }

    /// Peeks the dead-letter queue (visibility 0, so the messages stay for an operator).
    async fn dead_letters(&self, queue: QueueName, limit: usize) -> QueueResult<Vec<String>> {
        let Some(url) = self.urls.dead_letters_of(queue) else {
            return Ok(Vec::new());
        };
        let mut bodies = Vec::new();
        let mut seen = std::collections::HashSet::new();
        while bodies.len() < limit {
            let received = self
                .client
                .receive_message()
                .queue_url(url)
                .max_number_of_messages((limit - bodies.len()).min(SQS_BATCH) as i32)
                .visibility_timeout(0)
                .wait_time_seconds(0)
                .send()
                .await
                .map_err(|e| failure(queue, "dead_letters", e))?;
            let fresh: Vec<_> = received
                .messages
                .unwrap_or_default()
                .into_iter()
                .filter(|m| m.message_id.clone().is_some_and(|id| seen.insert(id)))
                .collect();
            if fresh.is_empty() {
                break;
            }
            bodies.extend(fresh.into_iter().filter_map(|m| m.body));
        }
        bodies.truncate(limit);
        Ok(bodies)
    }
}

fn delivery(message: aws_sdk_sqs::types::Message) -> Delivery {
    let receive_count = message
        .attributes
        .as_ref()
        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
        .and_then(|count| count.parse().ok())
        .unwrap_or(1);
    Delivery {
        message_id: message.message_id.unwrap_or_default(),
        receipt: message.receipt_handle.unwrap_or_default(),
        body: message.body.unwrap_or_default(),
        receive_count,
    }
}

impl SqsQueue {
    /// One `SendMessageBatch`, retrying the entries SQS reports as failed.
    async fn send_batch(&self, queue: QueueName, bodies: Vec<String>) -> QueueResult<()> {
        let mut pending: Vec<(String, String)> = bodies
            .into_iter()
            .enumerate()
            .map(|(i, b)| (i.to_string(), b))
            .collect();
        for _ in 0..SEND_ATTEMPTS {
            let entries = pending
                .iter()
                .map(|(id, body)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(id)
                        .message_body(body)
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| failure(queue, "send", e))?;
            let sent = self
                .client
                .send_message_batch()
                .queue_url(self.urls.of(queue))
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| failure(queue, "send", e))?;
            let failed: Vec<String> = sent.failed.iter().map(|f| f.id.clone()).collect();
            pending.retain(|(id, _)| failed.contains(id));
            if pending.is_empty() {
                return Ok(());
            }
        }
        Err(QueueError::Queue {
            queue: queue.as_str(),
            operation: "send",
            source: format!(
                "SQS refused {} messages {SEND_ATTEMPTS} times",
                pending.len()
            )
            .into(),
        })
    }
}

/// Creates `<prefix>-sync`, `-ingest` and `-export`, each with a `-dlq` after `max_receives`
/// deliveries (tests and local development; SAM creates them in production).
pub async fn create_queues(
    client: &Client,
    prefix: &str,
    max_receives: u32,
) -> QueueResult<QueueUrls> {
    let mut urls = Vec::new();
    for queue in QueueName::ALL {
        let name = format!("{prefix}-{}", queue.as_str());
        let dlq = create(client, queue, &format!("{name}-dlq"), None).await?;
        let dlq_arn = arn_of(client, queue, &dlq).await?;
        let policy =
            format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"{max_receives}"}}"#);
        let url = create(client, queue, &name, Some(policy)).await?;
        urls.push((url, dlq));
    }
    let [(sync, sync_dlq), (ingest, ingest_dlq), (export, export_dlq)] =
        <[(String, String); 3]>::try_from(urls).map_err(|_| QueueError::Queue {
            queue: "all",
            operation: "create",
            source: "expected three queues".into(),
        })?;
    Ok(QueueUrls {
        sync,
        ingest,
        export,
        sync_dlq: Some(sync_dlq),
        ingest_dlq: Some(ingest_dlq),
        export_dlq: Some(export_dlq),
    })
}

async fn create(
    client: &Client,
    queue: QueueName,
    name: &str,
    redrive: Option<String>,
) -> QueueResult<String> {
    let mut request = client.create_queue().queue_name(name).attributes(
        QueueAttributeName::MaximumMessageSize,
        MAX_BODY_BYTES.to_string(),
    );
    if let Some(policy) = redrive {
        request = request.attributes(QueueAttributeName::RedrivePolicy, policy);
    }
    let created = request
        .send()
        .await
        .map_err(|e| failure(queue, "create", e))?;
    created.queue_url.ok_or_else(|| QueueError::Queue {
        queue: queue.as_str(),
        operation: "create",
        source: "no queue URL".into(),
    })
}

async fn arn_of(client: &Client, queue: QueueName, url: &str) -> QueueResult<String> {
    let attributes = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| failure(queue, "create", e))?;
    attributes
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| QueueError::Queue {
            queue: queue.as_str(),
            operation: "create",
            source: "no queue ARN".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_to_whole_seconds() {
        assert_eq!(seconds(Duration::from_millis(300), 20), 1);
        assert_eq!(seconds(Duration::from_secs(2), 20), 2);
        assert_eq!(seconds(Duration::from_secs(60), 20), 20);
        assert_eq!(seconds(Duration::ZERO, 20), 0);
    }

    #[test]
    fn batches_respect_count_and_size() {
        let sizes: Vec<usize> = batches(vec!["x".repeat(10); 25])
            .iter()
            .map(Vec::len)
            .collect();
        assert_eq!(sizes, [10, 10, 5]);
        let big = "y".repeat(100 * 1024);
        let sizes: Vec<usize> = batches(vec![big; 5]).iter().map(Vec::len).collect();
        assert_eq!(sizes, [2, 2, 1]);
    }
}
