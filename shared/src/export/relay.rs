//! From the outbox to the export queue: every annotation change the state store recorded (in
//! the change's own commit) becomes one `ExportAnnotation` message per target storage of its
//! project, and leaves the outbox only once those are sent. A relay that dies in between
//! sends them again; exports are idempotent.

use std::collections::HashMap;

use crate::context::{Context, OutboxRelay};
use crate::jobs::{HandlerError, Message};
use crate::model::{ProjectId, StorageId, StorageRole};
use crate::queue::QueueName;

/// Outbox entries moved per pass.
pub const RELAY_BATCH: usize = 500;

/// Moves up to [`RELAY_BATCH`] outbox entries; returns how many it moved.
pub async fn relay_outbox(ctx: &Context) -> Result<usize, HandlerError> {
    let entries = ctx.state.outbox(RELAY_BATCH).await?;
    if entries.is_empty() {
        return Ok(0);
    }
    let mut targets: HashMap<ProjectId, Vec<StorageId>> = HashMap::new();
    let mut bodies = Vec::new();
    for entry in &entries {
        let project = entry.event.project;
        if let std::collections::hash_map::Entry::Vacant(slot) = targets.entry(project) {
            let storages = ctx
                .state
                .list_storages(project, StorageRole::Export)
                .await?;
            slot.insert(storages.iter().map(|s| s.id).collect());
        }
        for storage in &targets[&project] {
            let message = Message::ExportAnnotation {
                storage: *storage,
                annotation: entry.event.annotation,
                deleted: entry.event.deleted,
            };
            bodies.push(message.to_body());
        }
    }
    if !bodies.is_empty() {
        ctx.queue.send(QueueName::Export, bodies).await?;
    }
    let ids: Vec<String> = entries.iter().map(|e| e.id.clone()).collect();
    ctx.state.clear_outbox(&ids).await?;
    Ok(entries.len())
}

/// Moves everything in the outbox (a drain after writes, on start, on a schedule).
pub async fn drain_outbox(ctx: &Context) -> Result<usize, HandlerError> {
    let mut moved = 0;
    loop {
        let pass = relay_outbox(ctx).await?;
        moved += pass;
        if pass < RELAY_BATCH {
            return Ok(moved);
        }
    }
}

/// After an annotation write: its outbox entry leaves for the export queue, at once or by the
/// process's relay task. A failure here loses nothing (the entry stays in the outbox for the
/// next drain), so it is logged, not returned: the annotation is saved.
pub async fn announce(ctx: &Context) {
    match &ctx.relay {
        OutboxRelay::Background(wake) => wake.notify_one(),
        OutboxRelay::Inline => {
            if let Err(e) = drain_outbox(ctx).await {
                tracing::warn!(error = %e, "the outbox could not be drained now; it will be later");
            }
        }
    }
}
