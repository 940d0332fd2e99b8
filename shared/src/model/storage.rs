use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{JobId, ProjectId, RemovedObjects, StorageId};

/// Source storages import tasks; target storages receive exported annotations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageRole {
    Import,
    Export,
}

/// Which tasks a source storage's keys dedupe against.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkScope {
    /// Its own links only (a fresh import; and storages stored before scopes existed).
    #[default]
    Storage,
    /// Every storage of the project on the same location (type and `Storage::location`): deleting the
    /// storage and adding it again imports nothing twice.
    Location,
}

/// A source storage's sync schedule (labelsync's own; Label Studio has none).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncSchedule {
    /// Minutes between syncs; `None`: off.
    pub every_minutes: Option<u32>,
    /// When the next sync is due (`None`: at once).
    pub next_at: Option<DateTime<Utc>>,
    /// The scheduler pass that last claimed a due sync, so that of many passes at once only
    /// one starts it.
    pub claim: Option<String>,
}

impl SyncSchedule {
    /// Every `minutes` (`None`: off), the first sync due at once.
    pub fn every(minutes: Option<u32>) -> Self {
        SyncSchedule {
            every_minutes: minutes,
            ..SyncSchedule::default()
        }
    }

    /// Whether a sync is due at `now`.
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.every_minutes.is_some() && self.next_at.is_none_or(|at| at <= now)
    }

    /// Claims the sync due at `now` for `claim`: the next one moves an interval on.
    pub fn claim(&mut self, now: DateTime<Utc>, claim: &str) {
        let minutes = i64::from(self.every_minutes.unwrap_or(0));
        self.next_at = Some(now + chrono::Duration::minutes(minutes));
        self.claim = Some(claim.to_owned());
    }
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
    /// The job of the last sync started (stored as a number; records from before were text).
    #[serde(default, deserialize_with = "job_id")]
    pub last_sync_job: Option<JobId>,
    pub traceback: Option<String>,
    pub meta: Map<String, Value>,
    pub settings: Map<String, Value>,
    #[serde(default)]
    pub links: LinkScope,
    /// Where a source storage's objects live (`Storage::location`, `s3://bucket/`),
    /// indexed so object events find the storages they concern.
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub schedule: SyncSchedule,
    #[serde(default)]
    pub removed_objects: RemovedObjects,
}

impl StorageRecord {
    /// The namespace its tasks' links live in (see [`super::TaskSource::link_scope`]), given
    /// its location (`Storage::location`): `None` for the storage's own.
    pub fn link_scope(&self, location: &str) -> Option<u64> {
        match self.links {
            LinkScope::Storage => None,
            LinkScope::Location => {
                let text = format!("{}\n{}\n{location}", self.project, self.storage_type);
                // The top bit set: never a storage id, which are small.
                Some(super::fnv1a(&text) | 1 << 63)
            }
        }
    }
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
    pub links: LinkScope,
    pub location: Option<String>,
    pub schedule: SyncSchedule,
    #[serde(default)]
    pub removed_objects: RemovedObjects,
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
            links: self.links,
            location: self.location,
            schedule: self.schedule,
            removed_objects: self.removed_objects,
        }
    }
}

/// A job id as a number, or as the text older records hold.
fn job_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<JobId>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_u64()),
        Some(Value::String(s)) => s.parse().map(Some).map_err(serde::de::Error::custom),
        Some(other) => Err(serde::de::Error::custom(format!("not a job id: {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_sync_job_reads_numbers_and_the_text_of_older_records() {
        let record = |job: Value| {
            let mut stored = serde_json::to_value(
                NewStorage {
                    role: StorageRole::Import,
                    storage_type: "t".into(),
                    project: 1,
                    title: None,
                    description: None,
                    synchronizable: true,
                    settings: Map::new(),
                    links: LinkScope::Storage,
                    location: None,
                    schedule: SyncSchedule::default(),
                    removed_objects: RemovedObjects::Keep,
                }
                .into_record(1, chrono::Utc::now()),
            )
            .unwrap();
            stored["last_sync_job"] = job;
            serde_json::from_value::<StorageRecord>(stored)
                .unwrap()
                .last_sync_job
        };
        assert_eq!(record(serde_json::json!(7)), Some(7));
        assert_eq!(record(serde_json::json!("8")), Some(8));
        assert_eq!(record(Value::Null), None);
    }
}
