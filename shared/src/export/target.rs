//! One annotation change in one target storage: the object written (or deleted where the
//! storage allows it), and the storage showing whether its live exports are failing.

use serde_json::Value;

use super::annotation_document;
use crate::context::{Context, Opened};
use crate::jobs::HandlerError;
use crate::metrics::Metric;
use crate::model::{Annotation, AnnotationId, StorageId, StorageRecord, StorageRole, SyncStatus};

/// Annotations kept in a target's `meta.export_failing` / `meta.export_lost` lists.
const MOST_LISTED: usize = 100;

/// `ExportAnnotation`: the annotation as it is now (so late or repeated messages are harmless)
/// written to one target storage, or its object deleted where the storage allows it. The
/// storage's `meta.export_failing` lists annotations whose export keeps failing (the storage
/// then shows `failed` with the error); a success takes the annotation off the list.
pub async fn handle_export_annotation(
    ctx: &Context,
    storage: StorageId,
    annotation: AnnotationId,
    deleted: bool,
) -> Result<(), HandlerError> {
    let Some(record) = ctx.state.get_storage(storage).await? else {
        return Ok(());
    };
    if record.role != StorageRole::Export {
        return Ok(());
    }
    let result = export_change(ctx, &record, annotation, deleted).await;
    let outcome = match &result {
        // The usual case costs no write: the storage shows nothing of this annotation.
        Ok(()) if !is_listed(&record, annotation) => return Ok(()),
        Ok(()) => LiveExport::Written(annotation),
        Err(e) => {
            ctx.metrics.emit(Metric::ExportFailures(1));
            LiveExport::Failing(annotation, e.to_string())
        }
    };
    show_live_export(ctx, storage, outcome).await?;
    result
}

/// Whether the storage lists the annotation as failing or lost.
fn is_listed(storage: &StorageRecord, id: AnnotationId) -> bool {
    ["export_failing", "export_lost"]
        .iter()
        .any(|list| is_on(storage, list, id))
}

async fn export_change(
    ctx: &Context,
    record: &StorageRecord,
    annotation: AnnotationId,
    deleted: bool,
) -> Result<(), HandlerError> {
    if deleted {
        return delete_annotation(ctx, record, annotation).await;
    }
    let Some(current) = ctx.state.get_annotation(annotation).await? else {
        return Ok(());
    };
    write_annotation(ctx, record, &current).await?;
    // Deleted while this write was on its way: the delete may have run first, so undo.
    if ctx.state.get_annotation(annotation).await?.is_none() {
        delete_annotation(ctx, record, annotation).await?;
    }
    Ok(())
}

/// A target storage, bound, and its backend (through the context, so fault layers apply).
fn open_target(ctx: &Context, storage: &StorageRecord) -> Result<Opened, HandlerError> {
    ctx.open(storage)
        .map_err(|source| HandlerError::settings(storage.id, source))
}

/// Writes one annotation into one target storage.
pub async fn write_annotation(
    ctx: &Context,
    storage: &StorageRecord,
    annotation: &Annotation,
) -> Result<(), HandlerError> {
    let (bound, backend) = open_target(ctx, storage)?;
    let Some(task) = ctx.state.get_task(annotation.task).await? else {
        return Ok(());
    };
    let document = annotation_document(annotation, &task);
    let body = if bound.pretty_export() {
        serde_json::to_vec_pretty(&document)
    } else {
        serde_json::to_vec(&document)
    }?;
    let key = bound.export_key(annotation.id);
    let written = backend.put(&key, body.into()).await;
    written.map_err(|source| HandlerError::Backend {
        storage: storage.id,
        source,
    })
}

async fn delete_annotation(
    ctx: &Context,
    storage: &StorageRecord,
    annotation: AnnotationId,
) -> Result<(), HandlerError> {
    let (bound, backend) = open_target(ctx, storage)?;
    if !bound.can_delete_objects() {
        return Ok(());
    }
    let deleted = backend.delete(&bound.export_key(annotation)).await;
    deleted.map_err(|source| HandlerError::Backend {
        storage: storage.id,
        source,
    })
}

/// What became of one live export, for its storage's status.
pub enum LiveExport {
    Written(AnnotationId),
    /// Failed; will be retried.
    Failing(AnnotationId, String),
    /// Failed for the last time: lost until the target is synced again.
    Lost(AnnotationId, String),
}

/// Shows a live export's outcome on its target storage: `failed` with the error while an
/// annotation's export is failing (it is retried), `completed_with_errors` once some were given
/// up (a sync of the target writes them again), back to `completed` when the failing ones
/// got through. A sync in progress owns the status; only the lists change then.
pub async fn show_live_export(
    ctx: &Context,
    storage: StorageId,
    outcome: LiveExport,
) -> Result<(), HandlerError> {
    let update = |s: &mut StorageRecord| {
        let (id, failing_now) = match &outcome {
            LiveExport::Written(id) | LiveExport::Lost(id, _) => (*id, false),
            LiveExport::Failing(id, _) => (*id, true),
        };
        let lost_now = match &outcome {
            LiveExport::Written(_) => false,
            LiveExport::Failing(id, _) => was_lost(s, *id),
            LiveExport::Lost(..) => true,
        };
        let (was_failing, failing) = list_update(s, "export_failing", id, failing_now);
        let (_, lost) = list_update(s, "export_lost", id, lost_now);
        if s.status.is_active() {
            return;
        }
        match &outcome {
            LiveExport::Failing(id, error) => {
                s.status = SyncStatus::Failed;
                s.traceback = Some(format!("annotation {id}: {error} (retrying)"));
            }
            LiveExport::Lost(id, error) => {
                s.status = if failing > 0 {
                    SyncStatus::Failed
                } else {
                    SyncStatus::CompletedWithErrors
                };
                s.traceback = Some(format!(
                    "annotation {id} was not exported: {error}; sync this storage to write it again"
                ));
            }
            LiveExport::Written(_) if was_failing && failing == 0 => {
                if lost == 0 {
                    s.status = SyncStatus::Completed;
                    s.traceback = None;
                } else {
                    s.status = SyncStatus::CompletedWithErrors;
                }
            }
            LiveExport::Written(_) => {}
        }
    };
    ctx.state.update_storage(storage, &update).await?;
    Ok(())
}

fn was_lost(storage: &StorageRecord, id: AnnotationId) -> bool {
    is_on(storage, "export_lost", id)
}

fn is_on(storage: &StorageRecord, list: &str, id: AnnotationId) -> bool {
    storage
        .meta
        .get(list)
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|x| x.as_u64() == Some(id)))
}

/// Puts `id` on (or, with `present: false`, takes it off) the meta list `name`, keeping at
/// most [`MOST_LISTED`]; returns whether it was on the list and the list's length after.
fn list_update(
    storage: &mut StorageRecord,
    name: &str,
    id: AnnotationId,
    present: bool,
) -> (bool, usize) {
    let mut list: Vec<u64> = storage
        .meta
        .get(name)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    let was = list.contains(&id);
    list.retain(|x| *x != id);
    if present {
        list.push(id);
        if list.len() > MOST_LISTED {
            list.remove(0);
        }
    }
    let len = list.len();
    if list.is_empty() {
        storage.meta.remove(name);
    } else {
        storage.meta.insert(name.into(), Value::from(list));
    }
    (was, len)
}
