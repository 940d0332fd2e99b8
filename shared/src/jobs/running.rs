//! Whether a message still belongs to a running job, and how messages name a storage.

use super::HandlerError;
use serde_json::Map;

use super::finish::{fail_job, show_on_storage};
use crate::context::Context;
use crate::model::{JobId, JobStatus, StorageId, StorageRecord, SyncJob, now};

/// The storage of a job that is still running; `None` when the message is obsolete (job
/// finished, superseded) — the job is failed if its storage was deleted.
pub async fn running_job_storage(
    ctx: &Context,
    job: JobId,
    storage: StorageId,
) -> Result<Option<StorageRecord>, HandlerError> {
    Ok(running_job(ctx, job, storage)
        .await?
        .map(|(_, storage)| storage))
}

/// [`running_job_storage`], with the job as read.
pub async fn running_job(
    ctx: &Context,
    job: JobId,
    storage: StorageId,
) -> Result<Option<(SyncJob, StorageRecord)>, HandlerError> {
    let Some(job_record) = ctx.state.get_job(job).await? else {
        return Ok(None);
    };
    if job_record.status != JobStatus::Running {
        return Ok(None);
    }
    let Some(record) = ctx.state.get_storage(storage).await? else {
        fail_job(
            ctx,
            job,
            format!("storage {storage} was deleted during the sync"),
        )
        .await?;
        return Ok(None);
    };
    if record.last_sync_job != Some(job) {
        fail_job(
            ctx,
            job,
            "superseded by a newer sync of the same storage".into(),
        )
        .await?;
        return Ok(None);
    }
    Ok(Some((job_record, record)))
}

/// A job that ended over `limit` ago while its storage still shows it running: the worker
/// that ended it stopped before showing the result (during the sweep after a sync, say).
fn was_never_shown(job: &SyncJob, limit: std::time::Duration) -> bool {
    let ended_for = job
        .finished_at
        .map(|at| (now() - at).to_std().unwrap_or_default());
    job.status != JobStatus::Running && ended_for.is_some_and(|idle| idle > limit)
}

/// `<type> storage 3 ("my title")`: how messages name a storage.
pub fn describe(storage: &StorageRecord) -> String {
    match &storage.title {
        Some(title) if !title.is_empty() => format!(
            "{} storage {} ({title:?})",
            storage.storage_type, storage.id
        ),
        _ => format!("{} storage {}", storage.storage_type, storage.id),
    }
}

/// A storage whose sync has not moved for `LABELSYNC_JOB_STALE_SECS` has its job failed (the
/// storage then shows `failed` and why), as Label Studio's health check of stale pings does;
/// returns the storage as it now is. Called where storages are shown and where syncs start.
pub async fn fail_if_stale(
    ctx: &Context,
    storage: StorageRecord,
) -> Result<StorageRecord, HandlerError> {
    let Some(job_id) = storage.last_sync_job.filter(|_| storage.status.is_active()) else {
        return Ok(storage);
    };
    let limit = ctx.settings.job_stale_after;
    let job = ctx.state.get_job(job_id).await?;
    if let Some(ended) = job.as_ref().filter(|j| was_never_shown(j, limit)) {
        show_on_storage(ctx, ended, Map::new()).await?;
        return Ok(ctx.state.get_storage(storage.id).await?.unwrap_or(storage));
    }
    let stale = match &job {
        Some(job) => job.is_stale(now(), limit),
        None => true,
    };
    if !stale {
        return Ok(storage);
    }
    let why = format!(
        "{}: the sync made no progress for {} s (a message was lost or keeps failing); start it again",
        describe(&storage),
        limit.as_secs()
    );
    if job.is_some() {
        fail_job(ctx, job_id, why).await?;
    }
    Ok(ctx.state.get_storage(storage.id).await?.unwrap_or(storage))
}
