//! Redis storages against a real `redis-server` (with a password): the backend conformance
//! suite, Label Studio's validation rules, and import + export end to end through the real
//! local process. Nothing here is out of the server's reach: every check is real Redis.

mod common;
#[path = "common/emulators.rs"]
mod emulators;

use common::Server;
use emulators::REDIS_PASSWORD;
use labelsync::backends::ObjectStore;
use labelsync::backends::conformance;
use labelsync::connectors::redis::backend::{RedisBackend, RedisTarget};
use labelsync::egress::{EgressPolicy, Guard};
use serde_json::{Value, json};

fn port() -> u16 {
    let endpoint = &emulators::redis().endpoint;
    endpoint.rsplit(':').next().unwrap().parse().unwrap()
}

fn backend(db: u16) -> RedisBackend {
    let target = RedisTarget {
        // The test's own emulator, on loopback.
        guard: Guard::new(EgressPolicy::allow_all()),
        host: "127.0.0.1",
        port: port(),
        password: Some(REDIS_PASSWORD),
        db,
    };
    RedisBackend::new(&target).expect("client")
}

fn private_server() -> Server {
    Server::start_with(&[("LABELSYNC_ALLOW_PRIVATE_ENDPOINTS", "true")])
}

fn fields(project: u64, extra: Value) -> Value {
    let mut body = json!({"project": project, "host": "127.0.0.1", "port": port().to_string(),
                          "password": REDIS_PASSWORD});
    common::merge(&mut body, extra);
    body
}

#[tokio::test]
async fn the_redis_backend_passes_the_conformance_suite() {
    let prefix = format!("{}/", emulators::unique("suite"));
    conformance::run_all(&backend(3), &prefix).await;
}

#[tokio::test]
async fn validation_speaks_label_studio() {
    let server = private_server();
    let project = server.project().await;
    let (status, reply) = server
        .post_json("/api/storages/redis", fields(project, json!({"db": 0})))
        .await;
    assert_eq!(status, 400);
    let message = reply["validation_errors"]["db"][0]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("explicitly pass a redis db id"), "{reply}");

    let wrong = fields(project, json!({"password": "not-the-password"}));
    let (status, reply) = server.post_json("/api/storages/redis", wrong).await;
    assert_eq!(status, 400);
    let message = reply["validation_errors"]["non_field_errors"][0]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.starts_with("Can't connect to Redis server."),
        "{reply}"
    );
    assert!(!reply.to_string().contains("not-the-password"), "{reply}");

    let (status, storage) = server
        .post_json(
            "/api/storages/redis",
            fields(project, json!({"path": "x:"})),
        )
        .await;
    assert_eq!(status, 201, "{storage}");
    assert_eq!(
        (storage["db"].as_u64(), storage["port"].as_str()),
        (Some(1), Some(port().to_string().as_str()))
    );
    assert!(storage.get("password").is_none() && !storage.to_string().contains(REDIS_PASSWORD));
    let (status, export) = server
        .post_json("/api/storages/export/redis", fields(project, json!({})))
        .await;
    assert_eq!((status, export["db"].as_u64()), (201, Some(2)), "{export}");
}

#[tokio::test]
async fn loopback_hosts_are_refused_by_default() {
    let server = Server::start();
    let project = server.project().await;
    let (status, reply) = server
        .post_json("/api/storages/redis", fields(project, json!({})))
        .await;
    assert_eq!(status, 400);
    let message = reply["validation_errors"]["host"][0]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("non-public address"), "{reply}");
}

#[tokio::test]
async fn keys_become_tasks_and_annotations_become_keys() {
    let path = format!("{}:", emulators::unique("tasks"));
    let source = backend(1);
    let put = |key: String, value: Value| {
        let source = &source;
        async move { source.put(&key, value.to_string().into()).await.unwrap() }
    };
    put(format!("{path}1"), json!({"text": "one"})).await;
    put(
        format!("{path}2"),
        json!([{"text": "two"}, {"data": {"text": "three"}}]),
    )
    .await;
    put(format!("{path}bad"), json!("not a task")).await;
    put(
        format!("other-{path}"),
        json!({"text": "not under the path"}),
    )
    .await;

    let server = private_server();
    let project = server.project().await;
    let (status, storage) = server
        .post_json(
            "/api/storages/redis",
            fields(project, json!({"path": path})),
        )
        .await;
    assert_eq!(status, 201, "{storage}");
    let sync_path = format!("/api/storages/redis/{}", storage["id"]);
    let done = server.sync(&sync_path).await;
    assert_eq!(done["status"], "completed_with_errors", "{done}");
    assert_eq!(done["last_sync_count"], 3, "{done}");
    assert!(
        done["traceback"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("{path}bad")),
        "{done}"
    );
    let tasks = server.tasks(project).await;
    let mut seen: Vec<(String, String)> = tasks
        .iter()
        .map(|t| {
            (
                t["storage_filename"].as_str().unwrap().to_owned(),
                t["data"]["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort();
    let expected = [("1", "one"), ("2", "three"), ("2", "two")];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(k, t)| (format!("{path}{k}"), t.to_string()))
        .collect();
    assert_eq!(seen, expected);
    let again = server.sync(&sync_path).await;
    assert_eq!(
        again["last_sync_count"], 0,
        "a re-sync creates nothing: {again}"
    );

    let (status, target) = server
        .post_json(
            "/api/storages/export/redis",
            fields(project, json!({"can_delete_objects": true})),
        )
        .await;
    assert_eq!(status, 201, "{target}");
    let task = tasks[0]["id"].as_u64().unwrap();
    common::annotation_export_round_trip(&server, task, &backend(2), "").await;
}

/// Two Redis storages of one project on different dbs hold the same key names: each imports its
/// own. Tasks link to the storage's location, which for Redis is its host, port and db (its
/// URIs are bare keys, which say nothing of where they live).
#[tokio::test]
async fn the_same_keys_in_two_dbs_are_two_sets_of_tasks() {
    let path = format!("{}:", emulators::unique("twin"));
    for db in [3, 4] {
        let store = backend(db);
        for n in 1..=2 {
            let task = json!({"text": format!("db {db} task {n}")});
            store
                .put(&format!("{path}{n}"), task.to_string().into())
                .await
                .unwrap();
        }
    }
    let server = private_server();
    let project = server.project().await;
    for db in [3, 4] {
        let body = fields(project, json!({"path": path, "db": db}));
        let (status, storage) = server.post_json("/api/storages/redis", body).await;
        assert_eq!(status, 201, "{storage}");
        let synced = server
            .sync(&format!("/api/storages/redis/{}", storage["id"]))
            .await;
        common::assert_synced(&synced, "completed", 2);
    }
    assert_eq!(server.tasks(project).await.len(), 4);
}
