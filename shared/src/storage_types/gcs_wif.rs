//! `gcswif`: Workload Identity Federation. The process's AWS identity (Lambda's role, or the
//! operator's `AWS_*` keys) signs a GetCallerIdentity request; Google's STS trades it for a
//! federated token, which impersonates the storage's service account; signed URLs go through
//! that account's IAM `signBlob`. The operator can point STS and IAM elsewhere with
//! `LABELSYNC_GOOGLE_STS_URL` and `LABELSYNC_GOOGLE_IAM_URL` (a test server, a private endpoint).

use serde_json::{Map, Value, json};

use super::gcs_key::is_email;
use super::{SettingsError, str_setting};

/// The fields `gcswif` adds to `gcs`.
pub const FIELD_NAMES: [&str; 4] = [
    "google_project_number",
    "google_service_account_email",
    "google_wif_pool_id",
    "google_wif_provider_id",
];

fn operator_url(variable: &str, default: &str) -> String {
    let value = std::env::var(variable).ok().filter(|v| !v.is_empty());
    value.unwrap_or_else(|| default.to_owned())
}

/// Where `generateAccessToken` and `signBlob` go.
pub fn iam_endpoint() -> String {
    operator_url(
        "LABELSYNC_GOOGLE_IAM_URL",
        "https://iamcredentials.googleapis.com",
    )
}

fn sts_token_url() -> String {
    operator_url(
        "LABELSYNC_GOOGLE_STS_URL",
        "https://sts.googleapis.com/v1/token",
    )
}

/// Every WIF field present, the project number all digits.
pub fn check(settings: &Map<String, Value>) -> Result<(), SettingsError> {
    for name in FIELD_NAMES {
        if str_setting(settings, name).is_none() {
            return Err(SettingsError::field(name, "This field is required."));
        }
    }
    let number = str_setting(settings, "google_project_number").unwrap_or_default();
    if !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SettingsError::field(
            "google_project_number",
            format!("{number:?} is not a project number (digits, like 123456789012)"),
        ));
    }
    // These go into Google's URLs and the audience: their shape is Google's, nothing more.
    for name in ["google_wif_pool_id", "google_wif_provider_id"] {
        let id = str_setting(settings, name).unwrap_or_default();
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
    let email = service_account(settings);
    if !is_email(email) {
        return Err(SettingsError::field(
            "google_service_account_email",
            format!("{email:?} is not a service account email"),
        ));
    }
    Ok(())
}

/// The service account the storage acts as.
pub fn service_account(settings: &Map<String, Value>) -> &str {
    str_setting(settings, "google_service_account_email").unwrap_or_default()
}

/// The `external_account` credentials document Google's client libraries read.
pub fn external_account(settings: &Map<String, Value>) -> String {
    let field = |name| str_setting(settings, name).unwrap_or_default();
    let audience = format!(
        "//iam.googleapis.com/projects/{}/locations/global/workloadIdentityPools/{}/providers/{}",
        field("google_project_number"),
        field("google_wif_pool_id"),
        field("google_wif_provider_id"),
    );
    let impersonation = format!(
        "{}/v1/projects/-/serviceAccounts/{}:generateAccessToken",
        iam_endpoint(),
        service_account(settings)
    );
    json!({
        "type": "external_account",
        "audience": audience,
        "subject_token_type": "urn:ietf:params:aws:token-type:aws4_request",
        "token_url": sts_token_url(),
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
