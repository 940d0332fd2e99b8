//! One `databricks` storage, bound: its Files API client, its connection check, its URIs.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::backend::{DatabricksBackend, VolumeTarget};
use super::settings::DatabricksSettings;
use crate::backends::{BackendError, ListRequest, ObjectStore};
use crate::config::Settings;
use crate::connectors::reach::check_endpoint;
use crate::connectors::settings::to_map;
use crate::connectors::{BackendCell, SettingsError, SourceSpec, Storage};
use crate::egress::Guard;
use crate::model::{AnnotationId, Secret, StorageRole};

pub struct DatabricksStorage {
    pub(super) settings: DatabricksSettings,
    pub(super) source: SourceSpec,
    pub(super) env: Arc<Settings>,
    pub(super) backend: BackendCell,
}

impl DatabricksStorage {
    fn open(&self) -> Result<DatabricksBackend, SettingsError> {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let (catalog, schema, volume) = (
            text(&self.settings.catalog),
            text(&self.settings.schema),
            text(&self.settings.volume),
        );
        let target = VolumeTarget {
            guard: Guard::new(self.env.egress.clone()),
            host: self.settings.host(),
            token: self
                .settings
                .token
                .as_ref()
                .map(Secret::expose)
                .unwrap_or_default(),
            catalog: &catalog,
            schema: &schema,
            volume: &volume,
            timeout: self.settings.timeout(),
            verify_tls: self.settings.verify_tls,
        };
        DatabricksBackend::new(&target).map_err(|e| SettingsError::Connection(e.to_string()))
    }
}

#[async_trait]
impl Storage for DatabricksStorage {
    fn settings(&self) -> Map<String, Value> {
        to_map(&self.settings)
    }

    async fn check_connection(&self, role: StorageRole) -> Result<(), SettingsError> {
        check_endpoint("host", self.settings.host(), &self.env).await?;
        if self.settings.token.is_none() {
            return Err(SettingsError::field(
                "token",
                "A personal access token is required.",
            ));
        }
        let listing_prefix = self.settings.listing_prefix();
        let request = ListRequest {
            prefix: &listing_prefix,
            recursive: true,
            continuation: None,
            start_after: None,
            max_keys: 1,
        };
        let location = format!("{}{}", self.settings.volume_uri(), listing_prefix);
        match self.open()?.list_page(request).await {
            Ok(page)
                if page.objects.is_empty()
                    && role == StorageRole::Import
                    && !listing_prefix.is_empty() =>
            {
                Err(SettingsError::Connection(format!(
                    "{location} not found or empty."
                )))
            }
            Ok(_) => Ok(()),
            Err(BackendError::PermissionDenied { detail, .. }) => {
                Err(SettingsError::Connection(format!(
                    "Databricks refused the token for {location} ({detail}); check the personal access token and its READ VOLUME / WRITE VOLUME grants"
                )))
            }
            Err(e) => Err(SettingsError::Connection(format!(
                "Cannot list {location}: {e}"
            ))),
        }
    }

    fn backend(&self) -> Result<Arc<dyn ObjectStore>, SettingsError> {
        self.backend.get_or_open(|| self.open())
    }

    fn source(&self) -> &SourceSpec {
        &self.source
    }

    fn object_uri(&self, key: &str) -> String {
        format!("{}{key}", self.settings.volume_uri())
    }

    fn export_key(&self, annotation: AnnotationId) -> String {
        match self.settings.prefix() {
            "" => annotation.to_string(),
            p => format!("{p}/{annotation}"),
        }
    }

    fn can_delete_objects(&self) -> bool {
        self.settings.can_delete_objects.unwrap_or(false)
    }

    fn resolve_key(&self, uri: &str) -> Option<String> {
        let key = uri.strip_prefix(&self.settings.volume_uri())?;
        (!key.is_empty()).then(|| key.to_owned())
    }

    // Always proxied: the Files API has no pre-signed URLs, whatever `presign` says.
}
