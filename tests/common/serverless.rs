//! The serverless path's harness, shared by the pipeline tests and the cost bench: Lambda's SQS
//! event source mapping played by a loop (receive a batch, hand it to the function's handler
//! as one invocation, delete the records it did not report as failed, leave the rest for
//! redelivery), and S3 storages created in the state the way the API creates them.
//!
//! Include it beside `common/emulators.rs` as `#[path = "common/serverless.rs"] mod serverless;`.

#![allow(dead_code)]

use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use labelsync::context::Context;
use labelsync::dispatch::Handler;
use labelsync::lambda::sqs_handler_for;
use labelsync::model::{NewProject, NewStorage, StorageRecord, StorageRole};
use serde_json::json;

use crate::emulators;

/// Records received in one poll, as the event handed to the function, with their receipts.
pub struct Batch {
    pub event: SqsEvent,
    /// (message id, receipt handle) of each record.
    receipts: Vec<(String, String)>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.receipts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.receipts.is_empty()
    }
}

/// One ReceiveMessage of at most `max` records, hidden for `visibility` seconds; `None` when
/// the queue had nothing visible.
pub async fn receive(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    max: i32,
    visibility: i32,
) -> Option<Batch> {
    let received = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(max)
        .visibility_timeout(visibility)
        .wait_time_seconds(0)
        .send()
        .await
        .expect("receive");
    let messages = received.messages.unwrap_or_default();
    if messages.is_empty() {
        return None;
    }
    let receipts = messages
        .iter()
        .map(|m| {
            let id = m.message_id.clone().unwrap_or_default();
            (id, m.receipt_handle.clone().unwrap_or_default())
        })
        .collect();
    let mut event = SqsEvent::default();
    event.records = messages
        .into_iter()
        .map(|m| {
            let mut record = SqsMessage::default();
            record.message_id = m.message_id;
            record.body = m.body;
            record
        })
        .collect();
    Some(Batch { event, receipts })
}

/// One invocation of the function's SQS handler with `event`; the ids of the records it
/// reported as failed (`ReportBatchItemFailures`).
pub async fn invoke(ctx: &Context, handler: Handler, event: &SqsEvent) -> Vec<String> {
    let invocation =
        lambda_runtime::LambdaEvent::new(event.clone(), lambda_runtime::Context::default());
    let response = sqs_handler_for(ctx, handler, invocation)
        .await
        .expect("handler");
    response
        .batch_item_failures
        .into_iter()
        .map(|f| f.item_identifier)
        .collect()
}

/// Deletes the batch's records except the `failed` ones, which come back after their
/// visibility timeout (one DeleteMessage a record).
pub async fn settle(sqs: &aws_sdk_sqs::Client, url: &str, batch: &Batch, failed: &[String]) {
    for (id, receipt) in &batch.receipts {
        if !failed.contains(id) {
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(receipt)
                .send()
                .await
                .expect("delete");
        }
    }
}

/// One poll of up to 10 records (hidden for 2 s); `times` > 1 hands the same batch to the
/// handler again before settling (at-least-once delivery). Returns how many records came.
pub async fn poll_once(
    sqs: &aws_sdk_sqs::Client,
    ctx: &Context,
    url: &str,
    handler: Handler,
    times: usize,
) -> usize {
    let Some(batch) = receive(sqs, url, 10, 2).await else {
        return 0;
    };
    let mut failed = Vec::new();
    for _ in 0..times {
        failed = invoke(ctx, handler, &batch.event).await;
    }
    settle(sqs, url, &batch, &failed).await;
    batch.len()
}

/// Polls every queue with `poll` (which returns how many records it received) until none
/// holds a message, visible or in flight: a failed record waits out its visibility timeout
/// and is polled again, as Lambda would. Returns how many records were received in all.
pub async fn drain(
    sqs: &aws_sdk_sqs::Client,
    urls: &[&str],
    mut poll: impl AsyncFnMut(&str) -> usize,
) -> usize {
    let mut received = 0;
    loop {
        let mut got = 0;
        for url in urls {
            got += poll(url).await;
        }
        received += got;
        if got == 0 && messages_left(sqs, urls).await == 0 {
            return received;
        }
        if got == 0 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Visible plus in-flight messages of the queues.
pub async fn messages_left(sqs: &aws_sdk_sqs::Client, urls: &[&str]) -> u64 {
    use aws_sdk_sqs::types::QueueAttributeName as Name;
    let mut left = 0;
    for url in urls {
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(*url)
            .attribute_names(Name::ApproximateNumberOfMessages)
            .attribute_names(Name::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .unwrap_or_default();
        for name in [
            Name::ApproximateNumberOfMessages,
            Name::ApproximateNumberOfMessagesNotVisible,
        ] {
            left += attributes
                .get(&name)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    left
}

/// A new project and an S3 source storage in it on moto's `bucket` under `images` (Files
/// mode, pre-signed links), with `extra` settings over those; stored with its location as the
/// API stores it.
pub async fn s3_storage(
    ctx: &Context,
    bucket: &str,
    extra: serde_json::Value,
) -> (u64, StorageRecord) {
    let project = ctx
        .state
        .create_project(NewProject {
            title: "p".into(),
            maximum_annotations: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    let settings = json!({
        "bucket": bucket, "prefix": "images", "use_blob_urls": true, "recursive_scan": true,
        "s3_endpoint": emulators::moto().endpoint, "aws_access_key_id": "test", "aws_secret_access_key": "test",
        "region_name": "us-east-1", "presign": true, "presign_ttl": 1,
    });
    let mut settings: serde_json::Map<String, serde_json::Value> =
        serde_json::from_value(settings).unwrap();
    settings.extend(serde_json::from_value::<serde_json::Map<_, _>>(extra).unwrap());
    // Where the API puts it: the bound storage's location.
    let connector = labelsync::connectors::by_slug("s3").expect("the s3 type");
    let bound = connector
        .bind(StorageRole::Import, &settings, &ctx.settings)
        .expect("valid settings");
    let location = Some(bound.location());
    let storage = ctx
        .state
        .create_storage(NewStorage {
            role: StorageRole::Import,
            storage_type: "s3".into(),
            project: project.id,
            title: None,
            description: None,
            synchronizable: true,
            settings,
            links: labelsync::model::LinkScope::Location,
            location,
            schedule: Default::default(),
            removed_objects: Default::default(),
        })
        .await
        .unwrap();
    (project.id, storage)
}
