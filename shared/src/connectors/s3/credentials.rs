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
use tokio::sync::OnceCell;

use super::settings::S3Settings;
use crate::config::OperatorCloud;
use crate::model::Secret;

/// The session name our assumed-role sessions carry, visible in the role owner's CloudTrail.
const SESSION_NAME: &str = "labelsync";

/// The credentials a storage signs its requests with.
pub fn provider(
    settings: &S3Settings,
    cloud: &OperatorCloud,
    region: &str,
) -> SharedCredentialsProvider {
    let base = base_provider(settings, cloud);
    match settings
        .role_arn
        .as_deref()
        .filter(|_| !settings.legacy_auth)
    {
        Some(role_arn) => SharedCredentialsProvider::new(AssumedRole {
            role_arn: role_arn.to_owned(),
            external_id: settings.external_id.clone(),
            region: region.to_owned(),
            base,
            provider: OnceCell::new(),
        }),
        None => base,
    }
}

fn base_provider(settings: &S3Settings, cloud: &OperatorCloud) -> SharedCredentialsProvider {
    if settings.s3_endpoint.is_some() && !settings.has_own_keys() && settings.role_arn.is_none() {
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
    let (key, secret, token) = if settings.has_own_keys() {
        let key = settings
            .aws_access_key_id
            .as_ref()
            .map(|k| k.expose().to_owned());
        (
            key,
            settings.aws_secret_access_key.clone(),
            settings.aws_session_token.clone(),
        )
    } else {
        let key = cloud.aws_access_key_id.clone();
        (
            key,
            cloud.aws_secret_access_key.clone(),
            cloud.aws_session_token.clone(),
        )
    };
    match (key, secret) {
        (Some(key), Some(secret)) => SharedCredentialsProvider::new(Credentials::new(
            key,
            secret.expose(),
            token.as_ref().map(Secret::expose).map(str::to_owned),
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
