//! `azure`: an Azure Blob container with an account name and key; `azure_spi`: the same with an
//! Entra ID service principal (client credentials; token service overridable with
//! `LABELSYNC_AZURE_AUTHORITY_HOST`) and `azure-spi://` URIs (spec §2.4, §3.2, §4.4, §5,
//! §8). Both are write-only (even the account name), with the operator's
//! `AZURE_BLOB_ACCOUNT_NAME` / `AZURE_BLOB_ACCOUNT_KEY` as fallbacks; pre-signed URLs are
//! service SAS URLs. `LABELSYNC_AZURE_BLOB_ENDPOINT` points every Azure storage at a path-style
//! endpoint (Azurite) instead of `<account>.blob.core.windows.net`.

pub mod backend;
pub mod events;
mod settings;
mod storage;

use std::sync::{Arc, LazyLock};

use serde_json::{Map, Value, json};

use super::settings::{parse, to_map};
use super::{
    BackendCell, Connector, Field, SettingsError, Storage, bucket, variant_field_lists,
    variant_index,
};
use crate::config::Settings;
use crate::model::{ObjectEvent, StorageRole};
use settings::AzureSettings;
use storage::AzureStorage;

pub use backend::{AzureAuth, AzureBackend, ContainerTarget};

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
    Field::both("container"),
    Field::both("prefix"),
    Field::both("regex_filter"),
    Field::both("use_blob_urls"),
    Field::secret("account_name"),
    Field::secret("account_key"),
    Field::import("presign"),
    Field::import("presign_ttl"),
    Field::import("recursive_scan"),
    Field::export("can_delete_objects"),
];
/// What `azure_spi` has instead of `account_key`.
const SERVICE_PRINCIPAL_FIELDS: &[Field] = &[
    Field::both("tenant_id"),
    Field::both("client_id"),
    Field::secret("client_secret"),
];

/// `[azure import, azure export, azure_spi import, azure_spi export]`.
static FIELD_LISTS: LazyLock<[Vec<Field>; 4]> =
    LazyLock::new(|| variant_field_lists(FIELDS, SERVICE_PRINCIPAL_FIELDS, &["account_key"]));

impl Connector for Azure {
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

    fn uri_schemes(&self) -> &'static [&'static str] {
        if self.service_principal {
            &["azure-spi"]
        } else {
            &["azure-blob"]
        }
    }

    fn fields(&self, role: StorageRole) -> &'static [Field] {
        &FIELD_LISTS[variant_index(self.service_principal, role)]
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

    fn defaults(&self) -> Map<String, Value> {
        parse::<AzureSettings>(&Map::new()).map_or_else(|_| Map::new(), |s| to_map(&s))
    }

    fn bind(
        &self,
        _role: StorageRole,
        settings: &Map<String, Value>,
        env: &Arc<Settings>,
    ) -> Result<Arc<dyn Storage>, SettingsError> {
        let settings: AzureSettings = parse(settings)?;
        settings.check(self.service_principal)?;
        Ok(Arc::new(AzureStorage {
            source: settings.options.source()?,
            settings,
            service_principal: self.service_principal,
            scheme: self.uri_scheme(),
            env: env.clone(),
            backend: BackendCell::default(),
        }))
    }

    /// Event Grid's blob events, at this variant's locations (its URI scheme).
    fn object_events(&self, body: &Value) -> Vec<ObjectEvent> {
        events::object_events(body, self.uri_scheme())
    }

    fn subscription_handshake(&self, body: &Value) -> Option<Value> {
        let code = events::validation_code(body)?;
        Some(json!({ "validationResponse": code }))
    }
}
