//! The embedded state store: every record in `state_*` tables of the one `redb` file that
//! [`EmbeddedDb`] opens (the embedded queue keeps its tables in the same file).
//!
//! Each trait call is one redb transaction, run on tokio's blocking pool; annotation writes,
//! which come from many clients at once, share commits ([`group_commit`]). Write transactions
//! are serialized by redb, which is what makes `create_tasks` dedupe and `finish_job` exactly
//! once under concurrent callers.

mod annotations;
mod counts;
mod group_commit;
mod jobs;
mod links;
mod project_deletion;
mod projects;
mod storages;
mod tables;
mod tasks;
#[cfg(test)]
mod tests;
mod tokens;

use std::sync::Arc;

use async_trait::async_trait;
use redb::Database;
use tokio::sync::oneshot;

use self::group_commit::{AnnotationWrite, GroupCommit};
use self::tables::During;
use super::{StateResult, StateStore, StorageUpdate};
use crate::embedded_db::EmbeddedDb;
use crate::model::{
    Annotation, AnnotationId, AnnotationPatch, ApiTokenRecord, BatchId, BatchOutcome,
    CreateOutcome, JobId, JobKind, JobStatus, LinkPage, NewAnnotation, NewApiToken, NewProject,
    NewStorage, NewTask, OutboxEntry, PageRecord, Project, ProjectCounts, ProjectId, StorageId,
    StorageRecord, StorageRole, SyncJob, Task, TaskId, TaskRemoval, TokenId,
};

/// [`StateStore`] over the embedded `redb` file.
#[derive(Clone)]
pub struct EmbeddedState {
    db: Arc<EmbeddedDb>,
    annotation_writes: Arc<GroupCommit>,
}

impl std::fmt::Debug for EmbeddedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedState")
            .field("db", &self.db)
            .finish()
    }
}

impl EmbeddedState {
    /// Uses `db` for the state, creating the state tables if this is a new file.
    pub fn new(db: Arc<EmbeddedDb>) -> StateResult<Self> {
        const OP: &str = "create tables";
        tables::write(db.database(), OP, |txn| {
            let totals_exist = counts::totals_exist(txn, OP)?;
            tables::create_all(txn)?;
            if !totals_exist {
                counts::backfill(txn, OP)?;
            }
            Ok(())
        })?;
        let annotation_writes = Arc::new(GroupCommit::start(&db));
        Ok(EmbeddedState {
            db,
            annotation_writes,
        })
    }

    /// Runs `work` on the blocking pool, where redb may block.
    async fn run<T: Send + 'static>(
        &self,
        operation: &'static str,
        work: impl FnOnce(&Database) -> StateResult<T> + Send + 'static,
    ) -> StateResult<T> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || work(db.database()))
            .await
            .during(operation)?
    }
}

/// Why an `update_storage` transaction was abandoned: the caller went away mid-update.
#[derive(Debug, thiserror::Error)]
#[error("the caller of update_storage went away before the update was applied")]
struct UpdateAbandoned;

#[async_trait]
impl StateStore for EmbeddedState {
    async fn create_project(&self, project: NewProject) -> StateResult<Project> {
        self.run("create_project", move |db| projects::create(db, project))
            .await
    }

    async fn get_project(&self, id: ProjectId) -> StateResult<Option<Project>> {
        self.run("get_project", move |db| projects::get(db, id))
            .await
    }

    async fn list_projects(&self) -> StateResult<Vec<Project>> {
        self.run("list_projects", projects::list).await
    }

    async fn put_project(&self, project: &Project) -> StateResult<()> {
        let project = project.clone();
        self.run("put_project", move |db| projects::put(db, &project))
            .await
    }

    async fn delete_project(&self, id: ProjectId) -> StateResult<bool> {
        self.run("delete_project", move |db| project_deletion::delete(db, id))
            .await
    }

    async fn project_counts(&self, project: ProjectId) -> StateResult<ProjectCounts> {
        self.run("project_counts", move |db| counts::of_project(db, project))
            .await
    }

    async fn create_storage(&self, storage: NewStorage) -> StateResult<StorageRecord> {
        self.run("create_storage", move |db| storages::create(db, storage))
            .await
    }

    async fn get_storage(&self, id: StorageId) -> StateResult<Option<StorageRecord>> {
        self.run("get_storage", move |db| storages::get(db, id))
            .await
    }

    async fn list_storages(
        &self,
        project: ProjectId,
        role: StorageRole,
    ) -> StateResult<Vec<StorageRecord>> {
        self.run("list_storages", move |db| storages::list(db, project, role))
            .await
    }

    /// The write transaction runs on the blocking pool and hands the record over here, where
    /// the (borrowed, non-`'static`) update runs; the transaction commits once it comes back.
    async fn update_storage(
        &self,
        id: StorageId,
        update: StorageUpdate<'_>,
    ) -> StateResult<Option<StorageRecord>> {
        const OP: &str = "update_storage";
        let (current_tx, current_rx) = oneshot::channel::<Option<StorageRecord>>();
        let (updated_tx, updated_rx) = oneshot::channel::<StorageRecord>();
        let transaction = self.run(OP, move |db| {
            tables::write(db, OP, |txn| {
                let Some(before) = storages::read_for_update(txn, id)? else {
                    // The receiver learns "gone" from the result below as well.
                    let _ = current_tx.send(None);
                    return Ok(None);
                };
                current_tx
                    .send(Some(before.clone()))
                    .map_err(|_| UpdateAbandoned)
                    .during(OP)?;
                let after = updated_rx.blocking_recv().during(OP)?;
                storages::write_updated(txn, &before, &after)?;
                Ok(Some(after))
            })
        });
        let apply = async move {
            if let Ok(Some(mut record)) = current_rx.await {
                update(&mut record);
                // A closed channel means the transaction failed; its result says why.
                let _ = updated_tx.send(record);
            }
        };
        let (result, ()) = tokio::join!(transaction, apply);
        result
    }

    async fn delete_storage(&self, id: StorageId) -> StateResult<bool> {
        self.run("delete_storage", move |db| storages::delete(db, id))
            .await
    }

    async fn scheduled_storages(&self) -> StateResult<Vec<StorageRecord>> {
        self.run("scheduled_storages", storages::scheduled).await
    }

    async fn storages_at(&self, location: &str) -> StateResult<Vec<StorageRecord>> {
        let location = location.to_owned();
        self.run("storages_at", move |db| {
            storages::at_location(db, &location)
        })
        .await
    }

    async fn create_tasks(
        &self,
        project: ProjectId,
        job: Option<JobId>,
        tasks: Vec<NewTask>,
    ) -> StateResult<CreateOutcome> {
        self.run("create_tasks", move |db| {
            tasks::create(db, project, job, tasks)
        })
        .await
    }

    async fn get_task(&self, id: TaskId) -> StateResult<Option<Task>> {
        self.run("get_task", move |db| tasks::get(db, id)).await
    }

    async fn list_tasks(
        &self,
        project: ProjectId,
        after: Option<TaskId>,
        limit: usize,
    ) -> StateResult<Vec<Task>> {
        self.run("list_tasks", move |db| {
            tasks::list(db, project, after, limit)
        })
        .await
    }

    async fn count_tasks(&self, project: ProjectId) -> StateResult<u64> {
        self.run("count_tasks", move |db| tasks::count(db, project))
            .await
    }

    async fn delete_task(&self, id: TaskId) -> StateResult<bool> {
        self.run("delete_task", move |db| tasks::delete(db, id))
            .await
    }

    async fn object_tasks(&self, scope: u64, key: &str) -> StateResult<Vec<TaskId>> {
        let key = key.to_owned();
        self.run("object_tasks", move |db| {
            links::object_tasks(db, scope, &key)
        })
        .await
    }

    async fn linked_keys(&self, scope: u64, keys: Vec<String>) -> StateResult<Vec<String>> {
        self.run("linked_keys", move |db| links::linked_keys(db, scope, keys))
            .await
    }

    async fn linked_tasks(
        &self,
        scope: u64,
        cursor: Option<String>,
        limit: usize,
    ) -> StateResult<LinkPage> {
        self.run("linked_tasks", move |db| {
            links::linked_tasks(db, scope, cursor, limit)
        })
        .await
    }

    async fn remove_unlabeled_task(&self, id: TaskId) -> StateResult<TaskRemoval> {
        self.run("remove_unlabeled_task", move |db| {
            links::remove_unlabeled(db, id)
        })
        .await
    }

    async fn create_annotation(
        &self,
        task: TaskId,
        annotation: NewAnnotation,
    ) -> StateResult<Annotation> {
        let write = AnnotationWrite::Create(task, annotation);
        let created = self.annotation_writes.write(write).await?;
        created.ok_or(super::StateError::NotFound {
            what: "task",
            id: task,
        })
    }

    async fn get_annotation(&self, id: AnnotationId) -> StateResult<Option<Annotation>> {
        self.run("get_annotation", move |db| annotations::get(db, id))
            .await
    }

    async fn update_annotation(
        &self,
        id: AnnotationId,
        patch: AnnotationPatch,
    ) -> StateResult<Option<Annotation>> {
        self.annotation_writes
            .write(AnnotationWrite::Update(id, patch))
            .await
    }

    async fn delete_annotation(&self, id: AnnotationId) -> StateResult<Option<Annotation>> {
        self.annotation_writes
            .write(AnnotationWrite::Delete(id))
            .await
    }

    async fn list_annotations(
        &self,
        project: ProjectId,
        after: Option<AnnotationId>,
        limit: usize,
    ) -> StateResult<Vec<Annotation>> {
        self.run("list_annotations", move |db| {
            annotations::list(db, project, after, limit)
        })
        .await
    }

    async fn list_task_annotations(&self, task: TaskId) -> StateResult<Vec<Annotation>> {
        self.run("list_task_annotations", move |db| {
            annotations::list_for_task(db, task)
        })
        .await
    }

    async fn outbox(&self, limit: usize) -> StateResult<Vec<OutboxEntry>> {
        self.run("outbox", move |db| annotations::outbox(db, limit))
            .await
    }

    async fn clear_outbox(&self, ids: &[String]) -> StateResult<()> {
        let ids = ids.to_vec();
        self.run("clear_outbox", move |db| {
            annotations::clear_outbox(db, &ids)
        })
        .await
    }

    async fn create_job(&self, storage: StorageId, kind: JobKind) -> StateResult<SyncJob> {
        self.run("create_job", move |db| jobs::create(db, storage, kind))
            .await
    }

    async fn get_job(&self, id: JobId) -> StateResult<Option<SyncJob>> {
        self.run("get_job", move |db| jobs::get(db, id)).await
    }

    async fn record_page(
        &self,
        job: JobId,
        page: u64,
        record: PageRecord,
    ) -> StateResult<(SyncJob, PageRecord)> {
        self.run("record_page", move |db| {
            jobs::record_page(db, job, page, record)
        })
        .await
    }

    async fn mark_page_sent(&self, job: JobId, page: u64) -> StateResult<()> {
        self.run("mark_page_sent", move |db| {
            jobs::mark_page_sent(db, job, page)
        })
        .await
    }

    async fn page_sent(&self, job: JobId, page: u64) -> StateResult<bool> {
        self.run("page_sent", move |db| jobs::page_sent(db, job, page))
            .await
    }

    async fn record_batch(
        &self,
        job: JobId,
        batch: BatchId,
        outcome: BatchOutcome,
    ) -> StateResult<SyncJob> {
        self.run("record_batch", move |db| {
            jobs::record_batch(db, job, batch, outcome)
        })
        .await
    }

    async fn start_job(&self, job: JobId) -> StateResult<SyncJob> {
        self.run("start_job", move |db| jobs::start(db, job)).await
    }

    async fn finish_job(
        &self,
        job: JobId,
        status: JobStatus,
        failure: Option<String>,
    ) -> StateResult<Option<SyncJob>> {
        self.run("finish_job", move |db| {
            jobs::finish(db, job, status, failure)
        })
        .await
    }

    async fn create_api_token(&self, token: NewApiToken) -> StateResult<ApiTokenRecord> {
        self.run("create_api_token", move |db| tokens::create(db, token))
            .await
    }

    async fn get_api_token(&self, id: TokenId) -> StateResult<Option<ApiTokenRecord>> {
        self.run("get_api_token", move |db| tokens::get(db, id))
            .await
    }

    async fn list_api_tokens(&self) -> StateResult<Vec<ApiTokenRecord>> {
        self.run("list_api_tokens", tokens::list).await
    }

    async fn delete_api_token(&self, id: TokenId) -> StateResult<bool> {
        self.run("delete_api_token", move |db| tokens::delete(db, id))
            .await
    }
}
