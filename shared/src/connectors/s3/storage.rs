//! One `s3`/`s3s` storage, bound: its client, its connection check, its URIs.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_credential_types::provider::ProvideCredentials;
use serde_json::{Map, Value};

use super::backend::{Encryption, S3Backend};
use super::credentials;
use super::settings::S3Settings;
use crate::backends::ObjectStore;
use crate::config::Settings;
use crate::connectors::bucket::{self, ProbeFailure};
use crate::connectors::reach::check_endpoint;
use crate::connectors::settings::to_map;
use crate::connectors::{BackendCell, SettingsError, SourceSpec, Storage};
use crate::egress::{self, Guard};
use crate::model::{AnnotationId, StorageRole};

pub struct S3Storage {
    pub(super) settings: S3Settings,
    pub(super) assume_role: bool,
    pub(super) source: SourceSpec,
    pub(super) env: Arc<Settings>,
    pub(super) backend: BackendCell,
}

impl S3Storage {
    /// `region_name`, else the operator's `S3_region` (Label Studio's name), else `us-east-1`.
    fn region(&self) -> String {
        self.settings
            .region_name
            .clone()
            .or_else(|| self.env.cloud.s3_region.clone())
            .unwrap_or_else(|| "us-east-1".into())
    }

    /// The S3 client: a storage's own `s3_endpoint` is reached only through the egress guard,
    /// path-style; the operator's `S3_ENDPOINT` and AWS's endpoints are trusted.
    fn client(&self) -> Result<aws_sdk_s3::Client, SettingsError> {
        let region = self.region();
        let credentials = credentials::provider(&self.settings, &self.env.cloud, &region);
        let mut config = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new(region))
            .credentials_provider(credentials);
        if let Some(endpoint) = &self.settings.s3_endpoint {
            let guard = Guard::new(self.env.egress.clone());
            guard
                .check_url(endpoint)
                .map_err(|e| SettingsError::field("s3_endpoint", e.to_string()))?;
            config = config
                .endpoint_url(endpoint)
                .force_path_style(true)
                .http_client(egress::aws_http_client(&guard));
        } else if let Some(endpoint) = &self.env.cloud.s3_endpoint {
            config = config.endpoint_url(endpoint).force_path_style(true);
        }
        Ok(aws_sdk_s3::Client::from_conf(config.build()))
    }

    fn open(&self) -> Result<S3Backend, SettingsError> {
        let encryption = self
            .settings
            .aws_sse_kms_key_id
            .clone()
            .map(|key_id| Encryption::Kms { key_id });
        Ok(S3Backend::new(self.client()?, self.settings.bucket()).with_encryption(encryption))
    }

    /// For `s3s`: assumes the role once, so a refused role is reported as such.
    async fn check_role(&self) -> Result<(), SettingsError> {
        let Some(role_arn) = &self.settings.role_arn else {
            return Ok(());
        };
        let provider = credentials::provider(&self.settings, &self.env.cloud, &self.region());
        match provider.provide_credentials().await {
            Ok(_) => Ok(()),
            Err(e) => Err(SettingsError::Connection(format!(
                "Cannot assume role {role_arn}: {}; check the role's trust policy allows our principal with this external ID",
                source_text(&e)
            ))),
        }
    }
}

#[async_trait]
impl Storage for S3Storage {
    fn settings(&self) -> Map<String, Value> {
        to_map(&self.settings)
    }

    async fn check_connection(&self, role: StorageRole) -> Result<(), SettingsError> {
        if let Some(endpoint) = &self.settings.s3_endpoint {
            check_endpoint("s3_endpoint", endpoint, &self.env).await?;
        }
        if self.assume_role {
            self.check_role().await?;
        }
        let name = self.settings.bucket();
        let prefix = self.settings.options.prefix.as_deref().unwrap_or_default();
        let failure = match bucket::probe(&self.open()?, role, &self.settings.options).await {
            Ok(()) => return Ok(()),
            Err(failure) => failure,
        };
        Err(SettingsError::Connection(match failure {
            ProbeFailure::EmptyPrefix => format!("s3://{name}/{prefix} not found."),
            ProbeFailure::NotFound => format!("Cannot find bucket {name} in S3"),
            ProbeFailure::Denied(_) => {
                format!("Cannot connect to S3 {name} with specified AWS credentials")
            }
            ProbeFailure::Other(e) => format!("Cannot connect to S3 {name}: {}", source_text(&e)),
        }))
    }

    fn backend(&self) -> Result<Arc<dyn ObjectStore>, SettingsError> {
        self.backend.get_or_open(|| self.open())
    }

    fn source(&self) -> &SourceSpec {
        &self.source
    }

    fn object_uri(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.settings.bucket())
    }

    fn export_key(&self, annotation: AnnotationId) -> String {
        self.settings.options.export_key(annotation)
    }

    fn can_delete_objects(&self) -> bool {
        self.settings.options.can_delete_objects()
    }

    fn resolve_key(&self, uri: &str) -> Option<String> {
        bucket::resolve_key(uri, "s3", self.settings.bucket())
    }

    fn presign(&self) -> Option<Duration> {
        self.settings.options.presign()
    }

    fn server_credentials_field(&self) -> Option<&'static str> {
        match (self.settings.has_own_keys(), self.assume_role) {
            (true, _) => None,
            (false, true) => Some("role_arn"),
            (false, false) => Some("aws_access_key_id"),
        }
    }
}

/// The innermost message of an error chain (the SDK's own words, never credentials).
fn source_text(error: &dyn std::error::Error) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}
