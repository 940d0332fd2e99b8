//! One `redis` storage, bound: its connection through the egress guard, its keys.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::backend::{RedisBackend, RedisTarget};
use super::settings::RedisSettings;
use crate::backends::{BackendError, ObjectStore};
use crate::config::Settings;
use crate::connectors::reach::check_host;
use crate::connectors::settings::to_map;
use crate::connectors::{BackendCell, SettingsError, SourceSpec, Storage};
use crate::egress::Guard;
use crate::model::{AnnotationId, Secret, StorageRole};

pub struct RedisStorage {
    pub(super) settings: RedisSettings,
    pub(super) source: SourceSpec,
    pub(super) env: Arc<Settings>,
    pub(super) backend: BackendCell,
}

impl RedisStorage {
    fn open(&self) -> Result<RedisBackend, SettingsError> {
        let target = RedisTarget {
            guard: Guard::new(self.env.egress.clone()),
            host: self.settings.host(),
            port: self.settings.port()?,
            password: self.settings.password.as_ref().map(Secret::expose),
            db: self.settings.db(),
        };
        RedisBackend::new(&target).map_err(|e| SettingsError::Connection(self.unreachable(&e)))
    }

    /// Label Studio's message, then what failed (host, port and db; never the password).
    fn unreachable(&self, error: &BackendError) -> String {
        let port = self
            .settings
            .port()
            .unwrap_or(super::settings::DEFAULT_PORT);
        format!(
            "Can't connect to Redis server. ({}:{port}: {error})",
            self.settings.host()
        )
    }
}

#[async_trait]
impl Storage for RedisStorage {
    fn settings(&self) -> Map<String, Value> {
        to_map(&self.settings)
    }

    async fn check_connection(&self, _role: StorageRole) -> Result<(), SettingsError> {
        let port = self.settings.port()?;
        check_host("host", self.settings.host(), port, &self.env).await?;
        self.open()?
            .ping()
            .await
            .map_err(|e| SettingsError::Connection(self.unreachable(&e)))
    }

    fn backend(&self) -> Result<Arc<dyn ObjectStore>, SettingsError> {
        self.backend.get_or_open(|| self.open())
    }

    fn source(&self) -> &SourceSpec {
        &self.source
    }

    fn object_uri(&self, key: &str) -> String {
        key.to_owned()
    }

    fn location(&self) -> String {
        let port = self.settings.port().unwrap_or(0);
        format!(
            "redis://{}:{port}/{}/",
            self.settings.host(),
            self.settings.db()
        )
    }

    fn export_key(&self, annotation: AnnotationId) -> String {
        annotation.to_string()
    }

    fn can_delete_objects(&self) -> bool {
        self.settings.can_delete_objects.unwrap_or(false)
    }
}
