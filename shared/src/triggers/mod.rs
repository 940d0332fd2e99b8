//! Triggers: object notifications (S3 event records through SQS, EventBridge events) turned
//! into tasks without listing. Each storage type reads its own service's notifications
//! ([`crate::connectors::Connector::object_events`]); the storages an event concerns are found
//! by location, not by a scan; a created object is ingested as a sync would ingest it, with the
//! same dedupe, so an event delivered twice, and a full sync after it, create nothing twice.
//!
//! A schedule's tick (EventBridge's `Scheduled Event`) starts the syncs that are due
//! ([`schedule`]).
//!
//! A removed object's tasks follow its storage's `removed_objects` policy
//! ([`crate::sync::removed`]): kept (Label Studio's behaviour), or deleted unless annotated.
//! Out of order, the object itself decides: a "created" event for an object deleted since
//! makes no task in Files mode (the object is looked up first) and reads nothing in Tasks mode
//! (the read finds no object); a "removed" event for an object that exists again (put after
//! the delete) removes nothing.

pub mod schedule;
#[cfg(feature = "aws")]
pub mod sqs_events;

use serde_json::Value;

use crate::context::Context;
use crate::jobs::{HandlerError, describe};
use crate::metrics::Metric;
use crate::model::{BatchOutcome, ObjectChange, ObjectEvent, RemovedObjects, StorageId};
use crate::sync::ingest::ingest_one_object;
use crate::sync::removed::remove_object;

/// What one notification did.
#[derive(Debug, Default, PartialEq)]
pub struct TriggerOutcome {
    /// Object events the notification held.
    pub events: u64,
    /// Tasks created, and tasks that existed (the same object through an earlier event or sync).
    pub created: u64,
    pub existed: u64,
    /// Removed objects whose tasks were kept (`removed_objects: keep`).
    pub kept: u64,
    /// Tasks of removed objects deleted (no annotations) and flagged (annotated).
    pub removed: u64,
    pub flagged: u64,
    /// Errors of single objects (a file that is not valid JSON, say), as a sync reports them.
    pub errors: Vec<String>,
    /// Storages whose scheduled sync this notification (a schedule's tick) started.
    pub scheduled: Vec<StorageId>,
}

/// Handles one notification body. A failure to reach a storage or the state store fails the
/// notification (it is delivered again; ingest is idempotent).
pub async fn handle_notification(
    ctx: &Context,
    body: &str,
) -> Result<TriggerOutcome, HandlerError> {
    let body: Value = serde_json::from_str(body)?;
    let mut outcome = TriggerOutcome::default();
    if is_schedule_tick(&body) {
        outcome.scheduled = schedule::start_due_syncs(ctx).await?;
        return Ok(outcome);
    }
    for event in crate::connectors::all()
        .iter()
        .flat_map(|connector| connector.object_events(&body))
    {
        outcome.events += 1;
        handle_event(ctx, &event, &mut outcome).await?;
    }
    Ok(outcome)
}

/// EventBridge's message on a schedule (the stack's rule sends one a minute).
fn is_schedule_tick(body: &Value) -> bool {
    body.get("source").and_then(Value::as_str) == Some("aws.events")
        && body.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event")
}

async fn handle_event(
    ctx: &Context,
    event: &ObjectEvent,
    outcome: &mut TriggerOutcome,
) -> Result<(), HandlerError> {
    for storage in ctx.state.storages_at(&event.location).await? {
        let Ok(bound) = ctx.storage(&storage) else {
            continue;
        };
        if !storage.synchronizable || !bound.source().covers(&event.key) {
            continue;
        }
        match event.change {
            ObjectChange::Removed if storage.removed_objects == RemovedObjects::Keep => {
                outcome.kept += 1;
            }
            ObjectChange::Removed => {
                let removed = remove_object(ctx, &storage, &event.key).await?;
                outcome.removed += removed.deleted;
                outcome.flagged += removed.flagged;
            }
            ObjectChange::Created => {
                let ingested = ingest_one_object(ctx, &storage, &event.key).await?;
                if ingested.created > 0 {
                    ctx.metrics.emit(Metric::TasksCreated(ingested.created));
                }
                record(outcome, ingested, &describe(&storage));
            }
        }
    }
    Ok(())
}

fn record(outcome: &mut TriggerOutcome, ingested: BatchOutcome, storage: &str) {
    outcome.created += ingested.created;
    outcome.existed += ingested.existed;
    for error in ingested.errors {
        tracing::warn!(storage, %error, "an object from an event could not be imported");
        outcome.errors.push(error);
    }
}
