//! Record rules every state store shares: imported annotations read leniently, new annotation
//! records, and a task's annotation counters.

use serde_json::Value;

use crate::model::{
    Annotation, AnnotationId, NewAnnotation, OBJECT_REMOVED_FLAG, Task, ls_timestamp, now,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CounterChange {
    Added,
    Removed,
}

/// Counts one annotation in or out of `task`'s counters and recomputes `is_labeled`.
/// Cancelled annotations count in `cancelled_annotations` only.
pub fn count_annotation(
    task: &mut Task,
    was_cancelled: bool,
    change: CounterChange,
    maximum_annotations: u64,
) {
    let counter = if was_cancelled {
        &mut task.cancelled_annotations
    } else {
        &mut task.total_annotations
    };
    *counter = match change {
        CounterChange::Added => counter.saturating_add(1),
        CounterChange::Removed => counter.saturating_sub(1),
    };
    task.is_labeled = task.total_annotations >= maximum_annotations;
}

/// Reads an imported annotation (`{"result": [...], "was_cancelled": .., ...}`) leniently:
/// missing or mistyped fields take their defaults; `completed_by` may be an id or `{"id": ..}`.
pub fn from_import(value: &Value) -> NewAnnotation {
    let field = |name: &str| value.get(name);
    let flag = |name: &str| field(name).and_then(Value::as_bool).unwrap_or(false);
    let completed_by = field("completed_by")
        .and_then(|v| v.as_u64().or_else(|| v.get("id").and_then(Value::as_u64)));
    NewAnnotation {
        result: field("result")
            .cloned()
            .unwrap_or_else(|| Value::Array(Vec::new())),
        was_cancelled: flag("was_cancelled"),
        ground_truth: flag("ground_truth"),
        lead_time: field("lead_time").and_then(Value::as_f64),
        completed_by,
    }
}

/// Builds the record of a new annotation of `task`.
pub fn new_record(id: AnnotationId, task: &Task, new: NewAnnotation) -> Annotation {
    let created_at = now();
    Annotation {
        id,
        task: task.id,
        project: task.project,
        result: new.result,
        was_cancelled: new.was_cancelled,
        ground_truth: new.ground_truth,
        lead_time: new.lead_time,
        completed_by: new.completed_by,
        created_at,
        updated_at: created_at,
    }
}

/// Whether `task` has annotations, cancelled ones included (a removed object leaves it).
pub fn is_annotated(task: &Task) -> bool {
    task.total_annotations + task.cancelled_annotations > 0
}

/// Flags an annotated task whose object is gone; `false` if it was flagged already.
pub fn flag_object_removed(task: &mut Task) -> bool {
    if !task.meta.is_object() {
        task.meta = Value::Object(serde_json::Map::new());
    }
    let Some(meta) = task.meta.as_object_mut() else {
        return false;
    };
    if meta.contains_key(OBJECT_REMOVED_FLAG) {
        return false;
    }
    meta.insert(OBJECT_REMOVED_FLAG.into(), Value::from(ls_timestamp(now())));
    task.updated_at = now();
    true
}
