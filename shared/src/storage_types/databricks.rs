//! `databricks`: a Unity Catalog volume through the Files API (spec §1.4). Authenticated with a
//! personal access token; objects are always proxied (the Files API has no pre-signed URLs), and
//! task URIs read `dbx://Volumes/<catalog>/<schema>/<volume>/<path>`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::reach::check_endpoint;
use super::{
    Field, FieldDefault, SettingsError, SourceSpec, StorageType, bool_setting,
    compile_regex_filter, str_setting,
};
use crate::backends::databricks::{DatabricksBackend, VolumeTarget};
use crate::backends::{BackendError, ListRequest, ObjectStore};
use crate::config::Settings;
use crate::egress::Guard;
use crate::model::{AnnotationId, StorageRole};

pub struct Databricks;

const IMPORT_FIELDS: &[Field] = &[
    Field::both("host", FieldDefault::Null),
    Field::both("catalog", FieldDefault::Null),
    Field::both("schema", FieldDefault::Null),
    Field::both("volume", FieldDefault::Null),
    Field::both("prefix", FieldDefault::Null),
    Field::both("regex_filter", FieldDefault::Null),
    Field::both("use_blob_urls", FieldDefault::Bool(false)),
    Field::both("auth_type", FieldDefault::Null),
    Field::secret("token"),
    Field::both("verify_tls", FieldDefault::Bool(true)),
    Field::both("request_timeout_s", FieldDefault::Int(30)),
    Field::import("recursive_scan", FieldDefault::Bool(false)),
    Field::import("presign", FieldDefault::Bool(false)),
    Field::import("presign_ttl", FieldDefault::Int(1)),
];
const EXPORT_FIELDS: &[Field] = &[
    Field::both("host", FieldDefault::Null),
    Field::both("catalog", FieldDefault::Null),
    Field::both("schema", FieldDefault::Null),
    Field::both("volume", FieldDefault::Null),
    Field::both("prefix", FieldDefault::Null),
    Field::both("regex_filter", FieldDefault::Null),
    Field::both("use_blob_urls", FieldDefault::Bool(false)),
    Field::both("auth_type", FieldDefault::Null),
    Field::secret("token"),
    Field::both("verify_tls", FieldDefault::Bool(true)),
    Field::both("request_timeout_s", FieldDefault::Int(30)),
    Field::export("can_delete_objects", FieldDefault::Null),
];

fn text<'a>(settings: &'a Map<String, Value>, name: &str) -> &'a str {
    str_setting(settings, name).unwrap_or_default()
}

fn prefix(settings: &Map<String, Value>) -> &str {
    text(settings, "prefix").trim_matches('/')
}

/// A path segment of the volume: required, and no `/` or `..` inside.
fn check_segment(settings: &Map<String, Value>, name: &str) -> Result<(), SettingsError> {
    let value = str_setting(settings, name)
        .ok_or_else(|| SettingsError::field(name, "This field is required."))?;
    if value.contains('/') || value == "." || value == ".." {
        return Err(SettingsError::field(
            name,
            format!("{value:?} must be a single name, without '/'"),
        ));
    }
    Ok(())
}

fn backend(
    settings: &Map<String, Value>,
    env: &Settings,
) -> Result<DatabricksBackend, SettingsError> {
    let timeout = settings
        .get("request_timeout_s")
        .and_then(Value::as_u64)
        .filter(|s| *s > 0)
        .unwrap_or(30);
    let verify_tls = settings
        .get("verify_tls")
        .is_none_or(|_| bool_setting(settings, "verify_tls"));
    let target = VolumeTarget {
        guard: Guard::new(env.egress.clone()),
        host: text(settings, "host"),
        token: text(settings, "token"),
        catalog: text(settings, "catalog"),
        schema: text(settings, "schema"),
        volume: text(settings, "volume"),
        timeout: Duration::from_secs(timeout),
        verify_tls,
    };
    DatabricksBackend::new(&target).map_err(|e| SettingsError::Connection(e.to_string()))
}

fn volume_uri(settings: &Map<String, Value>) -> String {
    format!(
        "dbx://Volumes/{}/{}/{}/",
        text(settings, "catalog"),
        text(settings, "schema"),
        text(settings, "volume")
    )
}

#[async_trait]
impl StorageType for Databricks {
    fn slug(&self) -> &'static str {
        "databricks"
    }

    fn title(&self) -> &'static str {
        "Databricks Files (UC Volumes)"
    }

    fn fields(&self, role: StorageRole) -> &'static [Field] {
        match role {
            StorageRole::Import => IMPORT_FIELDS,
            StorageRole::Export => EXPORT_FIELDS,
        }
    }

    fn destination_fields(&self) -> &'static [&'static str] {
        &["host"]
    }

    fn form_layout(&self, role: StorageRole) -> Value {
        let mut rows = vec![
            json!({"columnCount": 2, "fields": [
                {"type": "text", "name": "title", "label": "Storage Title"},
                {"type": "text", "name": "host", "label": "Workspace Host", "required": true,
                 "placeholder": "https://adb-1234567890123456.7.azuredatabricks.net"}]}),
            json!({"columnCount": 3, "fields": [
                {"type": "text", "name": "catalog", "label": "Catalog", "required": true},
                {"type": "text", "name": "schema", "label": "Schema", "required": true},
                {"type": "text", "name": "volume", "label": "Volume", "required": true}]}),
            json!({"columnCount": 2, "fields": [
                {"type": "text", "name": "prefix", "label": "Path Prefix"},
                {"type": "password", "name": "token", "label": "Personal Access Token", "protectedValue": true}]}),
        ];
        rows.push(match role {
            StorageRole::Import => json!({"columnCount": 1, "fields": [
                {"type": "text", "name": "regex_filter", "label": "File Filter Regex"},
                {"type": "toggle", "name": "use_blob_urls", "label": "Treat every bucket object as a source file"},
                {"type": "toggle", "name": "recursive_scan", "label": "Recursive scan"}]}),
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
        let host = str_setting(settings, "host")
            .ok_or_else(|| SettingsError::field("host", "This field is required."))?;
        super::host::parse_base_url("host", host)?;
        for name in ["catalog", "schema", "volume"] {
            check_segment(settings, name)?;
        }
        match str_setting(settings, "auth_type") {
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
        compile_regex_filter(str_setting(settings, "regex_filter"))?;
        Ok(())
    }

    async fn validate_connection(
        &self,
        role: StorageRole,
        settings: &Map<String, Value>,
        env: &Settings,
    ) -> Result<(), SettingsError> {
        check_endpoint("host", text(settings, "host"), env).await?;
        if str_setting(settings, "token").is_none() {
            return Err(SettingsError::field(
                "token",
                "A personal access token is required.",
            ));
        }
        let backend = backend(settings, env)?;
        let listing_prefix = match prefix(settings) {
            "" => String::new(),
            p => format!("{p}/"),
        };
        let request = ListRequest {
            prefix: &listing_prefix,
            recursive: true,
            continuation: None,
            max_keys: 1,
        };
        let location = format!("{}{}", volume_uri(settings), listing_prefix);
        match backend.list_page(request).await {
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

    fn open(
        &self,
        settings: &Map<String, Value>,
        env: &Settings,
    ) -> Result<Arc<dyn ObjectStore>, SettingsError> {
        Ok(Arc::new(backend(settings, env)?))
    }

    fn source(&self, settings: &Map<String, Value>) -> Result<SourceSpec, SettingsError> {
        let prefix = match prefix(settings) {
            "" => String::new(),
            p => format!("{p}/"),
        };
        Ok(SourceSpec {
            prefix,
            recursive: bool_setting(settings, "recursive_scan"),
            regex: compile_regex_filter(str_setting(settings, "regex_filter"))?,
            regex_on_basename: false,
            files_mode: bool_setting(settings, "use_blob_urls"),
        })
    }

    fn object_uri(&self, settings: &Map<String, Value>, _env: &Settings, key: &str) -> String {
        format!("{}{key}", volume_uri(settings))
    }

    fn storage_filename(&self, _settings: &Map<String, Value>, key: &str) -> String {
        key.to_owned()
    }

    fn export_key(&self, settings: &Map<String, Value>, annotation: AnnotationId) -> String {
        match prefix(settings) {
            "" => annotation.to_string(),
            p => format!("{p}/{annotation}"),
        }
    }

    fn resolve_key(&self, settings: &Map<String, Value>, uri: &str) -> Option<String> {
        let key = uri.strip_prefix(&volume_uri(settings))?;
        (!key.is_empty()).then(|| key.to_owned())
    }

    /// Always proxied: the Files API has no pre-signed URLs, whatever `presign` says.
    fn presign(&self, _settings: &Map<String, Value>) -> Option<Duration> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(value: Value) -> Map<String, Value> {
        serde_json::from_value(value).unwrap()
    }

    fn no_settings() -> Settings {
        let env = |_: &str| None;
        Settings::from_env(&env, std::path::Path::new("/nonexistent")).unwrap()
    }

    #[test]
    fn uris_keys_and_shape_checks() {
        let s = settings(
            json!({"host": "https://x.cloud.databricks.com", "catalog": "main",
                                "schema": "raw", "volume": "images", "prefix": "/in/"}),
        );
        assert_eq!(
            Databricks.object_uri(&s, &no_settings(), "in/a.jpg"),
            "dbx://Volumes/main/raw/images/in/a.jpg"
        );
        let uri = "dbx://Volumes/main/raw/images/in/a b.jpg";
        assert_eq!(
            Databricks.resolve_key(&s, uri).as_deref(),
            Some("in/a b.jpg")
        );
        assert_eq!(
            Databricks.resolve_key(&s, "dbx://Volumes/main/raw/other/a.jpg"),
            None
        );
        assert_eq!(Databricks.export_key(&s, 7), "in/7");
        assert_eq!(Databricks.source(&s).unwrap().prefix, "in/");
        let mut bad = s.clone();
        bad.insert("volume".into(), json!("a/b"));
        assert!(
            matches!(Databricks.normalize(StorageRole::Import, &mut bad),
            Err(SettingsError::Field { field, .. }) if field == "volume")
        );
        let mut sp = s.clone();
        sp.insert("auth_type".into(), json!("dbx_sp"));
        assert!(Databricks.normalize(StorageRole::Import, &mut sp).is_err());
        assert_eq!(
            Databricks.presign(&settings(json!({"presign": true}))),
            None
        );
    }
}
