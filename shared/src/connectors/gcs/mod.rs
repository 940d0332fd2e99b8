//! `gcs`: a Google Cloud Storage bucket (spec §2.4, §3.2, §4.4, §5, §8), and `gcswif`: the same
//! through Workload Identity Federation from the process's AWS identity. `gcs` credentials are
//! a service-account key file in `google_application_credentials`, else application default
//! credentials; V4 signed URLs need a service-account private key. The operator's
//! `STORAGE_EMULATOR_HOST` (Google's own variable) points every GCS storage at an emulator.

pub mod backend;
mod events;
mod key;
mod settings;
mod storage;
mod wif;

use std::sync::{Arc, LazyLock};

use serde_json::{Map, Value, json};

use super::settings::{parse, to_map};
use super::{
    BackendCell, Connector, Field, SettingsError, Storage, bucket, variant_field_lists,
    variant_index,
};
use crate::config::Settings;
use crate::model::{ObjectEvent, StorageRole};
use settings::GcsSettings;
use storage::{GcsStorage, parse_key};

pub use backend::{ClientSource, GcsBackend, UrlSigner};

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
    Field::both("bucket"),
    Field::both("prefix"),
    Field::both("regex_filter"),
    Field::both("use_blob_urls"),
    Field::secret("google_application_credentials"),
    Field::both("google_project_id"),
    Field::import("presign"),
    Field::import("presign_ttl"),
    Field::import("recursive_scan"),
    Field::export("can_delete_objects"),
];
/// The fields `gcswif` adds.
const WIF_FIELDS: &[Field] = &[
    Field::both("google_project_number"),
    Field::both("google_service_account_email"),
    Field::both("google_wif_pool_id"),
    Field::both("google_wif_provider_id"),
];

/// `[gcs import, gcs export, gcswif import, gcswif export]`.
static FIELD_LISTS: LazyLock<[Vec<Field>; 4]> =
    LazyLock::new(|| variant_field_lists(FIELDS, WIF_FIELDS, &[]));

impl Connector for Gcs {
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

    fn uri_schemes(&self) -> &'static [&'static str] {
        &["gs"]
    }

    fn fields(&self, role: StorageRole) -> &'static [Field] {
        &FIELD_LISTS[variant_index(self.federated, role)]
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

    fn defaults(&self) -> Map<String, Value> {
        parse::<GcsSettings>(&Map::new()).map_or_else(|_| Map::new(), |s| to_map(&s))
    }

    fn bind(
        &self,
        _role: StorageRole,
        settings: &Map<String, Value>,
        env: &Arc<Settings>,
    ) -> Result<Arc<dyn Storage>, SettingsError> {
        let settings: GcsSettings = parse(settings)?;
        bucket::required(&settings.bucket, "bucket")?;
        let key = parse_key(&settings, env)?;
        if self.federated {
            wif::check(&settings)?;
        }
        settings.options.check()?;
        Ok(Arc::new(GcsStorage {
            source: settings.options.source()?,
            settings,
            federated: self.federated,
            key,
            env: env.clone(),
            backend: BackendCell::default(),
        }))
    }

    /// Pub/Sub push notifications; read once, by `gcs` (`gcswif` storages share its `gs://`
    /// locations).
    fn object_events(&self, body: &Value) -> Vec<ObjectEvent> {
        if self.federated {
            return Vec::new();
        }
        events::object_events(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind(value: Value) -> Result<Arc<dyn Storage>, SettingsError> {
        let env = Arc::new(Settings::from_env(&|_: &str| None, std::path::Path::new("/")).unwrap());
        let settings = serde_json::from_value(value).unwrap();
        Gcs::SERVICE_ACCOUNT.bind(StorageRole::Import, &settings, &env)
    }

    #[test]
    fn credentials_must_be_json_and_uris_name_the_bucket() {
        let error = bind(json!({"bucket": "b", "google_application_credentials": "Test"}))
            .err()
            .unwrap();
        assert!(
            error
                .to_string()
                .contains("Google Application Credentials must be valid JSON string."),
            "{error}"
        );
        let s = bind(json!({"bucket": "b", "prefix": "in"})).unwrap();
        assert_eq!(
            s.resolve_key("gs://b/in/x.jpg").as_deref(),
            Some("in/x.jpg")
        );
        assert_eq!(s.resolve_key("s3://b/in/x.jpg"), None);
        assert_eq!(s.export_key(3), "in/3");
    }
}
