//! Rules the bucket-like types (`s3`, `s3s`, `gcs`, `azure`) share with Label Studio: how
//! `prefix` becomes a listing, where exports go, what `presign`/`presign_ttl` mean, how a
//! connection is checked and how a URI names an object.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::{SettingsError, SourceSpec, bool_setting, compile_regex_filter, str_setting};
use crate::backends::{BackendError, ListRequest, ObjectStore};
use crate::model::{AnnotationId, StorageRole};
use crate::resolve::uri::split_uri;

/// `prefix` as a folder (`subdir` lists `subdir/…`), the regex on the whole key.
pub fn source(settings: &Map<String, Value>) -> Result<SourceSpec, SettingsError> {
    let prefix = str_setting(settings, "prefix")
        .map(|p| format!("{}/", p.trim_end_matches('/')))
        .unwrap_or_default();
    Ok(SourceSpec {
        prefix: if prefix == "/" { String::new() } else { prefix },
        recursive: bool_setting(settings, "recursive_scan"),
        regex: compile_regex_filter(str_setting(settings, "regex_filter"))?,
        regex_on_basename: false,
        files_mode: bool_setting(settings, "use_blob_urls"),
    })
}

/// `<prefix>/<id>`, the prefix used verbatim (`out/` gives `out//5`, as Label Studio does).
pub fn export_key(settings: &Map<String, Value>, annotation: AnnotationId) -> String {
    match str_setting(settings, "prefix") {
        Some(prefix) => format!("{prefix}/{annotation}"),
        None => annotation.to_string(),
    }
}

/// The pre-signed URL lifetime, or `None` when the storage proxies (`presign: false`).
pub fn presign(settings: &Map<String, Value>) -> Option<Duration> {
    let enabled = settings
        .get("presign")
        .is_none_or(|_| bool_setting(settings, "presign"));
    let minutes = settings
        .get("presign_ttl")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .max(1);
    enabled.then(|| Duration::from_secs(minutes * 60))
}

/// `presign_ttl` is whole minutes from 1 to 65535 when given.
pub fn check_presign_ttl(settings: &Map<String, Value>) -> Result<(), SettingsError> {
    let ttl = settings.get("presign_ttl").filter(|v| !v.is_null());
    if ttl.is_some_and(|t| t.as_u64().is_none_or(|t| t == 0 || t > u64::from(u16::MAX))) {
        return Err(SettingsError::field(
            "presign_ttl",
            "Expected whole minutes from 1 to 65535.",
        ));
    }
    Ok(())
}

/// The form row of a bucket's import options, or of a target's delete toggle.
pub fn options_row(role: StorageRole) -> Value {
    match role {
        StorageRole::Import => json!({"columnCount": 1, "fields": [
            {"type": "text", "name": "regex_filter", "label": "File Filter Regex"},
            {"type": "toggle", "name": "use_blob_urls", "label": "Treat every bucket object as a source file"},
            {"type": "toggle", "name": "recursive_scan", "label": "Recursive scan"},
            {"type": "toggle", "name": "presign", "label": "Use pre-signed URLs"},
            {"type": "counter", "name": "presign_ttl", "label": "Expiration minutes", "min": 1, "value": 15}]}),
        StorageRole::Export => json!({"columnCount": 1, "fields": [
            {"type": "toggle", "name": "can_delete_objects", "label": "Can delete objects from storage"}]}),
    }
}

/// Why a storage's connection check failed.
pub enum ProbeFailure {
    /// An import prefix with nothing under it.
    EmptyPrefix,
    /// The bucket or container does not exist.
    NotFound,
    /// The credentials were refused; the service's words.
    Denied(String),
    Other(BackendError),
}

/// Lists one object under `prefix`: the bucket exists, the credentials work, and an import
/// prefix holds something.
pub async fn probe(
    backend: &dyn ObjectStore,
    role: StorageRole,
    prefix: &str,
) -> Result<(), ProbeFailure> {
    let request = ListRequest {
        prefix,
        recursive: true,
        continuation: None,
        max_keys: 1,
    };
    match backend.list_page(request).await {
        Ok(page)
            if page.objects.is_empty() && !prefix.is_empty() && role == StorageRole::Import =>
        {
            Err(ProbeFailure::EmptyPrefix)
        }
        Ok(_) => Ok(()),
        Err(BackendError::NotFound { .. }) => Err(ProbeFailure::NotFound),
        Err(BackendError::PermissionDenied { detail, .. }) => Err(ProbeFailure::Denied(detail)),
        Err(e) => Err(ProbeFailure::Other(e)),
    }
}

/// The key of `uri` when it is `<scheme>://<bucket>/<key>` for this bucket.
pub fn resolve_key(uri: &str, scheme: &str, bucket: &str) -> Option<String> {
    let (uri_scheme, uri_bucket, key) = split_uri(uri)?;
    (uri_scheme == scheme && uri_bucket == bucket && !key.is_empty()).then(|| key.to_owned())
}
