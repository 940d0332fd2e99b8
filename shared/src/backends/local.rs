//! TEMPORARY stub until the local-backend branch merges.
use std::path::PathBuf;
use async_trait::async_trait;
use bytes::Bytes;
use super::*;
#[derive(Debug)]
pub struct LocalBackend { root: PathBuf }
impl LocalBackend { pub fn new(root: PathBuf) -> Self { LocalBackend { root } } }
#[async_trait]
impl ObjectStore for LocalBackend {
    async fn list_page(&self, _r: ListRequest<'_>) -> Result<ListPage, BackendError> { let _ = &self.root; Ok(ListPage::default()) }
    async fn head(&self, key: &str) -> Result<ObjectMeta, BackendError> { Err(BackendError::NotFound { key: key.into() }) }
    async fn get(&self, key: &str, _r: Option<ByteRange>) -> Result<GetResult, BackendError> { Err(BackendError::NotFound { key: key.into() }) }
    async fn put(&self, _key: &str, _b: Bytes) -> Result<(), BackendError> { Ok(()) }
    async fn delete(&self, _key: &str) -> Result<(), BackendError> { Ok(()) }
}
