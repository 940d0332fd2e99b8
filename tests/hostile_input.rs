//! Hostile storage forms against the real process: credential documents that would make the
//! server read files or call URLs, redirects and special addresses past the egress guard, hosts
//! that answer with endless trees, stored secrets steered to a host of the caller's choosing,
//! and local-files tricks (a directory swapped for a symlink, an existence oracle, `bytes=-0`,
//! an uncapped preview, file names that are not UTF-8). Each test asserts the safe outcome and
//! fails on the code before the fix (checked when it was written).

mod common;
#[path = "common/aws.rs"]
mod common_aws;
#[path = "common/databricks_server.rs"]
mod databricks_server;
#[path = "common/emulators.rs"]
mod emulators;
#[path = "common/hostile.rs"]
mod hostile;

use std::time::Duration;

use common::Server;
use databricks_server::FilesApi;
use hostile::{CannedResponse, EndlessDirectories, FakeRedis, Recorder, Redirector};
use serde_json::{Value, json};

fn field_error(reply: &Value, field: &str) -> String {
    reply["validation_errors"][field][0]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn private_server() -> Server {
    Server::start_with(&[("LABELSYNC_ALLOW_PRIVATE_ENDPOINTS", "true")])
}

// 1. Credential documents that read server files or call URLs.

#[tokio::test]
async fn gcs_credential_documents_cannot_make_the_server_read_files_or_call_urls() {
    let attacker = Recorder::start("127.0.0.1:0").await;
    let secret_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(secret_file.path(), "LABELSYNC_API_TOKEN=stolen").unwrap();
    let server = Server::start();
    let project = server.project().await;
    let token_url = format!("{}/token", attacker.url());
    let documents = [
        json!({"type": "external_account", "audience": "//iam.googleapis.com/x",
               "subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "token_url": token_url,
               "credential_source": {"file": secret_file.path()}}),
        json!({"type": "external_account", "audience": "//iam.googleapis.com/x",
               "subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "token_url": token_url,
               "credential_source": {"url": format!("{}/metadata", attacker.url())}}),
        json!({"type": "authorized_user", "client_id": "c", "client_secret": "s",
               "refresh_token": "r", "token_uri": token_url}),
    ];
    for document in documents {
        let body = json!({"project": project, "bucket": "b",
                          "google_application_credentials": document.to_string()});
        let (status, reply) = server.post_json("/api/storages/gcs", body).await;
        let message = field_error(&reply, "google_application_credentials");
        assert_eq!(status, 400, "{reply}");
        assert!(
            message.starts_with("Only service-account key files"),
            "{reply}"
        );
    }
    assert_eq!(attacker.connections(), 0, "{:?}", attacker.requests());
}

#[tokio::test]
async fn a_service_account_key_gets_its_token_from_google_not_from_its_own_token_uri() {
    let attacker = Recorder::start("127.0.0.1:0").await;
    let google = Recorder::start_with(
        "127.0.0.1:0",
        CannedResponse::json(
            400,
            json!({"error": "invalid_grant", "marker": "from-google"}),
        ),
    )
    .await;
    let token_url = format!("{}/token", google.url());
    let server = Server::start_with(&[("LABELSYNC_GOOGLE_TOKEN_URL", token_url.as_str())]);
    let project = server.project().await;
    let key = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ])
        .output()
        .expect("openssl makes a test key");
    let document = json!({"type": "service_account", "project_id": "p", "private_key_id": "k1",
        "private_key": String::from_utf8(key.stdout).unwrap(),
        "client_email": "sa@p.iam.gserviceaccount.com",
        "token_uri": format!("{}/token", attacker.url())});
    let body = json!({"project": project, "bucket": "b",
                      "google_application_credentials": document.to_string()});
    let (status, reply) = server.post_json("/api/storages/gcs", body).await;
    assert_eq!(status, 400, "no real Google here: {reply}");
    assert_eq!(attacker.connections(), 0, "{:?}", attacker.requests());
    let asked = google.requests();
    assert!(
        asked
            .iter()
            .any(|r| String::from_utf8_lossy(&r.body).contains("jwt-bearer")),
        "the JWT went to the operator's token endpoint: {asked:?}"
    );
}

// 2. Redirects past the guard.

#[tokio::test]
async fn a_databricks_redirect_to_an_internal_address_is_not_followed() {
    let internal = Recorder::start_with(
        "127.0.0.1:0",
        CannedResponse::json(200, json!({"internal": "secret-body-7f3a"})),
    )
    .await;
    let host = Redirector::start("127.0.0.2:0", &format!("{}/x", internal.url())).await;
    // Even with every private address allowed, a redirect is never followed.
    let server = private_server();
    let project = server.project().await;
    let body = json!({"project": project, "host": host.url(), "catalog": "c", "schema": "s",
                      "volume": "v", "token": "t", "use_blob_urls": true});
    let (status, storage) = server.post_json("/api/storages/databricks", body).await;
    assert_eq!(status, 201, "{storage}");
    let synced = server
        .sync(&format!("/api/storages/databricks/{}", storage["id"]))
        .await;
    assert_eq!(synced["last_sync_count"], 1, "{synced}");
    let task = &server.tasks(project).await[0];
    let media = server
        .get(task["data"]["image"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let status = media.status();
    let text = media.text().await.unwrap();
    assert!(!text.contains("secret-body-7f3a"), "{status} {text}");
    assert_ne!(status, 200, "{text}");
    assert_eq!(internal.connections(), 0);
}

// 3. A guard that checks once.

#[tokio::test]
async fn a_storage_made_while_private_addresses_were_allowed_cannot_reach_them_after() {
    let api = FilesApi::start("dapi-token").await;
    let mut server = private_server();
    let project = server.project().await;
    let body = json!({"project": project, "host": api.url, "catalog": "c", "schema": "s",
                      "volume": "v", "token": "dapi-token", "use_blob_urls": true});
    // An import storage with one file, synced while allowed.
    let writer = labelsync::connectors::databricks::backend::DatabricksBackend::new(
        &labelsync::connectors::databricks::backend::VolumeTarget {
            guard: labelsync::egress::Guard::new(labelsync::egress::EgressPolicy::allow_all()),
            host: &api.url,
            token: "dapi-token",
            catalog: "c",
            schema: "s",
            volume: "v",
            timeout: Duration::from_secs(10),
            verify_tls: true,
        },
    )
    .unwrap();
    labelsync::backends::ObjectStore::put(&writer, "a.jpg", "jpeg-bytes".into())
        .await
        .unwrap();
    let (status, source) = server.post_json("/api/storages/databricks", body).await;
    assert_eq!(status, 201, "{source}");
    let path = format!("/api/storages/databricks/{}", source["id"]);
    assert_eq!(server.sync(&path).await["last_sync_count"], 1);
    let task = server.tasks(project).await[0].clone();

    server.set_env("LABELSYNC_ALLOW_PRIVATE_ENDPOINTS", None);
    server.restart();
    let media = server
        .get(task["data"]["image"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let status = media.status();
    let text = media.text().await.unwrap();
    assert!(!text.contains("jpeg-bytes"), "{status} {text}");
    let (status, reply) = server.post_json(&format!("{path}/sync"), json!({})).await;
    assert_eq!(status, 400, "{reply}");
}

#[tokio::test]
async fn special_purpose_and_disguised_loopback_endpoints_are_refused() {
    let server = Server::start();
    let project = server.project().await;
    for endpoint in [
        "http://[::127.0.0.1]:9000",
        "http://[64:ff9b::7f00:1]:9000",
        "http://[::ffff:7f00:1]:9000",
        "http://192.0.0.8:9000",
        "http://198.18.0.1:9000",
        "http://240.0.0.1:9000",
        "http://224.0.0.1:9000",
        "http://0.0.0.0:9000",
    ] {
        let body = json!({"project": project, "bucket": "some-bucket", "s3_endpoint": endpoint,
                          "aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": "s"});
        let (status, reply) = server.post_json("/api/storages/s3", body).await;
        assert_eq!(status, 400, "{endpoint}: {reply}");
        assert!(
            field_error(&reply, "s3_endpoint").contains("non-public address"),
            "{endpoint}: {reply}"
        );
    }
}

#[tokio::test]
async fn an_azure_account_name_cannot_steer_the_blob_url() {
    let listener = Recorder::start("127.0.0.1:0").await;
    let server = Server::start();
    let project = server.project().await;
    let account = format!("127.0.0.1:{}/x?", listener.addr().port());
    let body = json!({"project": project, "container": "c", "account_name": account,
                      "account_key": "a2V5"});
    let (status, reply) = server.post_json("/api/storages/azure", body).await;
    assert_eq!(status, 400, "{reply}");
    assert!(
        field_error(&reply, "account_name").contains("storage account name"),
        "{reply}"
    );
    assert_eq!(listener.connections(), 0);
}

// 4. One request that kills the process.

#[tokio::test]
async fn an_endless_directory_tree_costs_an_error_not_the_process() {
    let deep = EndlessDirectories::start("127.0.0.1:0").await;
    let wide = EndlessDirectories::wide("127.0.0.1:0", 1000).await;
    let mut server = private_server();
    let project = server.project().await;
    for host in [deep.url(), wide.url()] {
        let body = json!({"project": project, "host": host, "catalog": "c", "schema": "s",
                          "volume": "v", "token": "t", "recursive_scan": true});
        let response = server
            .post("/api/storages/databricks", body)
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .expect("the server answers instead of dying or hanging");
        let (status, reply) = common::json_of(response).await;
        assert_eq!(status, 400, "{reply}");
        let message = field_error(&reply, "non_field_errors");
        assert!(message.contains("over labelsync's limit"), "{reply}");
    }
    assert!(server.is_alive());
    assert!(deep.listings() <= 64, "{}", deep.listings());
}

// 5. Write-only secrets that can be read out.

#[tokio::test]
async fn a_stored_databricks_token_is_not_sent_to_a_new_host() {
    let api = FilesApi::start("dapi-stored-secret").await;
    let catcher = Recorder::start("127.0.0.1:0").await;
    let server = private_server();
    let project = server.project().await;
    let body = json!({"project": project, "host": api.url, "catalog": "c", "schema": "s",
                      "volume": "v", "token": "dapi-stored-secret"});
    let (status, storage) = server.post_json("/api/storages/databricks", body).await;
    assert_eq!(status, 201, "{storage}");
    let id = storage["id"].as_u64().unwrap();
    let moved = json!({"project": project, "id": id, "host": catcher.url(), "catalog": "c",
                       "schema": "s", "volume": "v"});
    let (status, reply) = server
        .post_json("/api/storages/databricks/validate", moved.clone())
        .await;
    assert_eq!(status, 400, "{reply}");
    assert!(
        field_error(&reply, "token").contains("Enter token again"),
        "{reply}"
    );
    let (status, reply) = server
        .patch_json(&format!("/api/storages/databricks/{id}"), moved)
        .await;
    assert_eq!(status, 400, "{reply}");
    assert_eq!(
        catcher.connections(),
        0,
        "{:?}",
        catcher.authorization_headers()
    );
}

#[tokio::test]
async fn a_stored_redis_password_is_not_sent_to_a_new_host() {
    let first = FakeRedis::start("127.0.0.1:0").await;
    let second = FakeRedis::start("127.0.0.1:0").await;
    let server = private_server();
    let project = server.project().await;
    let body = json!({"project": project, "host": "127.0.0.1", "port": first.addr().port().to_string(),
                      "password": "redis-stored-secret", "path": "t:"});
    let (status, storage) = server.post_json("/api/storages/redis", body).await;
    assert_eq!(status, 201, "{storage}");
    let moved = json!({"project": project, "id": storage["id"], "host": "127.0.0.1",
                       "port": second.addr().port().to_string()});
    let (status, reply) = server
        .post_json("/api/storages/redis/validate", moved)
        .await;
    assert_eq!(status, 400, "{reply}");
    assert!(field_error(&reply, "password").contains("again"), "{reply}");
    let received = String::from_utf8_lossy(&second.received()).into_owned();
    assert!(!received.contains("redis-stored-secret"), "{received}");
}

#[tokio::test]
async fn stored_s3_keys_are_not_sent_to_a_new_endpoint() {
    let sdk = common_aws::moto_sdk().await;
    let client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let bucket = emulators::unique("hostile");
    client.create_bucket().bucket(&bucket).send().await.unwrap();
    let catcher = Recorder::start("127.0.0.1:0").await;
    let server = private_server();
    let project = server.project().await;
    let body = json!({"project": project, "bucket": bucket, "s3_endpoint": emulators::moto().endpoint,
                      "region_name": "us-east-1", "aws_access_key_id": "AKIASTOREDKEY0001",
                      "aws_secret_access_key": "stored-secret", "aws_session_token": "stored-session"});
    let (status, storage) = server.post_json("/api/storages/s3", body).await;
    assert_eq!(status, 201, "{storage}");
    let moved = json!({"project": project, "id": storage["id"], "bucket": bucket,
                       "s3_endpoint": catcher.url()});
    let (status, reply) = server.post_json("/api/storages/s3/validate", moved).await;
    assert_eq!(status, 400, "{reply}");
    assert!(
        field_error(&reply, "aws_access_key_id").contains("again"),
        "{reply}"
    );
    assert_eq!(
        catcher.connections(),
        0,
        "{:?}",
        catcher.authorization_headers()
    );
}

// 8. Smaller holes: local files.

#[tokio::test]
async fn a_storage_directory_swapped_for_a_symlink_serves_and_lists_nothing_outside() {
    let server = Server::start();
    let project = server.project().await;
    let dir = server.dir("swap");
    common::write(&dir.join("ok.txt"), "inside");
    let storage = server
        .local_import(project, &dir, json!({"use_blob_urls": true}))
        .await;
    let path = format!("/api/storages/localfiles/{}", storage["id"]);
    assert_eq!(server.sync(&path).await["last_sync_count"], 1);
    let outside = tempfile::tempdir().unwrap();
    common::write(&outside.path().join("secret.txt"), "outside-secret");
    std::fs::rename(&dir, server.root.join("swap-old")).unwrap();
    std::os::unix::fs::symlink(outside.path(), &dir).unwrap();
    let served = server
        .get("/data/local-files/?d=swap/secret.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 404);
    let (status, reply) = server.post_json(&format!("{path}/sync"), json!({})).await;
    assert_eq!(status, 400, "{reply}");
    assert!(
        field_error(&reply, "non_field_errors").contains("must be a subdirectory"),
        "{reply}"
    );
    let tasks = server.tasks(project).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
}

#[tokio::test]
async fn validation_does_not_tell_whether_a_path_outside_the_root_exists() {
    let server = Server::start();
    let project = server.project().await;
    let existing = tempfile::tempdir().unwrap();
    let missing = existing.path().join("no-such-dir");
    let message = |path: std::path::PathBuf| {
        let body = json!({"project": project, "path": path});
        let server = &server;
        async move {
            let (status, reply) = server
                .post_json("/api/storages/localfiles/validate", body)
                .await;
            assert_eq!(status, 400, "{reply}");
            field_error(&reply, "non_field_errors").replace(&path.display().to_string(), "<path>")
        }
    };
    assert_eq!(
        message(existing.path().to_owned()).await,
        message(missing).await
    );
}

#[tokio::test]
async fn a_zero_length_suffix_range_is_unsatisfiable() {
    let server = Server::start();
    let project = server.project().await;
    let dir = server.dir("ranges");
    common::write(&dir.join("a.txt"), "0123456789");
    server.local_import(project, &dir, json!({})).await;
    let response = server
        .get("/data/local-files/?d=ranges/a.txt")
        .header("Range", "bytes=-0")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 416);
}

#[tokio::test]
async fn a_files_preview_is_capped() {
    let server = Server::start();
    let project = server.project().await;
    let dir = server.dir("many");
    for i in 0..1100 {
        common::write(&dir.join(format!("f{i:04}.txt")), "x");
    }
    let body = json!({"project": project, "path": dir, "limit": 1_000_000});
    let (status, reply) = server
        .post_json("/api/storages/localfiles/files", body)
        .await;
    assert_eq!(status, 200, "{reply}");
    let files = reply["files"].as_array().unwrap();
    assert_eq!(files.len(), 1001, "1000 files and the 'more' sentinel");
    assert_eq!(files[1000]["key"], Value::Null);
}

#[tokio::test]
async fn file_names_that_are_not_utf8_are_reported_not_dropped() {
    use std::os::unix::ffi::OsStrExt;
    let server = Server::start();
    let project = server.project().await;
    let dir = server.dir("names");
    common::write(&dir.join("good.txt"), "x");
    let odd = std::ffi::OsStr::from_bytes(b"bad-\xff.txt");
    std::fs::write(dir.join(odd), "x").unwrap();
    let storage = server
        .local_import(project, &dir, json!({"use_blob_urls": true}))
        .await;
    let synced = server
        .sync(&format!("/api/storages/localfiles/{}", storage["id"]))
        .await;
    assert_eq!(synced["status"], "completed_with_errors", "{synced}");
    assert_eq!(synced["last_sync_count"], 1, "{synced}");
    let traceback = synced["traceback"].as_str().unwrap_or_default();
    assert!(traceback.contains("not valid UTF-8"), "{synced}");
}
