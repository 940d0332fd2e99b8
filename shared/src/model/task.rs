use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ProjectId, StorageId, TaskId};

/// Where an imported task came from. `(scope, key, row_index)` is the dedupe key: one task per
/// object in Files mode, one per JSON item / JSONL line / Parquet row in Tasks mode.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TaskSource {
    pub storage: StorageId,
    pub key: String,
    pub row_index: Option<u64>,
    pub row_group: Option<u64>,
    /// The namespace of the link: the storage's location in its project (so a storage deleted
    /// and added again finds its tasks), or, when `None`, the storage itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<u64>,
}

impl TaskSource {
    /// The namespace `(scope, key, row_index)` links live in.
    pub fn link_scope(&self) -> u64 {
        self.scope.unwrap_or(self.storage)
    }
}

/// A labeling task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: TaskId,
    pub project: ProjectId,
    pub data: Value,
    pub meta: Value,
    pub allow_skip: bool,
    pub inner_id: u64,
    pub predictions: Vec<Value>,
    pub total_annotations: u64,
    pub cancelled_annotations: u64,
    pub total_predictions: u64,
    pub is_labeled: bool,
    pub source: Option<TaskSource>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A task to create. `annotations` are created with it (imported `{data, annotations}` items).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewTask {
    pub data: Value,
    pub meta: Value,
    pub allow_skip: bool,
    pub predictions: Vec<Value>,
    pub annotations: Vec<Value>,
    pub source: Option<TaskSource>,
}

impl NewTask {
    /// A bare task holding `data`, with everything else at its default.
    pub fn from_data(data: Value) -> Self {
        NewTask {
            data,
            meta: Value::Object(Default::default()),
            allow_skip: true,
            predictions: Vec::new(),
            annotations: Vec::new(),
            source: None,
        }
    }
}

/// What `StateStore::create_tasks` did with each item it was given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateOutcome {
    /// Tasks this call created.
    pub created: u64,
    /// Sources already linked to a task that the same job created earlier (a redelivered message).
    pub created_earlier_by_job: u64,
    /// Sources already linked to a task from an earlier sync or another job.
    pub existed: u64,
}

impl CreateOutcome {
    pub fn add(&mut self, other: CreateOutcome) {
        self.created += other.created;
        self.created_earlier_by_job += other.created_earlier_by_job;
        self.existed += other.existed;
    }
}

/// Label Studio's ISO form of API times: `2026-11-28T16:40:36.682517Z`.
pub fn iso_time(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

impl Task {
    /// The task's model fields as Label Studio serializes them (exports, task API).
    pub fn ls_fields(&self) -> serde_json::Map<String, Value> {
        let fields = serde_json::json!({
            "id": self.id,
            "data": self.data,
            "meta": self.meta,
            "created_at": iso_time(&self.created_at),
            "updated_at": iso_time(&self.updated_at),
            "is_labeled": self.is_labeled,
            "allow_skip": self.allow_skip,
            "overlap": 1,
            "inner_id": self.inner_id,
            "total_annotations": self.total_annotations,
            "cancelled_annotations": self.cancelled_annotations,
            "total_predictions": self.total_predictions,
            "precomputed_agreement": null,
            "comment_count": 0,
            "unresolved_comment_count": 0,
            "last_comment_updated_at": null,
            "project": self.project,
            "updated_by": null,
            "file_upload": null,
            "comment_authors": [],
        });
        match fields {
            Value::Object(map) => map,
            _ => serde_json::Map::new(),
        }
    }
}
