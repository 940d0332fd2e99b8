//! What every handler needs: the state store, the queue, the settings and the open backends.
//! Built once per process (outside any request or event handler) and shared.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::backends::ObjectStore;
use crate::config::Settings;
use crate::model::StorageRecord;
use crate::queue::Queue;
use crate::state::StateStore;
use crate::storage_types::{self, SettingsError, StorageType};

/// The services one process runs on.
#[derive(Clone)]
pub struct Context {
    pub state: Arc<dyn StateStore>,
    pub queue: Arc<dyn Queue>,
    pub settings: Arc<Settings>,
    backends: Arc<BackendCache>,
}

impl Context {
    pub fn new(state: Arc<dyn StateStore>, queue: Arc<dyn Queue>, settings: Settings) -> Self {
        Context {
            state,
            queue,
            settings: Arc::new(settings),
            backends: Arc::default(),
        }
    }

    /// The backend of a storage, opened once and reused while its settings stay the same
    /// (backends keep clients, connection pools and listing caches).
    pub fn backend(&self, storage: &StorageRecord) -> Result<Arc<dyn ObjectStore>, SettingsError> {
        self.backends.get_or_open(storage, &self.settings)
    }
}

/// The storage type of a record; an unknown slug is a settings error naming it.
pub fn storage_type_of(storage: &StorageRecord) -> Result<&'static dyn StorageType, SettingsError> {
    storage_types::by_slug(&storage.storage_type).ok_or_else(|| {
        SettingsError::Connection(format!("unknown storage type {:?}", storage.storage_type))
    })
}

/// A backend with the settings it was opened with.
type OpenBackend = (
    serde_json::Map<String, serde_json::Value>,
    Arc<dyn ObjectStore>,
);

/// Open backends by storage id.
#[derive(Default)]
struct BackendCache {
    open: Mutex<HashMap<u64, OpenBackend>>,
}

impl BackendCache {
    fn get_or_open(
        &self,
        storage: &StorageRecord,
        env: &Settings,
    ) -> Result<Arc<dyn ObjectStore>, SettingsError> {
        if let Some((settings, backend)) = self.lock().get(&storage.id)
            && *settings == storage.settings
        {
            return Ok(backend.clone());
        }
        let backend = storage_type_of(storage)?.open(&storage.settings, env)?;
        self.lock()
            .insert(storage.id, (storage.settings.clone(), backend.clone()));
        Ok(backend)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, OpenBackend>> {
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
