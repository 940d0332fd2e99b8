use std::sync::Arc;
use std::time::Instant;

use redb::ReadableDatabase;
use serde_json::json;

use super::EmbeddedState;
use crate::embedded_db::EmbeddedDb;
use crate::model::{NewProject, NewTask, StorageRole, TaskSource};
use crate::state::{StateStore, conformance};

fn open(dir: &std::path::Path) -> (Arc<EmbeddedDb>, EmbeddedState) {
    let db = EmbeddedDb::open(dir).expect("open embedded db");
    let state = EmbeddedState::new(Arc::clone(&db)).expect("create state tables");
    (db, state)
}

fn sourced(storage: u64, n: u64) -> NewTask {
    let mut task = NewTask::from_data(json!({ "image": format!("s3://bucket/img/{n:07}.jpg") }));
    task.source = Some(TaskSource {
        storage,
        key: format!("img/{n:07}.jpg"),
        row_index: None,
        row_group: None,
        scope: None,
    });
    task
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_db, state) = open(dir.path());
    conformance::run_all(Arc::new(state)).await;
}

#[tokio::test]
async fn passes_the_conformance_suite_on_a_current_thread_runtime() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_db, state) = open(dir.path());
    conformance::run_all(Arc::new(state)).await;
}

#[tokio::test]
async fn every_table_is_prefixed_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (db, _state) = open(dir.path());
    let txn = db.database().begin_read().expect("read txn");
    let names: Vec<String> = txn
        .list_tables()
        .expect("list tables")
        .map(|t| redb::TableHandle::name(&t).to_owned())
        .collect();
    assert!(names.len() >= 14, "state tables created: {names:?}");
    assert!(names.iter().all(|n| n.starts_with("state_")), "{names:?}");
}

/// A store that has never held a record answers every read (object events and scheduler
/// passes can come before the first storage exists).
#[tokio::test]
async fn a_new_store_answers_every_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_db, state) = open(dir.path());
    assert!(
        state
            .storages_at("s3://bucket/")
            .await
            .expect("storages_at")
            .is_empty()
    );
    assert!(
        state
            .scheduled_storages()
            .await
            .expect("scheduled")
            .is_empty()
    );
    assert!(state.list_projects().await.expect("projects").is_empty());
    assert!(
        state
            .object_tasks(1, "a.jpg")
            .await
            .expect("object_tasks")
            .is_empty()
    );
    let links = state.linked_tasks(1, None, 10).await.expect("linked_tasks");
    assert!(links.links.is_empty());
    assert!(state.outbox(10).await.expect("outbox").is_empty());
    assert!(state.list_api_tokens().await.expect("tokens").is_empty());
    assert_eq!(state.get_task(1).await.expect("get_task"), None);
}

#[tokio::test]
async fn data_survives_reopening_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (db, state) = open(dir.path());
    let project = state
        .create_project(NewProject::default())
        .await
        .expect("project");
    let storage = crate::model::NewStorage {
        role: StorageRole::Import,
        storage_type: "state-test-type".to_owned(),
        project: project.id,
        title: None,
        description: None,
        synchronizable: true,
        settings: Default::default(),
        links: crate::model::LinkScope::Location,
        location: None,
        schedule: Default::default(),
        removed_objects: Default::default(),
    };
    let storage = state.create_storage(storage).await.expect("storage");
    let batch = || (0..10).map(|n| sourced(storage.id, n)).collect::<Vec<_>>();
    state
        .create_tasks(project.id, None, batch())
        .await
        .expect("create_tasks");
    drop(state);
    assert_eq!(Arc::strong_count(&db), 1, "nothing else holds the file");
    drop(db);

    let (_db, state) = open(dir.path());
    assert_eq!(
        state.get_project(project.id).await.expect("get"),
        Some(project.clone())
    );
    assert_eq!(
        state.get_storage(storage.id).await.expect("get"),
        Some(storage.clone())
    );
    assert_eq!(state.count_tasks(project.id).await.expect("count"), 10);
    let again = state
        .create_tasks(project.id, None, batch())
        .await
        .expect("create_tasks");
    assert_eq!((again.created, again.existed), (0, 10), "links survived");
    let next = state
        .create_project(NewProject::default())
        .await
        .expect("project");
    assert!(next.id > project.id, "id counters survived");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_100_000_tasks_in_batches_of_1000() {
    const TOTAL: u64 = 100_000;
    const BATCH: u64 = 1_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let (_db, state) = open(dir.path());
    let project = state
        .create_project(NewProject::default())
        .await
        .expect("project");
    let batches: Vec<Vec<NewTask>> = (0..TOTAL / BATCH)
        .map(|b| {
            (b * BATCH..(b + 1) * BATCH)
                .map(|n| sourced(1, n))
                .collect()
        })
        .collect();

    let started = Instant::now();
    let mut created = 0;
    for batch in batches {
        created += state
            .create_tasks(project.id, Some(1), batch)
            .await
            .expect("create")
            .created;
    }
    let elapsed = started.elapsed();
    println!(
        "created {created} tasks in batches of {BATCH} in {elapsed:?} ({:.0} tasks/s)",
        created as f64 / elapsed.as_secs_f64()
    );
    assert_eq!(created, TOTAL);
    assert_eq!(state.count_tasks(project.id).await.expect("count"), TOTAL);
}

/// A file from before the project totals existed gets them counted from its tasks on open.
#[tokio::test]
async fn a_file_without_project_totals_is_counted_on_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (db, state) = open(dir.path());
    let project = state
        .create_project(NewProject::default())
        .await
        .expect("project");
    let mut task = NewTask::from_data(json!({ "text": "old" }));
    task.predictions = vec![json!({ "result": [] }); 2];
    task.annotations = vec![json!({ "result": [] })];
    state
        .create_tasks(project.id, None, vec![task.clone(), task])
        .await
        .expect("tasks");
    drop(state);
    let txn = db.database().begin_write().expect("write txn");
    txn.delete_table(super::tables::PROJECT_TOTALS)
        .expect("drop the totals");
    txn.commit().expect("commit");

    let reopened = EmbeddedState::new(db).expect("reopen");
    let counts = reopened.project_counts(project.id).await.expect("counts");
    assert_eq!(
        (counts.tasks, counts.annotations, counts.predictions),
        (2, 2, 4)
    );
}
