//! Where an S3 storage's AWS credentials come from: the storage's own keys, else the operator's
//! `AWS_*` variables, else the default AWS credential chain; for `s3s`, those base credentials
//! then assume the storage's IAM role (with its external id) through STS.
//!
//! The S3 client caches what a provider returns and asks again shortly before the credentials
//! expire, so assumed-role sessions are renewed without a failed request.

use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use serde_json::{Map, Value};
use tokio::sync::OnceCell;

use super::{bool_setting, str_setting};

/// The session name our assumed-role sessions carry, visible in the role owner's CloudTrail.
const SESSION_NAME: &str = "labelsync";

/// A storage setting, else the operator's environment variable.
fn setting_or_env(settings: &Map<String, Value>, field: &str, variable: &str) -> Option<String> {
    str_setting(settings, field)
        .map(str::to_owned)
        .or_else(|| std::env::var(variable).ok().filter(|v| !v.is_empty()))
}

/// The credentials a storage signs its requests with.
pub fn provider(settings: &Map<String, Value>, region: &str) -> SharedCredentialsProvider {
    let base = base_provider(settings);
    let legacy_auth = bool_setting(settings, "legacy_auth");
    match str_setting(settings, "role_arn").filter(|_| !legacy_auth) {
        Some(role_arn) => SharedCredentialsProvider::new(AssumedRole {
            role_arn: role_arn.to_owned(),
            external_id: str_setting(settings, "external_id").map(str::to_owned),
            region: region.to_owned(),
            base,
            provider: OnceCell::new(),
        }),
        None => base,
    }
}

fn base_provider(settings: &Map<String, Value>) -> SharedCredentialsProvider {
    let key = setting_or_env(settings, "aws_access_key_id", "AWS_ACCESS_KEY_ID");
    let secret = setting_or_env(settings, "aws_secret_access_key", "AWS_SECRET_ACCESS_KEY");
    let token = setting_or_env(settings, "aws_session_token", "AWS_SESSION_TOKEN");
    let own_endpoint = str_setting(settings, "s3_endpoint").is_some();
    let own_keys = str_setting(settings, "aws_access_key_id").is_some();
    if own_endpoint && !own_keys && str_setting(settings, "role_arn").is_none() {
        // Validation refuses this; a storage stored before that rule must still never sign
        // requests to its own endpoint with the server's credentials.
        return SharedCredentialsProvider::new(Credentials::new(
            "",
            "",
            None,
            None,
            "labelsync-no-credentials",
        ));
    }
    match (key, secret) {
        (Some(key), Some(secret)) => SharedCredentialsProvider::new(Credentials::new(
            key,
            secret,
            token,
            None,
            "labelsync-storage",
        )),
        _ => SharedCredentialsProvider::new(DefaultChain::default()),
    }
}

/// The default AWS credential chain, built on first use (building it is async).
#[derive(Debug, Default)]
struct DefaultChain(OnceCell<DefaultCredentialsChain>);

impl ProvideCredentials for DefaultChain {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            let chain = self
                .0
                .get_or_init(|| DefaultCredentialsChain::builder().build())
                .await;
            chain.provide_credentials().await
        })
    }
}

/// STS AssumeRole on the base credentials. The STS endpoint follows the operator's AWS
/// configuration (`AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`), never a storage field.
#[derive(Debug)]
struct AssumedRole {
    role_arn: String,
    external_id: Option<String>,
    region: String,
    base: SharedCredentialsProvider,
    provider: OnceCell<AssumeRoleProvider>,
}

impl AssumedRole {
    async fn build(&self) -> AssumeRoleProvider {
        let sdk_config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(self.region.clone()))
            .credentials_provider(self.base.clone())
            .load()
            .await;
        let mut builder = AssumeRoleProvider::builder(&self.role_arn)
            .session_name(SESSION_NAME)
            .configure(&sdk_config);
        if let Some(external_id) = &self.external_id {
            builder = builder.external_id(external_id);
        }
        builder.build().await
    }
}

impl ProvideCredentials for AssumedRole {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            let provider = self.provider.get_or_init(|| self.build()).await;
            provider.provide_credentials().await
        })
    }
}
