//! `s3` and `s3s` settings, typed, with botocore's and Label Studio's rules.

use serde::{Deserialize, Serialize};

use crate::connectors::bucket::BucketOptions;
use crate::connectors::settings::field;
use crate::connectors::{SettingsError, host};
use crate::model::Secret;

/// Every field of `s3` and `s3s`, both roles.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct S3Settings {
    #[serde(default, deserialize_with = "field::text")]
    pub bucket: Option<String>,
    #[serde(flatten)]
    pub options: BucketOptions,
    #[serde(default, deserialize_with = "field::secret")]
    pub aws_access_key_id: Option<Secret>,
    #[serde(default, deserialize_with = "field::secret")]
    pub aws_secret_access_key: Option<Secret>,
    #[serde(default, deserialize_with = "field::secret")]
    pub aws_session_token: Option<Secret>,
    #[serde(default, deserialize_with = "field::text")]
    pub aws_sse_kms_key_id: Option<String>,
    #[serde(default, deserialize_with = "field::text")]
    pub region_name: Option<String>,
    #[serde(default, deserialize_with = "field::text")]
    pub s3_endpoint: Option<String>,
    /// `s3s` only.
    #[serde(default, deserialize_with = "field::text")]
    pub role_arn: Option<String>,
    #[serde(default, deserialize_with = "field::text")]
    pub external_id: Option<String>,
    #[serde(default, deserialize_with = "field::flag")]
    pub legacy_auth: bool,
}

impl S3Settings {
    pub fn bucket(&self) -> &str {
        self.bucket.as_deref().unwrap_or_default()
    }

    /// Both halves of an access key on the storage itself.
    pub fn has_own_keys(&self) -> bool {
        self.aws_access_key_id.is_some() && self.aws_secret_access_key.is_some()
    }

    /// Checks the shape of everything (no I/O). `assume_role`: the `s3s` variant.
    pub fn check(&self, assume_role: bool) -> Result<(), SettingsError> {
        check_bucket_name(
            self.bucket
                .as_deref()
                .ok_or_else(|| SettingsError::required("bucket"))?,
        )?;
        if let Some(region) = &self.region_name {
            check_region(region)?;
        }
        if let Some(endpoint) = &self.s3_endpoint {
            host::parse_base_url("s3_endpoint", endpoint)?;
        }
        if assume_role {
            check_role_arn(self.role_arn.as_deref())?;
        } else if self.s3_endpoint.is_some() && !self.has_own_keys() {
            return Err(SettingsError::field(
                "aws_access_key_id",
                "A storage with its own s3_endpoint needs its own access key id and secret access key: the server's AWS credentials are never sent to an endpoint a storage names.",
            ));
        }
        self.options.check()
    }
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

/// An IAM role ARN: `arn:<partition>:iam::<12-digit account>:role/<name>`.
fn check_role_arn(arn: Option<&str>) -> Result<(), SettingsError> {
    let Some(arn) = arn else {
        return Err(SettingsError::required("role_arn"));
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn role_arns_are_checked() {
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
    }
}
