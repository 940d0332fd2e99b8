//! `gcswif`: Workload Identity Federation. The process's AWS identity (Lambda's role, or the
//! operator's `AWS_*` keys) signs a GetCallerIdentity request; Google's STS trades it for a
//! federated token, which impersonates the storage's service account; signed URLs go through
//! that account's IAM `signBlob`. The operator can point STS and IAM elsewhere with
//! `LABELSYNC_GOOGLE_STS_URL` and `LABELSYNC_GOOGLE_IAM_URL` (a test server, a private endpoint).

use serde_json::json;

use super::key::is_email;
use super::settings::GcsSettings;
use crate::config::OperatorCloud;
use crate::connectors::SettingsError;

/// Where `generateAccessToken` and `signBlob` go.
pub fn iam_endpoint(cloud: &OperatorCloud) -> String {
    cloud
        .google_iam_url
        .clone()
        .unwrap_or_else(|| "https://iamcredentials.googleapis.com".to_owned())
}

fn sts_token_url(cloud: &OperatorCloud) -> String {
    cloud
        .google_sts_url
        .clone()
        .unwrap_or_else(|| "https://sts.googleapis.com/v1/token".to_owned())
}

fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, SettingsError> {
    value
        .as_deref()
        .ok_or_else(|| SettingsError::required(field))
}

/// Every WIF field present and in Google's shape: they go into Google's URLs and the audience.
pub fn check(settings: &GcsSettings) -> Result<(), SettingsError> {
    let number = required(&settings.google_project_number, "google_project_number")?;
    let email = required(
        &settings.google_service_account_email,
        "google_service_account_email",
    )?;
    let pool = required(&settings.google_wif_pool_id, "google_wif_pool_id")?;
    let provider = required(&settings.google_wif_provider_id, "google_wif_provider_id")?;
    if !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SettingsError::field(
            "google_project_number",
            format!("{number:?} is not a project number (digits, like 123456789012)"),
        ));
    }
    for (name, id) in [
        ("google_wif_pool_id", pool),
        ("google_wif_provider_id", provider),
    ] {
        let shaped = (4..=32).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !shaped {
            return Err(SettingsError::field(
                name,
                format!(
                    "{id:?} is not a Workload Identity id (4-32 lowercase letters, digits and hyphens)"
                ),
            ));
        }
    }
    if !is_email(email) {
        return Err(SettingsError::field(
            "google_service_account_email",
            format!("{email:?} is not a service account email"),
        ));
    }
    Ok(())
}

/// The `external_account` credentials document Google's client libraries read, built by
/// labelsync from checked ids (never taken from a user).
pub fn external_account(settings: &GcsSettings, cloud: &OperatorCloud) -> String {
    let field = |value: &Option<String>| value.clone().unwrap_or_default();
    let audience = format!(
        "//iam.googleapis.com/projects/{}/locations/global/workloadIdentityPools/{}/providers/{}",
        field(&settings.google_project_number),
        field(&settings.google_wif_pool_id),
        field(&settings.google_wif_provider_id),
    );
    let impersonation = format!(
        "{}/v1/projects/-/serviceAccounts/{}:generateAccessToken",
        iam_endpoint(cloud),
        field(&settings.google_service_account_email)
    );
    json!({
        "type": "external_account",
        "audience": audience,
        "subject_token_type": "urn:ietf:params:aws:token-type:aws4_request",
        "token_url": sts_token_url(cloud),
        "service_account_impersonation_url": impersonation,
        "credential_source": {
            "environment_id": "aws1",
            "region_url": "http://169.254.169.254/latest/meta-data/placement/availability-zone",
            "url": "http://169.254.169.254/latest/meta-data/iam/security-credentials",
            "regional_cred_verification_url": "https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15"
        }
    })
    .to_string()
}
