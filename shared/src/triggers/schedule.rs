//! Scheduled syncs: a source storage with `sync_interval_minutes` is synced when its next sync
//! is due and it is not syncing already. Every scheduler pass (the local process's timer, or
//! the EventBridge schedule's message to `sync-trigger`) claims each due storage with an
//! atomic update before starting its sync, so passes that overlap start one sync, not two.

use crate::context::Context;
use crate::jobs::start::start_sync;
use crate::jobs::{HandlerError, fail_if_stale};
use crate::model::{StorageId, StorageRecord, now};

/// Starts the sync of every scheduled storage that is due and idle; returns their ids.
pub async fn start_due_syncs(ctx: &Context) -> Result<Vec<StorageId>, HandlerError> {
    let pass = uuid::Uuid::new_v4().simple().to_string();
    let mut started = Vec::new();
    for storage in ctx.state.scheduled_storages().await? {
        let now = now();
        if !storage.schedule.is_due(now) {
            continue;
        }
        let storage = fail_if_stale(ctx, storage).await?;
        if let Some(claimed) = claim(ctx, &storage, &pass).await? {
            start_sync(ctx, &claimed).await?;
            started.push(claimed.id);
        }
    }
    Ok(started)
}

/// Moves the storage's next sync an interval on, if it is due and idle; the storage if this
/// pass made the move.
async fn claim(
    ctx: &Context,
    storage: &StorageRecord,
    pass: &str,
) -> Result<Option<StorageRecord>, HandlerError> {
    let now = now();
    let update = |s: &mut StorageRecord| {
        if s.schedule.is_due(now) && !s.status.is_active() {
            s.schedule.claim(now, pass);
        }
    };
    let after = ctx.state.update_storage(storage.id, &update).await?;
    Ok(after.filter(|s| s.schedule.claim.as_deref() == Some(pass)))
}
