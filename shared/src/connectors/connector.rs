//! The two faces of a storage type. A [`Connector`] is the type itself, as the registry lists
//! it: its slug, fields and form, and how to bind a storage. A [`Storage`] is one storage's
//! settings bound to the type: parsed and checked once, then asked for everything that
//! depends on them (its backend, what to list, URIs, export keys, presigning).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::{Field, SettingsError, SourceSpec};
use crate::backends::ObjectStore;
use crate::config::Settings;
use crate::model::{AnnotationId, ObjectEvent, StorageRole};

/// One Label Studio storage type (`localfiles`, `s3`, ...).
pub trait Connector: Send + Sync {
    /// The type slug in paths and in the `type` field.
    fn slug(&self) -> &'static str;
    /// The human title in `/api/storages/types`.
    fn title(&self) -> &'static str;
    /// The URI schemes of its task data (`s3`, `gs`), for rewriting URIs into resolve URLs.
    fn uri_schemes(&self) -> &'static [&'static str] {
        &[]
    }
    /// The type's own fields for a role, beyond the common ones every storage has.
    fn fields(&self, role: StorageRole) -> &'static [Field];
    /// The fields that decide where the storage's secrets are sent (host, endpoint, port,
    /// account, region): changing one of them requires entering the secrets again.
    fn destination_fields(&self) -> &'static [&'static str] {
        &[]
    }
    /// The UI form (`GET …/form`): rows of fields, as Label Studio's `form_layout.yml`.
    fn form_layout(&self, role: StorageRole) -> Value;
    /// Every typed setting with its default, as stored.
    fn defaults(&self) -> Map<String, Value>;
    /// Parses and checks a storage's settings (no I/O): the storage, or Label Studio's field
    /// errors.
    fn bind(
        &self,
        role: StorageRole,
        settings: &Map<String, Value>,
        env: &Arc<Settings>,
    ) -> Result<Arc<dyn Storage>, SettingsError>;
    /// The object events in a notification body from this type's service (none when the body
    /// is not one of its notifications).
    fn object_events(&self, _body: &Value) -> Vec<ObjectEvent> {
        Vec::new()
    }
    /// The answer to a notification service's subscription handshake, if `body` is one of
    /// this type's service (Event Grid's validation event).
    fn subscription_handshake(&self, _body: &Value) -> Option<Value> {
        None
    }
}

/// One storage's settings, parsed once: everything that depends on them.
#[async_trait]
pub trait Storage: Send + Sync {
    /// The settings as stored: every field of the type, normalized.
    fn settings(&self) -> Map<String, Value>;
    /// Reaches the storage (create, patch, validate, sync): it exists, the credentials work,
    /// and an import prefix holds something.
    async fn check_connection(&self, role: StorageRole) -> Result<(), SettingsError>;
    /// A backend on the storage's objects (opened once per bound storage).
    fn backend(&self) -> Result<Arc<dyn ObjectStore>, SettingsError>;
    /// What an import sync lists.
    fn source(&self) -> &SourceSpec;
    /// The URI a Files-mode task holds for `key`.
    fn object_uri(&self, key: &str) -> String;
    /// The directory a long-running process should watch for new files (a local directory
    /// with `follow_directory`), if any.
    fn followed_directory(&self) -> Option<&Path> {
        None
    }
    /// Where the storage's objects live, as object events and task links name it: by default
    /// the object URI of the empty key (`s3://bucket/`); types whose URIs do not say where
    /// (Redis keys, local files below a changeable host) say it here.
    fn location(&self) -> String {
        self.object_uri("")
    }
    /// What the task API shows as `storage_filename` for `key`.
    fn storage_filename(&self, key: &str) -> String {
        key.to_owned()
    }
    /// The key an exported annotation is written under.
    fn export_key(&self, annotation: AnnotationId) -> String;
    /// Whether exported JSON is pretty-printed (local files, as Label Studio does).
    fn pretty_export(&self) -> bool {
        false
    }
    /// `can_delete_objects`: a deleted annotation deletes its exported object.
    fn can_delete_objects(&self) -> bool;
    /// Whether this storage serves `uri` (its scheme and bucket), and the object key if so.
    fn resolve_key(&self, _uri: &str) -> Option<String> {
        None
    }
    /// Whether the resolver answers with a pre-signed redirect rather than a proxy stream.
    fn presign(&self) -> Option<Duration> {
        None
    }
    /// When the storage would act with the server's own cloud identity (credentials left
    /// empty, a role assumed with the server's keys, federation from the server's identity),
    /// the field to name in the refusal; `None` when the storage brings its own.
    fn server_credentials_field(&self) -> Option<&'static str> {
        None
    }
    /// For a storage of files on this machine: the key of `file` (an absolute path below the
    /// document root) when `/data/local-files/` may serve it from this storage, checked on
    /// the disk as it is now.
    fn local_file(&self, _file: &Path) -> Option<String> {
        None
    }
}

/// A bound storage's backend, opened on first use and then shared.
#[derive(Default)]
pub struct BackendCell(std::sync::OnceLock<Arc<dyn ObjectStore>>);

impl BackendCell {
    pub fn get_or_open<B: ObjectStore + 'static>(
        &self,
        open: impl FnOnce() -> Result<B, SettingsError>,
    ) -> Result<Arc<dyn ObjectStore>, SettingsError> {
        if let Some(backend) = self.0.get() {
            return Ok(backend.clone());
        }
        let opened: Arc<dyn ObjectStore> = Arc::new(open()?);
        Ok(self.0.get_or_init(|| opened).clone())
    }
}
