//! Objects that left their storage: what a source storage does to their tasks, and the links
//! that tell which tasks came from which object.

use serde::{Deserialize, Serialize};

use super::TaskId;

/// The `meta` field an annotated task whose object is gone gets (the time, as Label Studio
/// writes times), so annotators can tell; its data and annotations stay.
pub const OBJECT_REMOVED_FLAG: &str = "object_removed_at";

/// What a removed object does to its tasks (`removed_objects`, a source storage's setting).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovedObjects {
    /// Tasks stay as they are (Label Studio's behaviour).
    #[default]
    Keep,
    /// Tasks without annotations are deleted; annotated ones stay, flagged in `meta`.
    DeleteUnlabeled,
}

impl RemovedObjects {
    pub fn name(self) -> &'static str {
        match self {
            RemovedObjects::Keep => "keep",
            RemovedObjects::DeleteUnlabeled => "delete_unlabeled",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [RemovedObjects::Keep, RemovedObjects::DeleteUnlabeled]
            .into_iter()
            .find(|policy| policy.name() == name)
    }
}

/// What happened to one task whose object is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskRemoval {
    /// It had no annotations and was deleted, with its link.
    Deleted,
    /// It has annotations: it stays, flagged (now or before).
    Flagged,
    /// It did not exist (any more).
    Gone,
}

/// One link: a task made from `key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedTask {
    pub key: String,
    pub task: TaskId,
}

/// A page of a link namespace's links; `next` continues it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkPage {
    pub links: Vec<LinkedTask>,
    pub next: Option<String>,
}
