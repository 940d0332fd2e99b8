use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{ProjectId, StorageId};

/// Source storages import tasks; target storages receive exported annotations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageRole {
    Import,
    Export,
}

/// Label Studio's storage status values, spelled as its API spells them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    #[default]
    Initialized,
    Queued,
    InProgress,
    Failed,
    Completed,
    CompletedWithErrors,
}

impl SyncStatus {
    /// A sync is queued or running and a new one must not start.
    pub fn is_active(self) -> bool {
        matches!(self, SyncStatus::Queued | SyncStatus::InProgress)
    }
}

/// One storage connection as stored. `settings` holds the type's own fields, secrets included;
/// the API layer decides what of it is ever shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StorageRecord {
    pub id: StorageId,
    pub role: StorageRole,
    /// Label Studio's type slug: `localfiles`, `s3`, `gcs`, ...
    pub storage_type: String,
    pub project: ProjectId,
    pub title: Option<String>,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub synchronizable: bool,
    pub status: SyncStatus,
    pub last_sync: Option<DateTime<Utc>>,
    pub last_sync_count: Option<u64>,
    pub last_sync_job: Option<String>,
    pub traceback: Option<String>,
    pub meta: Map<String, Value>,
    pub settings: Map<String, Value>,
}

/// What a caller supplies to create a storage; the store assigns the id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewStorage {
    pub role: StorageRole,
    pub storage_type: String,
    pub project: ProjectId,
    pub title: Option<String>,
    pub description: Option<String>,
    pub synchronizable: bool,
    pub settings: Map<String, Value>,
}

impl NewStorage {
    /// The record this becomes once the store gives it `id`.
    pub fn into_record(self, id: StorageId, created_at: DateTime<Utc>) -> StorageRecord {
        StorageRecord {
            id,
            role: self.role,
            storage_type: self.storage_type,
            project: self.project,
            title: self.title,
            description: self.description,
            created_at,
            synchronizable: self.synchronizable,
            status: SyncStatus::Initialized,
            last_sync: None,
            last_sync_count: None,
            last_sync_job: None,
            traceback: None,
            meta: Map::new(),
            settings: self.settings,
        }
    }
}
