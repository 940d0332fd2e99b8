//! The table layout of the embedded state and the helpers every operation shares: error
//! mapping, record encoding, transactions and id allocation.
//!
//! Every table name starts with `state_`: the embedded queue keeps its own tables in the same
//! file. Records are JSON; keys are integers or tuples so that range scans follow id order.

use redb::{
    Database, ReadTransaction, ReadableDatabase, ReadableTable, Table, TableDefinition,
    WriteTransaction,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::model::StorageRole;
use crate::state::{StateError, StateResult};

/// Project id -> `Project`.
pub(super) const PROJECTS: TableDefinition<u64, &[u8]> = TableDefinition::new("state_projects");
/// Storage id -> `StorageRecord`.
pub(super) const STORAGES: TableDefinition<u64, &[u8]> = TableDefinition::new("state_storages");
/// (project, role code, storage id): a project's storages of one role in id order.
pub(super) const STORAGES_BY_PROJECT: TableDefinition<(u64, u8, u64), ()> =
    TableDefinition::new("state_storages_by_project");
/// Task id -> `Task`.
pub(super) const STORAGES_BY_LOCATION: TableDefinition<(&str, u64), ()> =
    TableDefinition::new("state_storages_by_location");

pub(super) const STORAGES_SCHEDULED: TableDefinition<u64, ()> =
    TableDefinition::new("state_storages_scheduled");

pub(super) const TASKS: TableDefinition<u64, &[u8]> = TableDefinition::new("state_tasks");
/// (project, task id): a project's tasks in id order.
pub(super) const TASKS_BY_PROJECT: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("state_tasks_by_project");
/// Project id -> number of its tasks.
pub(super) const TASK_COUNTS: TableDefinition<u64, u64> = TableDefinition::new("state_task_counts");
/// Project id -> (annotations not cancelled, predictions), summed over its tasks.
pub(super) const PROJECT_TOTALS: TableDefinition<u64, (u64, u64)> =
    TableDefinition::new("state_project_totals");
/// (storage, key, row index) -> (task id, job id or [`NO_JOB`]): the dedupe links.
pub(super) const LINKS: TableDefinition<(u64, &str, Option<u64>), (u64, u64)> =
    TableDefinition::new("state_links");
/// Annotation id -> `Annotation`.
pub(super) const ANNOTATIONS: TableDefinition<u64, &[u8]> =
    TableDefinition::new("state_annotations");
/// (project, annotation id).
pub(super) const ANNOTATIONS_BY_PROJECT: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("state_annotations_by_project");
/// (task, annotation id).
pub(super) const ANNOTATIONS_BY_TASK: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("state_annotations_by_task");
/// Job id -> `SyncJob`.
pub(super) const JOBS: TableDefinition<u64, &[u8]> = TableDefinition::new("state_jobs");
/// (job, page): pages already recorded.
pub(super) const JOB_PAGES: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("state_job_pages");
/// (job, page) -> `PageRecord`: what the page announced, which a redelivery repeats.
pub(super) const JOB_PAGE_RECORDS: TableDefinition<(u64, u64), &[u8]> =
    TableDefinition::new("state_job_page_records");
/// (job, page): pages whose follow-up messages were all sent.
pub(super) const JOB_PAGES_SENT: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("state_job_pages_sent");
/// (job, page, batch): batches already recorded.
pub(super) const JOB_BATCHES: TableDefinition<(u64, u64, u64), ()> =
    TableDefinition::new("state_job_batches");
/// Event id -> `AnnotationEvent`: the outbox, written with the annotation change it announces.
pub(super) const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("state_outbox");
/// Token id -> `ApiTokenRecord`.
pub(super) const API_TOKENS: TableDefinition<u64, &[u8]> = TableDefinition::new("state_api_tokens");
/// Id kind -> last id handed out.
pub(super) const LAST_IDS: TableDefinition<&str, u64> = TableDefinition::new("state_last_ids");

/// The job id a link stores when no job created it; real ids start at 1.
pub(super) const NO_JOB: u64 = 0;

/// The table that holds records of one kind, keyed by id.
pub(super) type RecordTable<'t> = Table<'t, u64, &'static [u8]>;

/// Creates every state table, so that read transactions find them.
pub(super) fn create_all(txn: &WriteTransaction) -> StateResult<()> {
    const OP: &str = "create tables";
    for records in [
        PROJECTS,
        STORAGES,
        TASKS,
        ANNOTATIONS,
        JOBS,
        API_TOKENS,
        OUTBOX,
    ] {
        txn.open_table(records).during(OP)?;
    }
    for pairs in [
        TASKS_BY_PROJECT,
        ANNOTATIONS_BY_PROJECT,
        ANNOTATIONS_BY_TASK,
        JOB_PAGES,
        JOB_PAGES_SENT,
    ] {
        txn.open_table(pairs).during(OP)?;
    }
    txn.open_table(STORAGES_BY_PROJECT).during(OP)?;
    txn.open_table(JOB_PAGE_RECORDS).during(OP)?;
    txn.open_table(STORAGES_BY_LOCATION).during(OP)?;
    txn.open_table(STORAGES_SCHEDULED).during(OP)?;
    txn.open_table(TASK_COUNTS).during(OP)?;
    txn.open_table(PROJECT_TOTALS).during(OP)?;
    txn.open_table(LINKS).during(OP)?;
    txn.open_table(JOB_BATCHES).during(OP)?;
    txn.open_table(LAST_IDS).during(OP)?;
    Ok(())
}

/// Maps a storage-engine error to [`StateError::Store`] naming the operation.
pub(super) trait During<T> {
    fn during(self, operation: &'static str) -> StateResult<T>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> During<T> for Result<T, E> {
    fn during(self, operation: &'static str) -> StateResult<T> {
        self.map_err(|source| StateError::Store {
            operation,
            source: Box::new(source),
        })
    }
}

/// Runs `body` in one write transaction and commits it; an error aborts it.
pub(super) fn write<T>(
    db: &Database,
    operation: &'static str,
    body: impl FnOnce(&WriteTransaction) -> StateResult<T>,
) -> StateResult<T> {
    let txn = db.begin_write().during(operation)?;
    let out = body(&txn)?;
    txn.commit().during(operation)?;
    Ok(out)
}

/// Runs `body` in one read transaction.
pub(super) fn read<T>(
    db: &Database,
    operation: &'static str,
    body: impl FnOnce(&ReadTransaction) -> StateResult<T>,
) -> StateResult<T> {
    let txn = db.begin_read().during(operation)?;
    body(&txn)
}

/// Decodes a stored record.
pub(super) fn decode<T: DeserializeOwned>(what: &'static str, bytes: &[u8]) -> StateResult<T> {
    serde_json::from_slice(bytes).map_err(|source| StateError::Corrupt { what, source })
}

/// Encodes a record into `buf`, replacing what it held.
pub(super) fn encode_into<T: Serialize>(
    what: &'static str,
    record: &T,
    buf: &mut Vec<u8>,
) -> StateResult<()> {
    buf.clear();
    serde_json::to_writer(&mut *buf, record).map_err(|source| StateError::Corrupt { what, source })
}

/// Encodes a record.
pub(super) fn encode<T: Serialize>(what: &'static str, record: &T) -> StateResult<Vec<u8>> {
    let mut buf = Vec::new();
    encode_into(what, record, &mut buf)?;
    Ok(buf)
}

/// Reads and decodes the record `id` of a record table.
pub(super) fn get_record<T: DeserializeOwned>(
    table: &impl ReadableTable<u64, &'static [u8]>,
    what: &'static str,
    operation: &'static str,
    id: u64,
) -> StateResult<Option<T>> {
    match table.get(id).during(operation)? {
        Some(bytes) => decode(what, bytes.value()).map(Some),
        None => Ok(None),
    }
}

/// Encodes and stores `record` as `id`.
pub(super) fn put_record<T: Serialize>(
    table: &mut RecordTable<'_>,
    what: &'static str,
    operation: &'static str,
    id: u64,
    record: &T,
) -> StateResult<()> {
    let bytes = encode(what, record)?;
    table.insert(id, bytes.as_slice()).during(operation)?;
    Ok(())
}

/// The kinds of record that get ids; each counts on its own.
#[derive(Clone, Copy, Debug)]
pub(super) enum IdKind {
    Project,
    Storage,
    Task,
    Annotation,
    Job,
    ApiToken,
    OutboxEvent,
}

impl IdKind {
    fn name(self) -> &'static str {
        match self {
            IdKind::Project => "project",
            IdKind::Storage => "storage",
            IdKind::Task => "task",
            IdKind::Annotation => "annotation",
            IdKind::Job => "job",
            IdKind::ApiToken => "api_token",
            IdKind::OutboxEvent => "outbox_event",
        }
    }
}

/// Hands out increasing ids of one kind within a write transaction; [`IdBlock::save`] stores
/// the last one handed out. Ids start at 1.
pub(super) struct IdBlock {
    kind: IdKind,
    last: u64,
    saved: u64,
}

impl IdBlock {
    pub(super) fn load(
        ids: &Table<'_, &'static str, u64>,
        kind: IdKind,
        operation: &'static str,
    ) -> StateResult<Self> {
        let last = ids
            .get(kind.name())
            .during(operation)?
            .map_or(0, |v| v.value());
        Ok(IdBlock {
            kind,
            last,
            saved: last,
        })
    }

    pub(super) fn next(&mut self) -> u64 {
        self.last += 1;
        self.last
    }

    pub(super) fn save(
        &self,
        ids: &mut Table<'_, &'static str, u64>,
        operation: &'static str,
    ) -> StateResult<()> {
        if self.last != self.saved {
            ids.insert(self.kind.name(), self.last).during(operation)?;
        }
        Ok(())
    }
}

/// Allocates one id of `kind` in `txn`.
pub(super) fn allocate_id(
    txn: &WriteTransaction,
    kind: IdKind,
    operation: &'static str,
) -> StateResult<u64> {
    let mut ids = txn.open_table(LAST_IDS).during(operation)?;
    let mut block = IdBlock::load(&ids, kind, operation)?;
    let id = block.next();
    block.save(&mut ids, operation)?;
    Ok(id)
}

/// The role's place in the storage index.
pub(super) fn role_code(role: StorageRole) -> u8 {
    match role {
        StorageRole::Import => 0,
        StorageRole::Export => 1,
    }
}
