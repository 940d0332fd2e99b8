//! `azure`: an Azure Blob container with an account name and key; `azure_spi`: the same with an
//! Entra ID service principal (client credentials; token service overridable with
//! `LABELSYNC_AZURE_AUTHORITY_HOST`) and `azure-spi://` URIs (spec §2.4, §3.2, §4.4, §5,
//! §8). Both are write-only (even the account name), with the operator's
//! `AZURE_BLOB_ACCOUNT_NAME` / `AZURE_BLOB_ACCOUNT_KEY` as fallbacks; pre-signed URLs are
//! service SAS URLs. `LABELSYNC_AZURE_BLOB_ENDPOINT` points every Azure storage at a path-style
//! endpoint (Azurite) instead of `<account>.blob.core.windows.net`.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use super::bucket::ProbeFailure;
use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::{
    Field, FieldDefault, SettingsError, SourceSpec, StorageType, bucket, compile_regex_filter,
    str_setting, variant_field_lists, variant_index,
};
use crate::backends::ObjectStore;
use crate::backends::azure::{AzureAuth, AzureBackend, ContainerTarget};
use crate::config::Settings;
use crate::model::{AnnotationId, StorageRole};

/// `azure` (account name and key) and `azure_spi` (an Entra ID service principal).
pub struct Azure {
    service_principal: bool,
}

impl Azure {
    pub const KEY: Azure = Azure {
        service_principal: false,
    };
    pub const SERVICE_PRINCIPAL: Azure = Azure {
        service_principal: true,
    };

    fn uri_scheme(&self) -> &'static str {
        if self.service_principal {
            "azure-spi"
        } else {
            "azure-blob"
        }
    }
}

/// Every field of `azure`, both roles; [`Azure::fields`] picks the ones that apply.
const FIELDS: &[Field] = &[
    Field::both("container", FieldDefault::Null),
    Field::both("prefix", FieldDefault::Null),
    Field::both("regex_filter", FieldDefault::Null),
    Field::both("use_blob_urls", FieldDefault::Bool(false)),
    Field::secret("account_name"),
    Field::secret("account_key"),
    Field::import("presign", FieldDefault::Bool(true)),
    Field::import("presign_ttl", FieldDefault::Int(1)),
    Field::import("recursive_scan", FieldDefault::Bool(false)),
    Field::export("can_delete_objects", FieldDefault::Null),
];
/// What `azure_spi` has instead of `account_key`.
const SERVICE_PRINCIPAL_FIELDS: &[Field] = &[
    Field::both("tenant_id", FieldDefault::Null),
    Field::both("client_id", FieldDefault::Null),
    Field::secret("client_secret"),
];

/// `[azure import, azure export, azure_spi import, azure_spi export]`.
static FIELD_LISTS: LazyLock<[Vec<Field>; 4]> =
    LazyLock::new(|| variant_field_lists(FIELDS, SERVICE_PRINCIPAL_FIELDS, &["account_key"]));

fn container(settings: &Map<String, Value>) -> &str {
    str_setting(settings, "container").unwrap_or_default()
}

fn setting_or_env(settings: &Map<String, Value>, field: &str, variable: &str) -> Option<String> {
    str_setting(settings, field)
        .map(str::to_owned)
        .or_else(|| std::env::var(variable).ok().filter(|v| !v.is_empty()))
}

/// Azure's rule for storage account names: 3-24 lowercase letters and digits. The name
/// becomes the blob host name, so nothing else may get through.
fn check_account_name(name: &str) -> Result<(), SettingsError> {
    let shaped = (3..=24).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if shaped {
        return Ok(());
    }
    Err(SettingsError::field(
        "account_name",
        "Not a storage account name: use 3-24 lowercase letters and digits.",
    ))
}

/// A tenant or client id: a GUID, or for tenants a domain name; it goes into token URLs.
fn check_directory_id(field: &str, value: &str) -> Result<(), SettingsError> {
    let shaped = (1..=253).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if shaped {
        return Ok(());
    }
    Err(SettingsError::field(
        field,
        format!("{value:?} is not a directory id (a GUID or a domain name)"),
    ))
}

fn missing(what: &str) -> SettingsError {
    SettingsError::Connection(format!(
        "{what} required: set it on the storage, or AZURE_BLOB_ACCOUNT_NAME / AZURE_BLOB_ACCOUNT_KEY on the server"
    ))
}

fn backend(
    settings: &Map<String, Value>,
    service_principal: bool,
) -> Result<AzureBackend, SettingsError> {
    let name = setting_or_env(settings, "account_name", "AZURE_BLOB_ACCOUNT_NAME")
        .ok_or_else(|| missing("The account name is"))?;
    let key = setting_or_env(settings, "account_key", "AZURE_BLOB_ACCOUNT_KEY");
    let auth = if service_principal {
        AzureAuth::ServicePrincipal {
            tenant_id: str_setting(settings, "tenant_id").unwrap_or_default(),
            client_id: str_setting(settings, "client_id").unwrap_or_default(),
            client_secret: str_setting(settings, "client_secret").unwrap_or_default(),
            authority_host: None,
        }
    } else {
        AzureAuth::AccountKey(
            key.as_deref()
                .ok_or_else(|| missing("The account key is"))?,
        )
    };
    let authority = std::env::var("LABELSYNC_AZURE_AUTHORITY_HOST")
        .ok()
        .filter(|h| !h.is_empty());
    let auth = match auth {
        AzureAuth::ServicePrincipal {
            tenant_id,
            client_id,
            client_secret,
            ..
        } => AzureAuth::ServicePrincipal {
            tenant_id,
            client_id,
            client_secret,
            authority_host: authority.as_deref(),
        },
        other => other,
    };
    let endpoint = std::env::var("LABELSYNC_AZURE_BLOB_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty());
    let target = ContainerTarget {
        account_name: &name,
        auth,
        container: container(settings),
        endpoint: endpoint.as_deref(),
    };
    AzureBackend::new(&target)
        .map_err(|e| SettingsError::Connection(format!("Azure settings: {e}")))
}

#[async_trait]
impl StorageType for Azure {
    fn slug(&self) -> &'static str {
        if self.service_principal {
            "azure_spi"
        } else {
            "azure"
        }
    }

    fn title(&self) -> &'static str {
        if self.service_principal {
            "Microsoft Azure (service principal)"
        } else {
            "Microsoft Azure"
        }
    }

    fn fields(&self, role: StorageRole) -> &'static [Field] {
        &FIELD_LISTS[variant_index(self.service_principal, role)]
    }

    fn server_credentials_field(&self, settings: &Map<String, Value>) -> Option<&'static str> {
        if str_setting(settings, "account_name").is_none() {
            return Some("account_name");
        }
        let own_key = self.service_principal || str_setting(settings, "account_key").is_some();
        (!own_key).then_some("account_key")
    }

    fn destination_fields(&self) -> &'static [&'static str] {
        &["account_name", "tenant_id"]
    }

    fn form_layout(&self, role: StorageRole) -> Value {
        let mut rows = vec![
            json!({"columnCount": 3, "fields": [
                {"type": "text", "name": "title", "label": "Storage Title"},
                {"type": "text", "name": "container", "label": "Container Name", "required": true},
                {"type": "text", "name": "prefix", "label": "Container Prefix"}]}),
            if self.service_principal {
                json!({"columnCount": 4, "fields": [
                    {"type": "password", "name": "account_name", "label": "Account Name", "protectedValue": true},
                    {"type": "text", "name": "tenant_id", "label": "Tenant ID", "required": true},
                    {"type": "text", "name": "client_id", "label": "Client ID", "required": true},
                    {"type": "password", "name": "client_secret", "label": "Client Secret", "protectedValue": true}]})
            } else {
                json!({"columnCount": 2, "fields": [
                    {"type": "password", "name": "account_name", "label": "Account Name", "protectedValue": true},
                    {"type": "password", "name": "account_key", "label": "Account Key", "protectedValue": true}]})
            },
        ];
        rows.push(bucket::options_row(role));
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
        if let Some(name) = str_setting(settings, "account_name") {
            check_account_name(name)?;
        }
        if self.service_principal {
            for name in ["tenant_id", "client_id"] {
                let value = str_setting(settings, name)
                    .ok_or_else(|| SettingsError::field(name, "This field is required."))?;
                check_directory_id(name, value)?;
            }
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
        let backend = backend(settings, self.service_principal)?;
        let prefix = str_setting(settings, "prefix").unwrap_or_default();
        let name = container(settings);
        let failure = match bucket::probe(&backend, role, prefix).await {
            Ok(()) => return Ok(()),
            Err(failure) => failure,
        };
        Err(SettingsError::Connection(match failure {
            ProbeFailure::EmptyPrefix => {
                format!("{}://{name}/{prefix} not found.", self.uri_scheme())
            }
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

    fn open(
        &self,
        settings: &Map<String, Value>,
        _env: &Settings,
    ) -> Result<Arc<dyn ObjectStore>, SettingsError> {
        Ok(Arc::new(backend(settings, self.service_principal)?))
    }

    fn source(&self, settings: &Map<String, Value>) -> Result<SourceSpec, SettingsError> {
        bucket::source(settings)
    }

    fn object_uri(&self, settings: &Map<String, Value>, _env: &Settings, key: &str) -> String {
        format!("{}://{}/{key}", self.uri_scheme(), container(settings))
    }

    fn storage_filename(&self, _settings: &Map<String, Value>, key: &str) -> String {
        key.to_owned()
    }

    fn export_key(&self, settings: &Map<String, Value>, annotation: AnnotationId) -> String {
        bucket::export_key(settings, annotation)
    }

    fn resolve_key(&self, settings: &Map<String, Value>, uri: &str) -> Option<String> {
        bucket::resolve_key(uri, self.uri_scheme(), container(settings))
    }

    fn presign(&self, settings: &Map<String, Value>) -> Option<Duration> {
        bucket::presign(settings)
    }
}
