//! `s3s` storages: S3 reached through an IAM role assumed with an external id. STS and S3 are
//! moto behind a recording proxy ([`sts_gate`]) that enforces the role's trust on the external
//! id, because moto accepts any AssumeRole. What only real AWS can check: the trust policy's
//! principal, the role's permissions, and SigV4 signatures (moto verifies none of them).

mod common;
#[path = "common/aws.rs"]
mod common_aws;
#[path = "common/emulators.rs"]
mod emulators;
#[path = "common/sts_gate.rs"]
mod sts_gate;

use aws_sdk_s3::primitives::ByteStream;
use common::Server;
use serde_json::{Value, json};
use sts_gate::StsGate;

const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/labelsync-reader";
const EXTERNAL_ID: &str = "labelsync-org-7f3a";
const OPERATOR_KEY: &str = "AKIAOPERATORKEY00001";

async fn bucket_with(objects: &[(&str, &str)]) -> String {
    let sdk = common_aws::moto_sdk().await;
    let config = aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true);
    let client = aws_sdk_s3::Client::from_conf(config.build());
    let name = emulators::unique("role-bucket");
    client.create_bucket().bucket(&name).send().await.unwrap();
    for (key, body) in objects {
        let body = ByteStream::from(body.as_bytes().to_vec());
        let put = client.put_object().bucket(&name).key(*key).body(body);
        put.send().await.unwrap();
    }
    name
}

/// The local process signs with the operator's keys and reaches STS through the gate.
fn server_behind(gate: &StsGate) -> Server {
    Server::start_with(&[
        ("LABELSYNC_ALLOW_PRIVATE_ENDPOINTS", "true"),
        ("AWS_ENDPOINT_URL_STS", gate.endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", OPERATOR_KEY),
        ("AWS_SECRET_ACCESS_KEY", "operator-secret"),
    ])
}

fn role_storage(gate: &StsGate, project: u64, bucket: &str, external_id: &str) -> Value {
    json!({"project": project, "bucket": bucket, "prefix": "img", "use_blob_urls": true,
           "s3_endpoint": gate.endpoint, "region_name": "us-east-1",
           "role_arn": ROLE_ARN, "external_id": external_id})
}

#[tokio::test]
async fn role_arn_is_required_and_must_be_a_role() {
    let gate = StsGate::start(&emulators::moto().endpoint, EXTERNAL_ID).await;
    let server = server_behind(&gate);
    let project = server.project().await;
    let name = bucket_with(&[("img/a.jpg", "a")]).await;
    for (role_arn, expected) in [
        (Value::Null, "This field is required."),
        (
            json!("arn:aws:iam::123456789012:user/bob"),
            "is not an IAM role ARN",
        ),
    ] {
        let mut body = role_storage(&gate, project, &name, EXTERNAL_ID);
        body["role_arn"] = role_arn;
        let (status, reply) = server.post_json("/api/storages/s3s", body).await;
        let message = reply["validation_errors"]["role_arn"][0].as_str();
        assert_eq!(status, 400, "{reply}");
        assert!(message.unwrap_or_default().contains(expected), "{reply}");
    }
    assert!(
        gate.seen().is_empty(),
        "shape errors are found before any call"
    );
}

#[tokio::test]
async fn a_role_that_does_not_trust_the_external_id_is_refused_with_the_reason() {
    let gate = StsGate::start(&emulators::moto().endpoint, EXTERNAL_ID).await;
    let server = server_behind(&gate);
    let project = server.project().await;
    let name = bucket_with(&[("img/a.jpg", "a")]).await;
    let body = role_storage(&gate, project, &name, "someone-elses-id");
    let (status, reply) = server.post_json("/api/storages/s3s", body).await;
    assert_eq!(status, 400, "{reply}");
    let message = reply["validation_errors"]["non_field_errors"][0]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.starts_with(&format!("Cannot assume role {ROLE_ARN}"))
            && message.contains("not authorized to perform: sts:AssumeRole")
            && message.contains("external ID"),
        "{message}"
    );
    assert!(!reply.to_string().contains("operator-secret"), "{reply}");
}

#[tokio::test]
async fn sync_and_presign_use_the_assumed_role_session() {
    let gate = StsGate::start(&emulators::moto().endpoint, EXTERNAL_ID).await;
    let server = server_behind(&gate);
    let project = server.project().await;
    let name = bucket_with(&[("img/a.jpg", "bytes of a"), ("img/b.jpg", "b")]).await;
    let body = role_storage(&gate, project, &name, EXTERNAL_ID);
    let (status, storage) = server.post_json("/api/storages/s3s", body).await;
    assert_eq!(status, 201, "{storage}");
    assert_eq!(
        (storage["type"].as_str(), storage["role_arn"].as_str()),
        (Some("s3s"), Some(ROLE_ARN))
    );
    let done = server
        .sync(&format!("/api/storages/s3s/{}", storage["id"]))
        .await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["last_sync_count"], 2, "{done}");

    let seen = gate.seen();
    let assume = seen
        .iter()
        .find(|s| s.form("Action") == Some("AssumeRole") && s.issued_key.is_some())
        .expect("an AssumeRole call reached STS");
    assert_eq!(assume.access_key, OPERATOR_KEY, "signed with the base keys");
    assert_eq!(assume.form("RoleArn"), Some(ROLE_ARN));
    assert_eq!(assume.form("ExternalId"), Some(EXTERNAL_ID));
    assert_eq!(assume.form("RoleSessionName"), Some("labelsync"));
    // Each S3 client (validation, then the sync's backend) holds its own role session.
    let session_keys: Vec<String> = seen.iter().filter_map(|s| s.issued_key.clone()).collect();
    assert!(
        session_keys.iter().all(|k| k.starts_with("ASIA")),
        "{session_keys:?}"
    );
    let s3_calls: Vec<_> = seen.iter().filter(|s| s.sts_form.is_empty()).collect();
    assert!(!s3_calls.is_empty());
    assert!(
        s3_calls
            .iter()
            .all(|s| session_keys.contains(&s.access_key)),
        "every S3 call signed with a role session: {s3_calls:?}"
    );

    let task = server.tasks(project).await.remove(0);
    let url = task["data"]["image"].as_str().unwrap();
    let resolved = server.get_redirect(url).await;
    let location = resolved.headers()["location"].to_str().unwrap();
    let presigned_with_session = session_keys
        .iter()
        .any(|k| location.contains(&format!("X-Amz-Credential={k}")));
    assert!(
        presigned_with_session && location.contains("X-Amz-Security-Token="),
        "the presigned URL carries the role session: {location}"
    );
    let fetched = reqwest::get(location).await.unwrap();
    assert_eq!(fetched.status(), 200);
    let expected = if task["storage_filename"] == "img/a.jpg" {
        "bytes of a"
    } else {
        "b"
    };
    assert_eq!(fetched.text().await.unwrap(), expected);
}
