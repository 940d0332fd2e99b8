//! `azure` and `azure_spi` settings, typed, with Azure's rules for names and ids.

use serde::{Deserialize, Serialize};

use crate::connectors::SettingsError;
use crate::connectors::bucket::{self, BucketOptions};
use crate::connectors::settings::field;
use crate::model::Secret;

/// Every field of `azure` and `azure_spi`, both roles. The account name is write-only too,
/// as in Label Studio.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct AzureSettings {
    #[serde(default, deserialize_with = "field::text")]
    pub container: Option<String>,
    #[serde(flatten)]
    pub options: BucketOptions,
    #[serde(default, deserialize_with = "field::secret")]
    pub account_name: Option<Secret>,
    #[serde(default, deserialize_with = "field::secret")]
    pub account_key: Option<Secret>,
    /// `azure_spi` only.
    #[serde(default, deserialize_with = "field::text")]
    pub tenant_id: Option<String>,
    #[serde(default, deserialize_with = "field::text")]
    pub client_id: Option<String>,
    #[serde(default, deserialize_with = "field::secret")]
    pub client_secret: Option<Secret>,
}

impl AzureSettings {
    pub fn container(&self) -> &str {
        self.container.as_deref().unwrap_or_default()
    }

    /// Checks the shape of everything (no I/O).
    pub fn check(&self, service_principal: bool) -> Result<(), SettingsError> {
        bucket::required(&self.container, "container")?;
        if let Some(name) = &self.account_name {
            check_account_name(name.expose())?;
        }
        if service_principal {
            for (name, value) in [
                ("tenant_id", &self.tenant_id),
                ("client_id", &self.client_id),
            ] {
                check_directory_id(name, bucket::required(value, name)?)?;
            }
        }
        self.options.check()
    }
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
