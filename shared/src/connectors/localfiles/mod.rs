//! `localfiles`: a directory below `LOCAL_FILES_DOCUMENT_ROOT` (spec §6). Keys are paths
//! relative to the storage's `path`; `storage_filename` shows the absolute path, as Label
//! Studio; its files are served by `/data/local-files/?d=`.

pub mod backend;
mod path;
mod settings;
mod storage;

use std::sync::Arc;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Value, json};

use super::settings::{parse, to_map};
use super::{
    BackendCell, Connector, Field, SettingsError, SourceSpec, Storage, compile_regex_filter,
};
use crate::config::Settings;
use crate::model::StorageRole;
use settings::LocalFilesSettings;
use storage::LocalFilesStorage;

pub use backend::LocalBackend;

/// Python's `urllib.parse.quote(s)`: everything but letters, digits, `_.-~` and `/` escaped.
pub const PY_QUOTE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~')
    .remove(b'/');

pub struct LocalFiles;

const IMPORT_FIELDS: &[Field] = &[
    Field::both("path"),
    Field::both("regex_filter"),
    Field::both("use_blob_urls"),
    Field::import("recursive_scan"),
    Field::import("follow_directory"),
];
const EXPORT_FIELDS: &[Field] = &[
    Field::both("path"),
    Field::both("regex_filter"),
    Field::both("use_blob_urls"),
    Field::export("can_delete_objects"),
];

impl Connector for LocalFiles {
    fn slug(&self) -> &'static str {
        "localfiles"
    }

    fn title(&self) -> &'static str {
        "Local files"
    }

    fn fields(&self, role: StorageRole) -> &'static [Field] {
        match role {
            StorageRole::Import => IMPORT_FIELDS,
            StorageRole::Export => EXPORT_FIELDS,
        }
    }

    fn form_layout(&self, role: StorageRole) -> Value {
        let mut rows = vec![
            json!({"columnCount": 1, "fields": [
                {"type": "text", "name": "title", "label": "Storage Title"},
                {"type": "text", "name": "path", "label": "Absolute local path", "required": true,
                 "placeholder": "/data/subdirectory"}]}),
            json!({"columnCount": 1, "fields": [
                {"type": "text", "name": "regex_filter", "label": "File Filter Regex",
                 "placeholder": ".*csv or .*(jpe?g|png|tiff) or .\\w+-\\d+.text"}]}),
        ];
        rows.push(match role {
            StorageRole::Import => json!({"columnCount": 1, "fields": [
                {"type": "toggle", "name": "use_blob_urls", "label": "Treat every bucket object as a source file"},
                {"type": "toggle", "name": "recursive_scan", "label": "Recursive scan"},
                {"type": "toggle", "name": "follow_directory", "label": "Import new files as they are written"}]}),
            StorageRole::Export => json!({"columnCount": 1, "fields": [
                {"type": "toggle", "name": "can_delete_objects", "label": "Can delete objects from storage"}]}),
        });
        Value::Array(rows)
    }

    fn defaults(&self) -> Map<String, Value> {
        parse::<LocalFilesSettings>(&Map::new()).map_or_else(|_| Map::new(), |s| to_map(&s))
    }

    fn bind(
        &self,
        _role: StorageRole,
        settings: &Map<String, Value>,
        env: &Arc<Settings>,
    ) -> Result<Arc<dyn Storage>, SettingsError> {
        let mut settings: LocalFilesSettings = parse(settings)?;
        settings.normalize();
        let source = SourceSpec {
            prefix: String::new(),
            recursive: settings.recursive_scan,
            regex: compile_regex_filter(settings.regex_filter.as_deref())?,
            regex_on_basename: true,
            files_mode: settings.use_blob_urls,
        };
        Ok(Arc::new(LocalFilesStorage {
            directory: settings.directory(),
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
    use std::path::{Path, PathBuf};

    fn bind(value: Value, env: Settings) -> Result<Arc<dyn Storage>, SettingsError> {
        let settings = serde_json::from_value(value).unwrap();
        LocalFiles.bind(StorageRole::Import, &settings, &Arc::new(env))
    }

    fn env() -> Settings {
        Settings::from_env(&|_: &str| None, Path::new("/")).unwrap()
    }

    #[test]
    fn files_mode_uri_is_quoted_relative_to_the_root() {
        let mut env = env();
        env.local_files.document_root = PathBuf::from("/data");
        let storage = bind(json!({"path": "/data/ds/"}), env.clone()).unwrap();
        assert_eq!(storage.settings()["path"], "/data/ds", "normalized");
        assert_eq!(
            storage.object_uri("a b/c+d.png"),
            "/data/local-files/?d=ds/a%20b/c%2Bd.png"
        );
        env.hostname = "https://ls.example".into();
        let storage = bind(json!({"path": "/data/ds"}), env).unwrap();
        assert_eq!(
            storage.object_uri("x.png"),
            "https://ls.example/data/local-files/?d=ds/x.png"
        );
        assert_eq!(storage.storage_filename("x.png"), "/data/ds/x.png");
    }

    #[test]
    fn regex_matches_the_start_of_the_basename_only() {
        let storage = bind(
            json!({"path": "/d", "regex_filter": "image", "recursive_scan": true}),
            env(),
        )
        .unwrap();
        let spec = storage.source();
        assert!(spec.accepts("sub/image1.jpg"));
        assert!(!spec.accepts("sub/my-image.jpg"));
        assert!(matches!(
            bind(json!({"regex_filter": "(unclosed"}), env()),
            Err(SettingsError::Field { field, .. }) if field == "regex_filter"
        ));
    }
}
