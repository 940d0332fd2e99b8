//! DynamoDB state: one table, every record a JSON document with an optimistic version, id
//! blocks from atomic counters, index items for ordered listing, and dedupe links claimed with
//! conditional writes inside the same transaction as their tasks.
//!
//! Keys (`pk` / `sk`):
//! - `PROJECTS` / `<id>`: projects; `COUNTER` / `<kind>`: id counters
//! - `STORAGE#<id>` / `META`; index `PROJECT#<p>#STORAGES#<role>` / `<id>`
//! - `TASK#<id>` / `META`; index `PROJECT#<p>#TASKS#<shard>` / `<id>`; counters `PROJECT#<p>` /
//!   `COUNTS#<shard>` (`tasks`, `annotations` not cancelled, `predictions`), summed on read
//!   (per-project items are sharded: [`sharded`])
//! - `LINKS#<namespace>#<shard>` / `<key>#<row>` (a location's namespace) or `<row>#<key>` (a
//!   storage's) → `task`, `key`, `job` (the dedupe key)
//! - `ANNOTATION#<id>` / `META`; indexes `PROJECT#<p>#ANNOTATIONS#<shard>` and
//!   `TASK#<t>#ANNOTATIONS`
//! - `JOB#<id>` / `META`; markers `JOB#<id>` / `PAGE#<n>` (with the page's record as `note`)
//!   and `BATCH#<p>#<b>`, `n` and `p` a `page_key` of listing part and page
//! - `TOKENS` / `<id>`: API tokens
//! - `OUTBOX` / `<micros>#<uuid>`: annotation changes to announce, written in the change's
//!   transaction
//!
//! Ids are zero-padded to 20 digits in sort keys, so Queries return them in order.

mod counts;
mod jobs;
mod links;
mod project_deletion;
mod records;
mod removal;
mod sharded;
mod table;
mod tasks;
mod tokens;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;

use table::Table;
pub use table::create_table;

use crate::model::{
    Annotation, AnnotationId, AnnotationPatch, ApiTokenRecord, BatchId, BatchOutcome,
    CreateOutcome, JobId, JobKind, JobStatus, LinkPage, NewAnnotation, NewApiToken, NewProject,
    NewStorage, NewTask, OutboxEntry, PageRecord, Project, ProjectCounts, ProjectId, StorageId,
    StorageRecord, StorageRole, SyncJob, Task, TaskId, TaskRemoval, TokenId,
};
use crate::state::{StateResult, StateStore, StorageUpdate};

/// The state store on a DynamoDB table (created by the SAM template, or by [`create_table`]).
#[derive(Clone, Debug)]
pub struct DynamoState {
    table: Table,
}

impl DynamoState {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoState {
            table: Table {
                client,
                name: table.into(),
            },
        }
    }
}

#[async_trait]
impl StateStore for DynamoState {
    async fn create_project(&self, project: NewProject) -> StateResult<Project> {
        records::create_project(&self.table, project).await
    }
    async fn get_project(&self, id: ProjectId) -> StateResult<Option<Project>> {
        records::get_project(&self.table, id).await
    }
    async fn list_projects(&self) -> StateResult<Vec<Project>> {
        records::list_projects(&self.table).await
    }
    async fn put_project(&self, project: &Project) -> StateResult<()> {
        records::put_project(&self.table, project).await
    }
    async fn delete_project(&self, id: ProjectId) -> StateResult<bool> {
        project_deletion::delete_project(self, id).await
    }
    async fn project_counts(&self, project: ProjectId) -> StateResult<ProjectCounts> {
        counts::project_counts(&self.table, project).await
    }
    async fn create_storage(&self, storage: NewStorage) -> StateResult<StorageRecord> {
        records::create_storage(&self.table, storage).await
    }
    async fn get_storage(&self, id: StorageId) -> StateResult<Option<StorageRecord>> {
        records::get_storage(&self.table, id).await
    }
    async fn list_storages(
        &self,
        project: ProjectId,
        role: StorageRole,
    ) -> StateResult<Vec<StorageRecord>> {
        records::list_storages(&self.table, project, role).await
    }
    async fn update_storage(
        &self,
        id: StorageId,
        update: StorageUpdate<'_>,
    ) -> StateResult<Option<StorageRecord>> {
        records::update_storage(&self.table, id, update).await
    }
    async fn delete_storage(&self, id: StorageId) -> StateResult<bool> {
        records::delete_storage(&self.table, id).await
    }
    async fn scheduled_storages(&self) -> StateResult<Vec<StorageRecord>> {
        records::scheduled_storages(&self.table).await
    }
    async fn storages_at(&self, location: &str) -> StateResult<Vec<StorageRecord>> {
        records::storages_at(&self.table, location).await
    }
    fn max_task_bytes(&self) -> Option<usize> {
        Some(tasks::MAX_TASK_BYTES)
    }
    async fn create_tasks(
        &self,
        project: ProjectId,
        job: Option<JobId>,
        tasks: Vec<NewTask>,
    ) -> StateResult<CreateOutcome> {
        tasks::create_tasks(&self.table, project, job, tasks).await
    }
    async fn get_task(&self, id: TaskId) -> StateResult<Option<Task>> {
        tasks::get_task(&self.table, id).await
    }
    async fn list_tasks(
        &self,
        project: ProjectId,
        after: Option<TaskId>,
        limit: usize,
    ) -> StateResult<Vec<Task>> {
        tasks::list_tasks(&self.table, project, after, limit).await
    }
    async fn count_tasks(&self, project: ProjectId) -> StateResult<u64> {
        tasks::count_tasks(&self.table, project).await
    }
    async fn delete_task(&self, id: TaskId) -> StateResult<bool> {
        let annotations = self.list_task_annotations(id).await?;
        records::delete_annotations_of_task(&self.table, &annotations).await?;
        tasks::delete_task(&self.table, id).await
    }
    async fn object_tasks(&self, scope: u64, key: &str) -> StateResult<Vec<TaskId>> {
        links::object_tasks(&self.table, scope, key).await
    }
    async fn linked_keys(&self, scope: u64, keys: Vec<String>) -> StateResult<Vec<String>> {
        links::linked_keys(&self.table, scope, keys).await
    }
    async fn linked_tasks(
        &self,
        scope: u64,
        cursor: Option<String>,
        limit: usize,
    ) -> StateResult<LinkPage> {
        links::linked_tasks(&self.table, scope, cursor, limit).await
    }
    async fn remove_unlabeled_task(&self, id: TaskId) -> StateResult<TaskRemoval> {
        removal::remove_unlabeled(&self.table, id).await
    }
    async fn create_annotation(
        &self,
        task: TaskId,
        annotation: NewAnnotation,
    ) -> StateResult<Annotation> {
        records::create_annotation(&self.table, task, annotation).await
    }
    async fn get_annotation(&self, id: AnnotationId) -> StateResult<Option<Annotation>> {
        records::get_annotation(&self.table, id).await
    }
    async fn update_annotation(
        &self,
        id: AnnotationId,
        patch: AnnotationPatch,
    ) -> StateResult<Option<Annotation>> {
        records::update_annotation(&self.table, id, patch).await
    }
    async fn delete_annotation(&self, id: AnnotationId) -> StateResult<Option<Annotation>> {
        records::delete_annotation(&self.table, id).await
    }
    async fn list_annotations(
        &self,
        project: ProjectId,
        after: Option<AnnotationId>,
        limit: usize,
    ) -> StateResult<Vec<Annotation>> {
        let index = format!("PROJECT#{project}#ANNOTATIONS");
        let (what, op) = ("annotation", "list_annotations");
        sharded::docs(&self.table, &index, "ANNOTATION", after, limit, what, op).await
    }
    async fn outbox(&self, limit: usize) -> StateResult<Vec<OutboxEntry>> {
        records::outbox(&self.table, limit).await
    }

    async fn clear_outbox(&self, ids: &[String]) -> StateResult<()> {
        records::clear_outbox(&self.table, ids).await
    }

    async fn list_task_annotations(&self, task: TaskId) -> StateResult<Vec<Annotation>> {
        let index = format!("TASK#{task}#ANNOTATIONS");
        self.table
            .indexed_docs(
                &index,
                "ANNOTATION",
                None,
                usize::MAX,
                "annotation",
                "list_task_annotations",
            )
            .await
    }
    async fn create_job(&self, storage: StorageId, kind: JobKind) -> StateResult<SyncJob> {
        jobs::create_job(&self.table, storage, kind).await
    }
    async fn get_job(&self, id: JobId) -> StateResult<Option<SyncJob>> {
        Ok(self
            .table
            .get_doc(&format!("JOB#{id}"), "META", "job", "get_job")
            .await?
            .map(|(job, _)| job))
    }
    async fn record_page(
        &self,
        job: JobId,
        page: u64,
        record: PageRecord,
    ) -> StateResult<(SyncJob, PageRecord)> {
        jobs::record_page(&self.table, job, page, record).await
    }
    async fn mark_page_sent(&self, job: JobId, page: u64) -> StateResult<()> {
        let marker = table::key(&format!("JOB#{job}"), &format!("SENT#{page}"));
        self.table.put(marker, "mark_page_sent").await
    }
    async fn page_sent(&self, job: JobId, page: u64) -> StateResult<bool> {
        let marker = format!("SENT#{page}");
        let item = self
            .table
            .get(&format!("JOB#{job}"), &marker, "page_sent")
            .await?;
        Ok(item.is_some())
    }
    async fn record_batch(
        &self,
        job: JobId,
        batch: BatchId,
        outcome: BatchOutcome,
    ) -> StateResult<SyncJob> {
        let change = move |j: &mut SyncJob| j.add_batch(&outcome);
        jobs::record_once(
            &self.table,
            job,
            &format!("BATCH#{}#{}", batch.page, batch.batch),
            &change,
        )
        .await
    }
    async fn start_job(&self, job: JobId) -> StateResult<SyncJob> {
        jobs::start_job(&self.table, job).await
    }
    async fn finish_job(
        &self,
        job: JobId,
        status: JobStatus,
        failure: Option<String>,
    ) -> StateResult<Option<SyncJob>> {
        jobs::finish_job(&self.table, job, status, failure).await
    }
    async fn create_api_token(&self, token: NewApiToken) -> StateResult<ApiTokenRecord> {
        tokens::create_api_token(&self.table, token).await
    }
    async fn get_api_token(&self, id: TokenId) -> StateResult<Option<ApiTokenRecord>> {
        tokens::get_api_token(&self.table, id).await
    }
    async fn list_api_tokens(&self) -> StateResult<Vec<ApiTokenRecord>> {
        tokens::list_api_tokens(&self.table).await
    }
    async fn delete_api_token(&self, id: TokenId) -> StateResult<bool> {
        tokens::delete_api_token(&self.table, id).await
    }
}
