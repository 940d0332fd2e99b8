//! What the bucket-like types (`s3`, `s3s`, `gcs`, `gcswif`, `azure`, `azure_spi`) share with
//! Label Studio: the option fields every one of them has (flattened into each type's typed
//! settings), how `prefix` becomes a listing, where exports go, what `presign` and
//! `presign_ttl` mean, how a connection is checked and how a URI names an object.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::settings::field;
use super::{SettingsError, SourceSpec, compile_regex_filter};
use crate::backends::{BackendError, ListRequest, ObjectStore};
use crate::model::{AnnotationId, StorageRole};

/// The options of every bucket-like storage, with Label Studio's defaults.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct BucketOptions {
    #[serde(default, deserialize_with = "field::text")]
    pub prefix: Option<String>,
    #[serde(default, deserialize_with = "field::text")]
    pub regex_filter: Option<String>,
    #[serde(default, deserialize_with = "field::flag")]
    pub use_blob_urls: bool,
    #[serde(default = "super::settings::yes", deserialize_with = "field::flag")]
    pub presign: bool,
    #[serde(default = "one_minute", deserialize_with = "field::number")]
    pub presign_ttl: Option<u64>,
    #[serde(default, deserialize_with = "field::flag")]
    pub recursive_scan: bool,
    #[serde(default, deserialize_with = "field::maybe_flag")]
    pub can_delete_objects: Option<bool>,
}

fn one_minute() -> Option<u64> {
    Some(1)
}

impl BucketOptions {
    /// Checks what no I/O is needed for: the regex compiles, `presign_ttl` is whole minutes
    /// from 1 to 65535.
    pub fn check(&self) -> Result<(), SettingsError> {
        compile_regex_filter(self.regex_filter.as_deref())?;
        if self
            .presign_ttl
            .is_some_and(|t| t == 0 || t > u64::from(u16::MAX))
        {
            return Err(SettingsError::field(
                "presign_ttl",
                "Expected whole minutes from 1 to 65535.",
            ));
        }
        Ok(())
    }

    /// The prefix as a folder: `subdir` lists `subdir/…`; none lists everything.
    pub fn listing_prefix(&self) -> String {
        match self.prefix.as_deref().map(|p| p.trim_end_matches('/')) {
            None | Some("") => String::new(),
            Some(folder) => format!("{folder}/"),
        }
    }

    /// What an import sync lists: the folder, the regex on the whole key.
    pub fn source(&self) -> Result<SourceSpec, SettingsError> {
        Ok(SourceSpec {
            prefix: self.listing_prefix(),
            recursive: self.recursive_scan,
            regex: compile_regex_filter(self.regex_filter.as_deref())?,
            regex_on_basename: false,
            files_mode: self.use_blob_urls,
        })
    }

    /// `<prefix>/<id>`, the prefix used verbatim (`out/` gives `out//5`, as Label Studio does).
    pub fn export_key(&self, annotation: AnnotationId) -> String {
        match &self.prefix {
            Some(prefix) => format!("{prefix}/{annotation}"),
            None => annotation.to_string(),
        }
    }

    /// The pre-signed URL lifetime, or `None` when the storage proxies (`presign: false`).
    pub fn presign(&self) -> Option<Duration> {
        let minutes = self.presign_ttl.unwrap_or(1).max(1);
        self.presign.then(|| Duration::from_secs(minutes * 60))
    }

    pub fn can_delete_objects(&self) -> bool {
        self.can_delete_objects.unwrap_or(false)
    }
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

/// Lists one object under the storage's folder: the bucket exists, the credentials work, and
/// an import prefix holds something.
pub async fn probe(
    backend: &dyn ObjectStore,
    role: StorageRole,
    options: &BucketOptions,
) -> Result<(), ProbeFailure> {
    let prefix = options.listing_prefix();
    let request = ListRequest {
        prefix: &prefix,
        recursive: true,
        continuation: None,
        start_after: None,
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

/// `scheme://bucket/key` split into its three parts.
fn split_uri(uri: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = uri.split_once("://")?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    Some((scheme, bucket, key))
}

/// A required name field (`bucket`, `container`).
pub fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, SettingsError> {
    value
        .as_deref()
        .ok_or_else(|| SettingsError::required(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_name_scheme_bucket_and_key() {
        assert_eq!(
            split_uri("s3://b/dir/k.jpg"),
            Some(("s3", "b", "dir/k.jpg"))
        );
        assert_eq!(split_uri("gs://b"), Some(("gs", "b", "")));
        assert_eq!(split_uri("s3:/b"), None);
        assert_eq!(
            resolve_key("s3://b/k.jpg", "s3", "b").as_deref(),
            Some("k.jpg")
        );
        assert_eq!(resolve_key("s3://other/k.jpg", "s3", "b"), None);
        assert_eq!(resolve_key("s3://b/", "s3", "b"), None);
    }

    #[test]
    fn prefixes_list_as_folders_and_export_verbatim() {
        let options: BucketOptions = super::super::settings::parse(
            &serde_json::from_value(json!({"prefix": "out/"})).unwrap(),
        )
        .unwrap();
        assert_eq!(options.listing_prefix(), "out/");
        assert_eq!(options.export_key(5), "out//5");
        assert_eq!(options.presign(), Some(Duration::from_secs(60)));
        assert!(!options.can_delete_objects());
    }
}
