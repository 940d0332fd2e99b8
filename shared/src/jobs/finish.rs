//! Ending a job and showing the result on its storage, as Label Studio's status fields do.

use serde_json::{Map, Value};

use super::HandlerError;
use crate::context::Context;
use crate::metrics::Metric;
use crate::model::{
    JobId, JobKind, JobStatus, StorageRecord, SyncJob, SyncStatus, ls_timestamp, now,
};

/// Ends a job whose work is all done: `completed`, or `completed_with_errors` when some
/// objects or items failed. Safe to call from every worker that sees completion.
pub async fn finish_job(ctx: &Context, job: &SyncJob) -> Result<(), HandlerError> {
    if let Some(finished) = end_job(ctx, job).await? {
        show_on_storage(ctx, &finished, Map::new()).await?;
    }
    Ok(())
}

/// The first half of [`finish_job`]: the job's final status. `Some(job)` for the one caller
/// that ended it, which then shows it with [`show_on_storage`] (after work of its own).
pub async fn end_job(ctx: &Context, job: &SyncJob) -> Result<Option<SyncJob>, HandlerError> {
    let status = if job.error_count > 0 {
        JobStatus::CompletedWithErrors
    } else {
        JobStatus::Completed
    };
    Ok(ctx.state.finish_job(job.id, status, None).await?)
}

/// Fails a job as a whole (its storage is gone or cannot be listed).
pub async fn fail_job(ctx: &Context, job: JobId, failure: String) -> Result<(), HandlerError> {
    if let Some(finished) = ctx
        .state
        .finish_job(job, JobStatus::Failed, Some(failure))
        .await?
    {
        show_on_storage(ctx, &finished, Map::new()).await?;
    }
    Ok(())
}

/// Shows a finished job on its storage (if it is still the storage's last), with `meta` of
/// the finisher's own added.
pub async fn show_on_storage(
    ctx: &Context,
    job: &SyncJob,
    meta: Map<String, Value>,
) -> Result<(), HandlerError> {
    let update = |s: &mut StorageRecord| {
        if s.last_sync_job == Some(job.id) {
            apply_result(s, job);
            s.meta.extend(meta.clone());
        }
    };
    ctx.state.update_storage(job.storage, &update).await?;
    if let Some(finished) = job.finished_at {
        let duration = (finished - job.created_at).num_milliseconds().max(0) as f64 / 1e3;
        ctx.metrics.emit(Metric::SyncDuration(duration));
    }
    Ok(())
}

/// The storage fields a finished job sets (spec §2.2, §2.3). Unlike Label Studio, a clean
/// success clears an old traceback, so the storage never shows a failure that is over.
pub fn apply_result(storage: &mut StorageRecord, job: &SyncJob) {
    let finished = job.finished_at.unwrap_or_else(now);
    let duration = (finished - job.created_at).num_microseconds().unwrap_or(0) as f64 / 1e6;
    storage
        .meta
        .insert("duration".into(), Value::from(duration));
    storage
        .meta
        .insert("time_last_ping".into(), Value::from(ls_timestamp(finished)));
    let counter = match job.kind {
        JobKind::Import => "tasks_existed",
        JobKind::Export => "total_annotations",
    };
    match job.status {
        JobStatus::Failed | JobStatus::Running => {
            storage.status = SyncStatus::Failed;
            storage.traceback = Some(job.failure.clone().unwrap_or_else(|| traceback(job)));
            storage
                .meta
                .insert("time_failure".into(), Value::from(ls_timestamp(finished)));
        }
        JobStatus::Completed | JobStatus::CompletedWithErrors => {
            storage.last_sync = Some(finished);
            storage.last_sync_count = Some(job.created);
            storage
                .meta
                .insert("time_completed".into(), Value::from(ls_timestamp(finished)));
            storage
                .meta
                .insert(counter.into(), Value::from(job_existing(job)));
            if job.status == JobStatus::CompletedWithErrors {
                storage.status = SyncStatus::CompletedWithErrors;
                storage.traceback = Some(traceback(job));
                storage.meta.insert(
                    "tasks_failed_validation".into(),
                    Value::from(job.error_count),
                );
            } else {
                storage.status = SyncStatus::Completed;
                storage.traceback = None;
            }
        }
    }
}

fn job_existing(job: &SyncJob) -> u64 {
    match job.kind {
        JobKind::Import => job.existed,
        JobKind::Export => job.created,
    }
}

/// The job's error messages, one a line, with a count of those not kept.
pub fn traceback(job: &SyncJob) -> String {
    let mut text = job.errors.join("\n");
    let untold = job.error_count.saturating_sub(job.errors.len() as u64);
    if untold > 0 {
        text.push_str(&format!("\n… and {untold} more errors"));
    }
    text
}
