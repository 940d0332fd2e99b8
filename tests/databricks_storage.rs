//! Databricks storages against a local server that implements the Files API contract
//! ([`databricks_server`]; no emulator exists): the backend conformance suite, validation, and
//! sync, ranged proxy reads and export end to end through the real local process. What only
//! real Databricks can check is listed in the server's module docs.

mod common;
#[path = "common/databricks_server.rs"]
mod databricks_server;

use std::time::Duration;

use common::Server;
use common::round_trip::RoundTrip;
use databricks_server::FilesApi;
use labelsync::backends::ObjectStore;
use labelsync::backends::conformance;
use labelsync::connectors::databricks::backend::{DatabricksBackend, VolumeTarget};
use labelsync::egress::{EgressPolicy, Guard};
use serde_json::{Value, json};

const TOKEN: &str = "dapi-test-token-0123456789";

fn backend(api: &FilesApi, token: &str) -> DatabricksBackend {
    let target = VolumeTarget {
        // The test's own Files API server, on loopback.
        guard: Guard::new(EgressPolicy::allow_all()),
        host: &api.url,
        token,
        catalog: "main",
        schema: "raw",
        volume: "media",
        timeout: Duration::from_secs(10),
        verify_tls: true,
    };
    DatabricksBackend::new(&target).expect("client")
}

fn fields(api: &FilesApi, project: u64, extra: Value) -> Value {
    let mut body = json!({"project": project, "host": api.url, "catalog": "main", "schema": "raw",
                          "volume": "media", "token": TOKEN});
    common::merge(&mut body, extra);
    body
}

fn private_server() -> Server {
    Server::start_with(&[("LABELSYNC_ALLOW_PRIVATE_ENDPOINTS", "true")])
}

#[tokio::test]
async fn the_databricks_backend_passes_the_conformance_suite() {
    let api = FilesApi::start(TOKEN).await;
    conformance::run_all(&backend(&api, TOKEN), "suite/").await;
}

#[tokio::test]
async fn a_wrong_token_is_refused_by_the_server() {
    let api = FilesApi::start(TOKEN).await;
    let put = backend(&api, "wrong").put("x", "y".into()).await;
    assert!(
        matches!(
            put,
            Err(labelsync::backends::BackendError::PermissionDenied { .. })
        ),
        "{put:?}"
    );
}

#[tokio::test]
async fn validation_names_the_field_and_the_volume() {
    let api = FilesApi::start(TOKEN).await;
    let server = private_server();
    let project = server.project().await;
    let (status, reply) = server
        .post_json(
            "/api/storages/databricks",
            fields(&api, project, json!({"volume": null})),
        )
        .await;
    assert_eq!(
        (status, reply["validation_errors"]["volume"][0].as_str()),
        (400, Some("This field is required."))
    );
    let wrong = fields(&api, project, json!({"token": "dapi-wrong"}));
    let (status, reply) = server.post_json("/api/storages/databricks", wrong).await;
    assert_eq!(status, 400);
    let message = reply["validation_errors"]["non_field_errors"][0]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains("refused the token for dbx://Volumes/main/raw/media/"),
        "{reply}"
    );
    assert!(!reply.to_string().contains("dapi-wrong"), "{reply}");
    let (status, storage) = server
        .post_json(
            "/api/storages/export/databricks",
            fields(&api, project, json!({})),
        )
        .await;
    assert_eq!(status, 201, "{storage}");
    assert!(
        storage.get("token").is_none() && !storage.to_string().contains(TOKEN),
        "{storage}"
    );

    let public_only = Server::start();
    let project = public_only.project().await;
    let (status, reply) = public_only
        .post_json("/api/storages/databricks", fields(&api, project, json!({})))
        .await;
    assert_eq!(status, 400);
    assert!(
        reply["validation_errors"]["host"][0]
            .as_str()
            .unwrap_or_default()
            .contains("non-public address"),
        "{reply}"
    );
}

#[tokio::test]
async fn files_sync_then_proxied_media_then_export() {
    let api = FilesApi::start(TOKEN).await;
    let volume = backend(&api, TOKEN);
    let server = private_server();
    let mut own = fields(&api, 0, json!({"presign": true}));
    own.as_object_mut().unwrap().remove("project");
    // No `presigned` check: always proxied, even with presign: true.
    let trip = RoundTrip {
        server: &server,
        slug: "databricks",
        fields: own,
        store: &volume,
        presigned: None,
    };
    let imported = trip.run().await;
    trip.delete(&imported).await;
}

#[tokio::test]
async fn the_regex_filters_files_and_tasks_mode_reads_json() {
    let api = FilesApi::start(TOKEN).await;
    let volume = backend(&api, TOKEN);
    for (key, body) in [
        ("in/a.jpg", "jpeg bytes of a"),
        ("in/b.jpg", "jpeg bytes of b"),
        ("in/notes.txt", "skipped by the regex"),
        ("in/deep/c.jpg", "not recursive"),
        ("tasks/batch.json", r#"[{"text": "x"}, {"text": "y"}]"#),
    ] {
        volume.put(key, body.into()).await.unwrap();
    }
    let server = private_server();
    let project = server.project().await;
    let files = fields(
        &api,
        project,
        json!({"prefix": "in", "regex_filter": ".*jpg", "use_blob_urls": true}),
    );
    let (status, storage) = server.post_json("/api/storages/databricks", files).await;
    assert_eq!(status, 201, "{storage}");
    let done = server
        .sync(&format!("/api/storages/databricks/{}", storage["id"]))
        .await;
    common::assert_synced(&done, "completed", 2);
    let tasks_storage = fields(&api, project, json!({"prefix": "tasks"}));
    let (_, storage) = server
        .post_json("/api/storages/databricks", tasks_storage)
        .await;
    let done = server
        .sync(&format!("/api/storages/databricks/{}", storage["id"]))
        .await;
    assert_eq!(done["last_sync_count"], 2, "{done}");
    let tasks = server.tasks(project).await;
    assert_eq!(tasks.len(), 4);
    let task = tasks
        .iter()
        .find(|t| t["storage_filename"] == "in/a.jpg")
        .expect("task of in/a.jpg");
    let ranged = server
        .get(task["data"]["image"].as_str().unwrap())
        .header("Range", "bytes=2-5")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(ranged.headers()["content-range"], "bytes 2-5/15");
    assert_eq!(ranged.text().await.unwrap(), "eg b");
}
