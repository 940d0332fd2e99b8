//! What every handler needs: the state store, the queue, the settings and the bound storages.
//! Built once per process (outside any request or event handler) and shared.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use crate::backends::ObjectStore;
use crate::config::Settings;
use crate::connectors::{self, Connector, SettingsError, Storage};
use crate::metrics::Metrics;
use crate::model::StorageRecord;
use crate::queue::Queue;
use crate::state::StateStore;

/// How annotation changes leave the state store's outbox in this process.
#[derive(Clone, Default)]
pub enum OutboxRelay {
    /// The writer drains the outbox itself, before it answers (a Lambda, which may be frozen
    /// as soon as it answers).
    #[default]
    Inline,
    /// A relay task of the process drains it; writers only wake it (the local process).
    Background(Arc<tokio::sync::Notify>),
}

/// Wraps every backend a context hands out (fault injection in tests).
pub type BackendLayer =
    Arc<dyn Fn(&StorageRecord, Arc<dyn ObjectStore>) -> Arc<dyn ObjectStore> + Send + Sync>;

/// The services one process runs on.
#[derive(Clone)]
pub struct Context {
    pub state: Arc<dyn StateStore>,
    pub queue: Arc<dyn Queue>,
    pub settings: Arc<Settings>,
    pub relay: OutboxRelay,
    pub metrics: Metrics,
    storages: Arc<StorageCache>,
    layer: Option<BackendLayer>,
}

impl Context {
    pub fn new(state: Arc<dyn StateStore>, queue: Arc<dyn Queue>, settings: Settings) -> Self {
        Context {
            state,
            queue,
            settings: Arc::new(settings),
            relay: OutboxRelay::default(),
            metrics: Metrics::default(),
            storages: Arc::default(),
            layer: None,
        }
    }

    /// Emits its metrics to `metrics` (they are off by default).
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Every backend this context hands out goes through `layer` first.
    pub fn with_backend_layer(mut self, layer: BackendLayer) -> Self {
        self.layer = Some(layer);
        self
    }

    /// A stored storage bound to its type, parsed once and reused while its settings stay the
    /// same (a bound storage keeps its backend: clients, connection pools, listing caches).
    pub fn storage(&self, record: &StorageRecord) -> Result<Arc<dyn Storage>, SettingsError> {
        self.storages.get_or_bind(record, &self.settings)
    }

    /// The backend of a stored storage (through the context's layer, if it has one). Every
    /// pipeline reads and writes objects through this.
    pub fn backend(&self, record: &StorageRecord) -> Result<Arc<dyn ObjectStore>, SettingsError> {
        let backend = self.storage(record)?.backend()?;
        Ok(match &self.layer {
            Some(layer) => layer(record, backend),
            None => backend,
        })
    }

    /// [`Context::storage`] and [`Context::backend`] together.
    pub fn open(&self, record: &StorageRecord) -> Result<Opened, SettingsError> {
        Ok((self.storage(record)?, self.backend(record)?))
    }
}

/// A storage bound to its type, and its backend.
pub type Opened = (Arc<dyn Storage>, Arc<dyn ObjectStore>);

/// The type of a record; an unknown slug is a settings error naming it.
pub fn connector_of(record: &StorageRecord) -> Result<&'static dyn Connector, SettingsError> {
    connectors::by_slug(&record.storage_type).ok_or_else(|| {
        SettingsError::Connection(format!("unknown storage type {:?}", record.storage_type))
    })
}

/// A bound storage with the settings it was bound from.
type Bound = (Map<String, Value>, Arc<dyn Storage>);

/// Bound storages by storage id.
#[derive(Default)]
struct StorageCache {
    bound: Mutex<HashMap<u64, Bound>>,
}

impl StorageCache {
    fn get_or_bind(
        &self,
        record: &StorageRecord,
        env: &Arc<Settings>,
    ) -> Result<Arc<dyn Storage>, SettingsError> {
        if let Some((settings, storage)) = self.lock().get(&record.id)
            && *settings == record.settings
        {
            return Ok(storage.clone());
        }
        let storage = connector_of(record)?.bind(record.role, &record.settings, env)?;
        self.lock()
            .insert(record.id, (record.settings.clone(), storage.clone()));
        Ok(storage)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Bound>> {
        self.bound
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
