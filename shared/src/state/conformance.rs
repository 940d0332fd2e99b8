//! The checks every [`StateStore`] must pass; each implementation's tests call [`run_all`].
//!
//! Each check is self-contained: it creates its own project (and storages), never assumes an
//! empty store and looks only at records it made, so the checks can share one store (a shared
//! DynamoDB table too). A failed check panics with what it expected.

mod fixtures;
mod job_parts;
mod links;
mod project_checks;

use fixtures::{MISSING, all_tasks, new_project, new_storage, scoped, sourced};

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::json;

use super::{StateError, StateStore};
use crate::model::{
    AnnotationPatch, BatchId, BatchOutcome, JobKind, JobStatus, NewAnnotation, NewApiToken,
    NewTask, PageRecord, StorageRecord, StorageRole, SyncSchedule, SyncStatus,
};

/// Runs every check against `store`.
pub async fn run_all(store: Arc<dyn StateStore>) {
    projects(&*store).await;
    storages(&*store).await;
    delete_storage_keeps_links(&*store).await;
    storages_are_found_by_location(&*store).await;
    scheduled_storages_are_indexed(&*store).await;
    create_tasks_dedupes_sources(&*store).await;
    create_tasks_tells_redelivery(&*store).await;
    create_tasks_with_annotations(&*store).await;
    concurrent_create_tasks(Arc::clone(&store)).await;
    list_tasks_pages(&*store).await;
    annotations_keep_task_counters(&*store).await;
    jobs_record_once(&*store).await;
    concurrent_finish_job(Arc::clone(&store)).await;
    api_tokens(&*store).await;
    annotation_changes_are_in_the_outbox(&*store).await;
    delete_task_takes_its_annotations_and_link(&*store).await;
    concurrent_annotations(Arc::clone(&store)).await;
    project_checks::project_counts_follow_every_change(&*store).await;
    project_checks::delete_project_takes_everything_in_it(&*store).await;
    job_parts::listing_parts_are_counted_once(&*store).await;
    links::run_all(store).await;
}

/// Projects: create, get, list, put.
pub async fn projects(store: &dyn StateStore) {
    let first = new_project(store, "projects-1", 1).await;
    let second = new_project(store, "projects-2", 3).await;
    assert!(
        second.id > first.id,
        "project ids increase: {} then {}",
        first.id,
        second.id
    );
    assert_eq!(first.title, "projects-1");
    assert_eq!(second.maximum_annotations, 3);

    let got = store.get_project(first.id).await.expect("get_project");
    assert_eq!(got.as_ref(), Some(&first));
    assert_eq!(store.get_project(MISSING).await.expect("get_project"), None);

    let listed = store.list_projects().await.expect("list_projects");
    for project in [&first, &second] {
        assert!(
            listed.contains(project),
            "list_projects lacks project {}",
            project.id
        );
    }

    let mut changed = second.clone();
    changed.title = "projects-2 renamed".to_owned();
    changed.maximum_annotations = 2;
    store.put_project(&changed).await.expect("put_project");
    let got = store.get_project(second.id).await.expect("get_project");
    assert_eq!(got, Some(changed));
}

/// Storages: create, get, list by project and role in id order, update, delete.
pub async fn storages(store: &dyn StateStore) {
    let project = new_project(store, "storages", 1).await;
    let other = new_project(store, "storages-other", 1).await;
    let import_a = new_storage(store, project.id, StorageRole::Import).await;
    let export_b = new_storage(store, project.id, StorageRole::Export).await;
    let import_c = new_storage(store, project.id, StorageRole::Import).await;
    new_storage(store, other.id, StorageRole::Import).await;
    assert!(
        import_a.id < export_b.id && export_b.id < import_c.id,
        "storage ids increase"
    );
    assert_eq!(import_a.status, SyncStatus::Initialized);
    assert_eq!(import_a.settings.get("path"), Some(&json!("/data/images")));

    let got = store.get_storage(import_a.id).await.expect("get_storage");
    assert_eq!(got.as_ref(), Some(&import_a));
    assert_eq!(store.get_storage(MISSING).await.expect("get_storage"), None);

    let imports = store
        .list_storages(project.id, StorageRole::Import)
        .await
        .expect("list");
    assert_eq!(imports, vec![import_a.clone(), import_c.clone()]);
    let exports = store
        .list_storages(project.id, StorageRole::Export)
        .await
        .expect("list");
    assert_eq!(exports, vec![export_b.clone()]);

    let update = |s: &mut StorageRecord| {
        s.status = SyncStatus::Queued;
        s.title = Some("renamed".to_owned());
        s.last_sync_count = Some(s.last_sync_count.unwrap_or(0) + 1);
    };
    let updated = store
        .update_storage(import_a.id, &update)
        .await
        .expect("update_storage");
    let updated = updated.expect("update_storage finds the storage");
    assert_eq!(updated.status, SyncStatus::Queued);
    assert_eq!(updated.title.as_deref(), Some("renamed"));
    assert_eq!(updated.last_sync_count, Some(1));
    let got = store.get_storage(import_a.id).await.expect("get_storage");
    assert_eq!(got.as_ref(), Some(&updated));
    let missing = store
        .update_storage(MISSING, &update)
        .await
        .expect("update_storage");
    assert_eq!(missing, None);

    assert!(
        store
            .delete_storage(import_c.id)
            .await
            .expect("delete_storage")
    );
    assert!(
        !store
            .delete_storage(import_c.id)
            .await
            .expect("delete_storage again")
    );
    assert_eq!(
        store.get_storage(import_c.id).await.expect("get_storage"),
        None
    );
    let imports = store
        .list_storages(project.id, StorageRole::Import)
        .await
        .expect("list");
    assert_eq!(imports, vec![updated]);
}

/// Deleting a storage keeps its tasks and their links: a storage on the same location (the
/// same scope) finds them and creates nothing twice, while a storage linking in its own scope
/// (a fresh import) creates its tasks anew.
pub async fn delete_storage_keeps_links(store: &dyn StateStore) {
    const LOCATION: u64 = 1 << 63 | 0x5eed;
    let project = new_project(store, "delete-storage-links", 1).await;
    let first = new_storage(store, project.id, StorageRole::Import).await;
    let batch = |storage: u64| {
        vec![
            scoped(storage, LOCATION, "a.jpg", None),
            scoped(storage, LOCATION, "b.json", Some(0)),
        ]
    };
    let created = store
        .create_tasks(project.id, None, batch(first.id))
        .await
        .expect("create_tasks");
    assert_eq!(created.created, 2);

    assert!(
        store
            .delete_storage(first.id)
            .await
            .expect("delete_storage")
    );
    let second = new_storage(store, project.id, StorageRole::Import).await;
    let again = store
        .create_tasks(project.id, None, batch(second.id))
        .await
        .expect("create_tasks");
    assert_eq!(
        (again.created, again.existed),
        (0, 2),
        "the same location found its links: {again:?}"
    );
    let fresh = store
        .create_tasks(
            project.id,
            None,
            vec![
                sourced(second.id, "a.jpg", None),
                sourced(second.id, "b.json", Some(0)),
            ],
        )
        .await
        .expect("create_tasks");
    assert_eq!(
        (fresh.created, fresh.existed),
        (2, 0),
        "a storage's own scope is its own: {fresh:?}"
    );
    assert_eq!(
        store.count_tasks(project.id).await.expect("count_tasks"),
        4,
        "tasks stay"
    );
}

/// The dedupe key is `(storage, key, row_index)`: rows `None`, `Some(0)`, `Some(1)` and the
/// same key in another storage are distinct; a source seen before (in an earlier call or
/// earlier in the same call) exists; tasks without a source are always created.
pub async fn create_tasks_dedupes_sources(store: &dyn StateStore) {
    let project = new_project(store, "create-tasks-dedupe", 1).await;
    let s1 = new_storage(store, project.id, StorageRole::Import).await.id;
    let s2 = new_storage(store, project.id, StorageRole::Import).await.id;
    let batch = || {
        let mut with_prediction = sourced(s1, "k", None);
        with_prediction.predictions = vec![json!({ "result": [] }), json!({ "result": [] })];
        vec![
            with_prediction,
            sourced(s1, "k", Some(0)),
            sourced(s1, "k", Some(1)),
            sourced(s2, "k", None),
            NewTask::from_data(json!({ "text": "no source" })),
        ]
    };

    let first = store
        .create_tasks(project.id, None, batch())
        .await
        .expect("create_tasks");
    assert_eq!(first.created, 5, "distinct sources: {first:?}");
    let second = store
        .create_tasks(project.id, None, batch())
        .await
        .expect("create_tasks");
    assert_eq!(
        (second.created, second.existed),
        (1, 4),
        "second call: {second:?}"
    );
    assert_eq!(second.created_earlier_by_job, 0);

    let twice = vec![sourced(s1, "dup", None), sourced(s1, "dup", None)];
    let outcome = store
        .create_tasks(project.id, None, twice)
        .await
        .expect("create_tasks");
    assert_eq!(
        outcome.created, 1,
        "a source repeated in one call: {outcome:?}"
    );

    let tasks = all_tasks(store, project.id).await;
    assert_eq!(tasks.len(), 7);
    assert_eq!(store.count_tasks(project.id).await.expect("count_tasks"), 7);
    let first_task = &tasks[0];
    assert_eq!(first_task.project, project.id);
    assert_eq!(first_task.inner_id, first_task.id);
    assert_eq!(first_task.total_predictions, 2);
    assert_eq!(first_task.data, json!({ "image": "/data/k" }));
    assert_eq!(first_task.source, batch()[0].source);
    let got = store.get_task(first_task.id).await.expect("get_task");
    assert_eq!(got.as_ref(), Some(first_task));
    assert_eq!(store.get_task(MISSING).await.expect("get_task"), None);
}

/// A job redelivering its own batch sees `created_earlier_by_job`; another job, or none,
/// sees `existed`.
pub async fn create_tasks_tells_redelivery(store: &dyn StateStore) {
    let project = new_project(store, "create-tasks-redelivery", 1).await;
    let storage = new_storage(store, project.id, StorageRole::Import).await.id;
    let job = store
        .create_job(storage, JobKind::Import)
        .await
        .expect("create_job")
        .id;
    let other_job = store
        .create_job(storage, JobKind::Import)
        .await
        .expect("create_job")
        .id;
    let batch = || {
        (0..3)
            .map(|i| sourced(storage, &format!("r{i}.png"), None))
            .collect()
    };

    let first = store
        .create_tasks(project.id, Some(job), batch())
        .await
        .expect("create_tasks");
    assert_eq!(first.created, 3);
    let redelivered = store
        .create_tasks(project.id, Some(job), batch())
        .await
        .expect("create_tasks");
    assert_eq!(
        (
            redelivered.created,
            redelivered.created_earlier_by_job,
            redelivered.existed
        ),
        (0, 3, 0),
        "redelivery: {redelivered:?}"
    );
    let other = store
        .create_tasks(project.id, Some(other_job), batch())
        .await
        .expect("create");
    assert_eq!(
        (other.created_earlier_by_job, other.existed),
        (0, 3),
        "other job: {other:?}"
    );
    let no_job = store
        .create_tasks(project.id, None, batch())
        .await
        .expect("create_tasks");
    assert_eq!(
        (no_job.created_earlier_by_job, no_job.existed),
        (0, 3),
        "no job: {no_job:?}"
    );
    assert_eq!(store.count_tasks(project.id).await.expect("count_tasks"), 3);
}

/// Imported annotations become annotation records and count on their task.
pub async fn create_tasks_with_annotations(store: &dyn StateStore) {
    let project = new_project(store, "create-tasks-annotations", 2).await;
    let mut labeled = NewTask::from_data(json!({ "text": "labeled" }));
    labeled.annotations = vec![
        json!({ "result": [{ "value": { "choices": ["a"] } }] }),
        json!({ "result": [], "was_cancelled": true }),
        json!({ "result": [], "completed_by": { "id": 7 }, "lead_time": 1.5, "ground_truth": true }),
    ];
    let mut half = NewTask::from_data(json!({ "text": "half" }));
    half.annotations = vec![json!({ "result": [] })];
    let outcome = store
        .create_tasks(project.id, None, vec![labeled, half])
        .await
        .expect("create");
    assert_eq!(outcome.created, 2);

    let tasks = all_tasks(store, project.id).await;
    let (labeled, half) = (&tasks[0], &tasks[1]);
    assert_eq!(
        (labeled.total_annotations, labeled.cancelled_annotations),
        (2, 1)
    );
    assert!(labeled.is_labeled, "2 of maximum_annotations 2");
    assert_eq!((half.total_annotations, half.cancelled_annotations), (1, 0));
    assert!(!half.is_labeled, "1 of maximum_annotations 2");

    let annotations = store.list_task_annotations(labeled.id).await.expect("list");
    assert_eq!(annotations.len(), 3);
    assert_eq!(
        annotations[0].result,
        json!([{ "value": { "choices": ["a"] } }])
    );
    assert!(annotations[1].was_cancelled);
    assert_eq!(annotations[2].completed_by, Some(7));
    assert_eq!(annotations[2].lead_time, Some(1.5));
    assert!(annotations[2].ground_truth);
    assert!(
        annotations
            .iter()
            .all(|a| a.task == labeled.id && a.project == project.id)
    );
    let in_project = store
        .list_annotations(project.id, None, 100)
        .await
        .expect("list");
    assert_eq!(in_project.len(), 4);
}

/// Eight callers importing overlapping sources at once create exactly one task per source.
pub async fn concurrent_create_tasks(store: Arc<dyn StateStore>) {
    const WORKERS: u64 = 8;
    const PER_WORKER: u64 = 50;
    const STRIDE: u64 = 10;
    let project = new_project(&*store, "concurrent-create-tasks", 1).await;
    let storage = new_storage(&*store, project.id, StorageRole::Import)
        .await
        .id;
    let workers: Vec<_> = (0..WORKERS)
        .map(|worker| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let start = worker * STRIDE;
                let mut total = crate::model::CreateOutcome::default();
                for chunk_start in (start..start + PER_WORKER).step_by(10) {
                    let batch = (chunk_start..chunk_start + 10)
                        .map(|n| sourced(storage, &format!("c{n:04}.jpg"), None))
                        .collect();
                    total.add(
                        store
                            .create_tasks(project.id, None, batch)
                            .await
                            .expect("create"),
                    );
                }
                total
            })
        })
        .collect();
    let mut total = crate::model::CreateOutcome::default();
    for worker in workers {
        total.add(worker.await.expect("worker task"));
    }
    let unique = (WORKERS - 1) * STRIDE + PER_WORKER;
    assert_eq!(total.created, unique, "one task per source: {total:?}");
    assert_eq!(total.created + total.existed, WORKERS * PER_WORKER);
    assert_eq!(
        store.count_tasks(project.id).await.expect("count_tasks"),
        unique
    );
    let tasks = all_tasks(&*store, project.id).await;
    assert_eq!(tasks.len() as u64, unique);
    let keys: HashSet<_> = tasks
        .iter()
        .filter_map(|t| t.source.as_ref())
        .map(|s| &s.key)
        .collect();
    assert_eq!(keys.len() as u64, unique, "no source has two tasks");
}

/// `list_tasks` pages in id order with `after`, and only over its project.
pub async fn list_tasks_pages(store: &dyn StateStore) {
    let project = new_project(store, "list-tasks", 1).await;
    let other = new_project(store, "list-tasks-other", 1).await;
    let make = |n: u64| {
        (0..n)
            .map(|i| NewTask::from_data(json!({ "n": i })))
            .collect()
    };
    store
        .create_tasks(project.id, None, make(25))
        .await
        .expect("create_tasks");
    store
        .create_tasks(other.id, None, make(3))
        .await
        .expect("create_tasks");

    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    loop {
        let page = store
            .list_tasks(project.id, seen.last().copied(), 10)
            .await
            .expect("list");
        if page.is_empty() {
            break;
        }
        sizes.push(page.len());
        assert!(
            page.iter().all(|t| t.project == project.id),
            "only the project's tasks"
        );
        seen.extend(page.iter().map(|t| t.id));
    }
    assert_eq!(sizes, vec![10, 10, 5]);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "id order: {seen:?}");
    assert_eq!(
        store.count_tasks(project.id).await.expect("count_tasks"),
        25
    );
    assert_eq!(store.count_tasks(other.id).await.expect("count_tasks"), 3);
    assert_eq!(
        store
            .list_tasks(project.id, None, 0)
            .await
            .expect("list")
            .len(),
        0
    );
}

/// Annotations: create, get, update, delete, list; the task's counters and `is_labeled`
/// follow every change.
pub async fn annotations_keep_task_counters(store: &dyn StateStore) {
    let project = new_project(store, "annotations", 1).await;
    let new_task = NewTask::from_data(json!({ "text": "annotate me" }));
    store
        .create_tasks(project.id, None, vec![new_task])
        .await
        .expect("create_tasks");
    let task = all_tasks(store, project.id).await.remove(0);
    assert_eq!((task.total_annotations, task.is_labeled), (0, false));
    let counters = |task: crate::model::Task| {
        (
            task.total_annotations,
            task.cancelled_annotations,
            task.is_labeled,
        )
    };
    let read_task = || async {
        store
            .get_task(task.id)
            .await
            .expect("get_task")
            .expect("task")
    };

    let first = NewAnnotation {
        result: json!([{ "id": "r1" }]),
        ..NewAnnotation::default()
    };
    let first = store
        .create_annotation(task.id, first)
        .await
        .expect("create_annotation");
    assert_eq!((first.task, first.project), (task.id, project.id));
    assert_eq!(
        store.get_annotation(first.id).await.expect("get").as_ref(),
        Some(&first)
    );
    assert_eq!(counters(read_task().await), (1, 0, true));

    let cancel = AnnotationPatch {
        was_cancelled: Some(true),
        ..AnnotationPatch::default()
    };
    let cancelled = store
        .update_annotation(first.id, cancel)
        .await
        .expect("update");
    assert!(cancelled.expect("annotation exists").was_cancelled);
    assert_eq!(counters(read_task().await), (0, 1, false));

    let rewrite = AnnotationPatch {
        result: Some(json!([])),
        ..AnnotationPatch::default()
    };
    store
        .update_annotation(first.id, rewrite)
        .await
        .expect("update");
    let got = store
        .get_annotation(first.id)
        .await
        .expect("get")
        .expect("annotation");
    assert_eq!((got.result, got.was_cancelled), (json!([]), true));
    let missing = store
        .update_annotation(MISSING, AnnotationPatch::default())
        .await;
    assert_eq!(missing.expect("update_annotation"), None);

    let second = store
        .create_annotation(task.id, NewAnnotation::default())
        .await
        .expect("create");
    assert!(second.id > first.id);
    assert_eq!(counters(read_task().await), (1, 1, true));
    let listed: Vec<_> = store
        .list_annotations(project.id, None, 10)
        .await
        .expect("list");
    assert_eq!(
        listed.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![first.id, second.id]
    );
    let after_first = store
        .list_annotations(project.id, Some(first.id), 10)
        .await
        .expect("list");
    assert_eq!(
        after_first.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![second.id]
    );
    assert_eq!(
        store
            .list_task_annotations(task.id)
            .await
            .expect("list")
            .len(),
        2
    );

    let deleted = store
        .delete_annotation(second.id)
        .await
        .expect("delete_annotation");
    assert_eq!(deleted.map(|a| a.id), Some(second.id));
    assert_eq!(store.get_annotation(second.id).await.expect("get"), None);
    assert_eq!(
        store
            .delete_annotation(second.id)
            .await
            .expect("delete again"),
        None
    );
    assert_eq!(counters(read_task().await), (0, 1, false));
    store
        .delete_annotation(first.id)
        .await
        .expect("delete_annotation");
    assert_eq!(counters(read_task().await), (0, 0, false));
    assert!(
        store
            .list_task_annotations(task.id)
            .await
            .expect("list")
            .is_empty()
    );

    let orphan = store
        .create_annotation(MISSING, NewAnnotation::default())
        .await;
    assert!(
        matches!(
            orphan,
            Err(StateError::NotFound {
                what: "task",
                id: MISSING
            })
        ),
        "annotation of a missing task: {orphan:?}"
    );
}

fn page_of(batches: u64, is_last: bool) -> PageRecord {
    PageRecord {
        batches,
        is_last,
        ..PageRecord::default()
    }
}

/// Jobs: pages and batches count once however often they are recorded; completion follows
/// them; `start_job` sets `started_at` once; `finish_job` moves a running job once.
pub async fn jobs_record_once(store: &dyn StateStore) {
    let project = new_project(store, "jobs", 1).await;
    let storage = new_storage(store, project.id, StorageRole::Import).await.id;
    let job = store
        .create_job(storage, JobKind::Import)
        .await
        .expect("create_job");
    assert_eq!(
        (job.status, job.storage, job.kind),
        (JobStatus::Running, storage, JobKind::Import)
    );
    assert_eq!(
        store.get_job(job.id).await.expect("get_job").as_ref(),
        Some(&job)
    );
    assert_eq!(store.get_job(MISSING).await.expect("get_job"), None);

    let started = store.start_job(job.id).await.expect("start_job");
    assert!(started.started_at.is_some());
    let restarted = store.start_job(job.id).await.expect("start_job again");
    assert_eq!(
        restarted.started_at, started.started_at,
        "started_at is set once"
    );

    for _ in 0..2 {
        let (after, _) = store
            .record_page(job.id, 0, page_of(2, false))
            .await
            .expect("record_page");
        assert_eq!((after.pages_recorded, after.batches_expected), (1, 2));
    }
    let sent = |page| store.page_sent(job.id, page);
    assert!(!sent(0).await.expect("page_sent"), "nothing sent yet");
    for _ in 0..2 {
        store
            .mark_page_sent(job.id, 0)
            .await
            .expect("mark_page_sent");
    }
    assert!(sent(0).await.expect("page_sent"));
    assert!(!sent(1).await.expect("page_sent"), "per page");
    let outcome = BatchOutcome {
        created: 3,
        existed: 1,
        errors: vec!["bad key x".to_owned()],
        unlisted_errors: 2,
    };
    for _ in 0..2 {
        let batch = BatchId { page: 0, batch: 0 };
        let after = store
            .record_batch(job.id, batch, outcome.clone())
            .await
            .expect("batch");
        assert_eq!(
            (after.batches_done, after.created, after.existed),
            (1, 3, 1)
        );
        assert_eq!(
            (after.error_count, after.errors.len()),
            (3, 1),
            "listed and counted"
        );
        assert!(!after.is_complete());
    }
    let (after, _) = store
        .record_page(job.id, 1, page_of(1, true))
        .await
        .expect("record_page");
    assert_eq!((after.pages_recorded, after.pages_total), (2, Some(2)));
    assert!(!after.is_complete(), "2 of 3 batches outstanding");
    let one = BatchOutcome {
        created: 1,
        ..BatchOutcome::default()
    };
    let after = store
        .record_batch(job.id, BatchId { page: 0, batch: 1 }, one.clone())
        .await;
    assert!(!after.expect("record_batch").is_complete());
    let after = store
        .record_batch(job.id, BatchId { page: 1, batch: 0 }, one)
        .await;
    let after = after.expect("record_batch");
    assert!(after.is_complete(), "every batch done: {after:?}");
    assert_eq!(after.created, 5);

    let finished = store
        .finish_job(job.id, JobStatus::Completed, None)
        .await
        .expect("finish");
    let finished = finished.expect("the first finish moves the job");
    assert_eq!(finished.status, JobStatus::Completed);
    assert!(finished.finished_at.is_some());
    let again = store
        .finish_job(job.id, JobStatus::Failed, Some("late".to_owned()))
        .await;
    assert_eq!(again.expect("finish_job again"), None);
    let stored = store.get_job(job.id).await.expect("get_job").expect("job");
    assert_eq!(
        (stored.status, stored.failure),
        (JobStatus::Completed, None)
    );
}

/// Two callers finishing the same job at once: exactly one of them moves it.
pub async fn concurrent_finish_job(store: Arc<dyn StateStore>) {
    let project = new_project(&*store, "concurrent-finish", 1).await;
    let storage = new_storage(&*store, project.id, StorageRole::Import)
        .await
        .id;
    let job = store
        .create_job(storage, JobKind::Import)
        .await
        .expect("create_job")
        .id;
    let finisher = |status: JobStatus, failure: Option<&str>| {
        let store = Arc::clone(&store);
        let failure = failure.map(str::to_owned);
        tokio::spawn(async move { store.finish_job(job, status, failure).await })
    };
    let completed = finisher(JobStatus::Completed, None);
    let failed = finisher(JobStatus::Failed, Some("listing failed"));
    let completed = completed.await.expect("finisher").expect("finish_job");
    let failed = failed.await.expect("finisher").expect("finish_job");
    let winner = match (completed, failed) {
        (Some(job), None) | (None, Some(job)) => job,
        other => panic!("exactly one finisher must move the job, got {other:?}"),
    };
    let stored = store.get_job(job).await.expect("get_job").expect("job");
    assert_eq!(
        (stored.status, stored.failure),
        (winner.status, winner.failure)
    );
    assert_ne!(stored.status, JobStatus::Running);
}

/// API tokens: create, get, list in id order, delete once.
pub async fn api_tokens(store: &dyn StateStore) {
    let project = new_project(store, "api-tokens", 1).await;
    let other = new_project(store, "api-tokens-other", 1).await;
    let named = NewApiToken {
        name: Some("ci uploader".to_owned()),
        projects: vec![project.id, other.id],
        secret_hash: format!("{:064x}", 0xabc_u64),
    };
    let unnamed = NewApiToken {
        name: None,
        projects: vec![other.id],
        secret_hash: format!("{:064x}", 0xdef_u64),
    };
    let first = store
        .create_api_token(named.clone())
        .await
        .expect("create_api_token");
    let second = store
        .create_api_token(unnamed.clone())
        .await
        .expect("create_api_token");
    assert!(
        second.id > first.id,
        "token ids increase: {} then {}",
        first.id,
        second.id
    );

    for (token, new) in [(&first, &named), (&second, &unnamed)] {
        let got = store.get_api_token(token.id).await.expect("get_api_token");
        let got = got.unwrap_or_else(|| panic!("get_api_token finds token {}", token.id));
        assert_eq!(&got, token);
        assert_eq!(got.secret_hash, new.secret_hash);
        assert_eq!(got.projects, new.projects);
        assert_eq!(got.name, new.name);
    }
    assert_eq!(
        store.get_api_token(MISSING).await.expect("get_api_token"),
        None
    );

    let listed = store.list_api_tokens().await.expect("list_api_tokens");
    assert!(
        listed.windows(2).all(|pair| pair[0].id < pair[1].id),
        "list_api_tokens in id order: {:?}",
        listed.iter().map(|t| t.id).collect::<Vec<_>>()
    );
    let ours: Vec<_> = listed
        .iter()
        .filter(|t| t.id == first.id || t.id == second.id)
        .collect();
    assert_eq!(ours, vec![&first, &second]);

    assert!(
        store
            .delete_api_token(first.id)
            .await
            .expect("delete_api_token")
    );
    assert!(
        !store
            .delete_api_token(first.id)
            .await
            .expect("delete_api_token again")
    );
    assert!(
        !store
            .delete_api_token(MISSING)
            .await
            .expect("delete_api_token of a missing token")
    );
    assert_eq!(
        store.get_api_token(first.id).await.expect("get_api_token"),
        None
    );
    let listed = store.list_api_tokens().await.expect("list_api_tokens");
    assert!(
        listed.iter().all(|t| t.id != first.id),
        "list_api_tokens still shows deleted token {}",
        first.id
    );
    assert!(
        listed.contains(&second),
        "list_api_tokens lacks token {}",
        second.id
    );
}

/// Every annotation change is in the outbox, in order, until cleared.
pub async fn annotation_changes_are_in_the_outbox(store: &dyn StateStore) {
    let project = new_project(store, "outbox", 1).await;
    store
        .create_tasks(project.id, None, vec![NewTask::from_data(json!({"t": 1}))])
        .await
        .expect("create_tasks");
    let task = all_tasks(store, project.id).await.remove(0);
    let created = store
        .create_annotation(task.id, NewAnnotation::default())
        .await
        .expect("create_annotation");
    let patch = AnnotationPatch {
        ground_truth: Some(true),
        ..AnnotationPatch::default()
    };
    store
        .update_annotation(created.id, patch)
        .await
        .expect("update_annotation");
    store
        .delete_annotation(created.id)
        .await
        .expect("delete_annotation");
    let mine = |entries: Vec<crate::model::OutboxEntry>| -> Vec<crate::model::OutboxEntry> {
        entries
            .into_iter()
            .filter(|e| e.event.annotation == created.id)
            .collect()
    };
    let entries = mine(store.outbox(10_000).await.expect("outbox"));
    let deleted: Vec<bool> = entries.iter().map(|e| e.event.deleted).collect();
    assert_eq!(deleted, [false, false, true], "{entries:?}");
    assert!(entries.iter().all(|e| e.event.project == project.id));
    let ids: Vec<String> = entries.iter().map(|e| e.id.clone()).collect();
    store.clear_outbox(&ids).await.expect("clear_outbox");
    store
        .clear_outbox(&ids)
        .await
        .expect("clearing twice is fine");
    assert!(mine(store.outbox(10_000).await.expect("outbox")).is_empty());
}

/// Annotations written by many callers at once all get their own ids, and the task's counters
/// count every one (group commit must not lose or merge writes).
pub async fn concurrent_annotations(store: Arc<dyn StateStore>) {
    let project = new_project(&*store, "concurrent annotations", 1).await;
    store
        .create_tasks(project.id, None, vec![NewTask::from_data(json!({"t": 1}))])
        .await
        .expect("create_tasks");
    let task = all_tasks(&*store, project.id).await.remove(0);
    let writers: Vec<_> = (0..16)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .create_annotation(task.id, NewAnnotation::default())
                    .await
                    .expect("create_annotation")
                    .id
            })
        })
        .collect();
    let mut ids = HashSet::new();
    for writer in writers {
        ids.insert(writer.await.expect("writer"));
    }
    assert_eq!(ids.len(), 16);
    let task = store
        .get_task(task.id)
        .await
        .expect("get_task")
        .expect("task");
    assert_eq!(task.total_annotations, 16);
    let missing = store
        .create_annotation(u64::MAX - 7, NewAnnotation::default())
        .await;
    assert!(
        matches!(missing, Err(StateError::NotFound { .. })),
        "{missing:?}"
    );
}

/// Deleting a task deletes its annotations (each announced as deleted in the outbox) and its
/// link, so its source imports again; other tasks and their links stay.
pub async fn delete_task_takes_its_annotations_and_link(store: &dyn StateStore) {
    let project = new_project(store, "delete-task", 1).await;
    let storage = new_storage(store, project.id, StorageRole::Import).await;
    let both = || {
        vec![
            sourced(storage.id, "a.jpg", None),
            sourced(storage.id, "b.jpg", None),
        ]
    };
    store
        .create_tasks(project.id, None, both())
        .await
        .expect("create_tasks");
    let tasks = all_tasks(store, project.id).await;
    let doomed = tasks
        .iter()
        .find(|t| t.source.as_ref().is_some_and(|s| s.key == "a.jpg"))
        .expect("the task of a.jpg");
    let annotation = store
        .create_annotation(doomed.id, NewAnnotation::default())
        .await
        .expect("create_annotation");

    assert!(store.delete_task(doomed.id).await.expect("delete_task"));
    assert!(
        !store
            .delete_task(doomed.id)
            .await
            .expect("delete_task again")
    );
    assert_eq!(store.get_task(doomed.id).await.expect("get_task"), None);
    assert_eq!(store.count_tasks(project.id).await.expect("count"), 1);
    let gone = store.get_annotation(annotation.id).await.expect("get");
    assert_eq!(gone, None, "the task's annotation went with it");
    let announced: Vec<bool> = store
        .outbox(10_000)
        .await
        .expect("outbox")
        .iter()
        .filter(|e| e.event.annotation == annotation.id)
        .map(|e| e.event.deleted)
        .collect();
    assert_eq!(
        announced,
        [false, true],
        "created, then deleted with its task"
    );

    let again = store
        .create_tasks(project.id, None, both())
        .await
        .expect("create_tasks");
    assert_eq!(
        (again.created, again.existed),
        (1, 1),
        "only the deleted task's source imports again: {again:?}"
    );
}

/// Source storages are found by their location across projects; target storages and other
/// locations are not; an update moves a storage, a delete removes it.
pub async fn storages_are_found_by_location(store: &dyn StateStore) {
    let here = format!("s3://bucket-{}/", uuid_like(store).await);
    let elsewhere = format!("{here}elsewhere/");
    let mut ids = Vec::new();
    for (role, location) in [
        (StorageRole::Import, &here),
        (StorageRole::Import, &here),
        (StorageRole::Export, &here),
        (StorageRole::Import, &elsewhere),
    ] {
        let project = new_project(store, "by-location", 1).await;
        let mut storage = new_storage(store, project.id, role).await;
        let located = location.clone();
        let set = move |s: &mut StorageRecord| s.location = Some(located.clone());
        storage = store
            .update_storage(storage.id, &set)
            .await
            .expect("update_storage")
            .expect("the storage");
        ids.push(storage.id);
    }
    let found = |list: Vec<StorageRecord>| list.iter().map(|s| s.id).collect::<Vec<_>>();
    let at_here = found(store.storages_at(&here).await.expect("storages_at"));
    assert_eq!(at_here, ids[..2], "the two source storages, in id order");

    let moved = elsewhere.clone();
    let set = move |s: &mut StorageRecord| s.location = Some(moved.clone());
    store.update_storage(ids[0], &set).await.expect("update");
    assert_eq!(found(store.storages_at(&here).await.expect("at")), [ids[1]]);
    let at_elsewhere = found(store.storages_at(&elsewhere).await.expect("at"));
    assert_eq!(at_elsewhere, [ids[0], ids[3]]);

    store.delete_storage(ids[3]).await.expect("delete_storage");
    assert_eq!(
        found(store.storages_at(&elsewhere).await.expect("at")),
        [ids[0]]
    );
}

/// A text no other run of the suite on the same store uses (ids only grow).
async fn uuid_like(store: &dyn StateStore) -> u64 {
    new_project(store, "unique", 1).await.id
}

/// Source storages with a schedule are listed; without one, or target storages, are not; a
/// schedule turned off, or a deleted storage, leaves the list.
pub async fn scheduled_storages_are_indexed(store: &dyn StateStore) {
    let project = new_project(store, "scheduled", 1).await;
    let mut ids = Vec::new();
    for (role, minutes) in [
        (StorageRole::Import, Some(5)),
        (StorageRole::Import, None),
        (StorageRole::Export, Some(5)),
        (StorageRole::Import, Some(60)),
    ] {
        let storage = new_storage(store, project.id, role).await;
        let set = move |s: &mut StorageRecord| s.schedule = SyncSchedule::every(minutes);
        store
            .update_storage(storage.id, &set)
            .await
            .expect("update");
        ids.push(storage.id);
    }
    let ours = |list: Vec<StorageRecord>| -> Vec<u64> {
        list.iter()
            .map(|s| s.id)
            .filter(|id| ids.contains(id))
            .collect()
    };
    let scheduled = ours(store.scheduled_storages().await.expect("scheduled"));
    assert_eq!(scheduled, [ids[0], ids[3]]);

    let off = |s: &mut StorageRecord| s.schedule = SyncSchedule::every(None);
    store.update_storage(ids[0], &off).await.expect("update");
    store.delete_storage(ids[3]).await.expect("delete");
    assert!(ours(store.scheduled_storages().await.expect("scheduled")).is_empty());
}
