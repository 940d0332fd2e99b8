//! `redis`: keys of a Redis database whose values are tasks (spec §2.4, §7). Import reads every
//! key under `path` (SCAN, never KEYS) and parses its value with the Tasks-mode loader; there is
//! no Files mode and no URI resolution. Export writes `SET <annotation id>` in its own db.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::reach::check_host;
use super::{Field, FieldDefault, SettingsError, SourceSpec, StorageType, str_setting};
use crate::backends::redis::{RedisBackend, RedisTarget};
use crate::backends::{BackendError, ObjectStore};
use crate::config::Settings;
use crate::egress::Guard;
use crate::model::{AnnotationId, StorageRole};

pub struct Redis;

const IMPORT_FIELDS: &[Field] = &[
    Field::both("path", FieldDefault::Null),
    Field::both("host", FieldDefault::Null),
    Field::both("port", FieldDefault::Null),
    Field::secret("password"),
    Field::both("regex_filter", FieldDefault::Null),
    Field::both("use_blob_urls", FieldDefault::Bool(false)),
    Field::import("db", FieldDefault::Int(1)),
];
const EXPORT_FIELDS: &[Field] = &[
    Field::both("path", FieldDefault::Null),
    Field::both("host", FieldDefault::Null),
    Field::both("port", FieldDefault::Null),
    Field::secret("password"),
    Field::both("regex_filter", FieldDefault::Null),
    Field::both("use_blob_urls", FieldDefault::Bool(false)),
    Field::export("db", FieldDefault::Int(2)),
    Field::export("can_delete_objects", FieldDefault::Null),
];

const DEFAULT_PORT: u16 = 6379;

fn host(settings: &Map<String, Value>) -> &str {
    str_setting(settings, "host").unwrap_or("localhost")
}

/// `port` is text in Label Studio; numbers are accepted too.
fn port(settings: &Map<String, Value>) -> Result<u16, SettingsError> {
    let invalid = || SettingsError::field("port", "Expected a port number from 1 to 65535.");
    match settings.get("port") {
        None | Some(Value::Null) => Ok(DEFAULT_PORT),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(DEFAULT_PORT),
        Some(Value::String(s)) => s.trim().parse().ok().filter(|p| *p > 0).ok_or_else(invalid),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p > 0)
            .ok_or_else(invalid),
        Some(_) => Err(invalid()),
    }
}

fn db(settings: &Map<String, Value>, role: StorageRole) -> Result<u16, SettingsError> {
    let default = match role {
        StorageRole::Import => 1,
        StorageRole::Export => 2,
    };
    let value = settings.get("db").filter(|v| !v.is_null());
    let number = match value {
        None => Some(default),
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(v) => v.as_u64().and_then(|n| u16::try_from(n).ok()),
    };
    match number {
        Some(0) => Err(SettingsError::field(
            "db",
            "Please explicitly pass a redis db id: db 0 is refused, as in Label Studio (import defaults to 1, export to 2).",
        )),
        Some(n) => Ok(n),
        None => Err(SettingsError::field(
            "db",
            "Expected a db number from 1 to 65535.",
        )),
    }
}

fn backend(
    settings: &Map<String, Value>,
    role: StorageRole,
    env: &Settings,
) -> Result<RedisBackend, SettingsError> {
    let target = RedisTarget {
        guard: Guard::new(env.egress.clone()),
        host: host(settings),
        port: port(settings)?,
        password: str_setting(settings, "password"),
        db: db(settings, role)?,
    };
    RedisBackend::new(&target).map_err(|e| SettingsError::Connection(unreachable(settings, &e)))
}

/// Label Studio's message, then what failed (host, port and db; never the password).
fn unreachable(settings: &Map<String, Value>, error: &BackendError) -> String {
    let port = port(settings).unwrap_or(DEFAULT_PORT);
    format!(
        "Can't connect to Redis server. ({}:{port}: {error})",
        host(settings)
    )
}

/// Which role a storage's settings belong to: only export storages carry `can_delete_objects`.
fn role_of(settings: &Map<String, Value>) -> StorageRole {
    if settings.contains_key("can_delete_objects") {
        StorageRole::Export
    } else {
        StorageRole::Import
    }
}

#[async_trait]
impl StorageType for Redis {
    fn slug(&self) -> &'static str {
        "redis"
    }

    fn title(&self) -> &'static str {
        "Redis"
    }

    fn fields(&self, role: StorageRole) -> &'static [Field] {
        match role {
            StorageRole::Import => IMPORT_FIELDS,
            StorageRole::Export => EXPORT_FIELDS,
        }
    }

    fn destination_fields(&self) -> &'static [&'static str] {
        &["host", "port"]
    }

    fn form_layout(&self, _role: StorageRole) -> Value {
        json!([
            {"columnCount": 1, "fields": [
                {"type": "text", "name": "title", "label": "Storage Title"},
                {"type": "text", "name": "path", "label": "Path"}]},
            {"columnCount": 3, "fields": [
                {"type": "text", "name": "host", "label": "Host", "placeholder": "redis://example.com"},
                {"type": "text", "name": "port", "label": "Port", "placeholder": "6379"},
                {"type": "password", "name": "password", "label": "Password", "protectedValue": true}]},
        ])
    }

    fn normalize(
        &self,
        role: StorageRole,
        settings: &mut Map<String, Value>,
    ) -> Result<(), SettingsError> {
        if let Some(host) = str_setting(settings, "host") {
            super::host::check_host("host", host)?;
        }
        port(settings)?;
        db(settings, role)?;
        Ok(())
    }

    async fn validate_connection(
        &self,
        role: StorageRole,
        settings: &Map<String, Value>,
        env: &Settings,
    ) -> Result<(), SettingsError> {
        let port = port(settings)?;
        check_host("host", host(settings), port, env).await?;
        let backend = backend(settings, role, env)?;
        backend
            .ping()
            .await
            .map_err(|e| SettingsError::Connection(unreachable(settings, &e)))
    }

    fn open(
        &self,
        settings: &Map<String, Value>,
        env: &Settings,
    ) -> Result<Arc<dyn ObjectStore>, SettingsError> {
        Ok(Arc::new(backend(settings, role_of(settings), env)?))
    }

    fn source(&self, settings: &Map<String, Value>) -> Result<SourceSpec, SettingsError> {
        // `regex_filter` and `use_blob_urls` are stored but ignored, as in Label Studio.
        Ok(SourceSpec {
            prefix: str_setting(settings, "path").unwrap_or_default().to_owned(),
            recursive: true,
            regex: None,
            regex_on_basename: false,
            files_mode: false,
        })
    }

    fn object_uri(&self, _settings: &Map<String, Value>, _env: &Settings, key: &str) -> String {
        key.to_owned()
    }

    fn storage_filename(&self, _settings: &Map<String, Value>, key: &str) -> String {
        key.to_owned()
    }

    fn export_key(&self, _settings: &Map<String, Value>, annotation: AnnotationId) -> String {
        annotation.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(value: Value) -> Map<String, Value> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn db_zero_is_refused_and_defaults_follow_the_role() {
        let zero = settings(json!({"db": 0}));
        assert!(
            matches!(db(&zero, StorageRole::Import), Err(SettingsError::Field { field, .. }) if field == "db")
        );
        assert_eq!(db(&settings(json!({})), StorageRole::Import).unwrap(), 1);
        assert_eq!(
            db(&settings(json!({"db": null})), StorageRole::Export).unwrap(),
            2
        );
        assert_eq!(
            db(&settings(json!({"db": "3"})), StorageRole::Export).unwrap(),
            3
        );
    }

    #[test]
    fn ports_are_text_or_numbers() {
        assert_eq!(port(&settings(json!({"port": "6380"}))).unwrap(), 6380);
        assert_eq!(port(&settings(json!({"port": 6381}))).unwrap(), 6381);
        assert_eq!(port(&settings(json!({"port": ""}))).unwrap(), 6379);
        assert!(port(&settings(json!({"port": "redis"}))).is_err());
        assert!(port(&settings(json!({"port": 70000}))).is_err());
    }
}
