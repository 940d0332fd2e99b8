//! Queue message bodies. Every handler is idempotent: SQS and the embedded queue deliver at
//! least once and in any order.

use serde::{Deserialize, Serialize};

use crate::backends::ObjectMeta;
use crate::model::{AnnotationId, JobId, StorageId};
use crate::queue::QueueName;

/// One key of an ingest batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchKey {
    pub key: String,
    pub size: u64,
}

impl From<&ObjectMeta> for BatchKey {
    fn from(meta: &ObjectMeta) -> Self {
        BatchKey {
            key: meta.key.clone(),
            size: meta.size,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    /// List page `page` of part `part` of an import sync: the page after `continuation`, or a
    /// part's first page, after `start_after`; the part ends at key `until` (included).
    ListPage {
        job: JobId,
        storage: StorageId,
        #[serde(default)]
        part: u64,
        page: u64,
        continuation: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        start_after: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<String>,
    },
    /// Turn these keys (cut from page `page` of listing part `part`) into tasks.
    IngestBatch {
        job: JobId,
        storage: StorageId,
        #[serde(default)]
        part: u64,
        page: u64,
        batch: u64,
        keys: Vec<BatchKey>,
    },
    /// An annotation was created, updated or deleted: write or delete it in one target storage.
    ExportAnnotation {
        storage: StorageId,
        annotation: AnnotationId,
        deleted: bool,
    },
    /// Export page `page` of an export sync: annotations after `after`.
    ExportPage {
        job: JobId,
        storage: StorageId,
        page: u64,
        after: Option<AnnotationId>,
    },
}

impl Message {
    /// The queue this message travels on.
    pub fn queue(&self) -> QueueName {
        match self {
            Message::ListPage { .. } => QueueName::Sync,
            Message::IngestBatch { .. } => QueueName::Ingest,
            Message::ExportAnnotation { .. } | Message::ExportPage { .. } => QueueName::Export,
        }
    }

    pub fn to_body(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_body(body: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(body)
    }
}
