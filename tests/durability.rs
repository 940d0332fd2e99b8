//! Nothing is lost and nothing is doubled: a crash of the local process in the middle of a sync,
//! and every queue message handled twice (at-least-once delivery).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Server, write};
use labelsync::config::Settings;
use labelsync::context::Context;
use labelsync::dispatch::handle_body;
use labelsync::embedded_db::EmbeddedDb;
use labelsync::jobs::start::start_sync;
use labelsync::model::{NewProject, NewStorage, StorageRole, SyncStatus};
use labelsync::queue::embedded::EmbeddedQueue;
use labelsync::queue::{Queue, QueueName};
use labelsync::state::StateStore;
use labelsync::state::embedded::EmbeddedState;
use serde_json::{Value, json};

const FILES: usize = 6000;

#[tokio::test]
async fn a_killed_process_finishes_the_sync_after_restart_with_the_exact_count() {
    let mut server = Server::start_with(&[
        ("LABELSYNC_LIST_PAGE_SIZE", "50"),
        ("LABELSYNC_INGEST_BATCH_SIZE", "5"),
        ("LABELSYNC_INGEST_WORKERS", "1"),
    ]);
    let ds = server.dir("crash");
    for i in 0..FILES {
        write(&ds.join(format!("f{i:05}.txt")), "x");
    }
    let project = server.project().await;
    let storage = server
        .local_import(project, &ds, json!({"use_blob_urls": true}))
        .await;
    let path = format!("/api/storages/localfiles/{}", storage["id"]);
    let (status, _) = server.post_json(&format!("{path}/sync"), json!({})).await;
    assert_eq!(status, 200);
    let at_kill = wait_for_progress(&server, &path).await;
    server.kill();
    assert_eq!(
        at_kill["status"], "in_progress",
        "the kill must land mid-sync: {at_kill}"
    );
    let created_before = at_kill["last_sync_count"].as_u64().unwrap();
    assert!(created_before < FILES as u64, "{at_kill}");

    server.restart();
    let done = server.wait_final(&path).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["last_sync_count"], FILES as u64, "{done}");
    assert_eq!(server.tasks(project).await.len(), FILES);
}

/// Waits until some batches are done but the listing is not over.
async fn wait_for_progress(server: &Server, path: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, body) = server.get_json(path).await;
        let progress = &body["meta"]["progress"];
        if progress["batches_done"].as_u64().unwrap_or(0) > 3 {
            return body;
        }
        assert!(
            body["status"] != "completed",
            "sync finished before the kill: {body}"
        );
        assert!(Instant::now() < deadline, "no progress: {body}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn every_message_handled_twice_creates_every_task_once_and_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let ds = root.join("ds");
    for i in 0..230 {
        write(
            &ds.join(format!("{i:03}.jsonl")),
            format!("{{\"n\": {i}, \"row\": 0}}\n{{\"n\": {i}, \"row\": 1}}\n"),
        );
    }
    let db = EmbeddedDb::open(&dir.path().join("data")).unwrap();
    let state = Arc::new(EmbeddedState::new(db.clone()).unwrap());
    let queue = Arc::new(EmbeddedQueue::open(db, 5).unwrap());
    let env = move |name: &str| match name {
        "LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED" => Some("true".to_owned()),
        "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT" => Some(root.to_string_lossy().into_owned()),
        "LABELSYNC_LIST_PAGE_SIZE" => Some("40".to_owned()),
        "LABELSYNC_INGEST_BATCH_SIZE" => Some("7".to_owned()),
        _ => None,
    };
    let settings = Settings::from_env(&env, dir.path()).unwrap();
    let ctx = Context::new(state.clone(), queue.clone(), settings);
    let project = state
        .create_project(NewProject {
            title: "p".into(),
            maximum_annotations: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    let storage = state
        .create_storage(NewStorage {
            role: StorageRole::Import,
            storage_type: "localfiles".into(),
            project: project.id,
            title: None,
            description: None,
            synchronizable: true,
            settings: serde_json::from_value(
                json!({"path": ds, "use_blob_urls": false, "recursive_scan": false}),
            )
            .unwrap(),
            links: labelsync::model::LinkScope::Location,
            location: None,
            schedule: Default::default(),
            removed_objects: Default::default(),
        })
        .await
        .unwrap();
    start_sync(&ctx, &storage).await.unwrap();

    let mut handled = 0;
    loop {
        let mut deliveries = Vec::new();
        for name in [QueueName::Sync, QueueName::Ingest] {
            deliveries.extend(
                queue
                    .receive(name, 10, Duration::from_secs(60), Duration::ZERO)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|d| (name, d)),
            );
        }
        if deliveries.is_empty() {
            break;
        }
        for (name, delivery) in deliveries {
            handle_body(&ctx, &delivery.body).await.unwrap();
            handle_body(&ctx, &delivery.body).await.unwrap();
            queue.ack(name, &delivery.receipt).await.unwrap();
            handled += 1;
        }
    }
    assert!(
        handled > 30,
        "pages and batches went through the queue: {handled}"
    );
    let storage = state.get_storage(storage.id).await.unwrap().unwrap();
    assert_eq!(storage.status, SyncStatus::Completed, "{storage:?}");
    assert_eq!(storage.last_sync_count, Some(460));
    assert_eq!(state.count_tasks(project.id).await.unwrap(), 460);
    assert_eq!(storage.meta.get("tasks_existed"), Some(&json!(0)));
}
