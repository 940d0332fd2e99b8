//! Objects to tasks in Tasks mode (`use_blob_urls=false`): an object's bytes become a stream of
//! tasks, each with its row in the object, and errors that name the object and the line, item
//! or row (Label Studio's `load_tasks_json_lso` and `add_task`, spec §3.4–§3.6).
//!
//! Where we differ from Label Studio, on purpose: a bad line, item or row is an error for that
//! one and reading goes on (LS fails the whole sync); `.ndjson` is accepted; Parquet is read
//! (LS Community cannot); a wrapped task keeps its `meta`.

mod body;
mod error;
mod format;
mod item;
mod json;
mod json_array;
mod json_bytes;
mod jsonl;
#[cfg(feature = "parquet")]
mod parquet;
#[cfg(test)]
mod test_support;

use bytes::Bytes;
use futures::stream::BoxStream;

use self::body::Limit;
pub use self::error::{ItemError, Position};
pub use self::format::{TaskFileFormat, task_file_format};
pub use self::item::{TaskItem, task_from_value};
use crate::backends::BackendError;

/// Streams the tasks of one object.
///
/// Errors for single lines, items or rows are yielded and the stream goes on with the next one;
/// an error that makes the rest unreadable (a broken JSON document, an unreadable Parquet file,
/// a body read error, a value over its limit) is yielded once and ends the stream. JSONL and
/// JSON arrays are parsed value by value as the chunks arrive; a single JSON object and a
/// Parquet file are collected first, up to their limits. Parquet is read on a blocking thread,
/// so the stream must be polled inside a Tokio runtime.
pub fn read_tasks(
    key: String,
    format: TaskFileFormat,
    body: BoxStream<'static, Result<Bytes, BackendError>>,
    limits: ReadLimits,
) -> BoxStream<'static, Result<TaskItem, ItemError>> {
    match format {
        TaskFileFormat::Json => json::read_json_tasks(key, body, limits.task()),
        #[cfg(feature = "parquet")]
        TaskFileFormat::Parquet => self::parquet::read_parquet_tasks(key, body, limits.parquet()),
        #[cfg(not(feature = "parquet"))]
        TaskFileFormat::Parquet => {
            drop((body, limits));
            let message = "this build of labelsync reads no Parquet (it was built without the \
                           `parquet` feature)";
            let error = ItemError::new(&key, Position::Whole, message);
            Box::pin(futures::stream::once(async move { Err(error) }))
        }
    }
}

/// The most bytes read as one piece.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadLimits {
    /// One JSON value: a single-object file, a JSONL line, an array item
    /// (`LABELSYNC_MAX_TASK_BYTES`). Parsed, a value takes up to 30 times its size.
    pub task_bytes: usize,
    /// One Parquet file, collected whole because its index is at its end
    /// (`LABELSYNC_MAX_PARQUET_BYTES`).
    pub parquet_bytes: usize,
}

impl ReadLimits {
    fn task(self) -> Limit {
        Limit {
            bytes: self.task_bytes,
            variable: "LABELSYNC_MAX_TASK_BYTES",
        }
    }

    #[cfg(feature = "parquet")]
    fn parquet(self) -> Limit {
        Limit {
            bytes: self.parquet_bytes,
            variable: "LABELSYNC_MAX_PARQUET_BYTES",
        }
    }
}
