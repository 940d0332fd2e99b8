//! `redis`: keys of a Redis database whose values are tasks (spec §2.4, §7). Import reads every
//! key under `path` (SCAN, never KEYS) and parses its value with the Tasks-mode loader; there is
//! no Files mode and no URI resolution. Export writes `SET <annotation id>` in its own db.

pub mod backend;
mod settings;
mod storage;

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::settings::{parse, to_map};
use super::{BackendCell, Connector, Field, SettingsError, SourceSpec, Storage};
use crate::config::Settings;
use crate::model::StorageRole;
use settings::RedisSettings;
use storage::RedisStorage;

pub use backend::{RedisBackend, RedisTarget};

pub struct Redis;

const IMPORT_FIELDS: &[Field] = &[
    Field::both("path"),
    Field::both("host"),
    Field::both("port"),
    Field::secret("password"),
    Field::both("regex_filter"),
    Field::both("use_blob_urls"),
    Field::import("db"),
];
const EXPORT_FIELDS: &[Field] = &[
    Field::both("path"),
    Field::both("host"),
    Field::both("port"),
    Field::secret("password"),
    Field::both("regex_filter"),
    Field::both("use_blob_urls"),
    Field::export("db"),
    Field::export("can_delete_objects"),
];

impl Connector for Redis {
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

    fn defaults(&self) -> Map<String, Value> {
        parse::<RedisSettings>(&Map::new()).map_or_else(|_| Map::new(), |s| to_map(&s))
    }

    fn bind(
        &self,
        role: StorageRole,
        settings: &Map<String, Value>,
        env: &Arc<Settings>,
    ) -> Result<Arc<dyn Storage>, SettingsError> {
        let mut settings: RedisSettings = parse(settings)?;
        settings.check(role)?;
        // `regex_filter` and `use_blob_urls` are stored but ignored, as in Label Studio.
        let source = SourceSpec {
            prefix: settings.path.clone().unwrap_or_default(),
            recursive: true,
            regex: None,
            regex_on_basename: false,
            files_mode: false,
        };
        Ok(Arc::new(RedisStorage {
            settings,
            source,
            env: env.clone(),
            backend: BackendCell::default(),
        }))
    }
}
