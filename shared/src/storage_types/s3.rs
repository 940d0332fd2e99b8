//! `s3`: an Amazon S3 bucket or an S3-compatible store (spec §2.4, §3.2, §4.4, §5, §8).
//! Credentials come from the storage, else from the operator's `AWS_*` variables, else from the
//! default AWS credential chain; `s3_endpoint` (or the operator's `S3_ENDPOINT`) selects an
//! S3-compatible store with path-style addressing.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use async_trait::async_trait;
use aws_credential_types::provider::ProvideCredentials;
use serde_json::{Map, Value, json};

use super::aws_credentials;
use super::bucket::ProbeFailure;
use super::reach::check_endpoint;
use super::{
    Field, FieldDefault, SettingsError, SourceSpec, StorageType, bucket, compile_regex_filter,
    str_setting, variant_field_lists, variant_index,
};
use crate::backends::ObjectStore;
use crate::backends::s3::{Encryption, S3Backend};
use crate::config::Settings;
use crate::egress::{self, Guard};
use crate::model::{AnnotationId, StorageRole};

/// `s3` (access keys) and `s3s` (an IAM role assumed with an external id): one type, two slugs.
pub struct S3 {
    assume_role: bool,
}

impl S3 {
    pub const KEYS: S3 = S3 { assume_role: false };
    pub const ROLE: S3 = S3 { assume_role: true };
}

/// Every field of both slugs and both roles; [`S3::fields`] picks the ones that apply.
const FIELDS: &[Field] = &[
    Field::both("bucket", FieldDefault::Null),
    Field::both("prefix", FieldDefault::Null),
    Field::both("regex_filter", FieldDefault::Null),
    Field::both("use_blob_urls", FieldDefault::Bool(false)),
    Field::secret("aws_access_key_id"),
    Field::secret("aws_secret_access_key"),
    Field::secret("aws_session_token"),
    Field::both("aws_sse_kms_key_id", FieldDefault::Null),
    Field::both("region_name", FieldDefault::Null),
    Field::both("s3_endpoint", FieldDefault::Null),
    Field::import("presign", FieldDefault::Bool(true)),
    Field::import("presign_ttl", FieldDefault::Int(1)),
    Field::import("recursive_scan", FieldDefault::Bool(false)),
    Field::export("can_delete_objects", FieldDefault::Null),
];
/// The fields `s3s` adds.
const ROLE_FIELDS: &[Field] = &[
    Field::both("role_arn", FieldDefault::Null),
    Field::both("external_id", FieldDefault::Null),
    Field::both("legacy_auth", FieldDefault::Bool(false)),
];

/// `[s3 import, s3 export, s3s import, s3s export]`.
static FIELD_LISTS: LazyLock<[Vec<Field>; 4]> =
    LazyLock::new(|| variant_field_lists(FIELDS, ROLE_FIELDS, &[]));

fn bucket_name(settings: &Map<String, Value>) -> &str {
    str_setting(settings, "bucket").unwrap_or_default()
}

/// `region_name`, else the operator's `S3_region` (Label Studio's name), else `us-east-1`.
fn region(settings: &Map<String, Value>) -> String {
    str_setting(settings, "region_name")
        .map(str::to_owned)
        .or_else(|| std::env::var("S3_region").ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "us-east-1".into())
}

/// For `s3s`: assumes the role once, so a refused role is reported as such.
async fn check_role(settings: &Map<String, Value>) -> Result<(), SettingsError> {
    let Some(role_arn) = str_setting(settings, "role_arn") else {
        return Ok(());
    };
    let provider = aws_credentials::provider(settings, &region(settings));
    match provider.provide_credentials().await {
        Ok(_) => Ok(()),
        Err(e) => Err(SettingsError::Connection(format!(
            "Cannot assume role {role_arn}: {}; check the role's trust policy allows our principal with this external ID",
            source_text(&e)
        ))),
    }
}

/// The S3 client a storage's settings describe. `s3_endpoint` (or the operator's `S3_ENDPOINT`)
/// selects an S3-compatible store, addressed path-style. A storage's own endpoint is reached
/// only through the egress guard; the operator's and AWS's are trusted.
pub fn client(
    settings: &Map<String, Value>,
    env: &Settings,
) -> Result<aws_sdk_s3::Client, SettingsError> {
    let region = region(settings);
    let credentials = aws_credentials::provider(settings, &region);
    let mut config = aws_sdk_s3::config::Builder::new()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new(region))
        .credentials_provider(credentials);
    if let Some(endpoint) = str_setting(settings, "s3_endpoint") {
        let guard = Guard::new(env.egress.clone());
        guard
            .check_url(endpoint)
            .map_err(|e| SettingsError::field("s3_endpoint", e.to_string()))?;
        config = config
            .endpoint_url(endpoint)
            .force_path_style(true)
            .http_client(egress::aws_http_client(&guard));
    } else if let Some(endpoint) = std::env::var("S3_ENDPOINT").ok().filter(|v| !v.is_empty()) {
        config = config.endpoint_url(endpoint).force_path_style(true);
    }
    Ok(aws_sdk_s3::Client::from_conf(config.build()))
}

/// An IAM role ARN: `arn:<partition>:iam::<12-digit account>:role/<name>`.
fn check_role_arn(arn: Option<&str>) -> Result<(), SettingsError> {
    let Some(arn) = arn else {
        return Err(SettingsError::field("role_arn", "This field is required."));
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let valid = matches!(parts.as_slice(),
        ["arn", partition, "iam", "", account, resource]
            if !partition.is_empty()
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource.strip_prefix("role/").is_some_and(|name| !name.is_empty()));
    if valid {
        return Ok(());
    }
    Err(SettingsError::field(
        "role_arn",
        format!("{arn:?} is not an IAM role ARN; expected arn:aws:iam::123456789012:role/<name>"),
    ))
}

/// Both halves of an access key on the storage itself.
fn has_own_keys(settings: &Map<String, Value>) -> bool {
    str_setting(settings, "aws_access_key_id").is_some()
        && str_setting(settings, "aws_secret_access_key").is_some()
}

/// A region is a name (`us-east-1`, `fr-par`, `auto`); it becomes part of AWS host names.
fn check_region(region: &str) -> Result<(), SettingsError> {
    let shaped = (1..=64).contains(&region.len())
        && region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if shaped {
        return Ok(());
    }
    Err(SettingsError::field(
        "region_name",
        format!("{region:?} is not a region name (letters, digits, '-' and '_', like us-east-1)"),
    ))
}

/// botocore's bucket-name rules.
fn check_bucket_name(name: &str) -> Result<(), SettingsError> {
    let valid_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    let ends_ok = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if (3..=63).contains(&name.len()) && valid_chars && ends_ok {
        return Ok(());
    }
    Err(SettingsError::field(
        "bucket",
        format!(
            "Invalid bucket name {name:?}: use 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit"
        ),
    ))
}

#[async_trait]
impl StorageType for S3 {
    fn slug(&self) -> &'static str {
        if self.assume_role { "s3s" } else { "s3" }
    }

    fn title(&self) -> &'static str {
        if self.assume_role {
            "AWS S3 (IAM role)"
        } else {
            "AWS S3"
        }
    }

    fn fields(&self, role: StorageRole) -> &'static [Field] {
        &FIELD_LISTS[variant_index(self.assume_role, role)]
    }

    fn server_credentials_field(&self, settings: &Map<String, Value>) -> Option<&'static str> {
        match (has_own_keys(settings), self.assume_role) {
            (true, _) => None,
            (false, true) => Some("role_arn"),
            (false, false) => Some("aws_access_key_id"),
        }
    }

    fn destination_fields(&self) -> &'static [&'static str] {
        &["s3_endpoint", "region_name"]
    }

    fn form_layout(&self, role: StorageRole) -> Value {
        let mut rows = vec![
            json!({"columnCount": 3, "fields": [
                {"type": "text", "name": "title", "label": "Storage Title"},
                {"type": "text", "name": "bucket", "label": "Bucket Name", "required": true},
                {"type": "text", "name": "prefix", "label": "Bucket Prefix"}]}),
            json!({"columnCount": 2, "fields": [
                {"type": "text", "name": "region_name", "label": "Region Name", "placeholder": "us-east-1"},
                {"type": "text", "name": "s3_endpoint", "label": "S3 Endpoint"}]}),
            json!({"columnCount": 2, "fields": [
                {"type": "password", "name": "aws_access_key_id", "label": "Access Key ID", "protectedValue": true},
                {"type": "password", "name": "aws_secret_access_key", "label": "Secret Access Key", "protectedValue": true},
                {"type": "password", "name": "aws_session_token", "label": "Session Token", "protectedValue": true}]}),
        ];
        if self.assume_role {
            rows.push(json!({"columnCount": 2, "fields": [
                {"type": "text", "name": "role_arn", "label": "Role ARN", "required": true,
                 "placeholder": "arn:aws:iam::123456789012:role/labelsync-access"},
                {"type": "text", "name": "external_id", "label": "External ID"}]}));
        }
        rows.push(match role {
            StorageRole::Import => bucket::options_row(role),
            StorageRole::Export => json!({"columnCount": 1, "fields": [
                {"type": "text", "name": "aws_sse_kms_key_id", "label": "SSE KMS Key ID"},
                {"type": "toggle", "name": "can_delete_objects", "label": "Can delete objects from storage"}]}),
        });
        Value::Array(rows)
    }

    fn normalize(
        &self,
        _role: StorageRole,
        settings: &mut Map<String, Value>,
    ) -> Result<(), SettingsError> {
        let Some(name) = str_setting(settings, "bucket") else {
            return Err(SettingsError::field("bucket", "This field is required."));
        };
        check_bucket_name(name)?;
        if let Some(region) = str_setting(settings, "region_name") {
            check_region(region)?;
        }
        if let Some(endpoint) = str_setting(settings, "s3_endpoint") {
            super::host::parse_base_url("s3_endpoint", endpoint)?;
        }
        if self.assume_role {
            check_role_arn(str_setting(settings, "role_arn"))?;
        } else if str_setting(settings, "s3_endpoint").is_some() && !has_own_keys(settings) {
            return Err(SettingsError::field(
                "aws_access_key_id",
                "A storage with its own s3_endpoint needs its own access key id and secret access key: the server's AWS credentials are never sent to an endpoint a storage names.",
            ));
        }
        compile_regex_filter(str_setting(settings, "regex_filter"))?;
        bucket::check_presign_ttl(settings)?;
        Ok(())
    }

    async fn validate_connection(
        &self,
        role: StorageRole,
        settings: &Map<String, Value>,
        env: &Settings,
    ) -> Result<(), SettingsError> {
        if let Some(endpoint) = str_setting(settings, "s3_endpoint") {
            check_endpoint("s3_endpoint", endpoint, env).await?;
        }
        if self.assume_role {
            check_role(settings).await?;
        }
        let backend = S3Backend::new(client(settings, env)?, bucket_name(settings));
        let prefix = str_setting(settings, "prefix").unwrap_or_default();
        let name = bucket_name(settings);
        let failure = match bucket::probe(&backend, role, prefix).await {
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

    fn open(
        &self,
        settings: &Map<String, Value>,
        env: &Settings,
    ) -> Result<Arc<dyn ObjectStore>, SettingsError> {
        let encryption =
            str_setting(settings, "aws_sse_kms_key_id").map(|key_id| Encryption::Kms {
                key_id: key_id.to_owned(),
            });
        Ok(Arc::new(
            S3Backend::new(client(settings, env)?, bucket_name(settings))
                .with_encryption(encryption),
        ))
    }

    fn source(&self, settings: &Map<String, Value>) -> Result<SourceSpec, SettingsError> {
        bucket::source(settings)
    }

    fn object_uri(&self, settings: &Map<String, Value>, _env: &Settings, key: &str) -> String {
        format!("s3://{}/{key}", bucket_name(settings))
    }

    fn storage_filename(&self, _settings: &Map<String, Value>, key: &str) -> String {
        key.to_owned()
    }

    fn export_key(&self, settings: &Map<String, Value>, annotation: AnnotationId) -> String {
        bucket::export_key(settings, annotation)
    }

    fn resolve_key(&self, settings: &Map<String, Value>, uri: &str) -> Option<String> {
        bucket::resolve_key(uri, "s3", bucket_name(settings))
    }

    fn presign(&self, settings: &Map<String, Value>) -> Option<Duration> {
        bucket::presign(settings)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(value: Value) -> Map<String, Value> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn bucket_names_follow_botocore() {
        assert!(check_bucket_name("pytest-s3-images").is_ok());
        for bad in ["Bad_Bucket!", "ab", "-x-", "UPPER"] {
            assert!(
                matches!(check_bucket_name(bad), Err(SettingsError::Field { field, .. }) if field == "bucket"),
                "{bad}"
            );
        }
    }

    #[test]
    fn keys_uris_and_export_keys() {
        let s = settings(json!({"bucket": "b", "prefix": "out/"}));
        assert_eq!(
            S3::KEYS.export_key(&s, 5),
            "out//5",
            "the prefix is used verbatim, as Label Studio does"
        );
        assert_eq!(
            S3::KEYS.export_key(&settings(json!({"bucket": "b"})), 5),
            "5"
        );
        assert_eq!(
            S3::KEYS.resolve_key(&s, "s3://b/dir/x.jpg").as_deref(),
            Some("dir/x.jpg")
        );
        assert_eq!(S3::KEYS.resolve_key(&s, "s3://other/x.jpg"), None);
        assert_eq!(
            S3::KEYS
                .source(&settings(json!({"bucket": "b", "prefix": "subdir"})))
                .unwrap()
                .prefix,
            "subdir/"
        );
        assert_eq!(
            S3::KEYS.presign(&settings(json!({"presign": true, "presign_ttl": 15}))),
            Some(Duration::from_secs(900))
        );
        assert_eq!(S3::KEYS.presign(&settings(json!({"presign": false}))), None);
    }

    #[test]
    fn role_arns_are_checked_and_only_s3s_has_role_fields() {
        assert!(check_role_arn(Some("arn:aws:iam::123456789012:role/labelsync")).is_ok());
        assert!(check_role_arn(Some("arn:aws-cn:iam::123456789012:role/a/b")).is_ok());
        for bad in [
            None,
            Some("labelsync"),
            Some("arn:aws:iam::1234:role/x"),
            Some("arn:aws:iam::123456789012:user/x"),
            Some("arn:aws:s3:::bucket"),
        ] {
            assert!(
                matches!(check_role_arn(bad), Err(SettingsError::Field { field, .. }) if field == "role_arn"),
                "{bad:?}"
            );
        }
        let names =
            |ty: &S3, role| -> Vec<&str> { ty.fields(role).iter().map(|f| f.name).collect() };
        assert!(!names(&S3::KEYS, StorageRole::Import).contains(&"role_arn"));
        assert!(names(&S3::ROLE, StorageRole::Export).contains(&"external_id"));
        assert!(names(&S3::ROLE, StorageRole::Import).contains(&"presign_ttl"));
        assert!(!names(&S3::ROLE, StorageRole::Export).contains(&"presign_ttl"));
        assert!(names(&S3::KEYS, StorageRole::Export).contains(&"can_delete_objects"));
        assert!(!names(&S3::KEYS, StorageRole::Import).contains(&"can_delete_objects"));
    }
}
