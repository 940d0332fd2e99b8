//! AWS SDK clients on the moto emulator.

#![allow(dead_code)]

use crate::emulators;

/// SDK configuration for moto: its endpoint, `us-east-1`, any credentials.
pub async fn moto_sdk() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&emulators::moto().endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "test", "test", None, None, "moto",
        ))
        .load()
        .await
}

/// An S3 client on moto (path-style, as moto serves buckets).
pub fn moto_s3(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build(),
    )
}

/// The local process's variables to consume moto's queue `url` of S3 notifications, and to
/// reach moto's buckets.
pub fn events_queue_env(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("LABELSYNC_ALLOW_PRIVATE_ENDPOINTS", "true".into()),
        ("LABELSYNC_EVENTS_QUEUE_URL", url.into()),
        ("AWS_ENDPOINT_URL_SQS", emulators::moto().endpoint.clone()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
    ]
}

/// A new bucket (a unique name) holding `objects` (key, body), put 16 at a time; returns its
/// name.
pub async fn bucket_with_objects(s3: &aws_sdk_s3::Client, objects: &[(&str, &str)]) -> String {
    use futures::StreamExt;
    let name = emulators::unique("bucket");
    s3.create_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("create bucket");
    let puts = objects.iter().map(|(key, body)| {
        let body = aws_sdk_s3::primitives::ByteStream::from(body.as_bytes().to_vec());
        s3.put_object().bucket(&name).key(*key).body(body).send()
    });
    let results: Vec<_> = futures::stream::iter(puts)
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(results.iter().all(Result::is_ok), "every put succeeded");
    name
}

/// Puts a small object.
pub async fn put_png(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"png"))
        .send()
        .await
        .expect("put");
}

/// Makes `bucket` send its object notifications of `events` to the SQS queue `queue_arn`.
pub async fn notify_queue(s3: &aws_sdk_s3::Client, bucket: &str, queue_arn: &str, events: &[&str]) {
    use aws_sdk_s3::types::{Event, NotificationConfiguration, QueueConfiguration};
    let mut queue = QueueConfiguration::builder().queue_arn(queue_arn);
    for event in events {
        queue = queue.events(Event::from(*event));
    }
    let queue = queue.build().expect("queue configuration");
    s3.put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(
            NotificationConfiguration::builder()
                .queue_configurations(queue)
                .build(),
        )
        .send()
        .await
        .expect("notification configuration");
}

/// Drives moto's request recorder: `action` is `reset-recording`, `start-recording` or
/// `stop-recording`.
pub async fn moto_recorder(http: &reqwest::Client, action: &str) {
    let moto = &emulators::moto().endpoint;
    http.post(format!("{moto}/moto-api/recorder/{action}"))
        .send()
        .await
        .expect("moto's recorder");
}

/// What moto's recorder holds: one JSON line a request (method, url, headers, body).
pub async fn moto_recording(http: &reqwest::Client) -> String {
    let moto = &emulators::moto().endpoint;
    http.get(format!("{moto}/moto-api/recorder/download-recording"))
        .send()
        .await
        .expect("recording")
        .text()
        .await
        .expect("recording text")
}
