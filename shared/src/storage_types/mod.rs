//! Label Studio's storage types: their fields, defaults, secrets, validation, and how each one
//! opens a backend, names its objects and builds URIs. The API and the sync engine reach every
//! type through [`StorageType`]; nothing outside this folder knows a type by name.

mod aws_credentials;
pub mod azure;
pub mod bucket;
pub mod databricks;
mod fields;
pub mod gcs;
mod gcs_key;
mod gcs_wif;
pub mod host;
pub mod localfiles;
mod reach;
pub mod redis;
pub mod s3;

use std::sync::Arc;

use async_trait::async_trait;
use regex::Regex;
use serde_json::{Map, Value};

use crate::backends::ObjectStore;
use crate::config::Settings;
use crate::model::{AnnotationId, StorageRole};

pub use fields::{
    Field, FieldDefault, apply_defaults, bool_setting, str_setting, variant_field_lists,
    variant_index,
};

/// A storage's settings are wrong. `Field` errors name the request field; `Connection` errors
/// are about the storage as a whole (Label Studio's `non_field_errors`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("{field}: {message}")]
    Field { field: String, message: String },
    #[error("{0}")]
    Connection(String),
}

impl SettingsError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        SettingsError::Field {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// What a source storage lists and how keys are filtered.
#[derive(Clone, Debug)]
pub struct SourceSpec {
    pub prefix: String,
    pub recursive: bool,
    /// `regex_filter` compiled with Python `re.match` semantics (anchored at the start only).
    pub regex: Option<Regex>,
    /// Apply the regex to the file name only (local files) instead of the whole key.
    pub regex_on_basename: bool,
    /// `use_blob_urls`: one task per object holding its URI ("Files"), else parse objects ("Tasks").
    pub files_mode: bool,
}

impl SourceSpec {
    /// Whether a listed key passes the regex filter.
    pub fn accepts(&self, key: &str) -> bool {
        let Some(regex) = &self.regex else {
            return true;
        };
        let subject = if self.regex_on_basename {
            key.rsplit('/').next().unwrap_or(key)
        } else {
            key
        };
        regex.is_match(subject)
    }
}

/// Compiles a `regex_filter` the way Python's `re.match` uses it: anchored at the start only.
pub fn compile_regex_filter(pattern: Option<&str>) -> Result<Option<Regex>, SettingsError> {
    let Some(pattern) = pattern.filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    Regex::new(&format!("^(?:{pattern})"))
        .map(Some)
        .map_err(|e| {
            SettingsError::field(
                "regex_filter",
                format!("not a valid regular expression: {e}"),
            )
        })
}

/// One Label Studio storage type (`localfiles`, `s3`, ...).
#[async_trait]
pub trait StorageType: Send + Sync {
    /// The type slug in paths and in the `type` field.
    fn slug(&self) -> &'static str;
    /// The human title in `/api/storages/types`.
    fn title(&self) -> &'static str;
    /// The type's own fields for a role, beyond the common ones every storage has.
    fn fields(&self, role: StorageRole) -> &'static [Field];
    /// The fields that decide where the storage's secrets are sent (host, endpoint, port,
    /// account, region): changing one of them requires entering the secrets again.
    fn destination_fields(&self) -> &'static [&'static str] {
        &[]
    }
    /// When the storage would act with the server's own cloud identity (credentials left
    /// empty, a role assumed with the server's keys, federation from the server's identity),
    /// the field to name in the refusal; `None` when the storage brings its own.
    fn server_credentials_field(&self, _settings: &Map<String, Value>) -> Option<&'static str> {
        None
    }
    /// The UI form (`GET …/form`): rows of fields, as Label Studio's `form_layout.yml`.
    fn form_layout(&self, role: StorageRole) -> Value;
    /// Normalizes settings in place and checks their shape; no I/O.
    fn normalize(
        &self,
        role: StorageRole,
        settings: &mut Map<String, Value>,
    ) -> Result<(), SettingsError>;
    /// Checks that the storage can be reached with these settings (create, patch, validate, sync).
    async fn validate_connection(
        &self,
        role: StorageRole,
        settings: &Map<String, Value>,
        env: &Settings,
    ) -> Result<(), SettingsError>;
    /// Opens a backend on the storage's objects.
    fn open(
        &self,
        settings: &Map<String, Value>,
        env: &Settings,
    ) -> Result<Arc<dyn ObjectStore>, SettingsError>;
    /// What to list for an import sync.
    fn source(&self, settings: &Map<String, Value>) -> Result<SourceSpec, SettingsError>;
    /// The URI a Files-mode task holds for `key`.
    fn object_uri(&self, settings: &Map<String, Value>, env: &Settings, key: &str) -> String;
    /// What the task API shows as `storage_filename` for `key`.
    fn storage_filename(&self, settings: &Map<String, Value>, key: &str) -> String;
    /// The key an exported annotation is written under.
    fn export_key(&self, settings: &Map<String, Value>, annotation: AnnotationId) -> String;
    /// Whether exported JSON is pretty-printed (local files, as Label Studio does).
    fn pretty_export(&self) -> bool {
        false
    }
    /// Whether this storage serves `uri` (its scheme and bucket), and the object key if so.
    fn resolve_key(&self, _settings: &Map<String, Value>, _uri: &str) -> Option<String> {
        None
    }
    /// Whether the resolver answers with a pre-signed redirect rather than a proxy stream.
    fn presign(&self, _settings: &Map<String, Value>) -> Option<std::time::Duration> {
        None
    }
}

/// Every supported type, in Label Studio's order.
pub fn all() -> &'static [&'static dyn StorageType] {
    &[
        &s3::S3::KEYS,
        &s3::S3::ROLE,
        &gcs::Gcs::SERVICE_ACCOUNT,
        &gcs::Gcs::FEDERATED,
        &azure::Azure::KEY,
        &azure::Azure::SERVICE_PRINCIPAL,
        &redis::Redis,
        &localfiles::LocalFiles,
        &databricks::Databricks,
    ]
}

/// The type with this slug.
pub fn by_slug(slug: &str) -> Option<&'static dyn StorageType> {
    all().iter().copied().find(|t| t.slug() == slug)
}
