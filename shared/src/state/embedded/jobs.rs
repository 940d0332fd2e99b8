//! Sync jobs: a record table plus the sets of recorded pages and batches that make
//! `record_page` and `record_batch` count each page and batch once.

use redb::{Database, ReadableTable, WriteTransaction};

use super::tables::{
    During, IdKind, JOB_BATCHES, JOB_PAGE_RECORDS, JOB_PAGES, JOB_PAGES_SENT, JOBS, RecordTable,
    allocate_id, get_record, put_record, read, write,
};
use crate::model::{
    BatchId, BatchOutcome, JobId, JobKind, JobStatus, PageRecord, StorageId, SyncJob, now,
};
use crate::state::{StateError, StateResult};

const WHAT: &str = "job";

pub(super) fn create(db: &Database, storage: StorageId, kind: JobKind) -> StateResult<SyncJob> {
    const OP: &str = "create_job";
    write(db, OP, |txn| {
        let id = allocate_id(txn, IdKind::Job, OP)?;
        let job = SyncJob::new(id, storage, kind, now());
        put_record(&mut txn.open_table(JOBS).during(OP)?, WHAT, OP, id, &job)?;
        Ok(job)
    })
}

pub(super) fn get(db: &Database, id: JobId) -> StateResult<Option<SyncJob>> {
    const OP: &str = "get_job";
    read(db, OP, |txn| {
        get_record(&txn.open_table(JOBS).during(OP)?, WHAT, OP, id)
    })
}

pub(super) fn record_page(
    db: &Database,
    id: JobId,
    page: u64,
    mut record: PageRecord,
) -> StateResult<(SyncJob, PageRecord)> {
    const OP: &str = "record_page";
    write(db, OP, |txn| {
        let first_record = txn
            .open_table(JOB_PAGES)
            .during(OP)?
            .insert((id, page), ())
            .during(OP)?
            .is_none();
        if !first_record {
            let recorded = recorded_page(txn, id, page)?.unwrap_or(PageRecord {
                splits: Vec::new(),
                ..record
            });
            return Ok((get_job(txn, id, OP)?, recorded));
        }
        let job = change_job(txn, id, OP, |job| {
            job.add_page(&mut record);
            true
        })?;
        let doc = serde_json::to_vec(&record).map_err(|source| StateError::Corrupt {
            what: "page",
            source,
        })?;
        let mut records = txn.open_table(JOB_PAGE_RECORDS).during(OP)?;
        records.insert((id, page), doc.as_slice()).during(OP)?;
        Ok((job, record))
    })
}

/// The page as first recorded; `None` for pages recorded before pages kept records (they
/// never split).
fn recorded_page(txn: &WriteTransaction, id: JobId, page: u64) -> StateResult<Option<PageRecord>> {
    const OP: &str = "record_page";
    let records = txn.open_table(JOB_PAGE_RECORDS).during(OP)?;
    let Some(doc) = records.get((id, page)).during(OP)? else {
        return Ok(None);
    };
    let recorded = serde_json::from_slice(doc.value());
    let recorded = recorded.map_err(|source| StateError::Corrupt {
        what: "page",
        source,
    });
    Ok(Some(recorded?))
}

pub(super) fn mark_page_sent(db: &Database, id: JobId, page: u64) -> StateResult<()> {
    const OP: &str = "mark_page_sent";
    write(db, OP, |txn| {
        let mut sent = txn.open_table(JOB_PAGES_SENT).during(OP)?;
        sent.insert((id, page), ()).during(OP)?;
        Ok(())
    })
}

pub(super) fn page_sent(db: &Database, id: JobId, page: u64) -> StateResult<bool> {
    const OP: &str = "page_sent";
    read(db, OP, |txn| {
        let sent = txn.open_table(JOB_PAGES_SENT).during(OP)?;
        Ok(sent.get((id, page)).during(OP)?.is_some())
    })
}

pub(super) fn record_batch(
    db: &Database,
    id: JobId,
    batch: BatchId,
    outcome: BatchOutcome,
) -> StateResult<SyncJob> {
    const OP: &str = "record_batch";
    write(db, OP, |txn| {
        let key = (id, batch.page, batch.batch);
        let first_record = txn
            .open_table(JOB_BATCHES)
            .during(OP)?
            .insert(key, ())
            .during(OP)?
            .is_none();
        change_job(txn, id, OP, |job| {
            if first_record {
                job.add_batch(&outcome);
            }
            first_record
        })
    })
}

pub(super) fn start(db: &Database, id: JobId) -> StateResult<SyncJob> {
    const OP: &str = "start_job";
    write(db, OP, |txn| {
        change_job(txn, id, OP, |job| {
            let unset = job.started_at.is_none();
            if unset {
                job.started_at = Some(now());
                job.progress_at = job.started_at;
            }
            unset
        })
    })
}

pub(super) fn finish(
    db: &Database,
    id: JobId,
    status: JobStatus,
    failure: Option<String>,
) -> StateResult<Option<SyncJob>> {
    const OP: &str = "finish_job";
    write(db, OP, |txn| {
        let mut moved = false;
        let job = change_job(txn, id, OP, |job| {
            moved = job.status == JobStatus::Running;
            if moved {
                job.status = status;
                job.finished_at = Some(now());
                job.failure = failure;
            }
            moved
        })?;
        Ok(moved.then_some(job))
    })
}

fn get_job(txn: &WriteTransaction, id: JobId, operation: &'static str) -> StateResult<SyncJob> {
    let jobs: RecordTable<'_> = txn.open_table(JOBS).during(operation)?;
    get_record(&jobs, WHAT, operation, id)?.ok_or(StateError::NotFound { what: WHAT, id })
}

/// Reads job `id` (an error if it does not exist), applies `change`, writes the job back if
/// `change` says it changed it, and returns it.
fn change_job(
    txn: &WriteTransaction,
    id: JobId,
    operation: &'static str,
    change: impl FnOnce(&mut SyncJob) -> bool,
) -> StateResult<SyncJob> {
    let mut jobs: RecordTable<'_> = txn.open_table(JOBS).during(operation)?;
    let mut job: SyncJob =
        get_record(&jobs, WHAT, operation, id)?.ok_or(StateError::NotFound { what: WHAT, id })?;
    if change(&mut job) {
        put_record(&mut jobs, WHAT, operation, id, &job)?;
    }
    Ok(job)
}
