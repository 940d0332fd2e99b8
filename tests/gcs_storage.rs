//! GCS storages against fake-gcs-server: the backend conformance suite, Label Studio's
//! validation, and sync, resolve (V4 signed URL, ranged proxy) and export end to end through the
//! real local process. fake-gcs-server does not verify signatures: a signed URL is shown to be
//! well-formed (GOOG4-RSA-SHA256, the service account, an expiry) and fetchable, not to be
//! rejected when tampered with. Service-account auth to Google (the JWT token exchange) is not
//! exercised: the emulator takes anonymous requests.

mod common;
#[path = "common/emulators.rs"]
mod emulators;
#[path = "common/google_sts.rs"]
mod google_sts;

use base64::Engine;
use common::Server;
use common::round_trip::RoundTrip;
use labelsync::backends::ObjectStore;
use labelsync::backends::conformance;
use labelsync::connectors::gcs::backend::{ClientSource, GcsBackend};
use serde_json::{Value, json};

const CLIENT_EMAIL: &str = "labelsync-test@labelsync-tests.iam.gserviceaccount.com";

fn endpoint() -> &'static str {
    &emulators::fake_gcs().endpoint
}

async fn bucket() -> String {
    let name = emulators::unique("gcs-bucket");
    let created = reqwest::Client::new()
        .post(format!("{}/storage/v1/b?project=test", endpoint()))
        .json(&json!({"name": name}))
        .send()
        .await
        .unwrap();
    assert!(
        created.status().is_success(),
        "create bucket: {}",
        created.status()
    );
    name
}

fn backend(bucket: &str) -> GcsBackend {
    GcsBackend::new(ClientSource::Emulator(endpoint().to_owned()), bucket, None)
}

/// A service-account key file with a fresh RSA key (made by `openssl`).
fn service_account_json() -> String {
    json!({"type": "service_account", "project_id": "labelsync-tests", "private_key_id": "k1",
           "private_key": common::rsa_private_key_pem(), "client_email": CLIENT_EMAIL,
           "client_id": "1", "token_uri": "https://oauth2.googleapis.com/token"})
    .to_string()
}

fn gcs_server() -> Server {
    Server::start_with(&[("STORAGE_EMULATOR_HOST", endpoint())])
}

#[tokio::test]
async fn the_gcs_backend_passes_the_conformance_suite() {
    let name = bucket().await;
    conformance::run_all(&backend(&name), "suite/").await;
}

#[tokio::test]
async fn validation_speaks_label_studio() {
    let name = bucket().await;
    backend(&name)
        .put("data/a.json", "{}".into())
        .await
        .unwrap();
    let server = gcs_server();
    let project = server.project().await;
    let body = |extra: Value| {
        let mut body = json!({"project": project, "bucket": name});
        common::merge(&mut body, extra);
        body
    };
    let (status, reply) = server
        .post_json(
            "/api/storages/gcs",
            body(json!({"google_application_credentials": "Test"})),
        )
        .await;
    assert_eq!(status, 400);
    let message = reply["validation_errors"]["google_application_credentials"][0].as_str();
    assert!(
        message
            .unwrap_or_default()
            .starts_with("Google Application Credentials must be valid JSON string."),
        "{reply}"
    );
    let (status, reply) = server
        .post_json(
            "/api/storages/gcs",
            body(json!({"bucket": "no-such-gcs-bucket"})),
        )
        .await;
    assert_eq!(
        (
            status,
            reply["validation_errors"]["non_field_errors"][0].as_str()
        ),
        (400, Some("Cannot find bucket no-such-gcs-bucket in GCS"))
    );
    let (status, reply) = server
        .post_json("/api/storages/gcs", body(json!({"prefix": "nothing"})))
        .await;
    assert_eq!(
        reply["validation_errors"]["non_field_errors"][0].as_str(),
        Some(format!("No blobs found in {name}/nothing or prefix doesn't exist").as_str()),
        "{status} {reply}"
    );
    let credentials = service_account_json();
    let (status, storage) = server
        .post_json(
            "/api/storages/gcs",
            body(json!({"prefix": "data", "google_application_credentials": credentials})),
        )
        .await;
    assert_eq!(status, 201, "{storage}");
    let text = storage.to_string();
    assert!(
        !text.contains("google_application_credentials") && !text.contains("PRIVATE KEY"),
        "{text}"
    );
}

#[tokio::test]
async fn files_sync_then_signed_and_proxied_media_then_export() {
    let name = bucket().await;
    let store = backend(&name);
    let server = gcs_server();
    let presigned = |resolved: &reqwest::Response| {
        let location = resolved.headers()["location"].to_str().unwrap();
        for part in [
            "X-Goog-Algorithm=GOOG4-RSA-SHA256",
            "X-Goog-Expires=900",
            "X-Goog-Signature=",
            "labelsync-test%40labelsync-tests",
        ] {
            assert!(location.contains(part), "{part} in {location}");
        }
    };
    let trip = RoundTrip {
        server: &server,
        slug: "gcs",
        fields: json!({"bucket": name, "presign_ttl": 15,
                       "google_application_credentials": service_account_json()}),
        store: &store,
        presigned: Some(&presigned),
    };
    let imported = trip.run().await;
    trip.delete(&imported).await;
}

/// `gcswif`: the process's AWS identity is exchanged at a stand-in STS for a federated token,
/// which impersonates the service account; the bucket is then read with that token and URLs are
/// signed through `signBlob`. fake-gcs-server accepts any token, so what the storage calls prove
/// is that the exchange happened first, with the right requests.
#[tokio::test]
async fn workload_identity_federation_exchanges_an_aws_identity() {
    let google = google_sts::GoogleStandIn::start().await;
    let name = bucket().await;
    backend(&name)
        .put("img/a.jpg", "jpeg bytes of a".into())
        .await
        .unwrap();
    let sts_url = format!("{}/v1/token", google.url);
    let server = Server::start_with(&[
        ("STORAGE_EMULATOR_HOST", endpoint()),
        ("LABELSYNC_GOOGLE_STS_URL", sts_url.as_str()),
        ("LABELSYNC_GOOGLE_IAM_URL", google.url.as_str()),
        ("AWS_ACCESS_KEY_ID", "AKIAWIFIDENTITY00001"),
        ("AWS_SECRET_ACCESS_KEY", "wif-secret"),
        ("AWS_REGION", "us-east-1"),
    ]);
    let project = server.project().await;
    let mut fields = json!({"project": project, "bucket": name, "prefix": "img", "use_blob_urls": true,
        "google_project_number": "123456789012", "google_service_account_email": CLIENT_EMAIL,
        "google_wif_pool_id": "aws-pool", "google_wif_provider_id": "aws-provider"});
    let mut missing = fields.clone();
    missing["google_wif_pool_id"] = Value::Null;
    let (status, reply) = server.post_json("/api/storages/gcswif", missing).await;
    assert_eq!(
        (
            status,
            reply["validation_errors"]["google_wif_pool_id"][0].as_str()
        ),
        (400, Some("This field is required."))
    );

    let (status, storage) = server
        .post_json("/api/storages/gcswif", fields.take())
        .await;
    assert_eq!(status, 201, "{storage}");
    let done = server
        .sync(&format!("/api/storages/gcswif/{}", storage["id"]))
        .await;
    assert_eq!(done["last_sync_count"], 1, "{done}");
    let seen = google.seen();
    let exchange = seen.exchanges.first().expect("a token exchange at STS");
    assert_eq!(
        exchange["audience"],
        "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/aws-pool/providers/aws-provider"
    );
    // The subject token is a URL-encoded, SigV4-signed GetCallerIdentity request description.
    let subject =
        percent_encoding::percent_decode_str(&exchange["subject_token"]).decode_utf8_lossy();
    let subject: Value = serde_json::from_str(&subject).expect("subject token JSON");
    assert!(
        subject["url"]
            .as_str()
            .unwrap()
            .contains("Action=GetCallerIdentity"),
        "{subject}"
    );
    let headers = subject["headers"].to_string();
    assert!(
        headers.contains("Credential=AKIAWIFIDENTITY00001/")
            && headers.contains("x-goog-cloud-target-resource"),
        "{subject}"
    );
    let (call, bearer, _) = &seen.iam_calls[0];
    assert_eq!(
        (call.as_str(), bearer.as_str()),
        (
            format!("{CLIENT_EMAIL}:generateAccessToken").as_str(),
            google_sts::FEDERATED_TOKEN
        )
    );

    let task = server.tasks(project).await.remove(0);
    let resolved = server
        .get_redirect(task["data"]["image"].as_str().unwrap())
        .await;
    let location = resolved.headers()["location"].to_str().unwrap().to_owned();
    let hex_signature: String = google_sts::SIGNATURE
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(
        location.contains(&format!("X-Goog-Signature={hex_signature}")),
        "{location}"
    );
    let sign = google
        .seen()
        .iam_calls
        .into_iter()
        .find(|(c, _, _)| c.ends_with(":signBlob"))
        .expect("signBlob");
    let payload = base64::engine::general_purpose::STANDARD
        .decode(sign.2["payload"].as_str().unwrap())
        .unwrap();
    assert!(
        String::from_utf8_lossy(&payload).starts_with("GOOG4-RSA-SHA256\n"),
        "the V4 string to sign"
    );
    assert_eq!(
        reqwest::get(&location).await.unwrap().text().await.unwrap(),
        "jpeg bytes of a"
    );
}

/// A Pub/Sub push subscription delivering GCS notifications to `/api/object-events` (Google's
/// documented attributes): `OBJECT_FINALIZE` under the prefix becomes a task without a sync;
/// a delete keeps it; without the events secret the endpoint does not exist.
#[tokio::test]
async fn pub_sub_pushed_notifications_become_tasks_without_a_sync() {
    const SECRET: &str = "events-secret-0123456789";
    let name = bucket().await;
    let store = backend(&name);
    store.put("images/seed.png", "png".into()).await.unwrap();
    let server = Server::start_with(&[
        ("STORAGE_EMULATOR_HOST", endpoint()),
        ("LABELSYNC_EVENTS_SECRET", SECRET),
    ]);
    let project = server.project().await;
    let body = json!({"project": project, "bucket": name, "prefix": "images", "use_blob_urls": true,
                      "google_application_credentials": service_account_json()});
    let (status, storage) = server.post_json("/api/storages/gcs", body).await;
    assert_eq!(status, 201, "{storage}");
    store.put("images/pushed.png", "png".into()).await.unwrap();
    let message = |event: &str| {
        json!({"message": {
                "attributes": {"bucketId": name, "objectId": "images/pushed.png", "eventType": event,
                    "notificationConfig": format!("projects/_/buckets/{name}/notificationConfigs/1"),
                    "payloadFormat": "JSON_API_V1", "objectGeneration": "1701000000000000"},
                "data": "e30=", "messageId": "2070443601311540",
                "publishTime": "2026-12-01T00:00:00.000Z"},
               "subscription": "projects/labelsync-tests/subscriptions/labelsync"})
    };
    let url = server.url(&format!("/api/object-events?secret={SECRET}"));
    for event in ["OBJECT_FINALIZE", "OBJECT_DELETE"] {
        let pushed = server
            .http
            .post(&url)
            .json(&message(event))
            .send()
            .await
            .unwrap();
        assert_eq!(pushed.status(), 200);
    }
    let tasks = server.tasks(project).await;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["storage_filename"], "images/pushed.png");

    let off = gcs_server();
    let pushed = off
        .http
        .post(off.url("/api/object-events?secret=x"))
        .json(&message("OBJECT_FINALIZE"))
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), 404, "no events secret, no endpoint");
}
