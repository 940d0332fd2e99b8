//! Production wiring: DynamoDB state and SQS queues named by the environment, one AWS SDK
//! configuration per process (loaded once, outside any handler).

use std::path::Path;
use std::sync::Arc;

use crate::config::{ConfigError, Env, ProcessEnv, Settings};
use crate::context::Context;
use crate::queue::sqs::{QueueUrls, SqsQueue};
use crate::state::dynamo::DynamoState;

/// Where the state and the queues live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsSettings {
    /// `LABELSYNC_TABLE`: the DynamoDB table.
    pub table: String,
    /// `LABELSYNC_{SYNC,INGEST,EXPORT}_QUEUE_URL` and their `_DLQ_URL`s.
    pub queues: QueueUrls,
}

fn required(env: &dyn Env, name: &str) -> Result<String, ConfigError> {
    env.var(name).ok_or_else(|| ConfigError {
        variable: name.to_owned(),
        value: String::new(),
        problem: "must be set (the SAM template sets it for every function)".into(),
    })
}

impl AwsSettings {
    pub fn from_env(env: &dyn Env) -> Result<Self, ConfigError> {
        Ok(AwsSettings {
            table: required(env, "LABELSYNC_TABLE")?,
            queues: QueueUrls {
                sync: required(env, "LABELSYNC_SYNC_QUEUE_URL")?,
                ingest: required(env, "LABELSYNC_INGEST_QUEUE_URL")?,
                export: required(env, "LABELSYNC_EXPORT_QUEUE_URL")?,
                sync_dlq: env.var("LABELSYNC_SYNC_DLQ_URL"),
                ingest_dlq: env.var("LABELSYNC_INGEST_DLQ_URL"),
                export_dlq: env.var("LABELSYNC_EXPORT_DLQ_URL"),
            },
        })
    }
}

/// A context over DynamoDB and SQS with the given SDK configuration.
pub fn context(sdk: &aws_config::SdkConfig, aws: AwsSettings, settings: Settings) -> Context {
    let state = DynamoState::new(aws_sdk_dynamodb::Client::new(sdk), aws.table);
    let queue = SqsQueue::new(aws_sdk_sqs::Client::new(sdk), aws.queues);
    Context::new(Arc::new(state), Arc::new(queue), settings)
}

/// The context of a Lambda function, from its environment.
pub async fn context_from_env() -> Result<Context, ConfigError> {
    let aws = AwsSettings::from_env(&ProcessEnv)?;
    #[allow(unused_mut)]
    let mut settings = Settings::from_env(&ProcessEnv, Path::new("."))?;
    // The HTTP functions share the API token; a key derived from it signs media URLs in
    // `storage-api` and verifies them in `uri-resolve` without one more secret to deploy.
    #[cfg(feature = "api")]
    if settings.media.signing_keys.is_empty()
        && let Some(token) = ProcessEnv.var("LABELSYNC_API_TOKEN")
    {
        settings.media.signing_keys = vec![crate::resolve::signing::derived_key(&token)];
    }
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    Ok(context(&sdk, aws, settings))
}

/// `LABELSYNC_API_TOKEN`, required where the API is served.
#[cfg(feature = "api")]
pub fn api_token_from_env() -> Result<crate::api::ApiToken, ConfigError> {
    Ok(crate::api::ApiToken(
        required(&ProcessEnv, "LABELSYNC_API_TOKEN")?.into(),
    ))
}
