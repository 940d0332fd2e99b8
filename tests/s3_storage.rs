//! S3 storages against moto: the backend conformance suite, Label Studio's validation
//! messages, and sync, resolve (303 pre-signed and ranged proxy) and export end to end through
//! the real local process. moto does not check signatures, so a pre-signed URL is proven to be
//! well-formed and fetchable here, not to be rejected when tampered with.

mod common;
#[path = "common/aws.rs"]
mod common_aws;
#[path = "common/emulators.rs"]
mod emulators;

use common::Server;
use common::round_trip::RoundTrip;
use labelsync::backends::conformance;
use labelsync::connectors::s3::backend::S3Backend;
use serde_json::{Value, json};

async fn s3() -> aws_sdk_s3::Client {
    common_aws::moto_s3(&common_aws::moto_sdk().await)
}

fn s3_fields(bucket: &str) -> Value {
    json!({"bucket": bucket, "s3_endpoint": emulators::moto().endpoint, "region_name": "us-east-1",
           "aws_access_key_id": "AKIAEXAMPLEKEY", "aws_secret_access_key": "very-secret-value", "aws_session_token": "session-token-value"})
}

fn private_server() -> Server {
    Server::start_with(&[("LABELSYNC_ALLOW_PRIVATE_ENDPOINTS", "true")])
}

#[tokio::test]
async fn the_s3_backend_passes_the_conformance_suite() {
    let client = s3().await;
    let name = common_aws::bucket_with_objects(&client, &[]).await;
    conformance::run_all(&S3Backend::new(client, name), "suite/").await;
}

#[tokio::test]
async fn validation_speaks_label_studio() {
    let server = private_server();
    let project = server.project().await;
    let name = common_aws::bucket_with_objects(&s3().await, &[("data/a.json", "{}")]).await;
    let create = |extra: Value| {
        let mut body = s3_fields(&name);
        common::merge(&mut body, json!({"project": project}));
        common::merge(&mut body, extra);
        body
    };
    let (status, reply) = server
        .post_json(
            "/api/storages/s3",
            create(json!({"bucket": "no-such-bucket-here"})),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        reply["validation_errors"]["non_field_errors"][0],
        "Cannot find bucket no-such-bucket-here in S3"
    );
    let (status, reply) = server
        .post_json("/api/storages/s3", create(json!({"prefix": "nothing"})))
        .await;
    assert_eq!(
        (
            status,
            reply["validation_errors"]["non_field_errors"][0].as_str()
        ),
        (
            400,
            Some(format!("s3://{name}/nothing not found.").as_str())
        )
    );
    let (status, _) = server
        .post_json(
            "/api/storages/export/s3",
            create(json!({"prefix": "nothing"})),
        )
        .await;
    assert_eq!(status, 201, "an empty export prefix is fine");
    let (status, reply) = server
        .post_json("/api/storages/s3", create(json!({"bucket": "Bad_Bucket!"})))
        .await;
    assert_eq!(status, 400);
    assert!(
        reply["validation_errors"]["bucket"][0]
            .as_str()
            .unwrap()
            .contains("Invalid bucket name"),
        "{reply}"
    );

    let (status, storage) = server
        .post_json("/api/storages/s3", create(json!({"prefix": "data"})))
        .await;
    assert_eq!(status, 201, "{storage}");
    let text = storage.to_string();
    for secret in [
        "very-secret-value",
        "AKIAEXAMPLEKEY",
        "session-token-value",
        "aws_secret_access_key",
        "aws_access_key_id",
        "aws_session_token",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert_eq!(
        (
            storage["presign"].as_bool(),
            storage["presign_ttl"].as_u64()
        ),
        (Some(true), Some(1))
    );
    // validate with the id: stored secrets fill in what the body leaves out.
    let validated = server
        .post(
            "/api/storages/s3/validate",
            json!({"id": storage["id"], "project": project, "bucket": name}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(validated.status(), 200);
}

#[tokio::test]
async fn user_endpoints_on_private_addresses_are_refused_by_default() {
    let server = Server::start();
    let project = server.project().await;
    let mut body = s3_fields("some-bucket");
    common::merge(&mut body, json!({"project": project}));
    let (status, reply) = server.post_json("/api/storages/s3", body).await;
    assert_eq!(status, 400);
    assert!(
        reply["validation_errors"]["s3_endpoint"][0]
            .as_str()
            .unwrap()
            .contains("non-public address"),
        "{reply}"
    );
}

#[tokio::test]
async fn files_sync_then_presigned_and_proxied_media_then_export() {
    let client = s3().await;
    let name = common_aws::bucket_with_objects(&client, &[]).await;
    let store = S3Backend::new(client, name.clone());
    let server = private_server();
    let presigned = |resolved: &reqwest::Response| {
        assert_eq!(resolved.headers()["cache-control"], "no-store, max-age=60");
        let location = resolved.headers()["location"].to_str().unwrap();
        assert!(
            location.contains("X-Amz-Signature=")
                && location.contains("response-content-type=image%2Fjpeg"),
            "{location}"
        );
    };
    let trip = RoundTrip {
        server: &server,
        slug: "s3",
        fields: s3_fields(&name),
        store: &store,
        presigned: Some(&presigned),
    };
    let imported = trip.run().await;
    let elsewhere = server
        .get(&format!(
            "/tasks/{}/resolve/?fileuri={}",
            imported.task["id"],
            base64_url("s3://another-bucket/a.jpg")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        elsewhere.status(),
        404,
        "a bucket the project did not configure is never served"
    );
    trip.delete(&imported).await;
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE.encode(text)
}

/// The local process consumes a bucket's S3 notifications from an SQS queue the operator names
/// (`LABELSYNC_EVENTS_QUEUE_URL`; moto sends the notifications): an object put under a storage's
/// prefix becomes a task with no sync, and a sync afterwards imports only what came before.
#[tokio::test]
async fn the_local_process_turns_s3_notifications_into_tasks_without_a_sync() {
    let sdk = common_aws::moto_sdk().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = sqs
        .create_queue()
        .queue_name(emulators::unique("events"))
        .send()
        .await
        .expect("create queue");
    let url = queue.queue_url.expect("queue url");
    let client = s3().await;
    let bucket = common_aws::bucket_with_objects(&client, &[("images/before.png", "png")]).await;
    let arn = format!(
        "arn:aws:sqs:us-east-1:123456789012:{}",
        url.rsplit('/').next().unwrap()
    );
    common_aws::notify_queue(&client, &bucket, &arn, &["s3:ObjectCreated:*"]).await;
    let env = common_aws::events_queue_env(&url);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start_with(&env);
    let project = server.project().await;
    let mut fields = s3_fields(&bucket);
    common::merge(
        &mut fields,
        json!({"project": project, "prefix": "images", "use_blob_urls": true}),
    );
    let (status, storage) = server.post_json("/api/storages/s3", fields).await;
    assert_eq!(status, 201, "{storage}");

    common_aws::put_png(&client, &bucket, "images/after.png").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while server.tasks(project).await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no task from the notification"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let tasks = server.tasks(project).await;
    assert_eq!(tasks.len(), 1);
    use base64::Engine;
    let image = tasks[0]["data"]["image"].as_str().unwrap_or_default();
    let query = image.split("fileuri=").nth(1).unwrap_or_default();
    let encoded = query.split('&').next().unwrap_or_default();
    let uri = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("a base64 fileuri");
    let expected = format!("s3://{bucket}/images/after.png");
    assert_eq!(String::from_utf8_lossy(&uri), expected);

    let synced = server
        .sync(&format!("/api/storages/s3/{}", storage["id"]))
        .await;
    common::assert_synced(&synced, "completed", 1);
    assert_eq!(synced["meta"]["tasks_existed"], 1, "{synced}");
}
