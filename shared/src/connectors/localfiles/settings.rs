//! `localfiles` settings, typed.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::normalize_path;
use crate::connectors::settings::field;

/// Every field of `localfiles`, both roles.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct LocalFilesSettings {
    /// Normalized the way Label Studio does (`normalize_storage_path`).
    #[serde(default, deserialize_with = "field::text")]
    pub path: Option<String>,
    #[serde(default, deserialize_with = "field::text")]
    pub regex_filter: Option<String>,
    #[serde(default, deserialize_with = "field::flag")]
    pub use_blob_urls: bool,
    #[serde(default, deserialize_with = "field::flag")]
    pub recursive_scan: bool,
    #[serde(default, deserialize_with = "field::maybe_flag")]
    pub can_delete_objects: Option<bool>,
    /// labelsync's own: the local process watches the directory, and a file written into it
    /// becomes a task without a sync.
    #[serde(default, deserialize_with = "field::flag")]
    pub follow_directory: bool,
}

impl LocalFilesSettings {
    pub fn normalize(&mut self) {
        self.path = self
            .path
            .take()
            .map(|p| normalize_path(&p))
            .filter(|p| !p.is_empty());
    }

    pub fn directory(&self) -> PathBuf {
        PathBuf::from(self.path.as_deref().unwrap_or_default())
    }
}
