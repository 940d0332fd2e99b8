//! TEMPORARY interface stub until the ingest branch merges.
use bytes::Bytes;
use futures::stream::BoxStream;
use crate::backends::BackendError;
use crate::model::NewTask;
pub struct TaskItem { pub row_index: Option<u64>, pub row_group: Option<u64>, pub task: NewTask }
#[derive(Debug, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ItemError { pub key: String, pub message: String }
pub enum TaskFileFormat { Json, Parquet }
pub fn task_file_format(key: &str) -> Result<TaskFileFormat, ItemError> { let _ = key; Ok(TaskFileFormat::Json) }
pub fn read_tasks(key: String, format: TaskFileFormat, body: BoxStream<'static, Result<Bytes, BackendError>>) -> BoxStream<'static, Result<TaskItem, ItemError>> { let _ = (key, format, body); Box::pin(futures::stream::empty()) }
