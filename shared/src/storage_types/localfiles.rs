//! `localfiles`: a directory below `LOCAL_FILES_DOCUMENT_ROOT` (spec §6). Keys are paths
//! relative to the storage's `path`; `storage_filename` shows the absolute path, as Label Studio.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};

use super::{
    Field, FieldDefault, SettingsError, SourceSpec, StorageType, bool_setting,
    compile_regex_filter, str_setting,
};
use crate::backends::ObjectStore;
use crate::backends::local::LocalBackend;
use crate::config::{Settings, normalize_path};
use crate::model::{AnnotationId, StorageRole};

/// Python's `urllib.parse.quote(s)`: everything but letters, digits, `_.-~` and `/` escaped.
pub const PY_QUOTE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~')
    .remove(b'/');

pub struct LocalFiles;

const IMPORT_FIELDS: &[Field] = &[
    Field::both("path", FieldDefault::Null),
    Field::both("regex_filter", FieldDefault::Null),
    Field::both("use_blob_urls", FieldDefault::Bool(false)),
    Field::import("recursive_scan", FieldDefault::Bool(false)),
];
const EXPORT_FIELDS: &[Field] = &[
    Field::both("path", FieldDefault::Null),
    Field::both("regex_filter", FieldDefault::Null),
    Field::both("use_blob_urls", FieldDefault::Bool(false)),
    Field::export("can_delete_objects", FieldDefault::Null),
];

fn storage_path(settings: &Map<String, Value>) -> PathBuf {
    PathBuf::from(str_setting(settings, "path").unwrap_or_default())
}

#[async_trait]
impl StorageType for LocalFiles {
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
        if let Some(Value::String(path)) = settings.get_mut("path") {
            *path = normalize_path(path);
        }
        compile_regex_filter(str_setting(settings, "regex_filter"))?;
        Ok(())
    }

    async fn validate_connection(
        &self,
        _role: StorageRole,
        settings: &Map<String, Value>,
        env: &Settings,
    ) -> Result<(), SettingsError> {
        check_path(
            str_setting(settings, "path"),
            &env.local_files.document_root,
            env.local_files.serving_enabled,
        )
    }

    fn open(
        &self,
        settings: &Map<String, Value>,
        env: &Settings,
    ) -> Result<Arc<dyn ObjectStore>, SettingsError> {
        let backend = LocalBackend::new(storage_path(settings))
            .confined_to(env.local_files.document_root.clone());
        Ok(Arc::new(backend))
    }

    fn source(&self, settings: &Map<String, Value>) -> Result<SourceSpec, SettingsError> {
        Ok(SourceSpec {
            prefix: String::new(),
            recursive: bool_setting(settings, "recursive_scan"),
            regex: compile_regex_filter(str_setting(settings, "regex_filter"))?,
            regex_on_basename: true,
            files_mode: bool_setting(settings, "use_blob_urls"),
        })
    }

    fn object_uri(&self, settings: &Map<String, Value>, env: &Settings, key: &str) -> String {
        let absolute = storage_path(settings).join(key);
        let relative = absolute
            .strip_prefix(&env.local_files.document_root)
            .unwrap_or(&absolute);
        let quoted = utf8_percent_encode(&relative.to_string_lossy(), PY_QUOTE).to_string();
        format!("{}/data/local-files/?d={quoted}", env.hostname)
    }

    fn storage_filename(&self, settings: &Map<String, Value>, key: &str) -> String {
        storage_path(settings)
            .join(key)
            .to_string_lossy()
            .into_owned()
    }

    fn export_key(&self, _settings: &Map<String, Value>, annotation: AnnotationId) -> String {
        annotation.to_string()
    }

    fn pretty_export(&self) -> bool {
        true
    }
}

/// Label Studio's checks, in its order, plus two it lacks: `..` components and symlinks that
/// lead out of the document root are refused.
pub fn check_path(
    path: Option<&str>,
    root: &Path,
    serving_enabled: bool,
) -> Result<(), SettingsError> {
    let Some(path) = path else {
        return Err(SettingsError::Connection(
            "Path must be set for Local Files storage".into(),
        ));
    };
    let path = Path::new(path);
    let root_shown = root.display();
    if path == root {
        return Err(SettingsError::Connection(format!(
            "Absolute local path \"{}\" cannot be the same as LOCAL_FILES_DOCUMENT_ROOT=\"{root_shown}\" by security reasons. \
             Please add a subdirectory. For example: \"{}\".",
            path.display(),
            root.join("dataset1").display()
        )));
    }
    let not_below = || {
        SettingsError::Connection(format!(
            "Absolute local path \"{}\" must be a subdirectory of LOCAL_FILES_DOCUMENT_ROOT=\"{root_shown}\" \
             (and must not use \"..\" or a symlink to leave it)",
            path.display()
        ))
    };
    // Outside the root the answer is the same whether the path exists or not: validation is
    // no way to probe the server's file system.
    if !is_lexically_below(path, root) {
        return Err(not_below());
    }
    if !path.exists() {
        return Err(SettingsError::Connection(format!(
            "Absolute local path \"{}\" does not exist",
            path.display()
        )));
    }
    if !resolves_below(path, root) {
        return Err(not_below());
    }
    if !serving_enabled {
        return Err(SettingsError::Connection(
            "Serving local files from the host filesystem can be a security risk, so LOCAL_FILES_SERVING_ENABLED is \
             disabled by default. To enable it, set LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true and \
             LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT to the directory your storages live below, then restart labelsync."
                .into(),
        ));
    }
    Ok(())
}

/// Below `root` as written, with no `..`.
fn is_lexically_below(path: &Path, root: &Path) -> bool {
    path.starts_with(root) && path != root && !path.components().any(|c| c == Component::ParentDir)
}

/// Still strictly below `root` once symlinks are resolved.
pub fn resolves_below(path: &Path, root: &Path) -> bool {
    match (path.canonicalize(), root.canonicalize()) {
        (Ok(p), Ok(r)) => p.starts_with(&r) && p != r,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: Result<(), SettingsError>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn path_checks_follow_label_studio_order() {
        let root = tempfile::tempdir().unwrap();
        let ds = root.path().join("ds");
        std::fs::create_dir(&ds).unwrap();
        let r = root.path();
        assert_eq!(
            message(check_path(None, r, true)),
            "Path must be set for Local Files storage"
        );
        let missing = r.join("no/such/dir");
        assert!(message(check_path(missing.to_str(), r, true)).ends_with("does not exist"));
        // Outside the root, existing or not, the answer is the same.
        assert_eq!(
            message(check_path(Some("/no/such/dir"), r, true)),
            message(check_path(Some("/tmp"), r, true)).replace("\"/tmp\"", "\"/no/such/dir\"")
        );
        assert!(
            message(check_path(r.to_str(), r, true))
                .contains("cannot be the same as LOCAL_FILES_DOCUMENT_ROOT")
        );
        assert!(message(check_path(Some("/tmp"), &ds, true)).contains("must be a subdirectory of"));
        assert!(message(check_path(ds.to_str(), r, false)).contains("LOCAL_FILES_SERVING_ENABLED"));
        check_path(ds.to_str(), r, true).unwrap();
    }

    #[test]
    fn parent_components_and_symlinks_cannot_leave_the_root() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("ds")).unwrap();
        let dotdot = format!(
            "{}/ds/../../{}",
            root.path().display(),
            outside.path().file_name().unwrap().to_str().unwrap()
        );
        assert!(
            message(check_path(Some(&dotdot), root.path(), true))
                .contains("must be a subdirectory")
        );
        let link = root.path().join("link");
        std::os::unix::fs::symlink(outside.path(), &link).unwrap();
        assert!(
            message(check_path(link.to_str(), root.path(), true))
                .contains("must be a subdirectory")
        );
    }

    #[test]
    fn files_mode_uri_is_quoted_relative_to_the_root() {
        let mut env = Settings::from_env(&|_: &str| None, Path::new("/")).unwrap();
        env.local_files.document_root = PathBuf::from("/data");
        let settings: Map<String, Value> =
            serde_json::from_value(json!({"path": "/data/ds"})).unwrap();
        assert_eq!(
            LocalFiles.object_uri(&settings, &env, "a b/c+d.png"),
            "/data/local-files/?d=ds/a%20b/c%2Bd.png"
        );
        env.hostname = "https://ls.example".into();
        assert_eq!(
            LocalFiles.object_uri(&settings, &env, "x.png"),
            "https://ls.example/data/local-files/?d=ds/x.png"
        );
        assert_eq!(
            LocalFiles.storage_filename(&settings, "x.png"),
            "/data/ds/x.png"
        );
    }

    #[test]
    fn regex_matches_the_start_of_the_basename_only() {
        let settings: Map<String, Value> = serde_json::from_value(
            json!({"path": "/d", "regex_filter": "image", "recursive_scan": true}),
        )
        .unwrap();
        let spec = LocalFiles.source(&settings).unwrap();
        assert!(spec.accepts("sub/image1.jpg"));
        assert!(!spec.accepts("sub/my-image.jpg"));
        let bad: Map<String, Value> =
            serde_json::from_value(json!({"regex_filter": "(unclosed"})).unwrap();
        assert!(
            matches!(LocalFiles.source(&bad), Err(SettingsError::Field { field, .. }) if field == "regex_filter")
        );
    }
}
