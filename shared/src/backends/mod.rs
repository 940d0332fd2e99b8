//! One trait for every storage type. A backend sees a flat keyspace of objects (a bucket, a
//! container, a directory); storage types build one from their settings.
//!
//! Contract every implementation keeps (checked by [`conformance`]):
//! - `list_page` returns keys under `prefix` in ascending byte order, at most `max_keys` of
//!   them, and a continuation that resumes strictly after the last key returned; `None` means
//!   the listing is over. A first page with `start_after` holds only keys after it. Non-recursive listing returns only direct children of the prefix's
//!   "directory" (keys with no `/` after the prefix). Keys ending in `/` (folder placeholders)
//!   are never returned.
//! - `get` with a range returns exactly the bytes of that range (inclusive end, clamped to the
//!   object's size) and reports the range served; a range that starts past the end is
//!   [`BackendError::InvalidRange`].
//! - `put` creates or overwrites; `delete` of a missing key succeeds.
//! - Missing objects are [`BackendError::NotFound`].

#[cfg(any(test, feature = "testing"))]
pub mod conformance;
#[cfg(any(test, feature = "testing"))]
pub mod failure;

use std::fmt::Debug;
use std::ops::Range;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;

/// What a listing or `head` knows of one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectMeta {
    pub key: String,
    pub size: u64,
    pub last_modified: Option<DateTime<Utc>>,
    /// Entity tag as the backend reports it, without quotes.
    pub etag: Option<String>,
}

/// One listing call.
#[derive(Clone, Copy, Debug)]
pub struct ListRequest<'a> {
    pub prefix: &'a str,
    pub recursive: bool,
    /// The `next` of the previous page.
    pub continuation: Option<&'a str>,
    /// Without a continuation: list only keys strictly after this one. Every backend honours
    /// it; those whose [`ObjectStore::lists_after_key`] says so do it without listing the
    /// keys before.
    pub start_after: Option<&'a str>,
    pub max_keys: usize,
}

impl<'a> ListRequest<'a> {
    /// The first page of `prefix`.
    pub fn first(prefix: &'a str, recursive: bool, max_keys: usize) -> Self {
        ListRequest {
            prefix,
            recursive,
            continuation: None,
            start_after: None,
            max_keys,
        }
    }

    /// For backends whose continuation is the last key listed: the key to resume after.
    pub fn resume_key(&self) -> Option<&'a str> {
        self.continuation.or(self.start_after)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListPage {
    pub objects: Vec<ObjectMeta>,
    pub next: Option<String>,
    /// Entries the listing passed but cannot offer as keys (a file name that is not UTF-8),
    /// each described for the job's traceback; reported once, on the page that passes them.
    pub skipped: Vec<String>,
}

/// An HTTP byte range, `start..=end`; `end: None` reads to the end of the object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: Option<u64>,
}

/// The half-open byte range a read of `key` (`size` bytes) serves: the whole object without a
/// range; else `start..=end` clamped to the object. A range starting past the end is
/// [`BackendError::InvalidRange`] (an empty object still serves an empty read from 0).
pub fn served_range(
    key: &str,
    size: u64,
    range: Option<ByteRange>,
) -> Result<Range<u64>, BackendError> {
    match range {
        None => Ok(0..size),
        Some(r) if r.start >= size && !(size == 0 && r.start == 0) => {
            Err(BackendError::InvalidRange {
                key: key.to_owned(),
                start: r.start,
                size,
            })
        }
        Some(r) => Ok(r.start..r.end.map_or(size, |e| e.saturating_add(1).min(size))),
    }
}

/// A streaming read: what the object is, which bytes come, and the bytes.
pub struct GetResult {
    pub meta: ObjectMeta,
    /// The byte range served (half-open), within `0..meta.size`.
    pub range: Range<u64>,
    pub body: BoxStream<'static, Result<Bytes, BackendError>>,
}

impl Debug for GetResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetResult")
            .field("meta", &self.meta)
            .field("range", &self.range)
            .finish()
    }
}

impl GetResult {
    /// Collects the whole body; for small objects and tests.
    pub async fn bytes(self) -> Result<Bytes, BackendError> {
        use futures::TryStreamExt;
        let chunks: Vec<Bytes> = self.body.try_collect().await?;
        Ok(chunks.concat().into())
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    #[error("object {key:?} not found")]
    NotFound { key: String },
    #[error("range starts at byte {start} of {key:?}, which has only {size} bytes")]
    InvalidRange { key: String, start: u64, size: u64 },
    #[error("key {key:?} is not allowed: {reason}")]
    InvalidKey { key: String, reason: &'static str },
    /// The egress guard refused to connect: the host is, or resolves to, an address the
    /// operator did not allow (see [`crate::egress`]).
    #[error("{detail}")]
    Refused { detail: String },
    /// The remote sent more than labelsync accepts: a body, a page, a tree too deep or too
    /// wide. A hostile or broken server costs a clear error, never the process.
    #[error("{what} is over labelsync's limit of {limit}")]
    OverLimit { what: String, limit: String },
    #[error("access to {what} was denied: {detail}")]
    PermissionDenied { what: String, detail: String },
    #[error("{operation} on {key:?} failed: {source}")]
    Io {
        operation: &'static str,
        key: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{operation} failed: {source}")]
    Service {
        operation: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// A storage backend: a flat keyspace of objects. See the module docs for the contract.
#[async_trait]
pub trait ObjectStore: Send + Sync + Debug {
    async fn list_page(&self, request: ListRequest<'_>) -> Result<ListPage, BackendError>;
    async fn head(&self, key: &str) -> Result<ObjectMeta, BackendError>;
    async fn get(&self, key: &str, range: Option<ByteRange>) -> Result<GetResult, BackendError>;
    async fn put(&self, key: &str, body: Bytes) -> Result<(), BackendError>;
    async fn delete(&self, key: &str) -> Result<(), BackendError>;

    /// Whether `start_after` is served by the store itself, so that a listing can be split
    /// into key ranges listed at once, each costing only its own pages.
    fn lists_after_key(&self) -> bool {
        false
    }

    /// The pre-signing capability, for backends that have one.
    fn presigner(&self) -> Option<&dyn Presigner> {
        None
    }
}

/// Time-limited URLs that let a browser read an object directly.
#[async_trait]
pub trait Presigner: Send + Sync {
    async fn presign_get(
        &self,
        key: &str,
        ttl: Duration,
        content_type: Option<&str>,
    ) -> Result<String, BackendError>;
}
