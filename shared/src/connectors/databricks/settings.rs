//! `databricks` settings, typed.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::connectors::settings::{field, yes};
use crate::connectors::{SettingsError, compile_regex_filter, host};
use crate::model::Secret;

/// Every field of `databricks`, both roles.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct DatabricksSettings {
    #[serde(default, deserialize_with = "field::text")]
    pub host: Option<String>,
    #[serde(default, deserialize_with = "field::text")]
    pub catalog: Option<String>,
    #[serde(default, deserialize_with = "field::text")]
    pub schema: Option<String>,
    #[serde(default, deserialize_with = "field::text")]
    pub volume: Option<String>,
    #[serde(default, deserialize_with = "field::text")]
    pub prefix: Option<String>,
    #[serde(default, deserialize_with = "field::text")]
    pub regex_filter: Option<String>,
    #[serde(default, deserialize_with = "field::flag")]
    pub use_blob_urls: bool,
    #[serde(default, deserialize_with = "field::text")]
    pub auth_type: Option<String>,
    #[serde(default, deserialize_with = "field::secret")]
    pub token: Option<Secret>,
    #[serde(default = "yes", deserialize_with = "field::flag")]
    pub verify_tls: bool,
    #[serde(default = "thirty_seconds", deserialize_with = "field::number")]
    pub request_timeout_s: Option<u64>,
    #[serde(default, deserialize_with = "field::flag")]
    pub recursive_scan: bool,
    /// Stored but ignored: the Files API has no pre-signed URLs.
    #[serde(default, deserialize_with = "field::flag")]
    pub presign: bool,
    #[serde(default = "one_minute", deserialize_with = "field::number")]
    pub presign_ttl: Option<u64>,
    #[serde(default, deserialize_with = "field::maybe_flag")]
    pub can_delete_objects: Option<bool>,
}

fn thirty_seconds() -> Option<u64> {
    Some(30)
}

fn one_minute() -> Option<u64> {
    Some(1)
}

fn text(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or_default()
}

impl DatabricksSettings {
    pub fn host(&self) -> &str {
        text(&self.host)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_s.filter(|s| *s > 0).unwrap_or(30))
    }

    /// `prefix` without slashes at either end.
    pub fn prefix(&self) -> &str {
        text(&self.prefix).trim_matches('/')
    }

    /// The prefix as a folder: `in` lists `in/…`.
    pub fn listing_prefix(&self) -> String {
        match self.prefix() {
            "" => String::new(),
            p => format!("{p}/"),
        }
    }

    /// `dbx://Volumes/<catalog>/<schema>/<volume>/`.
    pub fn volume_uri(&self) -> String {
        format!(
            "dbx://Volumes/{}/{}/{}/",
            text(&self.catalog),
            text(&self.schema),
            text(&self.volume)
        )
    }

    /// Checks the shape of everything (no I/O).
    pub fn check(&self) -> Result<(), SettingsError> {
        let host = self
            .host
            .as_deref()
            .ok_or_else(|| SettingsError::required("host"))?;
        host::parse_base_url("host", host)?;
        for (name, value) in [
            ("catalog", &self.catalog),
            ("schema", &self.schema),
            ("volume", &self.volume),
        ] {
            check_segment(name, value)?;
        }
        match self.auth_type.as_deref() {
            None | Some("pat") => {}
            Some(other) => {
                return Err(SettingsError::field(
                    "auth_type",
                    format!(
                        "{other:?} is not supported yet; use \"pat\" with a personal access token"
                    ),
                ));
            }
        }
        compile_regex_filter(self.regex_filter.as_deref())?;
        Ok(())
    }
}

/// A path segment of the volume: required, and no `/` or `..` inside.
fn check_segment(name: &str, value: &Option<String>) -> Result<(), SettingsError> {
    let value = value
        .as_deref()
        .ok_or_else(|| SettingsError::required(name))?;
    if value.contains('/') || value == "." || value == ".." {
        return Err(SettingsError::field(
            name,
            format!("{value:?} must be a single name, without '/'"),
        ));
    }
    Ok(())
}
