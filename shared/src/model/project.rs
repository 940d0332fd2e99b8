use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ProjectId;

/// A labeling project: the owner of storages, tasks and annotations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Project {
    pub id: ProjectId,
    pub title: String,
    pub description: String,
    /// Label Studio XML label config; its first `$name` variable names Files-mode task data.
    pub label_config: String,
    /// How many annotations make a task labeled (Label Studio's `maximum_annotations`).
    pub maximum_annotations: u64,
    pub created_at: DateTime<Utc>,
}

/// What a caller supplies to create a project; the store assigns id and time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NewProject {
    pub title: String,
    pub description: String,
    pub label_config: String,
    pub maximum_annotations: u64,
}

impl NewProject {
    /// The record this becomes once the store gives it `id`.
    pub fn into_record(self, id: ProjectId, created_at: DateTime<Utc>) -> Project {
        Project {
            id,
            title: self.title,
            description: self.description,
            label_config: self.label_config,
            maximum_annotations: self.maximum_annotations,
            created_at,
        }
    }
}

/// A project's counters, as Label Studio's task list totals them: its tasks, the annotations
/// of those tasks that were not cancelled, and their predictions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectCounts {
    pub tasks: u64,
    pub annotations: u64,
    pub predictions: u64,
}
