//! One `localfiles` storage, bound: its directory, its URIs below the document root, and the
//! files `/data/local-files/` may serve from it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use percent_encoding::utf8_percent_encode;
use serde_json::{Map, Value};

use super::PY_QUOTE;
use super::backend::LocalBackend;
use super::path::{check_path, resolves_below};
use super::settings::LocalFilesSettings;
use crate::backends::ObjectStore;
use crate::config::Settings;
use crate::connectors::settings::to_map;
use crate::connectors::{BackendCell, SettingsError, SourceSpec, Storage};
use crate::model::{AnnotationId, StorageRole};

pub struct LocalFilesStorage {
    pub(super) settings: LocalFilesSettings,
    pub(super) directory: PathBuf,
    pub(super) source: SourceSpec,
    pub(super) env: Arc<Settings>,
    pub(super) backend: BackendCell,
}

#[async_trait]
impl Storage for LocalFilesStorage {
    fn settings(&self) -> Map<String, Value> {
        to_map(&self.settings)
    }

    async fn check_connection(&self, _role: StorageRole) -> Result<(), SettingsError> {
        let local_files = &self.env.local_files;
        check_path(
            self.settings.path.as_deref(),
            &local_files.document_root,
            local_files.serving_enabled,
        )
    }

    fn backend(&self) -> Result<Arc<dyn ObjectStore>, SettingsError> {
        let root = self.env.local_files.document_root.clone();
        self.backend
            .get_or_open(|| Ok(LocalBackend::new(self.directory.clone()).confined_to(root)))
    }

    fn source(&self) -> &SourceSpec {
        &self.source
    }

    fn followed_directory(&self) -> Option<&std::path::Path> {
        self.settings
            .follow_directory
            .then_some(self.directory.as_path())
    }

    /// The directory itself: the URIs carry `HOST`, which may change.
    fn location(&self) -> String {
        format!("file://{}/", self.directory.to_string_lossy())
    }

    fn object_uri(&self, key: &str) -> String {
        let absolute = self.directory.join(key);
        let relative = absolute
            .strip_prefix(&self.env.local_files.document_root)
            .unwrap_or(&absolute);
        let quoted = utf8_percent_encode(&relative.to_string_lossy(), PY_QUOTE).to_string();
        format!("{}/data/local-files/?d={quoted}", self.env.hostname)
    }

    /// The absolute path, as Label Studio shows it.
    fn storage_filename(&self, key: &str) -> String {
        self.directory.join(key).to_string_lossy().into_owned()
    }

    fn export_key(&self, annotation: AnnotationId) -> String {
        annotation.to_string()
    }

    fn pretty_export(&self) -> bool {
        true
    }

    fn can_delete_objects(&self) -> bool {
        self.settings.can_delete_objects.unwrap_or(false)
    }

    /// Checked on the disk as it is now, not as it was when the storage was created: the
    /// storage's directory must still resolve strictly below the document root (a directory
    /// swapped for a symlink leads nowhere), and symlinks must not lead the file out of it.
    fn local_file(&self, file: &Path) -> Option<String> {
        let key = file.strip_prefix(&self.directory).ok()?;
        let root = &self.env.local_files.document_root;
        if self.settings.path.is_none() || !resolves_below(&self.directory, root) {
            return None;
        }
        let inside = match (file.canonicalize(), self.directory.canonicalize()) {
            (Ok(f), Ok(s)) => f.starts_with(s),
            // A missing file is answered 404 by the read itself.
            (Err(_), _) => true,
            _ => false,
        };
        inside.then(|| key.to_string_lossy().into_owned())
    }
}
