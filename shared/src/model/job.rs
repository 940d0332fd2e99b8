use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{JobId, StorageId};

/// At most this many error messages are kept on a job; `error_count` counts them all.
pub const MAX_JOB_ERRORS: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// List a source storage and create tasks.
    Import,
    /// Write every annotation of the project to a target storage.
    Export,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Running,
    Completed,
    CompletedWithErrors,
    Failed,
}

/// One ingest batch of a job: the `batch`-th batch cut from the listing page whose
/// [`page_key`] is `page`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BatchId {
    pub page: u64,
    pub batch: u64,
}

/// The one number that names page `page` of listing part `part` in a job's records. Part 0's
/// pages keep their own numbers, so jobs recorded before listings had parts read the same.
pub fn page_key(part: u64, page: u64) -> u64 {
    (part << 32) | (page & u64::from(u32::MAX))
}

/// What a listing page announced, recorded with the page so a redelivered page repeats it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRecord {
    /// Ingest batches cut from the page.
    pub batches: u64,
    /// This page ends its part.
    pub is_last: bool,
    /// Keys of the page whose tasks existed before, so were not sent to ingest.
    #[serde(default)]
    pub existed: u64,
    /// Keys splitting the rest of the part's key range into new parts: the part goes on up to
    /// the first; each new part lists after one key up to the next (the last one as far as the
    /// part would have gone).
    pub splits: Vec<String>,
    /// The id of the first new part, given by the store when it records the page.
    pub first_part: u64,
}

/// What one batch did; added to the job once, however often the batch is delivered.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchOutcome {
    /// Tasks created by this job (including ones a crashed earlier delivery of it created).
    pub created: u64,
    /// Tasks that existed before this job.
    pub existed: u64,
    /// Messages naming storage, key and position (at most [`MAX_JOB_ERRORS`] are kept).
    pub errors: Vec<String>,
    /// Errors beyond those listed: counted, not kept, so bad input costs no memory.
    #[serde(default)]
    pub unlisted_errors: u64,
}

impl BatchOutcome {
    /// Adds an error, keeping its text only while there is room.
    pub fn add_error(&mut self, error: impl FnOnce() -> String) {
        if self.errors.len() < MAX_JOB_ERRORS {
            self.errors.push(error());
        } else {
            self.unlisted_errors += 1;
        }
    }

    /// Every error, listed or not.
    pub fn error_count(&self) -> u64 {
        self.errors.len() as u64 + self.unlisted_errors
    }

    /// Adds another outcome's counts and errors (still keeping at most [`MAX_JOB_ERRORS`]).
    pub fn absorb(&mut self, other: BatchOutcome) {
        self.created += other.created;
        self.existed += other.existed;
        for error in other.errors {
            self.add_error(|| error);
        }
        self.unlisted_errors += other.unlisted_errors;
    }
}

/// A sync run. Listing records pages; workers record batches; the job is complete when the last
/// page is recorded and every batch it announced is done. Every record is idempotent, so
/// redelivered queue messages never count twice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncJob {
    pub id: JobId,
    pub storage: StorageId,
    pub kind: JobKind,
    pub status: JobStatus,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Listing pages recorded so far.
    pub pages_recorded: u64,
    /// Number of pages, known once every listing part has recorded its last page.
    pub pages_total: Option<u64>,
    /// Listing parts (key ranges listed at once) made so far; a listing starts as one part.
    #[serde(default = "one")]
    pub parts_total: u64,
    /// Parts whose last page is recorded.
    #[serde(default)]
    pub parts_listed: u64,
    pub batches_expected: u64,
    pub batches_done: u64,
    pub created: u64,
    pub existed: u64,
    pub error_count: u64,
    pub errors: Vec<String>,
    /// Set when the job failed as a whole (listing impossible, storage gone).
    pub failure: Option<String>,
    /// When the job last moved: created, started, a page or a batch recorded.
    #[serde(default)]
    pub progress_at: Option<DateTime<Utc>>,
}

fn one() -> u64 {
    1
}

impl SyncJob {
    pub fn new(id: JobId, storage: StorageId, kind: JobKind, created_at: DateTime<Utc>) -> Self {
        SyncJob {
            id,
            storage,
            kind,
            status: JobStatus::Running,
            created_at,
            started_at: None,
            finished_at: None,
            pages_recorded: 0,
            pages_total: None,
            parts_total: 1,
            parts_listed: 0,
            batches_expected: 0,
            batches_done: 0,
            created: 0,
            existed: 0,
            error_count: 0,
            errors: Vec::new(),
            failure: None,
            progress_at: Some(created_at),
        }
    }

    /// A running job that has not moved for `limit`: a message was lost or keeps failing
    /// without an end (Label Studio's stale-ping idea).
    pub fn is_stale(&self, now: DateTime<Utc>, limit: std::time::Duration) -> bool {
        let last = self
            .progress_at
            .or(self.started_at)
            .unwrap_or(self.created_at);
        let idle = (now - last).to_std().unwrap_or_default();
        self.status == JobStatus::Running && idle > limit
    }

    /// Listing is over and every announced batch is done.
    pub fn is_complete(&self) -> bool {
        self.pages_total == Some(self.pages_recorded) && self.batches_done == self.batches_expected
    }

    /// Adds a batch's outcome; the caller guarantees it is the batch's first record.
    pub fn add_batch(&mut self, outcome: &BatchOutcome) {
        self.batches_done += 1;
        self.created += outcome.created;
        self.existed += outcome.existed;
        self.add_errors(&outcome.errors);
        self.error_count += outcome.unlisted_errors;
        self.progress_at = Some(super::now());
    }

    pub fn add_errors(&mut self, errors: &[String]) {
        self.error_count += errors.len() as u64;
        let room = MAX_JOB_ERRORS.saturating_sub(self.errors.len());
        self.errors.extend(errors.iter().take(room).cloned());
    }

    /// Adds a page's batches and new parts, numbering the parts in `record`; the caller
    /// guarantees it is the page's first record. The listing is over when every part is.
    pub fn add_page(&mut self, record: &mut PageRecord) {
        self.progress_at = Some(super::now());
        self.pages_recorded += 1;
        self.batches_expected += record.batches;
        self.existed += record.existed;
        record.first_part = self.parts_total;
        self.parts_total += record.splits.len() as u64;
        self.parts_listed += u64::from(record.is_last);
        if self.parts_listed == self.parts_total {
            self.pages_total = Some(self.pages_recorded);
        }
    }

    /// Parts still listing.
    pub fn parts_listing(&self) -> u64 {
        self.parts_total.saturating_sub(self.parts_listed)
    }
}
