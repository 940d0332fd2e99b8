//! The operator's cloud settings: credentials storages may fall back to, and endpoints they are
//! sent to. They come from the environment, so they are trusted (unlike a storage's fields).

use super::Env;
use crate::model::Secret;

/// What the operator set for storages that leave a field empty, and where the clouds' own
/// services are for this deployment (emulators, sovereign clouds, test servers).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OperatorCloud {
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`: S3 keys for storages
    /// without their own (else the default AWS credential chain).
    pub aws_access_key_id: Option<String>,
    pub aws_secret_access_key: Option<Secret>,
    pub aws_session_token: Option<Secret>,
    /// `S3_ENDPOINT`: an S3-compatible endpoint for storages without their own.
    pub s3_endpoint: Option<String>,
    /// `S3_region`: the region of storages without their own (Label Studio's name).
    pub s3_region: Option<String>,
    /// `AZURE_BLOB_ACCOUNT_NAME`, `AZURE_BLOB_ACCOUNT_KEY`.
    pub azure_account_name: Option<String>,
    pub azure_account_key: Option<Secret>,
    /// `LABELSYNC_AZURE_BLOB_ENDPOINT`: a path-style blob endpoint (`http://host:port/<account>`).
    pub azure_blob_endpoint: Option<String>,
    /// `LABELSYNC_AZURE_AUTHORITY_HOST`: the Entra ID token service.
    pub azure_authority_host: Option<String>,
    /// `STORAGE_EMULATOR_HOST`: a GCS emulator for every `gcs` storage (Google's variable).
    pub gcs_emulator_host: Option<String>,
    /// `LABELSYNC_GOOGLE_TOKEN_URL`, `LABELSYNC_GOOGLE_STS_URL`, `LABELSYNC_GOOGLE_IAM_URL`.
    pub google_token_url: Option<String>,
    pub google_sts_url: Option<String>,
    pub google_iam_url: Option<String>,
}

impl OperatorCloud {
    pub fn from_env(env: &dyn Env) -> Self {
        let text = |name: &str| {
            env.var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let secret = |name: &str| text(name).map(Secret::new);
        OperatorCloud {
            aws_access_key_id: text("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key: secret("AWS_SECRET_ACCESS_KEY"),
            aws_session_token: secret("AWS_SESSION_TOKEN"),
            s3_endpoint: text("S3_ENDPOINT"),
            s3_region: text("S3_region"),
            azure_account_name: text("AZURE_BLOB_ACCOUNT_NAME"),
            azure_account_key: secret("AZURE_BLOB_ACCOUNT_KEY"),
            azure_blob_endpoint: text("LABELSYNC_AZURE_BLOB_ENDPOINT"),
            azure_authority_host: text("LABELSYNC_AZURE_AUTHORITY_HOST"),
            gcs_emulator_host: text("STORAGE_EMULATOR_HOST"),
            google_token_url: text("LABELSYNC_GOOGLE_TOKEN_URL"),
            google_sts_url: text("LABELSYNC_GOOGLE_STS_URL"),
            google_iam_url: text("LABELSYNC_GOOGLE_IAM_URL"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_output() {
        let env = |name: &str| match name {
            "AWS_SECRET_ACCESS_KEY" => Some("very-secret".to_owned()),
            "S3_region" => Some(" eu-west-1 ".to_owned()),
            _ => None,
        };
        let cloud = OperatorCloud::from_env(&env);
        assert_eq!(cloud.s3_region.as_deref(), Some("eu-west-1"));
        assert!(!format!("{cloud:?}").contains("very-secret"));
    }
}
