//! Starting a sync: the job row, the storage's `queued` state and the first message.

use serde_json::{Map, Value, json};

use super::{HandlerError, Message, fail_if_stale};
use crate::context::Context;
use crate::model::{JobKind, JobStatus, StorageRecord, StorageRole, SyncStatus, ls_timestamp, now};

/// Queues a sync of `storage` and returns the storage as it now is. A sync that is already
/// queued or running is left alone (Label Studio does the same), and so the call is idempotent;
/// one that has not moved for `LABELSYNC_JOB_STALE_SECS` is failed first and a new one starts.
pub async fn start_sync(
    ctx: &Context,
    storage: &StorageRecord,
) -> Result<StorageRecord, HandlerError> {
    let storage = &fail_if_stale(ctx, storage.clone()).await?;
    if storage.status.is_active() {
        return Ok(storage.clone());
    }
    let kind = match storage.role {
        StorageRole::Import => JobKind::Import,
        StorageRole::Export => JobKind::Export,
    };
    let job = ctx.state.create_job(storage.id, kind).await?;
    let queued_at = ls_timestamp(now());
    let claim = |s: &mut StorageRecord| {
        if s.status.is_active() {
            return;
        }
        let attempts = s.meta.get("attempts").and_then(Value::as_u64).unwrap_or(0);
        s.status = SyncStatus::Queued;
        s.last_sync = None;
        s.last_sync_count = None;
        s.last_sync_job = Some(job.id);
        s.meta = queued_meta(attempts + 1, &queued_at);
    };
    let Some(updated) = ctx.state.update_storage(storage.id, &claim).await? else {
        ctx.state
            .finish_job(
                job.id,
                JobStatus::Failed,
                Some("storage was deleted".into()),
            )
            .await?;
        return Ok(storage.clone());
    };
    if updated.last_sync_job != Some(job.id) {
        // A concurrent request started another sync first; this job never runs.
        ctx.state
            .finish_job(
                job.id,
                JobStatus::Failed,
                Some("superseded by a concurrent sync".into()),
            )
            .await?;
        return Ok(updated);
    }
    let first = match kind {
        JobKind::Import => Message::ListPage {
            job: job.id,
            storage: storage.id,
            part: 0,
            page: 0,
            continuation: None,
            start_after: None,
            until: None,
        },
        JobKind::Export => Message::ExportPage {
            job: job.id,
            storage: storage.id,
            page: 0,
            after: None,
        },
    };
    ctx.queue.send(first.queue(), vec![first.to_body()]).await?;
    Ok(updated)
}

fn queued_meta(attempts: u64, queued_at: &str) -> Map<String, Value> {
    match json!({"attempts": attempts, "time_queued": queued_at}) {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Moves the storage from `queued` to `in_progress` when its job starts working.
pub async fn mark_in_progress(
    ctx: &Context,
    storage: &StorageRecord,
    job: u64,
) -> Result<(), HandlerError> {
    if storage.status != SyncStatus::Queued {
        return Ok(());
    }
    let started = ls_timestamp(now());
    let update = |s: &mut StorageRecord| {
        if s.status == SyncStatus::Queued && s.last_sync_job == Some(job) {
            s.status = SyncStatus::InProgress;
            s.meta
                .insert("time_in_progress".into(), Value::from(started.clone()));
            s.meta
                .insert("time_last_ping".into(), Value::from(started.clone()));
        }
    };
    ctx.state.update_storage(storage.id, &update).await?;
    ctx.state.start_job(job).await?;
    Ok(())
}
