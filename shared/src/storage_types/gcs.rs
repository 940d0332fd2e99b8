//! `gcs`: a Google Cloud Storage bucket (spec §2.4, §3.2, §4.4, §5, §8). Credentials are the
//! service-account JSON in `google_application_credentials`, else application default
//! credentials; V4 signed URLs need a service-account private key. The operator's
//! `STORAGE_EMULATOR_HOST` (Google's own variable) points every GCS storage at an emulator.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use super::bucket::ProbeFailure;
use super::gcs_key::{self, ServiceAccountKey};
use super::gcs_wif;
use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::{
    Field, FieldDefault, SettingsError, SourceSpec, StorageType, bucket, compile_regex_filter,
    str_setting, variant_field_lists, variant_index,
};
use crate::backends::ObjectStore;
use crate::backends::gcs::{ClientSource, GcsBackend, UrlSigner};
use crate::config::Settings;
use crate::model::{AnnotationId, StorageRole};

/// `gcs` (service-account key or application default credentials) and `gcswif` (Workload
/// Identity Federation from an AWS identity).
pub struct Gcs {
    federated: bool,
}

impl Gcs {
    pub const SERVICE_ACCOUNT: Gcs = Gcs { federated: false };
    pub const FEDERATED: Gcs = Gcs { federated: true };
}

/// Every field of `gcs`, both roles; [`Gcs::fields`] picks the ones that apply.
const FIELDS: &[Field] = &[
    Field::both("bucket", FieldDefault::Null),
    Field::both("prefix", FieldDefault::Null),
    Field::both("regex_filter", FieldDefault::Null),
    Field::both("use_blob_urls", FieldDefault::Bool(false)),
    Field::secret("google_application_credentials"),
    Field::both("google_project_id", FieldDefault::Null),
    Field::import("presign", FieldDefault::Bool(true)),
    Field::import("presign_ttl", FieldDefault::Int(1)),
    Field::import("recursive_scan", FieldDefault::Bool(false)),
    Field::export("can_delete_objects", FieldDefault::Null),
];
const WIF_FIELDS: &[Field] = &[
    Field::both(gcs_wif::FIELD_NAMES[0], FieldDefault::Null),
    Field::both(gcs_wif::FIELD_NAMES[1], FieldDefault::Null),
    Field::both(gcs_wif::FIELD_NAMES[2], FieldDefault::Null),
    Field::both(gcs_wif::FIELD_NAMES[3], FieldDefault::Null),
];

/// `[gcs import, gcs export, gcswif import, gcswif export]`.
static FIELD_LISTS: LazyLock<[Vec<Field>; 4]> =
    LazyLock::new(|| variant_field_lists(FIELDS, WIF_FIELDS, &[]));

fn bucket_name(settings: &Map<String, Value>) -> &str {
    str_setting(settings, "bucket").unwrap_or_default()
}

/// `STORAGE_EMULATOR_HOST` as a base URL (`host:port` gets `http://`).
fn emulator() -> Option<String> {
    let host = std::env::var("STORAGE_EMULATOR_HOST").ok()?;
    let host = host.trim().trim_end_matches('/');
    if host.is_empty() {
        return None;
    }
    Some(if host.contains("://") {
        host.to_owned()
    } else {
        format!("http://{host}")
    })
}

/// The storage's service-account key, if it has one (see [`gcs_key`] for what is refused).
fn credentials(settings: &Map<String, Value>) -> Result<Option<ServiceAccountKey>, SettingsError> {
    str_setting(settings, "google_application_credentials")
        .map(gcs_key::parse)
        .transpose()
}

/// The emulator's `host:port`, which signed URLs then name.
fn emulator_host(emulator: Option<&str>) -> Option<String> {
    emulator.map(|e| e.split_once("://").map_or(e, |(_, host)| host).to_owned())
}

fn backend(settings: &Map<String, Value>, federated: bool) -> Result<GcsBackend, SettingsError> {
    let emulator = emulator();
    if federated {
        let source = ClientSource::ExternalAccount {
            json: gcs_wif::external_account(settings),
            storage_endpoint: emulator.clone(),
            iam_endpoint: gcs_wif::iam_endpoint(),
        };
        let signer = UrlSigner {
            client_email: gcs_wif::service_account(settings).to_owned(),
            private_key_pem: None,
            emulator_host: emulator_host(emulator.as_deref()),
        };
        return Ok(GcsBackend::new(source, bucket_name(settings), Some(signer)));
    }
    let key = credentials(settings)?;
    let source = match (&emulator, &key) {
        (Some(endpoint), _) => ClientSource::Emulator(endpoint.clone()),
        (None, Some(key)) => ClientSource::CredentialsJson(key.json.clone()),
        (None, None) => ClientSource::ApplicationDefault,
    };
    let signer = key.map(|key| UrlSigner {
        client_email: key.client_email,
        private_key_pem: Some(key.private_key_pem),
        emulator_host: emulator_host(emulator.as_deref()),
    });
    Ok(GcsBackend::new(source, bucket_name(settings), signer))
}

#[async_trait]
impl StorageType for Gcs {
    fn slug(&self) -> &'static str {
        if self.federated { "gcswif" } else { "gcs" }
    }

    fn title(&self) -> &'static str {
        if self.federated {
            "Google Cloud Storage (Workload Identity Federation)"
        } else {
            "Google Cloud Storage"
        }
    }

    fn fields(&self, role: StorageRole) -> &'static [Field] {
        &FIELD_LISTS[variant_index(self.federated, role)]
    }

    fn server_credentials_field(&self, settings: &Map<String, Value>) -> Option<&'static str> {
        if self.federated {
            return Some("google_service_account_email");
        }
        let own = str_setting(settings, "google_application_credentials").is_some();
        (!own).then_some("google_application_credentials")
    }

    fn form_layout(&self, role: StorageRole) -> Value {
        let mut rows = vec![
            json!({"columnCount": 3, "fields": [
                {"type": "text", "name": "title", "label": "Storage Title"},
                {"type": "text", "name": "bucket", "label": "Bucket Name", "required": true},
                {"type": "text", "name": "prefix", "label": "Bucket Prefix"}]}),
            json!({"columnCount": 2, "fields": [
                {"type": "password", "name": "google_application_credentials",
                 "label": "Google Application Credentials", "protectedValue": true},
                {"type": "text", "name": "google_project_id", "label": "Google Project ID"}]}),
        ];
        if self.federated {
            rows.push(json!({"columnCount": 4, "fields": [
                {"type": "text", "name": "google_project_number", "label": "Project Number", "required": true},
                {"type": "text", "name": "google_service_account_email", "label": "Service Account Email", "required": true},
                {"type": "text", "name": "google_wif_pool_id", "label": "Workload Identity Pool ID", "required": true},
                {"type": "text", "name": "google_wif_provider_id", "label": "Provider ID", "required": true}]}));
        }
        rows.push(bucket::options_row(role));
        Value::Array(rows)
    }

    fn normalize(
        &self,
        _role: StorageRole,
        settings: &mut Map<String, Value>,
    ) -> Result<(), SettingsError> {
        if str_setting(settings, "bucket").is_none() {
            return Err(SettingsError::field("bucket", "This field is required."));
        }
        credentials(settings)?;
        if self.federated {
            gcs_wif::check(settings)?;
        }
        compile_regex_filter(str_setting(settings, "regex_filter"))?;
        bucket::check_presign_ttl(settings)?;
        Ok(())
    }

    async fn validate_connection(
        &self,
        role: StorageRole,
        settings: &Map<String, Value>,
        _env: &Settings,
    ) -> Result<(), SettingsError> {
        let backend = backend(settings, self.federated)?;
        let prefix = str_setting(settings, "prefix").unwrap_or_default();
        let name = bucket_name(settings);
        let failure = match bucket::probe(&backend, role, prefix).await {
            Ok(()) => return Ok(()),
            Err(failure) => failure,
        };
        Err(SettingsError::Connection(match failure {
            ProbeFailure::EmptyPrefix => {
                format!("No blobs found in {name}/{prefix} or prefix doesn't exist")
            }
            ProbeFailure::NotFound => format!("Cannot find bucket {name} in GCS"),
            ProbeFailure::Denied(detail) => {
                format!("Cannot access GCS bucket {name} with these credentials: {detail}")
            }
            ProbeFailure::Other(e) => format!("Cannot connect to GCS bucket {name}: {e}"),
        }))
    }

    fn open(
        &self,
        settings: &Map<String, Value>,
        _env: &Settings,
    ) -> Result<Arc<dyn ObjectStore>, SettingsError> {
        Ok(Arc::new(backend(settings, self.federated)?))
    }

    fn source(&self, settings: &Map<String, Value>) -> Result<SourceSpec, SettingsError> {
        bucket::source(settings)
    }

    fn object_uri(&self, settings: &Map<String, Value>, _env: &Settings, key: &str) -> String {
        format!("gs://{}/{key}", bucket_name(settings))
    }

    fn storage_filename(&self, _settings: &Map<String, Value>, key: &str) -> String {
        key.to_owned()
    }

    fn export_key(&self, settings: &Map<String, Value>, annotation: AnnotationId) -> String {
        bucket::export_key(settings, annotation)
    }

    fn resolve_key(&self, settings: &Map<String, Value>, uri: &str) -> Option<String> {
        bucket::resolve_key(uri, "gs", bucket_name(settings))
    }

    fn presign(&self, settings: &Map<String, Value>) -> Option<Duration> {
        bucket::presign(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(value: Value) -> Map<String, Value> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn credentials_must_be_json_and_uris_name_the_bucket() {
        let mut bad = settings(json!({"bucket": "b", "google_application_credentials": "Test"}));
        let error = Gcs::SERVICE_ACCOUNT
            .normalize(StorageRole::Import, &mut bad)
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("Google Application Credentials must be valid JSON string."),
            "{error}"
        );
        let s = settings(json!({"bucket": "b", "prefix": "in"}));
        assert_eq!(
            Gcs::SERVICE_ACCOUNT
                .resolve_key(&s, "gs://b/in/x.jpg")
                .as_deref(),
            Some("in/x.jpg")
        );
        assert_eq!(
            Gcs::SERVICE_ACCOUNT.resolve_key(&s, "s3://b/in/x.jpg"),
            None
        );
        assert_eq!(Gcs::SERVICE_ACCOUNT.export_key(&s, 3), "in/3");
    }
}
