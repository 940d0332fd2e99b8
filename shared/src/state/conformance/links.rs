//! The conformance checks of links read by object and of removing the tasks of objects that
//! are gone ([`StateStore::object_tasks`], [`StateStore::linked_tasks`],
//! [`StateStore::remove_unlabeled_task`]). Part of [`super::run_all`].

use std::collections::BTreeSet;
use std::sync::Arc;

use super::fixtures::{MISSING, all_tasks, new_project, new_storage, scoped, sourced};
use crate::model::{NewAnnotation, OBJECT_REMOVED_FLAG, StorageRole, TaskId, TaskRemoval};
use crate::state::{StateError, StateStore};

pub async fn run_all(store: Arc<dyn StateStore>) {
    object_tasks_find_every_row_of_a_key(&*store).await;
    linked_tasks_pages_every_link_once(&*store).await;
    remove_unlabeled_deletes_or_flags(&*store).await;
    removal_races_annotations(store).await;
}

/// Keys that look alike (a prefix of another, a `#` inside, a key longer than a sort key)
/// are told apart, in a location's namespace and in a storage's own.
pub async fn object_tasks_find_every_row_of_a_key(store: &dyn StateStore) {
    let project = new_project(store, "object-tasks", 1).await;
    let storage = new_storage(store, project.id, StorageRole::Import).await;
    let long = format!("deep/{}", "k".repeat(1200));
    let keys = ["a", "a#-", "a#0", "ab", long.as_str()];
    for scope in [Some(1 << 63 | project.id << 8), None] {
        let task = |key: &str, row| match scope {
            Some(scope) => scoped(storage.id, scope, key, row),
            None => sourced(storage.id, key, row),
        };
        let mut new = vec![task("a", Some(0)), task("a", Some(1)), task("a", Some(10))];
        new.extend(keys[1..].iter().map(|k| task(k, None)));
        store
            .create_tasks(project.id, None, new)
            .await
            .expect("create_tasks");
        let namespace = scope.unwrap_or(storage.id);
        let of = |key: &str| {
            let key = key.to_owned();
            async move {
                store
                    .object_tasks(namespace, &key)
                    .await
                    .expect("object_tasks")
            }
        };
        assert_eq!(
            of("a").await.len(),
            3,
            "every row of \"a\", nothing of its look-alikes"
        );
        for key in &keys[1..] {
            assert_eq!(of(key).await.len(), 1, "one task of {:.40}", key);
        }
        assert!(of("missing").await.is_empty());
        assert!(of("a#").await.is_empty(), "a key's prefix is not the key");
        linked_keys_are_whole_object_links(store, namespace, &keys).await;
    }
}

/// `keys[0]` ("a") has only row links; the others are whole-object links.
async fn linked_keys_are_whole_object_links(store: &dyn StateStore, namespace: u64, keys: &[&str]) {
    let mut asked: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
    asked.extend(["missing".to_owned(), "a#".to_owned()]);
    let mut linked = store
        .linked_keys(namespace, asked)
        .await
        .expect("linked_keys");
    linked.sort();
    let mut expected: Vec<String> = keys[1..].iter().map(|k| (*k).to_owned()).collect();
    expected.sort();
    assert_eq!(
        linked, expected,
        "whole-object links only, look-alikes told apart"
    );
    let elsewhere = store
        .linked_keys(namespace ^ 2, vec!["ab".to_owned()])
        .await;
    assert!(elsewhere.expect("linked_keys").is_empty(), "per namespace");
}

/// Pages of any size give every link of a namespace exactly once, with its key and task.
pub async fn linked_tasks_pages_every_link_once(store: &dyn StateStore) {
    let project = new_project(store, "linked-tasks", 1).await;
    let storage = new_storage(store, project.id, StorageRole::Import).await;
    let scope = 1 << 63 | project.id << 8 | 1;
    let new = (0..25)
        .map(|i| {
            scoped(
                storage.id,
                scope,
                &format!("k/{i:02}"),
                (i % 3 == 0).then_some(i),
            )
        })
        .collect();
    store
        .create_tasks(project.id, None, new)
        .await
        .expect("create_tasks");
    let expected: BTreeSet<(String, TaskId)> = all_tasks(store, project.id)
        .await
        .into_iter()
        .map(|t| (t.source.expect("source").key, t.id))
        .collect();
    for limit in [1, 7, 25, 1000] {
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = store
                .linked_tasks(scope, cursor, limit)
                .await
                .expect("linked_tasks");
            assert!(page.links.len() <= limit);
            seen.extend(page.links.into_iter().map(|l| (l.key, l.task)));
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let unique: BTreeSet<_> = seen.iter().cloned().collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "no link twice with pages of {limit}"
        );
        assert_eq!(unique, expected, "every link with pages of {limit}");
    }
    let other = store
        .linked_tasks(scope + 2, None, 10)
        .await
        .expect("linked_tasks");
    assert!(other.links.is_empty(), "another namespace has none of them");
}

/// A task without annotations is deleted with its link (its object imports again); an
/// annotated one stays, flagged once; a missing one is gone.
pub async fn remove_unlabeled_deletes_or_flags(store: &dyn StateStore) {
    let project = new_project(store, "remove-unlabeled", 1).await;
    let storage = new_storage(store, project.id, StorageRole::Import).await;
    let both = || {
        vec![
            sourced(storage.id, "bare.jpg", None),
            sourced(storage.id, "kept.jpg", None),
        ]
    };
    store
        .create_tasks(project.id, None, both())
        .await
        .expect("create_tasks");
    let task_of = |key: &str| {
        let key = key.to_owned();
        async move {
            store
                .object_tasks(storage.id, &key)
                .await
                .expect("object_tasks")[0]
        }
    };
    let (bare, kept) = (task_of("bare.jpg").await, task_of("kept.jpg").await);
    store
        .create_annotation(kept, NewAnnotation::default())
        .await
        .expect("create_annotation");

    let removal = |id| async move { store.remove_unlabeled_task(id).await.expect("remove") };
    assert_eq!(removal(bare).await, TaskRemoval::Deleted);
    assert_eq!(store.get_task(bare).await.expect("get_task"), None);
    assert!(
        store
            .object_tasks(storage.id, "bare.jpg")
            .await
            .expect("links")
            .is_empty()
    );
    assert_eq!(removal(bare).await, TaskRemoval::Gone);
    assert_eq!(removal(MISSING).await, TaskRemoval::Gone);

    assert_eq!(removal(kept).await, TaskRemoval::Flagged);
    let flagged = store.get_task(kept).await.expect("get_task").expect("kept");
    let flag = flagged.meta.get(OBJECT_REMOVED_FLAG).cloned();
    assert!(
        flag.as_ref().is_some_and(|f| f.is_string()),
        "{:?}",
        flagged.meta
    );
    assert_eq!(flagged.total_annotations, 1, "its annotation stays");
    assert_eq!(removal(kept).await, TaskRemoval::Flagged);
    let again = store.get_task(kept).await.expect("get_task").expect("kept");
    assert_eq!(
        again.meta.get(OBJECT_REMOVED_FLAG).cloned(),
        flag,
        "flagged once"
    );

    let reimport = store
        .create_tasks(project.id, None, both())
        .await
        .expect("create_tasks");
    assert_eq!(
        (reimport.created, reimport.existed),
        (1, 1),
        "the deleted task's object imports again, the flagged one does not"
    );
}

/// Annotations created while their tasks are removed: each either lands (and its task stays,
/// flagged) or is refused because the task is gone; never an annotation without its task.
pub async fn removal_races_annotations(store: Arc<dyn StateStore>) {
    let project = new_project(&*store, "removal-race", 1).await;
    let storage = new_storage(&*store, project.id, StorageRole::Import).await;
    let new = (0..12)
        .map(|i| sourced(storage.id, &format!("race/{i}.jpg"), None))
        .collect();
    store
        .create_tasks(project.id, None, new)
        .await
        .expect("create_tasks");
    let tasks = all_tasks(&*store, project.id).await;
    let mut racers = Vec::new();
    for task in &tasks {
        let (annotator, remover) = (Arc::clone(&store), Arc::clone(&store));
        let id = task.id;
        racers.push(tokio::spawn(async move {
            let annotate = annotator.create_annotation(id, NewAnnotation::default());
            let remove = remover.remove_unlabeled_task(id);
            let (annotated, removal) = tokio::join!(annotate, remove);
            (id, annotated, removal.expect("remove_unlabeled_task"))
        }));
    }
    for racer in racers {
        let (id, annotated, removal) = racer.await.expect("racer");
        let task = store.get_task(id).await.expect("get_task");
        match annotated {
            Ok(annotation) => {
                let kept = store.get_annotation(annotation.id).await.expect("get");
                assert!(
                    kept.is_some(),
                    "task {id}: a created annotation is never deleted"
                );
                assert!(
                    task.is_some(),
                    "task {id}: an annotated task stays ({removal:?})"
                );
            }
            Err(StateError::NotFound { .. }) => {
                assert_eq!(removal, TaskRemoval::Deleted, "task {id}");
                assert!(task.is_none(), "task {id}");
            }
            Err(e) => panic!("task {id}: create_annotation failed: {e}"),
        }
    }
}
