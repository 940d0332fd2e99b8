//! One `azure`/`azure_spi` storage, bound: its account, its auth, its connection check, its URIs.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::backend::{AzureAuth, AzureBackend, ContainerTarget};
use super::settings::AzureSettings;
use crate::backends::ObjectStore;
use crate::config::Settings;
use crate::connectors::bucket::{self, ProbeFailure};
use crate::connectors::settings::to_map;
use crate::connectors::{BackendCell, SettingsError, SourceSpec, Storage};
use crate::model::{AnnotationId, Secret, StorageRole};

pub struct AzureStorage {
    pub(super) settings: AzureSettings,
    pub(super) service_principal: bool,
    pub(super) scheme: &'static str,
    pub(super) source: SourceSpec,
    pub(super) env: Arc<Settings>,
    pub(super) backend: BackendCell,
}

fn missing(what: &str) -> SettingsError {
    SettingsError::Connection(format!(
        "{what} required: set it on the storage, or AZURE_BLOB_ACCOUNT_NAME / AZURE_BLOB_ACCOUNT_KEY on the server"
    ))
}

impl AzureStorage {
    fn open(&self) -> Result<AzureBackend, SettingsError> {
        let cloud = &self.env.cloud;
        let name = match &self.settings.account_name {
            Some(name) => name.expose().to_owned(),
            None => cloud
                .azure_account_name
                .clone()
                .ok_or_else(|| missing("The account name is"))?,
        };
        let auth = if self.service_principal {
            AzureAuth::ServicePrincipal {
                tenant_id: self.settings.tenant_id.as_deref().unwrap_or_default(),
                client_id: self.settings.client_id.as_deref().unwrap_or_default(),
                client_secret: self
                    .settings
                    .client_secret
                    .as_ref()
                    .map(Secret::expose)
                    .unwrap_or_default(),
                authority_host: cloud.azure_authority_host.as_deref(),
            }
        } else {
            let key = self
                .settings
                .account_key
                .as_ref()
                .or(cloud.azure_account_key.as_ref())
                .ok_or_else(|| missing("The account key is"))?;
            AzureAuth::AccountKey(key.expose())
        };
        let target = ContainerTarget {
            account_name: &name,
            auth,
            container: self.settings.container(),
            endpoint: cloud.azure_blob_endpoint.as_deref(),
        };
        AzureBackend::new(&target)
            .map_err(|e| SettingsError::Connection(format!("Azure settings: {e}")))
    }
}

#[async_trait]
impl Storage for AzureStorage {
    fn settings(&self) -> Map<String, Value> {
        to_map(&self.settings)
    }

    async fn check_connection(&self, role: StorageRole) -> Result<(), SettingsError> {
        let name = self.settings.container();
        let prefix = self.settings.options.prefix.as_deref().unwrap_or_default();
        let failure = match bucket::probe(&self.open()?, role, &self.settings.options).await {
            Ok(()) => return Ok(()),
            Err(failure) => failure,
        };
        Err(SettingsError::Connection(match failure {
            ProbeFailure::EmptyPrefix => format!("{}://{name}/{prefix} not found.", self.scheme),
            ProbeFailure::NotFound => format!("Container not found: {name}"),
            ProbeFailure::Denied(_) => {
                let credentials = if self.service_principal {
                    "this service principal (does it hold Storage Blob Data Reader?)"
                } else {
                    "this account name and key"
                };
                format!("Cannot access container {name} with {credentials}")
            }
            ProbeFailure::Other(e) => format!("Cannot connect to container {name}: {e}"),
        }))
    }

    fn backend(&self) -> Result<Arc<dyn ObjectStore>, SettingsError> {
        self.backend.get_or_open(|| self.open())
    }

    fn source(&self) -> &SourceSpec {
        &self.source
    }

    fn object_uri(&self, key: &str) -> String {
        format!("{}://{}/{key}", self.scheme, self.settings.container())
    }

    fn export_key(&self, annotation: AnnotationId) -> String {
        self.settings.options.export_key(annotation)
    }

    fn can_delete_objects(&self) -> bool {
        self.settings.options.can_delete_objects()
    }

    fn resolve_key(&self, uri: &str) -> Option<String> {
        bucket::resolve_key(uri, self.scheme, self.settings.container())
    }

    fn presign(&self) -> Option<Duration> {
        self.settings.options.presign()
    }

    fn server_credentials_field(&self) -> Option<&'static str> {
        if self.settings.account_name.is_none() {
            return Some("account_name");
        }
        let own_key = self.service_principal || self.settings.account_key.is_some();
        (!own_key).then_some("account_key")
    }
}
