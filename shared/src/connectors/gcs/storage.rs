//! One `gcs`/`gcswif` storage, bound: its client source, signer, connection check and URIs.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::backend::{ClientSource, GcsBackend, UrlSigner};
use super::key::{self, GOOGLE_TOKEN_URL, ServiceAccountKey};
use super::settings::GcsSettings;
use super::wif;
use crate::backends::ObjectStore;
use crate::config::Settings;
use crate::connectors::bucket::{self, ProbeFailure};
use crate::connectors::settings::to_map;
use crate::connectors::{BackendCell, SettingsError, SourceSpec, Storage};
use crate::model::{AnnotationId, StorageRole};

pub struct GcsStorage {
    pub(super) settings: GcsSettings,
    pub(super) federated: bool,
    /// The service-account key, parsed once (`gcs` with credentials).
    pub(super) key: Option<ServiceAccountKey>,
    pub(super) source: SourceSpec,
    pub(super) env: Arc<Settings>,
    pub(super) backend: BackendCell,
}

/// The storage's service-account key, if it has one (see [`key`] for what is refused).
pub fn parse_key(
    settings: &GcsSettings,
    env: &Settings,
) -> Result<Option<ServiceAccountKey>, SettingsError> {
    let token_url = env
        .cloud
        .google_token_url
        .as_deref()
        .unwrap_or(GOOGLE_TOKEN_URL);
    settings
        .google_application_credentials
        .as_ref()
        .map(|text| key::parse(text.expose(), token_url))
        .transpose()
}

impl GcsStorage {
    /// The operator's `STORAGE_EMULATOR_HOST` as a base URL (`host:port` gets `http://`).
    fn emulator(&self) -> Option<String> {
        let host = self.env.cloud.gcs_emulator_host.as_deref()?;
        let host = host.trim_end_matches('/');
        Some(if host.contains("://") {
            host.to_owned()
        } else {
            format!("http://{host}")
        })
    }

    /// The emulator's `host:port`, which signed URLs then name.
    fn emulator_host(&self) -> Option<String> {
        self.emulator().map(|e| {
            e.split_once("://")
                .map_or(e.as_str(), |(_, host)| host)
                .to_owned()
        })
    }

    fn open(&self) -> GcsBackend {
        let emulator = self.emulator();
        let bucket = self.settings.bucket();
        if self.federated {
            let source = ClientSource::ExternalAccount {
                json: wif::external_account(&self.settings, &self.env.cloud),
                storage_endpoint: emulator,
                iam_endpoint: wif::iam_endpoint(&self.env.cloud),
            };
            let signer = UrlSigner {
                client_email: self
                    .settings
                    .google_service_account_email
                    .clone()
                    .unwrap_or_default(),
                private_key_pem: None,
                emulator_host: self.emulator_host(),
            };
            return GcsBackend::new(source, bucket, Some(signer));
        }
        let source = match (&emulator, &self.key) {
            (Some(endpoint), _) => ClientSource::Emulator(endpoint.clone()),
            (None, Some(key)) => ClientSource::CredentialsJson(key.json.clone()),
            (None, None) => ClientSource::ApplicationDefault,
        };
        let signer = self.key.as_ref().map(|key| UrlSigner {
            client_email: key.client_email.clone(),
            private_key_pem: Some(key.private_key_pem.clone()),
            emulator_host: self.emulator_host(),
        });
        GcsBackend::new(source, bucket, signer)
    }
}

#[async_trait]
impl Storage for GcsStorage {
    fn settings(&self) -> Map<String, Value> {
        to_map(&self.settings)
    }

    async fn check_connection(&self, role: StorageRole) -> Result<(), SettingsError> {
        let name = self.settings.bucket();
        let prefix = self.settings.options.prefix.as_deref().unwrap_or_default();
        let failure = match bucket::probe(&self.open(), role, &self.settings.options).await {
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

    fn backend(&self) -> Result<Arc<dyn ObjectStore>, SettingsError> {
        self.backend.get_or_open(|| Ok(self.open()))
    }

    fn source(&self) -> &SourceSpec {
        &self.source
    }

    fn object_uri(&self, key: &str) -> String {
        format!("gs://{}/{key}", self.settings.bucket())
    }

    fn export_key(&self, annotation: AnnotationId) -> String {
        self.settings.options.export_key(annotation)
    }

    fn can_delete_objects(&self) -> bool {
        self.settings.options.can_delete_objects()
    }

    fn resolve_key(&self, uri: &str) -> Option<String> {
        bucket::resolve_key(uri, "gs", self.settings.bucket())
    }

    fn presign(&self) -> Option<Duration> {
        self.settings.options.presign()
    }

    fn server_credentials_field(&self) -> Option<&'static str> {
        if self.federated {
            return Some("google_service_account_email");
        }
        self.key
            .is_none()
            .then_some("google_application_credentials")
    }
}
