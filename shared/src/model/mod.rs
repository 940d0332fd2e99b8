//! The records labelsync keeps: projects, storages, tasks, annotations, sync jobs and API
//! tokens.

mod annotation;
mod event;
mod job;
mod project;
mod removal;
mod secret;
mod storage;
mod task;
mod token;

pub use annotation::{Annotation, AnnotationEvent, AnnotationPatch, NewAnnotation, OutboxEntry};
pub use event::{ObjectChange, ObjectEvent};
pub use job::{
    BatchId, BatchOutcome, JobKind, JobStatus, MAX_JOB_ERRORS, PageRecord, SyncJob, page_key,
};
pub use project::{NewProject, Project, ProjectCounts};
pub use removal::{LinkPage, LinkedTask, OBJECT_REMOVED_FLAG, RemovedObjects, TaskRemoval};
pub use secret::Secret;
pub use storage::{LinkScope, NewStorage, StorageRecord, StorageRole, SyncSchedule, SyncStatus};
pub use task::{CreateOutcome, NewTask, Task, TaskSource, iso_time};
pub use token::{ApiTokenRecord, NewApiToken, TokenId};

/// Label Studio's `$undefined$`: the data key of Files-mode tasks until a label config names it.
pub const UNDEFINED_DATA_KEY: &str = "$undefined$";

pub type ProjectId = u64;
pub type StorageId = u64;
pub type TaskId = u64;
pub type AnnotationId = u64;
pub type JobId = u64;

/// FNV-1a: a hash that never changes between builds or platforms, for keys that are stored
/// (link scopes, DynamoDB shards and index partitions).
pub fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Current time, the one clock every record uses.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

/// A time as Label Studio writes it into storage `meta` (Python's `str(datetime)`).
pub fn ls_timestamp(time: chrono::DateTime<chrono::Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string()
}
