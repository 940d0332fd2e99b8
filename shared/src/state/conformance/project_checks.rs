//! The checks of a project's counters and of its deletion.

use serde_json::json;

use super::fixtures::{MISSING, all_tasks, new_project, new_storage, sourced};
use crate::model::{AnnotationPatch, NewAnnotation, NewTask, ProjectCounts, StorageRole};
use crate::state::StateStore;

fn counts(tasks: u64, annotations: u64, predictions: u64) -> ProjectCounts {
    ProjectCounts {
        tasks,
        annotations,
        predictions,
    }
}

/// A task with `predictions` predictions and these imported annotations.
fn imported(predictions: usize, annotations: Vec<serde_json::Value>) -> NewTask {
    let mut task = NewTask::from_data(json!({ "text": "counted" }));
    task.predictions = vec![json!({ "result": [] }); predictions];
    task.annotations = annotations;
    task
}

/// The counters follow imports, annotation changes and task deletions; cancelled annotations
/// are not counted.
pub async fn project_counts_follow_every_change(store: &dyn StateStore) {
    let project = new_project(store, "project-counts", 1).await;
    let read = || async { store.project_counts(project.id).await.expect("counts") };
    assert_eq!(read().await, counts(0, 0, 0));
    let cancelled = json!({ "result": [], "was_cancelled": true });
    let tasks = vec![
        imported(2, vec![json!({ "result": [] }), cancelled]),
        imported(1, Vec::new()),
    ];
    store
        .create_tasks(project.id, None, tasks)
        .await
        .expect("create_tasks");
    assert_eq!(read().await, counts(2, 1, 3), "imported");

    let second = all_tasks(store, project.id).await[1].id;
    let annotation = store
        .create_annotation(second, NewAnnotation::default())
        .await
        .expect("create_annotation");
    assert_eq!(read().await, counts(2, 2, 3), "created");
    let cancel = AnnotationPatch {
        was_cancelled: Some(true),
        ..Default::default()
    };
    store
        .update_annotation(annotation.id, cancel)
        .await
        .expect("update_annotation");
    assert_eq!(read().await, counts(2, 1, 3), "cancelled");
    let restore = AnnotationPatch {
        was_cancelled: Some(false),
        ..Default::default()
    };
    store
        .update_annotation(annotation.id, restore)
        .await
        .expect("update_annotation");
    store
        .delete_annotation(annotation.id)
        .await
        .expect("delete_annotation");
    assert_eq!(read().await, counts(2, 1, 3), "restored, then deleted");

    let first = all_tasks(store, project.id).await[0].id;
    store.delete_task(first).await.expect("delete_task");
    assert_eq!(read().await, counts(1, 0, 1), "its task deleted");
    assert_eq!(store.count_tasks(project.id).await.expect("count"), 1);
}

/// Deleting a project takes its storages, tasks, annotations, links and counters, and no other
/// project's; a second delete finds nothing.
pub async fn delete_project_takes_everything_in_it(store: &dyn StateStore) {
    let doomed = new_project(store, "delete-project", 1).await;
    let kept = new_project(store, "delete-project-neighbour", 1).await;
    let mut storages = Vec::new();
    for project in [&doomed, &kept] {
        let source = new_storage(store, project.id, StorageRole::Import).await;
        new_storage(store, project.id, StorageRole::Export).await;
        let tasks = vec![
            sourced(source.id, "a.jpg", None),
            sourced(source.id, "b.jpg", None),
        ];
        store
            .create_tasks(project.id, None, tasks)
            .await
            .expect("create_tasks");
        let task = all_tasks(store, project.id).await[0].id;
        store
            .create_annotation(task, NewAnnotation::default())
            .await
            .expect("create_annotation");
        storages.push(source);
    }
    let doomed_tasks = all_tasks(store, doomed.id).await;
    let doomed_annotations = store
        .list_annotations(doomed.id, None, 100)
        .await
        .expect("list_annotations");

    assert!(store.delete_project(doomed.id).await.expect("delete"));
    assert_eq!(store.get_project(doomed.id).await.expect("get"), None);
    for role in [StorageRole::Import, StorageRole::Export] {
        let left = store.list_storages(doomed.id, role).await.expect("list");
        assert!(left.is_empty(), "its {role:?} storages went: {left:?}");
    }
    let source = store.get_storage(storages[0].id).await.expect("get");
    assert_eq!(source, None, "its source storage went");
    for task in &doomed_tasks {
        assert_eq!(store.get_task(task.id).await.expect("get_task"), None);
    }
    for annotation in &doomed_annotations {
        let gone = store.get_annotation(annotation.id).await.expect("get");
        assert_eq!(gone, None, "its annotations went");
    }
    let left = store
        .list_annotations(doomed.id, None, 100)
        .await
        .expect("list");
    assert!(left.is_empty(), "no annotation is listed: {left:?}");
    assert_eq!(
        store.project_counts(doomed.id).await.expect("counts"),
        counts(0, 0, 0)
    );
    assert!(!store.delete_project(doomed.id).await.expect("delete again"));
    assert!(!store.delete_project(MISSING).await.expect("delete missing"));

    let again = vec![sourced(storages[0].id, "a.jpg", None)];
    let outcome = store
        .create_tasks(kept.id, None, again)
        .await
        .expect("create_tasks");
    assert_eq!(outcome.created, 1, "its links went: {outcome:?}");
    let neighbour = store.project_counts(kept.id).await.expect("counts");
    assert_eq!(neighbour, counts(3, 1, 0), "the other project is whole");
    assert_eq!(
        store
            .list_storages(kept.id, StorageRole::Export)
            .await
            .expect("list")
            .len(),
        1
    );
}
