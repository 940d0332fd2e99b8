//! The state seam: every record labelsync keeps, behind one trait with an embedded
//! implementation (one `redb` file) and DynamoDB. [`conformance`] holds the checks
//! every implementation must pass.
//!
//! Contract highlights:
//! - ids are allocated by the store, unique per kind, increasing;
//! - `create_tasks` is the dedupe point: a task with a `source` is created only if no task is
//!   linked to `(storage, key, row_index)` yet, and the task and its link appear together or not
//!   at all, also under concurrent calls;
//! - job records (`record_page`, `record_batch`) are idempotent per page and per batch;
//! - `finish_job` moves a running job to a final status exactly once.

#[cfg(any(test, feature = "testing"))]
pub mod conformance;
#[cfg(feature = "aws")]
pub mod dynamo;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod records;

use async_trait::async_trait;

use crate::model::{
    Annotation, AnnotationId, AnnotationPatch, ApiTokenRecord, BatchId, BatchOutcome,
    CreateOutcome, JobId, JobKind, JobStatus, LinkPage, NewAnnotation, NewApiToken, NewProject,
    NewStorage, NewTask, OutboxEntry, PageRecord, Project, ProjectCounts, ProjectId, StorageId,
    StorageRecord, StorageRole, SyncJob, Task, TaskId, TaskRemoval, TokenId,
};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: u64 },
    #[error("state store failed during {operation}: {source}")]
    Store {
        operation: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("a stored {what} could not be decoded: {source}")]
    Corrupt {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

pub type StateResult<T> = Result<T, StateError>;

/// A storage update applied atomically by [`StateStore::update_storage`].
pub type StorageUpdate<'a> = &'a (dyn Fn(&mut StorageRecord) + Send + Sync);

#[async_trait]
pub trait StateStore: Send + Sync {
    // Projects.
    async fn create_project(&self, project: NewProject) -> StateResult<Project>;
    async fn get_project(&self, id: ProjectId) -> StateResult<Option<Project>>;
    async fn list_projects(&self) -> StateResult<Vec<Project>>;
    /// Overwrites the stored project with the same id.
    async fn put_project(&self, project: &Project) -> StateResult<()>;
    /// Deletes the project with everything in it, as Label Studio does: its storages first
    /// (nothing syncs into it or exports from it any more; their jobs stay as history), then
    /// its tasks as [`StateStore::delete_task`] deletes them, in passes, and the project once no
    /// task is left, so a call that was interrupted can be made again. `false` if it did not
    /// exist.
    async fn delete_project(&self, id: ProjectId) -> StateResult<bool>;
    /// The project's counters (tasks, annotations not cancelled, predictions), kept with every
    /// change, so reading them costs one read whatever the project's size.
    async fn project_counts(&self, project: ProjectId) -> StateResult<ProjectCounts>;

    // Storages.
    async fn create_storage(&self, storage: NewStorage) -> StateResult<StorageRecord>;
    async fn get_storage(&self, id: StorageId) -> StateResult<Option<StorageRecord>>;
    /// The project's storages of one role, in id order.
    async fn list_storages(
        &self,
        project: ProjectId,
        role: StorageRole,
    ) -> StateResult<Vec<StorageRecord>>;
    /// The source storages with a sync schedule, in id order (any project).
    async fn scheduled_storages(&self) -> StateResult<Vec<StorageRecord>>;
    /// The source storages whose `location` is `location`, in id order (any project).
    async fn storages_at(&self, location: &str) -> StateResult<Vec<StorageRecord>>;
    /// Reads, applies `update` and writes back atomically; `None` if the storage is gone.
    async fn update_storage(
        &self,
        id: StorageId,
        update: StorageUpdate<'_>,
    ) -> StateResult<Option<StorageRecord>>;
    /// Deletes the storage and its task links (tasks stay). `false` if it did not exist.
    async fn delete_storage(&self, id: StorageId) -> StateResult<bool>;

    // Tasks.
    /// The longest task, as the JSON of its [`NewTask`] (data, meta, predictions and imported
    /// annotations), the store keeps, if it has a limit; callers refuse longer tasks by name.
    fn max_task_bytes(&self) -> Option<usize> {
        None
    }
    /// Creates the tasks of `project`, skipping items whose `source` is already linked; see the
    /// module docs. `job` marks the links this call creates, so a redelivery can tell its own.
    async fn create_tasks(
        &self,
        project: ProjectId,
        job: Option<JobId>,
        tasks: Vec<NewTask>,
    ) -> StateResult<CreateOutcome>;
    async fn get_task(&self, id: TaskId) -> StateResult<Option<Task>>;
    /// Up to `limit` tasks of the project with id greater than `after`, in id order.
    async fn list_tasks(
        &self,
        project: ProjectId,
        after: Option<TaskId>,
        limit: usize,
    ) -> StateResult<Vec<Task>>;
    async fn count_tasks(&self, project: ProjectId) -> StateResult<u64>;
    /// Deletes the task, its annotations (each with a `deleted` outbox event, so target
    /// storages that delete objects remove theirs) and its link, so a sync may import its
    /// source again. `false` if it did not exist.
    async fn delete_task(&self, id: TaskId) -> StateResult<bool>;
    /// The tasks linked to `key` (every row of it) in the link namespace `scope`
    /// ([`crate::model::TaskSource::link_scope`]), in id order.
    async fn object_tasks(&self, scope: u64, key: &str) -> StateResult<Vec<TaskId>>;
    /// Those of `keys` that already made a whole-object task (a link without a row) in the
    /// namespace `scope`, in any order: what a Files-mode sync need not ingest again. Reads
    /// only, batched.
    async fn linked_keys(&self, scope: u64, keys: Vec<String>) -> StateResult<Vec<String>>;
    /// Up to `limit` links of the namespace `scope`, from `cursor` on (an earlier page's
    /// `next`); every link once, in an order of the store's.
    async fn linked_tasks(
        &self,
        scope: u64,
        cursor: Option<String>,
        limit: usize,
    ) -> StateResult<LinkPage>;
    /// For a task whose object is gone: deletes it as [`StateStore::delete_task`] does if it
    /// has no annotations, or else flags it ([`crate::model::OBJECT_REMOVED_FLAG`] in `meta`).
    /// An annotation created meanwhile is never deleted with its task.
    async fn remove_unlabeled_task(&self, id: TaskId) -> StateResult<TaskRemoval>;

    // Annotations (they keep their task's counters right). Every change also puts an
    // `AnnotationEvent` in the outbox, in the same commit.
    async fn create_annotation(
        &self,
        task: TaskId,
        annotation: NewAnnotation,
    ) -> StateResult<Annotation>;
    async fn get_annotation(&self, id: AnnotationId) -> StateResult<Option<Annotation>>;
    async fn update_annotation(
        &self,
        id: AnnotationId,
        patch: AnnotationPatch,
    ) -> StateResult<Option<Annotation>>;
    /// Deletes and returns the annotation, `None` if it did not exist.
    async fn delete_annotation(&self, id: AnnotationId) -> StateResult<Option<Annotation>>;
    /// Up to `limit` annotations of the project with id greater than `after`, in id order.
    async fn list_annotations(
        &self,
        project: ProjectId,
        after: Option<AnnotationId>,
        limit: usize,
    ) -> StateResult<Vec<Annotation>>;
    async fn list_task_annotations(&self, task: TaskId) -> StateResult<Vec<Annotation>>;
    /// Up to `limit` outbox entries, oldest first. An entry stays until it is cleared, so a
    /// relay that dies between reading and clearing sends it again (exports are idempotent).
    async fn outbox(&self, limit: usize) -> StateResult<Vec<OutboxEntry>>;
    /// Removes outbox entries whose messages were sent; unknown ids are ignored.
    async fn clear_outbox(&self, ids: &[String]) -> StateResult<()>;

    // Sync jobs.
    async fn create_job(&self, storage: StorageId, kind: JobKind) -> StateResult<SyncJob>;
    async fn get_job(&self, id: JobId) -> StateResult<Option<SyncJob>>;
    /// Records the page whose [`page_key`](crate::model::page_key) is `page`, once, numbering
    /// its new parts; returns the job afterwards and the page as first recorded, so a
    /// redelivered page sends exactly the parts its first delivery counted.
    async fn record_page(
        &self,
        job: JobId,
        page: u64,
        record: PageRecord,
    ) -> StateResult<(SyncJob, PageRecord)>;
    /// Notes that every message page `page` leads to (its next page, its batches) was sent, so a
    /// redelivered page does not send them again: without this, each duplicate page message
    /// would duplicate the next page's message, and duplicates would double page after page.
    async fn mark_page_sent(&self, job: JobId, page: u64) -> StateResult<()>;
    /// Whether [`StateStore::mark_page_sent`] was called for this page.
    async fn page_sent(&self, job: JobId, page: u64) -> StateResult<bool>;
    /// Records a batch's outcome, once; returns the job afterwards.
    async fn record_batch(
        &self,
        job: JobId,
        batch: BatchId,
        outcome: BatchOutcome,
    ) -> StateResult<SyncJob>;
    /// Sets `started_at` if unset; returns the job.
    async fn start_job(&self, job: JobId) -> StateResult<SyncJob>;
    /// Moves a running job to `status` (with `failure` for a failed one). `Some(job)` only for
    /// the one caller that made the move.
    async fn finish_job(
        &self,
        job: JobId,
        status: JobStatus,
        failure: Option<String>,
    ) -> StateResult<Option<SyncJob>>;

    // API tokens (records only: hashing secrets and checking requests is the caller's).
    /// Stores a new token under a fresh id and returns its record.
    async fn create_api_token(&self, token: NewApiToken) -> StateResult<ApiTokenRecord>;
    /// The token `id`, `None` if it does not exist.
    async fn get_api_token(&self, id: TokenId) -> StateResult<Option<ApiTokenRecord>>;
    /// Every token, in id order.
    async fn list_api_tokens(&self) -> StateResult<Vec<ApiTokenRecord>>;
    /// Deletes the token. `false` if it did not exist.
    async fn delete_api_token(&self, id: TokenId) -> StateResult<bool>;
}
