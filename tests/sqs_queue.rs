//! The SQS queue against moto: the same conformance suite as the embedded queue, plus batching
//! and the redrive to the dead-letter queue.

#[path = "common/aws.rs"]
mod common_aws;
#[path = "common/emulators.rs"]
mod emulators;

use std::time::Duration;

use labelsync::queue::sqs::{SqsQueue, create_queues};
use labelsync::queue::{Queue, QueueName, conformance};

const MAX_RECEIVES: u32 = 3;

async fn queue() -> SqsQueue {
    let client = aws_sdk_sqs::Client::new(&common_aws::moto_sdk().await);
    let urls = create_queues(&client, &emulators::unique("conf"), MAX_RECEIVES)
        .await
        .expect("create queues");
    SqsQueue::new(client, urls)
}

#[tokio::test]
async fn sync_queue_passes_the_conformance_suite() {
    conformance::run_all(&queue().await, QueueName::Sync, MAX_RECEIVES).await;
}

#[tokio::test]
async fn ingest_queue_passes_the_conformance_suite() {
    conformance::run_all(&queue().await, QueueName::Ingest, MAX_RECEIVES).await;
}

#[tokio::test]
async fn export_queue_passes_the_conformance_suite() {
    conformance::run_all(&queue().await, QueueName::Export, MAX_RECEIVES).await;
}

#[tokio::test]
async fn twenty_five_messages_in_one_send_all_arrive() {
    let queue = queue().await;
    let bodies: Vec<String> = (0..25).map(|i| format!("m{i}")).collect();
    queue.send(QueueName::Ingest, bodies.clone()).await.unwrap();
    let mut got = Vec::new();
    while got.len() < 25 {
        let batch = queue
            .receive(
                QueueName::Ingest,
                10,
                Duration::from_secs(30),
                Duration::from_secs(2),
            )
            .await
            .unwrap();
        assert!(!batch.is_empty(), "messages missing: got {got:?}");
        assert!(batch.len() <= 10);
        got.extend(batch.into_iter().map(|d| d.body));
    }
    got.sort();
    let mut expected = bodies;
    expected.sort();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn a_message_past_its_tries_lands_in_the_dead_letter_queue() {
    let queue = queue().await;
    queue
        .send(QueueName::Export, vec!["poison".into()])
        .await
        .unwrap();
    for attempt in 1..=MAX_RECEIVES {
        let got = queue
            .receive(
                QueueName::Export,
                1,
                Duration::from_secs(30),
                Duration::from_secs(2),
            )
            .await
            .unwrap();
        assert_eq!(got.len(), 1, "delivery {attempt}");
        assert_eq!(got[0].receive_count, attempt);
        queue
            .extend(QueueName::Export, &got[0].receipt, Duration::ZERO)
            .await
            .unwrap();
    }
    let after = queue
        .receive(
            QueueName::Export,
            1,
            Duration::from_secs(30),
            Duration::from_secs(1),
        )
        .await
        .unwrap();
    assert!(after.is_empty(), "{after:?}");
    assert_eq!(
        queue.dead_letters(QueueName::Export, 10).await.unwrap(),
        vec!["poison".to_owned()]
    );
}
