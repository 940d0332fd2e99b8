use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{AnnotationId, ProjectId, TaskId};

/// An annotation of a task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    pub id: AnnotationId,
    pub task: TaskId,
    pub project: ProjectId,
    pub result: Value,
    pub was_cancelled: bool,
    pub ground_truth: bool,
    pub lead_time: Option<f64>,
    pub completed_by: Option<u64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a caller supplies to create an annotation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NewAnnotation {
    pub result: Value,
    pub was_cancelled: bool,
    pub ground_truth: bool,
    pub lead_time: Option<f64>,
    pub completed_by: Option<u64>,
}

/// A partial update: only the fields that are `Some` change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AnnotationPatch {
    pub result: Option<Value>,
    pub was_cancelled: Option<bool>,
    pub ground_truth: Option<bool>,
    pub lead_time: Option<f64>,
}

impl AnnotationPatch {
    pub fn apply(&self, annotation: &mut Annotation) {
        if let Some(result) = &self.result {
            annotation.result = result.clone();
        }
        if let Some(v) = self.was_cancelled {
            annotation.was_cancelled = v;
        }
        if let Some(v) = self.ground_truth {
            annotation.ground_truth = v;
        }
        if let Some(v) = self.lead_time {
            annotation.lead_time = Some(v);
        }
    }
}

/// That an annotation changed, recorded by the state store in the same commit as the change:
/// the outbox from which exports are announced, so that a saved annotation is never without
/// its export (a crash between the two commits of "save, then send" would lose it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnotationEvent {
    pub project: ProjectId,
    pub annotation: AnnotationId,
    pub deleted: bool,
}

impl AnnotationEvent {
    pub fn of(annotation: &Annotation, deleted: bool) -> Self {
        AnnotationEvent {
            project: annotation.project,
            annotation: annotation.id,
            deleted,
        }
    }
}

/// An event waiting in the outbox, with the store's id for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: String,
    pub event: AnnotationEvent,
}
