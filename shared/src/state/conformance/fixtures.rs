//! What the checks make: projects, storages and tasks of their own, and reading them back.

use serde_json::{Map, json};

use crate::model::{
    LinkScope, NewProject, NewStorage, NewTask, Project, StorageRecord, StorageRole, TaskSource,
};
use crate::state::StateStore;

/// An id no check ever creates.
pub const MISSING: u64 = u64::MAX;

pub async fn new_project(store: &dyn StateStore, title: &str, maximum_annotations: u64) -> Project {
    let new = NewProject {
        title: title.to_owned(),
        description: format!("conformance check {title}"),
        label_config: "<View><Image name=\"image\" value=\"$image\"/></View>".to_owned(),
        maximum_annotations,
    };
    store.create_project(new).await.expect("create_project")
}

pub async fn new_storage(store: &dyn StateStore, project: u64, role: StorageRole) -> StorageRecord {
    let mut settings = Map::new();
    settings.insert("path".to_owned(), json!("/data/images"));
    let new = NewStorage {
        role,
        storage_type: "state-test-type".to_owned(),
        project,
        title: Some(format!("storage of project {project}")),
        description: None,
        synchronizable: true,
        settings,
        links: LinkScope::Location,
        location: None,
        schedule: Default::default(),
        removed_objects: Default::default(),
    };
    store.create_storage(new).await.expect("create_storage")
}

/// A task imported from `(storage, key, row_index)`, linked in the storage's own scope.
pub fn sourced(storage: u64, key: &str, row_index: Option<u64>) -> NewTask {
    let mut task = NewTask::from_data(json!({ "image": format!("/data/{key}") }));
    task.source = Some(TaskSource {
        storage,
        key: key.to_owned(),
        row_index,
        row_group: None,
        scope: None,
    });
    task
}

/// The same, linked in `scope` (a location shared by storages).
pub fn scoped(storage: u64, scope: u64, key: &str, row_index: Option<u64>) -> NewTask {
    let mut task = sourced(storage, key, row_index);
    if let Some(source) = &mut task.source {
        source.scope = Some(scope);
    }
    task
}

/// Every task of `project`, read page by page.
pub async fn all_tasks(store: &dyn StateStore, project: u64) -> Vec<crate::model::Task> {
    let mut tasks = Vec::new();
    loop {
        let after = tasks.last().map(|t: &crate::model::Task| t.id);
        let page = store
            .list_tasks(project, after, 100)
            .await
            .expect("list_tasks");
        if page.is_empty() {
            return tasks;
        }
        tasks.extend(page);
    }
}
