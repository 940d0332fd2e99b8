//! `azure`: an Azure Blob container with an account name and key (spec §2.4, §3.2, §4.4, §5,
//! §8). Both are write-only (even the account name), with the operator's
//! `AZURE_BLOB_ACCOUNT_NAME` / `AZURE_BLOB_ACCOUNT_KEY` as fallbacks; pre-signed URLs are
//! service SAS URLs. `LABELSYNC_AZURE_BLOB_ENDPOINT` points every Azure storage at a path-style
//! endpoint (Azurite) instead of `<account>.blob.core.windows.net`.

use std::sync::Arc;
use std::time::Duration;

use super::bucket::ProbeFailure;
use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::{
    Field, FieldDefault, SettingsError, SourceSpec, StorageType, bucket, compile_regex_filter,
    str_setting,
};
use crate::backends::ObjectStore;
use crate::backends::azure::{AzureBackend, ContainerTarget};
use crate::config::Settings;
use crate::model::{AnnotationId, StorageRole};

pub struct Azure;

const IMPORT_FIELDS: &[Field] = &[
    Field::both("container", FieldDefault::Null),
    Field::both("prefix", FieldDefault::Null),
    Field::both("regex_filter", FieldDefault::Null),
    Field::both("use_blob_urls", FieldDefault::Bool(false)),
    Field::secret("account_name"),
    Field::secret("account_key"),
    Field::import("presign", FieldDefault::Bool(true)),
    Field::import("presign_ttl", FieldDefault::Int(1)),
    Field::import("recursive_scan", FieldDefault::Bool(false)),
];
const EXPORT_FIELDS: &[Field] = &[
    Field::both("container", FieldDefault::Null),
    Field::both("prefix", FieldDefault::Null),
    Field::both("regex_filter", FieldDefault::Null),
    Field::both("use_blob_urls", FieldDefault::Bool(false)),
    Field::secret("account_name"),
    Field::secret("account_key"),
    Field::export("can_delete_objects", FieldDefault::Null),
];

fn container(settings: &Map<String, Value>) -> &str {
    str_setting(settings, "container").unwrap_or_default()
}

fn setting_or_env(settings: &Map<String, Value>, field: &str, variable: &str) -> Option<String> {
    str_setting(settings, field)
        .map(str::to_owned)
        .or_else(|| std::env::var(variable).ok().filter(|v| !v.is_empty()))
}

fn backend(settings: &Map<String, Value>) -> Result<AzureBackend, SettingsError> {
    let name = setting_or_env(settings, "account_name", "AZURE_BLOB_ACCOUNT_NAME");
    let key = setting_or_env(settings, "account_key", "AZURE_BLOB_ACCOUNT_KEY");
    let (Some(name), Some(key)) = (name, key) else {
        return Err(SettingsError::Connection(
            "Azure account name and key are required: set account_name and account_key, or AZURE_BLOB_ACCOUNT_NAME and AZURE_BLOB_ACCOUNT_KEY on the server".into(),
        ));
    };
    let endpoint = std::env::var("LABELSYNC_AZURE_BLOB_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty());
    let target = ContainerTarget {
        account_name: &name,
        account_key: &key,
        container: container(settings),
        endpoint: endpoint.as_deref(),
    };
    AzureBackend::new(&target)
        .map_err(|e| SettingsError::Connection(format!("Azure settings: {e}")))
}

#[async_trait]
impl StorageType for Azure {
    fn slug(&self) -> &'static str {
        "azure"
    }

    fn title(&self) -> &'static str {
        "Microsoft Azure"
    }

    fn fields(&self, role: StorageRole) -> &'static [Field] {
        match role {
            StorageRole::Import => IMPORT_FIELDS,
            StorageRole::Export => EXPORT_FIELDS,
        }
    }

    fn form_layout(&self, role: StorageRole) -> Value {
        let mut rows = vec![
            json!({"columnCount": 3, "fields": [
                {"type": "text", "name": "title", "label": "Storage Title"},
                {"type": "text", "name": "container", "label": "Container Name", "required": true},
                {"type": "text", "name": "prefix", "label": "Container Prefix"}]}),
            json!({"columnCount": 2, "fields": [
                {"type": "password", "name": "account_name", "label": "Account Name", "protectedValue": true},
                {"type": "password", "name": "account_key", "label": "Account Key", "protectedValue": true}]}),
        ];
        rows.push(match role {
            StorageRole::Import => json!({"columnCount": 1, "fields": [
                {"type": "text", "name": "regex_filter", "label": "File Filter Regex"},
                {"type": "toggle", "name": "use_blob_urls", "label": "Treat every bucket object as a source file"},
                {"type": "toggle", "name": "recursive_scan", "label": "Recursive scan"},
                {"type": "toggle", "name": "presign", "label": "Use pre-signed URLs"},
                {"type": "counter", "name": "presign_ttl", "label": "Expiration minutes", "min": 1, "value": 15}]}),
            StorageRole::Export => json!({"columnCount": 1, "fields": [
                {"type": "toggle", "name": "can_delete_objects", "label": "Can delete objects from storage"}]}),
        });
        Value::Array(rows)
    }

    fn normalize(
        &self,
        _role: StorageRole,
        settings: &mut Map<String, Value>,
    ) -> Result<(), SettingsError> {
        if str_setting(settings, "container").is_none() {
            return Err(SettingsError::field("container", "This field is required."));
        }
        compile_regex_filter(str_setting(settings, "regex_filter"))?;
        bucket::check_presign_ttl(settings)?;
        Ok(())
    }

    async fn validate_connection(
        &self,
        role: StorageRole,
        settings: &Map<String, Value>,
        _env: &Settings,
    ) -> Result<(), SettingsError> {
        let backend = backend(settings)?;
        let prefix = str_setting(settings, "prefix").unwrap_or_default();
        let name = container(settings);
        let failure = match bucket::probe(&backend, role, prefix).await {
            Ok(()) => return Ok(()),
            Err(failure) => failure,
        };
        Err(SettingsError::Connection(match failure {
            ProbeFailure::EmptyPrefix => format!("azure-blob://{name}/{prefix} not found."),
            ProbeFailure::NotFound => format!("Container not found: {name}"),
            ProbeFailure::Denied(_) => {
                format!("Cannot access container {name} with this account name and key")
            }
            ProbeFailure::Other(e) => format!("Cannot connect to container {name}: {e}"),
        }))
    }

    fn open(
        &self,
        settings: &Map<String, Value>,
        _env: &Settings,
    ) -> Result<Arc<dyn ObjectStore>, SettingsError> {
        Ok(Arc::new(backend(settings)?))
    }

    fn source(&self, settings: &Map<String, Value>) -> Result<SourceSpec, SettingsError> {
        bucket::source(settings)
    }

    fn object_uri(&self, settings: &Map<String, Value>, _env: &Settings, key: &str) -> String {
        format!("azure-blob://{}/{key}", container(settings))
    }

    fn storage_filename(&self, _settings: &Map<String, Value>, key: &str) -> String {
        key.to_owned()
    }

    fn export_key(&self, settings: &Map<String, Value>, annotation: AnnotationId) -> String {
        bucket::export_key(settings, annotation)
    }

    fn resolve_key(&self, settings: &Map<String, Value>, uri: &str) -> Option<String> {
        bucket::resolve_key(uri, "azure-blob", container(settings))
    }

    fn presign(&self, settings: &Map<String, Value>) -> Option<Duration> {
        bucket::presign(settings)
    }
}
