//! The Lambda shapes of the handlers: SQS events with partial batch failures, and the HTTP API
//! through `lambda_http`. Function crates only build the context and call these.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::LambdaEvent;

use crate::context::Context;
use crate::dispatch::batch::{BatchRecord, handle_batch};
use crate::dispatch::{Handler, handle_any};

/// One SQS event of any queue: see [`sqs_handler_for`].
pub async fn sqs_handler(
    ctx: &Context,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    sqs_handler_for(ctx, handle_any, event).await
}

/// One SQS event: every record handled by `handler`; the failed ones reported for
/// redelivery (`ReportBatchItemFailures`), so the others are not delivered again.
pub async fn sqs_handler_for(
    ctx: &Context,
    handler: Handler,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    let records = event
        .payload
        .records
        .into_iter()
        .filter_map(|r| {
            let receive_count = r
                .attributes
                .get("ApproximateReceiveCount")
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            Some(BatchRecord {
                message_id: r.message_id?,
                body: r.body?,
                receive_count,
            })
        })
        .collect();
    let failed = handle_batch(ctx, handler, records).await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    Ok(response)
}

/// Logs without colours or local time: CloudWatch adds its own timestamp.
fn init_logging() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .without_time()
        .try_init();
}

/// The whole of an SQS-triggered function (`sync-fanout`, `task-ingest`, `annotation-export`):
/// the context built once, then every event of its queue handled with `handler`.
pub async fn run_sqs_function(handler: Handler) -> Result<(), lambda_runtime::Error> {
    init_logging();
    let ctx = crate::aws::context_from_env().await?;
    let ctx = &ctx;
    lambda_runtime::run(lambda_runtime::service_fn(move |event| {
        sqs_handler_for(ctx, handler, event)
    }))
    .await
}

/// The whole of an HTTP function: the context built once, then `router` served through API
/// Gateway.
#[cfg(feature = "api")]
async fn run_router(
    router: fn(Context, crate::api::ApiToken) -> axum::Router,
) -> Result<(), lambda_runtime::Error> {
    init_logging();
    let ctx = crate::aws::context_from_env().await?;
    let token = crate::aws::api_token_from_env()?;
    let app = tower::ServiceExt::map_request(
        crate::api::optional_slashes(router(ctx, token)),
        |request: lambda_http::Request| request.map(axum::body::Body::new),
    );
    lambda_http::run(app).await
}

/// `storage-api`: the same Router as the local process.
#[cfg(feature = "api")]
pub async fn run_http_function() -> Result<(), lambda_runtime::Error> {
    run_router(crate::api::router).await
}

/// `uri-resolve`: the media routes only.
#[cfg(feature = "api")]
pub async fn run_media_function() -> Result<(), lambda_runtime::Error> {
    run_router(crate::api::media_router).await
}
