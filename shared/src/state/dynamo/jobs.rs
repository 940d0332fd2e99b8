//! Sync jobs: counters changed only together with a page/batch marker, in one transaction, so a
//! redelivered message never counts twice.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

use super::table::{Table, doc_item, key, s, store_error, text};
use crate::model::{JobId, JobKind, JobStatus, PageRecord, StorageId, SyncJob, now};
use crate::state::{StateError, StateResult};

const WHAT: &str = "job";

fn pk(job: JobId) -> String {
    format!("JOB#{job}")
}

pub async fn create_job(table: &Table, storage: StorageId, kind: JobKind) -> StateResult<SyncJob> {
    let id = table.allocate("job", 1, "create_job").await?;
    let job = SyncJob::new(id, storage, kind, now());
    table
        .put(doc_item(&pk(id), "META", &job, 1, WHAT)?, "create_job")
        .await?;
    Ok(job)
}

fn not_found(id: JobId) -> StateError {
    StateError::NotFound { what: WHAT, id }
}

/// Applies `change` to the job together with writing `marker`, once: if the marker exists the
/// job is returned unchanged.
pub async fn record_once(
    table: &Table,
    id: JobId,
    marker: &str,
    change: &(dyn Fn(&mut SyncJob) + Send + Sync),
) -> StateResult<SyncJob> {
    let noted = |job: &mut SyncJob| {
        change(job);
        None
    };
    Ok(record_noted(table, id, marker, &noted).await?.0)
}

/// Records page `page` once, keeping the record in its marker; returns the job and the page
/// as first recorded.
pub async fn record_page(
    table: &Table,
    id: JobId,
    page: u64,
    record: PageRecord,
) -> StateResult<(SyncJob, PageRecord)> {
    let noted = |job: &mut SyncJob| {
        let mut record = record.clone();
        job.add_page(&mut record);
        serde_json::to_string(&record).ok()
    };
    let (job, note) = record_noted(table, id, &format!("PAGE#{page}"), &noted).await?;
    // Markers written before pages kept records have no note: those pages never split.
    let recorded = match note {
        Some(note) => serde_json::from_str(&note).map_err(|source| StateError::Corrupt {
            what: "page",
            source,
        })?,
        None => PageRecord {
            splits: Vec::new(),
            ..record
        },
    };
    Ok((job, recorded))
}

/// [`record_once`], with the note `change` returns kept in the marker; returns the job and the
/// marker's note (the one just written, or the first writer's).
async fn record_noted(
    table: &Table,
    id: JobId,
    marker: &str,
    change: &(dyn Fn(&mut SyncJob) -> Option<String> + Send + Sync),
) -> StateResult<(SyncJob, Option<String>)> {
    const OPERATION: &str = "record_job_progress";
    loop {
        let (mut job, version) = table
            .get_doc::<SyncJob>(&pk(id), "META", WHAT, OPERATION)
            .await?
            .ok_or_else(|| not_found(id))?;
        if let Some(existing) = table.get(&pk(id), marker, OPERATION).await? {
            return Ok((job, text(&existing, "note").map(str::to_owned)));
        }
        let note = change(&mut job);
        let mut marker_item = key(&pk(id), marker);
        if let Some(note) = &note {
            marker_item.insert("note".into(), s(note.clone()));
        }
        let marker_put = Put::builder()
            .table_name(&table.name)
            .set_item(Some(marker_item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| store_error(OPERATION, e))?;
        let job_put = Put::builder()
            .table_name(&table.name)
            .set_item(Some(doc_item(&pk(id), "META", &job, version + 1, WHAT)?))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", super::table::n(version))
            .build()
            .map_err(|e| store_error(OPERATION, e))?;
        let sent = table
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(marker_put).build())
            .transact_items(TransactWriteItem::builder().put(job_put).build())
            .send()
            .await;
        match sent {
            Ok(_) => return Ok((job, note)),
            // The marker appeared or the job moved on: read again (the marker check returns).
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_transaction_canceled_exception()) =>
            {
                continue;
            }
            Err(e) => return Err(store_error(OPERATION, e)),
        }
    }
}

pub async fn start_job(table: &Table, id: JobId) -> StateResult<SyncJob> {
    let change = |job: &mut SyncJob| {
        let unset = job.started_at.is_none();
        if unset {
            job.started_at = Some(now());
            job.progress_at = job.started_at;
        }
        unset
    };
    table
        .update_doc(&pk(id), "META", WHAT, "start_job", &change)
        .await?
        .ok_or_else(|| not_found(id))
}

pub async fn finish_job(
    table: &Table,
    id: JobId,
    status: JobStatus,
    failure: Option<String>,
) -> StateResult<Option<SyncJob>> {
    const OPERATION: &str = "finish_job";
    loop {
        let (mut job, version) = table
            .get_doc::<SyncJob>(&pk(id), "META", WHAT, OPERATION)
            .await?
            .ok_or_else(|| not_found(id))?;
        if job.status != JobStatus::Running {
            return Ok(None);
        }
        job.status = status;
        job.finished_at = Some(now());
        job.failure = failure.clone();
        if table
            .put_if_version(
                doc_item(&pk(id), "META", &job, version + 1, WHAT)?,
                Some(version),
                OPERATION,
            )
            .await?
        {
            return Ok(Some(job));
        }
    }
}
