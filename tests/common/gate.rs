//! A backend that holds every listing page after a storage's first until a file exists: a sync
//! stays visibly in progress (its first page imported, the rest waiting) until the test opens
//! the gate, whatever the speed of the machine.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use labelsync::backends::{
    BackendError, ByteRange, GetResult, ListPage, ListRequest, ObjectMeta, ObjectStore, Presigner,
};
use labelsync::context::BackendLayer;
use labelsync::model::StorageRecord;

/// The layer that puts every storage behind a gate opened by creating `gate`.
pub fn layer(gate: PathBuf) -> BackendLayer {
    Arc::new(move |_: &StorageRecord, inner: Arc<dyn ObjectStore>| {
        Arc::new(GatedStore {
            inner,
            gate: gate.clone(),
        }) as Arc<dyn ObjectStore>
    })
}

#[derive(Debug)]
struct GatedStore {
    inner: Arc<dyn ObjectStore>,
    gate: PathBuf,
}

#[async_trait]
impl ObjectStore for GatedStore {
    async fn list_page(&self, request: ListRequest<'_>) -> Result<ListPage, BackendError> {
        if request.continuation.is_some() {
            while !self.gate.exists() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        self.inner.list_page(request).await
    }

    async fn head(&self, key: &str) -> Result<ObjectMeta, BackendError> {
        self.inner.head(key).await
    }

    async fn get(&self, key: &str, range: Option<ByteRange>) -> Result<GetResult, BackendError> {
        self.inner.get(key, range).await
    }

    async fn put(&self, key: &str, body: Bytes) -> Result<(), BackendError> {
        self.inner.put(key, body).await
    }

    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        self.inner.delete(key).await
    }

    fn presigner(&self) -> Option<&dyn Presigner> {
        self.inner.presigner()
    }
}
