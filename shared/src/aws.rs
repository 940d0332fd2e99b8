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
    #[cfg(feature = "api")]
    media_key_from_api_token(&mut settings, &ProcessEnv);
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    Ok(context(&sdk, aws, settings))
}

/// A Lambda's media signing key when the operator sets none: derived from
/// `LABELSYNC_API_TOKEN`, which the HTTP functions share, so `storage-api` signs and
/// `uri-resolve` verifies alike without one more secret to deploy (the queue functions have no
/// token and sign nothing).
#[cfg(feature = "api")]
pub fn media_key_from_api_token(settings: &mut Settings, env: &dyn Env) {
    if settings.media.signing_keys.is_empty()
        && let Some(token) = env.var("LABELSYNC_API_TOKEN")
    {
        settings.media.signing_keys = vec![crate::resolve::signing::derived_key(&token)];
    }
}

/// `LABELSYNC_API_TOKEN`, required where the API is served.
#[cfg(feature = "api")]
pub fn api_token_from_env() -> Result<crate::api::ApiToken, ConfigError> {
    Ok(crate::api::ApiToken(
        required(&ProcessEnv, "LABELSYNC_API_TOKEN")?.into(),
    ))
}

#[cfg(all(test, feature = "api"))]
mod tests {
    use super::*;

    fn settings_with(pairs: &'static [(&'static str, &'static str)]) -> (Settings, impl Env) {
        let env = move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        let settings = Settings::from_env(&env, Path::new("/nonexistent")).unwrap();
        (settings, env)
    }

    #[test]
    fn lambda_media_keys_come_from_the_operator_or_the_api_token() {
        let (mut derived, env) = settings_with(&[("LABELSYNC_API_TOKEN", "the-token")]);
        media_key_from_api_token(&mut derived, &env);
        let (mut again, env) = settings_with(&[("LABELSYNC_API_TOKEN", "the-token")]);
        media_key_from_api_token(&mut again, &env);
        assert_eq!(derived.media.signing_keys.len(), 1);
        assert_eq!(
            derived.media, again.media,
            "every function derives the same key"
        );
        assert_ne!(derived.media.signing_keys[0].expose(), "the-token");

        let (mut chosen, env) = settings_with(&[
            ("LABELSYNC_API_TOKEN", "the-token"),
            (
                "LABELSYNC_MEDIA_SIGNING_KEYS",
                "an-operator-key-of-32-characters-or-more",
            ),
        ]);
        media_key_from_api_token(&mut chosen, &env);
        assert_eq!(
            chosen.media.signing_keys[0].expose(),
            "an-operator-key-of-32-characters-or-more"
        );

        let (mut queue_function, env) = settings_with(&[]);
        media_key_from_api_token(&mut queue_function, &env);
        assert!(queue_function.media.signing_keys.is_empty());
    }
}
