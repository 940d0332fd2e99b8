//! `databricks`: a Unity Catalog volume through the Files API (spec §1.4). Authenticated with a
//! personal access token; objects are always proxied (the Files API has no pre-signed URLs), and
//! task URIs read `dbx://Volumes/<catalog>/<schema>/<volume>/<path>`.

pub mod backend;
mod settings;
mod storage;

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::settings::{parse, to_map};
use super::{
    BackendCell, Connector, Field, SettingsError, SourceSpec, Storage, compile_regex_filter,
};
use crate::config::Settings;
use crate::model::StorageRole;
use settings::DatabricksSettings;
use storage::DatabricksStorage;

pub use backend::{DatabricksBackend, VolumeTarget};

pub struct Databricks;

const IMPORT_FIELDS: &[Field] = &[
    Field::both("host"),
    Field::both("catalog"),
    Field::both("schema"),
    Field::both("volume"),
    Field::both("prefix"),
    Field::both("regex_filter"),
    Field::both("use_blob_urls"),
    Field::both("auth_type"),
    Field::secret("token"),
    Field::both("verify_tls"),
    Field::both("request_timeout_s"),
    Field::import("recursive_scan"),
    Field::import("presign"),
    Field::import("presign_ttl"),
];
const EXPORT_FIELDS: &[Field] = &[
    Field::both("host"),
    Field::both("catalog"),
    Field::both("schema"),
    Field::both("volume"),
    Field::both("prefix"),
    Field::both("regex_filter"),
    Field::both("use_blob_urls"),
    Field::both("auth_type"),
    Field::secret("token"),
    Field::both("verify_tls"),
    Field::both("request_timeout_s"),
    Field::export("can_delete_objects"),
];

impl Connector for Databricks {
    fn slug(&self) -> &'static str {
        "databricks"
    }

    fn title(&self) -> &'static str {
        "Databricks Files (UC Volumes)"
    }

    fn uri_schemes(&self) -> &'static [&'static str] {
        &["dbx"]
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

    fn defaults(&self) -> Map<String, Value> {
        parse::<DatabricksSettings>(&Map::new()).map_or_else(|_| Map::new(), |s| to_map(&s))
    }

    fn bind(
        &self,
        _role: StorageRole,
        settings: &Map<String, Value>,
        env: &Arc<Settings>,
    ) -> Result<Arc<dyn Storage>, SettingsError> {
        let settings: DatabricksSettings = parse(settings)?;
        settings.check()?;
        let source = SourceSpec {
            prefix: settings.listing_prefix(),
            recursive: settings.recursive_scan,
            regex: compile_regex_filter(settings.regex_filter.as_deref())?,
            regex_on_basename: false,
            files_mode: settings.use_blob_urls,
        };
        Ok(Arc::new(DatabricksStorage {
            settings,
            source,
            env: env.clone(),
            backend: BackendCell::default(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind(value: Value) -> Result<Arc<dyn Storage>, SettingsError> {
        let env = Arc::new(Settings::from_env(&|_: &str| None, std::path::Path::new("/")).unwrap());
        let settings = serde_json::from_value(value).unwrap();
        Databricks.bind(StorageRole::Import, &settings, &env)
    }

    #[test]
    fn uris_keys_and_shape_checks() {
        let fields = json!({"host": "https://x.cloud.databricks.com", "catalog": "main",
                            "schema": "raw", "volume": "images", "prefix": "/in/"});
        let s = bind(fields.clone()).unwrap();
        assert_eq!(
            s.object_uri("in/a.jpg"),
            "dbx://Volumes/main/raw/images/in/a.jpg"
        );
        assert_eq!(
            s.resolve_key("dbx://Volumes/main/raw/images/in/a b.jpg")
                .as_deref(),
            Some("in/a b.jpg")
        );
        assert_eq!(s.resolve_key("dbx://Volumes/main/raw/other/a.jpg"), None);
        assert_eq!(s.export_key(7), "in/7");
        assert_eq!(s.source().prefix, "in/");
        let mut bad = fields.clone();
        bad["volume"] = json!("a/b");
        assert!(matches!(bind(bad), Err(SettingsError::Field { field, .. }) if field == "volume"));
        let mut sp = fields.clone();
        sp["auth_type"] = json!("dbx_sp");
        assert!(bind(sp).is_err());
        let mut presigned = fields;
        presigned["presign"] = json!(true);
        assert_eq!(bind(presigned).unwrap().presign(), None);
    }
}
