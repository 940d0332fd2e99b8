//! `gcs` and `gcswif` settings, typed.

use serde::{Deserialize, Serialize};

use crate::connectors::bucket::BucketOptions;
use crate::connectors::settings::field;
use crate::model::Secret;

/// Every field of `gcs` and `gcswif`, both roles.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct GcsSettings {
    #[serde(default, deserialize_with = "field::text")]
    pub bucket: Option<String>,
    #[serde(flatten)]
    pub options: BucketOptions,
    /// A service-account key file's JSON (see `key.rs` for what is refused).
    #[serde(default, deserialize_with = "field::secret")]
    pub google_application_credentials: Option<Secret>,
    #[serde(default, deserialize_with = "field::text")]
    pub google_project_id: Option<String>,
    /// `gcswif` only.
    #[serde(default, deserialize_with = "field::text")]
    pub google_project_number: Option<String>,
    #[serde(default, deserialize_with = "field::text")]
    pub google_service_account_email: Option<String>,
    #[serde(default, deserialize_with = "field::text")]
    pub google_wif_pool_id: Option<String>,
    #[serde(default, deserialize_with = "field::text")]
    pub google_wif_provider_id: Option<String>,
}

impl GcsSettings {
    pub fn bucket(&self) -> &str {
        self.bucket.as_deref().unwrap_or_default()
    }
}
