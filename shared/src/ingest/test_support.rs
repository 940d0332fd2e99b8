//! Helpers for the ingest tests: bodies fed in chunks, streams collected.

use bytes::Bytes;
use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};

use super::{ItemError, ReadLimits, TaskFileFormat, TaskItem, read_tasks};
use crate::backends::BackendError;

/// The size limits in tests that do not test them.
pub(crate) const NO_LIMIT: ReadLimits = ReadLimits {
    task_bytes: usize::MAX,
    parquet_bytes: usize::MAX,
};

/// `bytes` as the limit for both JSON values and Parquet files.
pub(crate) fn limit(bytes: usize) -> ReadLimits {
    ReadLimits {
        task_bytes: bytes,
        parquet_bytes: bytes,
    }
}

/// `content` as a body of chunks of at most `chunk_size` bytes.
pub(crate) fn chunked(
    content: &[u8],
    chunk_size: usize,
) -> BoxStream<'static, Result<Bytes, BackendError>> {
    let chunks: Vec<Result<Bytes, BackendError>> = content
        .chunks(chunk_size)
        .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
        .collect();
    stream::iter(chunks).boxed()
}

/// Everything `read_tasks` yields for `content` fed in `chunk_size`-byte chunks.
pub(crate) async fn read_chunked(
    key: &str,
    format: TaskFileFormat,
    content: &[u8],
    chunk_size: usize,
) -> Vec<Result<TaskItem, ItemError>> {
    read_limited(key, format, content, chunk_size, NO_LIMIT).await
}

/// Like [`read_chunked`], with at most `limit` bytes per value.
pub(crate) async fn read_limited(
    key: &str,
    format: TaskFileFormat,
    content: &[u8],
    chunk_size: usize,
    limits: ReadLimits,
) -> Vec<Result<TaskItem, ItemError>> {
    read_tasks(key.to_owned(), format, chunked(content, chunk_size), limits)
        .collect()
        .await
}

/// Everything `read_tasks` yields for `content` as a JSON-family object, in one chunk.
pub(crate) async fn read_json(key: &str, content: &str) -> Vec<Result<TaskItem, ItemError>> {
    read_chunked(
        key,
        TaskFileFormat::Json,
        content.as_bytes(),
        content.len().max(1),
    )
    .await
}

/// The tasks, failing the test on any error.
pub(crate) fn tasks(results: Vec<Result<TaskItem, ItemError>>) -> Vec<TaskItem> {
    results.into_iter().collect::<Result<_, _>>().unwrap()
}

/// The only result, which must be an error.
pub(crate) fn only_error(results: Vec<Result<TaskItem, ItemError>>) -> ItemError {
    assert_eq!(results.len(), 1, "expected one error, got {results:?}");
    results.into_iter().next().unwrap().unwrap_err()
}

/// A body that fails after `content`.
pub(crate) fn failing_after(
    content: &'static [u8],
) -> BoxStream<'static, Result<Bytes, BackendError>> {
    let failure = BackendError::Io {
        operation: "read",
        key: "k".into(),
        source: std::io::Error::other("connection reset"),
    };
    stream::iter(vec![Ok(Bytes::from_static(content)), Err(failure)]).boxed()
}

/// Collects a stream of results, stopping at the first error (used where no error is expected).
pub(crate) async fn try_count(stream: BoxStream<'static, Result<TaskItem, ItemError>>) -> usize {
    stream
        .try_fold(0, |count, _| async move { Ok(count + 1) })
        .await
        .unwrap()
}
