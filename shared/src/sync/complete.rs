//! The end of a sync: its job's final status, the sweep of removed objects (for storages
//! that remove their tasks), then the result on the storage, with what the sweep removed.

use serde_json::{Map, Value};

use super::removed::sweep;
use crate::context::Context;
use crate::jobs::finish::{end_job, show_on_storage};
use crate::jobs::{HandlerError, describe};
use crate::model::{RemovedObjects, SyncJob};

/// Ends a sync whose work is all done. Safe to call from every worker that sees completion:
/// only the one that ends the job sweeps and shows it.
pub async fn complete_sync(ctx: &Context, job: &SyncJob) -> Result<(), HandlerError> {
    let Some(finished) = end_job(ctx, job).await? else {
        return Ok(());
    };
    let mut meta = Map::new();
    let storage = ctx.state.get_storage(finished.storage).await?;
    if let Some(storage) = storage.filter(|s| s.removed_objects != RemovedObjects::Keep) {
        match sweep(ctx, &storage).await {
            Ok(removed) => meta = removed.meta(),
            Err(error) => {
                let what = format!(
                    "{}: finding removed objects failed: {error}",
                    describe(&storage)
                );
                tracing::warn!(job = finished.id, "{what}");
                meta.insert("removed_objects_failure".into(), Value::from(what));
            }
        }
    }
    show_on_storage(ctx, &finished, meta).await
}
