//! `redis` settings, typed: Label Studio keeps the port as text and refuses db 0.

use serde::{Deserialize, Serialize};

use crate::connectors::settings::field;
use crate::connectors::{SettingsError, host};
use crate::model::{Secret, StorageRole};

pub const DEFAULT_PORT: u16 = 6379;

/// Every field of `redis`, both roles.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct RedisSettings {
    #[serde(default, deserialize_with = "field::text")]
    pub path: Option<String>,
    #[serde(default, deserialize_with = "field::text")]
    pub host: Option<String>,
    /// Text, as Label Studio stores it; numbers are taken as their digits.
    #[serde(default, deserialize_with = "field::text")]
    pub port: Option<String>,
    #[serde(default, deserialize_with = "field::secret")]
    pub password: Option<Secret>,
    /// Stored but ignored, as in Label Studio.
    #[serde(default, deserialize_with = "field::text")]
    pub regex_filter: Option<String>,
    #[serde(default, deserialize_with = "field::flag")]
    pub use_blob_urls: bool,
    /// Import defaults to 1 and export to 2 (filled in when the storage is bound).
    #[serde(default, deserialize_with = "field::number")]
    pub db: Option<u64>,
    #[serde(default, deserialize_with = "field::maybe_flag")]
    pub can_delete_objects: Option<bool>,
}

impl RedisSettings {
    pub fn host(&self) -> &str {
        self.host.as_deref().unwrap_or("localhost")
    }

    /// `port` as a number, 6379 when empty.
    pub fn port(&self) -> Result<u16, SettingsError> {
        let Some(text) = &self.port else {
            return Ok(DEFAULT_PORT);
        };
        text.trim()
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| SettingsError::field("port", "Expected a port number from 1 to 65535."))
    }

    /// Checks (no I/O) and fills in the role's default db.
    pub fn check(&mut self, role: StorageRole) -> Result<(), SettingsError> {
        if let Some(name) = &self.host {
            host::check_host("host", name)?;
        }
        self.port()?;
        let default = match role {
            StorageRole::Import => 1,
            StorageRole::Export => 2,
        };
        match self.db.get_or_insert(default) {
            0 => Err(SettingsError::field(
                "db",
                "Please explicitly pass a redis db id: db 0 is refused, as in Label Studio (import defaults to 1, export to 2).",
            )),
            n if *n > u64::from(u16::MAX) => Err(SettingsError::field(
                "db",
                "Expected a db number from 1 to 65535.",
            )),
            _ => Ok(()),
        }
    }

    pub fn db(&self) -> u16 {
        self.db.and_then(|n| u16::try_from(n).ok()).unwrap_or(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::settings::parse;
    use serde_json::{Value, json};

    fn settings(value: Value) -> RedisSettings {
        parse(&serde_json::from_value(value).unwrap()).unwrap()
    }

    #[test]
    fn db_zero_is_refused_and_defaults_follow_the_role() {
        let mut zero = settings(json!({"db": 0}));
        assert!(
            matches!(zero.check(StorageRole::Import), Err(SettingsError::Field { field, .. }) if field == "db")
        );
        let mut import = settings(json!({}));
        import.check(StorageRole::Import).unwrap();
        assert_eq!(import.db(), 1);
        let mut export = settings(json!({"db": null}));
        export.check(StorageRole::Export).unwrap();
        assert_eq!(export.db(), 2);
        let mut three = settings(json!({"db": "3"}));
        three.check(StorageRole::Export).unwrap();
        assert_eq!(three.db(), 3);
    }

    #[test]
    fn ports_are_text_or_numbers() {
        assert_eq!(settings(json!({"port": "6380"})).port().unwrap(), 6380);
        assert_eq!(settings(json!({"port": 6381})).port().unwrap(), 6381);
        assert_eq!(settings(json!({"port": ""})).port().unwrap(), 6379);
        assert!(settings(json!({"port": "redis"})).port().is_err());
        assert!(settings(json!({"port": 70000})).port().is_err());
    }
}
